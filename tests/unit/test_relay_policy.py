"""The relay's retry policy and signature, without a network."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from standardwebhooks import Webhook

from projections.relay import Answer, RelaySettings, WebhookRelay, retry_after, sign, webhook_id
from projections.webhooks import new_secret

NOW = datetime(2026, 12, 6, 6, 0, tzinfo=UTC)


def relay(rng: float, **settings: Any) -> WebhookRelay:
    """A relay with only what the policy reads (no engine, no client)."""
    r = WebhookRelay.__new__(WebhookRelay)
    r.settings = RelaySettings(**settings)
    r.rng = lambda: rng
    return r


def failed(after: float | None = None) -> Answer:
    return Answer(503, None, "", after)


@pytest.mark.parametrize("rng", [0.0, 0.5, 0.999])
def test_backoff_doubles_per_attempt_with_jitter_in_its_upper_half(rng: float) -> None:
    r = relay(rng, backoff=1.0, backoff_max=3600.0)
    for attempt in range(1, 8):
        ceiling = 2.0 ** (attempt - 1)
        assert ceiling / 2 <= r.delay(attempt, failed()) <= ceiling


def test_jitter_spreads_retries() -> None:
    assert relay(0.0).delay(4, failed()) < relay(0.9).delay(4, failed())


def test_backoff_is_capped() -> None:
    assert relay(0.999, backoff=1.0, backoff_max=60.0).delay(30, failed()) <= 60.0


def test_a_later_retry_after_wins_an_earlier_one_does_not() -> None:
    r = relay(0.5, backoff=1.0, backoff_max=3600.0)
    assert r.delay(1, failed(after=120.0)) == 120.0
    assert r.delay(5, failed(after=0.0)) == r.delay(5, failed())
    assert relay(0.5, backoff_max=300.0).delay(1, failed(after=10_000.0)) == 300.0


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after("30", NOW) == 30.0
    assert retry_after(format_datetime(NOW + timedelta(minutes=2), usegmt=True), NOW) == 120.0
    assert retry_after(format_datetime(NOW - timedelta(minutes=2), usegmt=True), NOW) == 0.0
    assert retry_after("soon", NOW) is None
    assert retry_after(None, NOW) is None


def test_the_signature_is_the_one_standardwebhooks_makes() -> None:
    secret = new_secret()
    body = '{"eventType":"probation-case.supervision.created"}'
    ours = sign(secret, "msg_1", int(NOW.timestamp()), body)
    assert ours == Webhook(secret).sign("msg_1", NOW, body)


def test_the_webhook_id_is_stable_per_event_and_subscription() -> None:
    from uuid import uuid4

    a, b = uuid4(), uuid4()
    assert webhook_id(a, 7) == webhook_id(a, 7)
    assert len({webhook_id(a, 7), webhook_id(a, 8), webhook_id(b, 7)}) == 3
