"""Webhooks end to end: commands in over HTTP, signed envelopes out to a real receiver that
verifies them with the `standardwebhooks` package; retries, parking, 410, replay."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from tests.api import builders as b
from tests.support import LiveServer, live_server
from tests.webhook_receiver import Received, Receiver, receiver

FAST = {
    "embedded_projections": True,
    "webhook_allowed_hosts": "127.0.0.1",
    "webhook_backoff_seconds": 0.05,
    "webhook_backoff_max_seconds": 0.2,
    "webhook_max_attempts": 3,
    "public_url": "https://casetrail.example",
}


@pytest.fixture
def hooks(database_url: str, tmp_path: Path) -> Iterator[tuple[LiveServer, Receiver]]:
    with live_server(database_url, tmp_path, **FAST) as live, receiver() as rx:
        yield live, rx


@pytest.fixture
def sqlite_hooks(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[LiveServer, Receiver]]:
    with live_server(sqlite_url, tmp_path, **FAST) as live, receiver() as rx:
        yield live, rx


def subscribe(live: LiveServer, rx: Receiver, **body: Any) -> str:
    with live.client("hooks-1", "integration") as client:
        response = client.post("/subscriptions", json={"url": rx.url, **body})
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["secret"].startswith("whsec_")
    rx.secret = created["secret"]
    subscription_id: str = created["id"]
    return subscription_id


def settled(live: LiveServer, subscription_id: str, *, delivered: int) -> dict[str, Any]:
    """The subscription once the relay has written ``delivered`` outcomes (it writes them just
    after the receiver answers)."""
    deadline = time.monotonic() + 10
    with live.client("hooks-1", "integration") as client:
        while True:
            detail: dict[str, Any] = client.get(f"/subscriptions/{subscription_id}").json()
            if detail["delivered"] >= delivered or time.monotonic() > deadline:
                return detail
            time.sleep(0.02)


def casework(live: LiveServer) -> httpx.Client:
    return live.client("po1", "practitioner", teams=(b.T1,))


def positions(received: list[Received]) -> list[int]:
    return [r.position for r in received]


def test_events_arrive_signed_in_order_and_verify_with_standardwebhooks(
    hooks: tuple[LiveServer, Receiver],
) -> None:
    live, rx = hooks
    subscription_id = subscribe(live, rx)
    with casework(live) as po:
        case_id = b.open_case(po, crn="W100001")
        b.command(po, f"/cases/{case_id}/inductions", b.induction())
        b.command(po, f"/cases/{case_id}/appointments", b.appointment("a1"))
    rx.wait_for(lambda got: len(got) >= 3)
    got = rx.delivered()
    assert all(r.verified for r in got)
    assert [r.envelope["eventType"] for r in got] == [
        "probation-case.supervision.created",
        "probation-case.induction.completed",
        "probation-case.supervision-appointment.created",
    ]
    assert positions(got) == sorted(positions(got))
    assert len({r.webhook_id for r in got}) == 3
    first = got[0].envelope
    assert first["personReference"]["identifiers"] == [{"type": "CRN", "value": "W100001"}]
    assert first["detailUrl"].startswith(f"https://casetrail.example/cases/{case_id}/events")
    assert "Jo Bloggs" not in str([r.envelope for r in got])
    settled(live, subscription_id, delivered=3)
    with live.client("hooks-1", "integration") as client:
        page = client.get(f"/subscriptions/{subscription_id}/deliveries", params={"limit": 10})
        detail = client.get(f"/subscriptions/{subscription_id}").json()
    items = page.json()["items"]
    assert [i["status"] for i in items] == ["delivered"] * 3
    assert all(len(i["response_prefix"]) <= 256 for i in items)
    assert (detail["delivered"], detail["pending"], detail["parked"]) == (3, 0, 0)
    assert "secret" not in detail


def test_a_receiver_that_fails_then_recovers_gets_the_event_with_one_webhook_id(
    sqlite_hooks: tuple[LiveServer, Receiver],
) -> None:
    live, rx = sqlite_hooks

    def flaky(seen: list[Received], _: dict[str, Any]) -> tuple[int, dict[str, str]]:
        return (503, {"Retry-After": "0"}) if len(seen) < 2 else (200, {})

    rx.script = flaky
    subscription_id = subscribe(live, rx)
    with casework(live) as po:
        b.open_case(po, crn="W100002")
    rx.wait_for(lambda got: any(200 <= r.answered < 300 for r in got))
    assert [r.answered for r in rx.received] == [503, 503, 200]
    assert len({r.webhook_id for r in rx.received}) == 1
    settled(live, subscription_id, delivered=1)
    with live.client("hooks-1", "integration") as client:
        items = client.get(f"/subscriptions/{subscription_id}/deliveries").json()["items"]
    assert [(i["status"], i["attempts"], i["last_status"]) for i in items] == [
        ("delivered", 3, 200)
    ]


def test_an_event_that_always_fails_is_parked_and_the_case_goes_on(
    sqlite_hooks: tuple[LiveServer, Receiver],
) -> None:
    live, rx = sqlite_hooks
    refused: set[str] = set()

    def refuse_inductions(
        _: list[Received], envelope: dict[str, Any]
    ) -> tuple[int, dict[str, str]]:
        if envelope["eventType"] == "probation-case.induction.completed" and refused:
            return 500, {}
        return 200, {}

    refused.add("on")
    rx.script = refuse_inductions
    subscription_id = subscribe(live, rx)
    with casework(live) as po:
        case_id = b.open_case(po, crn="W100003")
        b.command(po, f"/cases/{case_id}/inductions", b.induction())
        b.command(po, f"/cases/{case_id}/appointments", b.appointment("a1"))
    rx.wait_for(lambda got: len([r for r in got if 200 <= r.answered < 300]) >= 2)
    kinds = [(r.envelope["eventType"].rsplit(".", 2)[-2], r.answered) for r in rx.received]
    assert kinds == [
        ("supervision", 200),
        ("induction", 500),
        ("induction", 500),
        ("induction", 500),
        ("supervision-appointment", 200),
    ]
    settled(live, subscription_id, delivered=2)
    with live.client("hooks-1", "integration") as client:
        parked = client.get(f"/subscriptions/{subscription_id}/deliveries?status=parked").json()
        assert [i["attempts"] for i in parked["items"]] == [3]
        metrics = client.get("/metrics").text
        assert f'casetrail_webhook_parked{{subscription="{subscription_id}"}} 1.0' in metrics
        assert (
            f'casetrail_webhook_recorded_attempts{{subscription="{subscription_id}"}} 5.0'
            in metrics
        )
        refused.clear()
        retried = client.post(f"/subscriptions/{subscription_id}/parked/retry", json={})
        assert retried.json()["retried"] == 1
    rx.wait_for(lambda got: len([r for r in got if 200 <= r.answered < 300]) >= 3)
    assert rx.received[-1].webhook_id == rx.received[1].webhook_id


def test_410_disables_the_subscription(sqlite_hooks: tuple[LiveServer, Receiver]) -> None:
    live, rx = sqlite_hooks
    rx.script = lambda _seen, _envelope: (410, {})
    subscription_id = subscribe(live, rx)
    with casework(live) as po:
        case_id = b.open_case(po, crn="W100004")
        rx.wait_for(lambda got: len(got) >= 1)
        b.command(po, f"/cases/{case_id}/inductions", b.induction())
    with live.client("hooks-1", "integration") as client:

        def detail() -> dict[str, Any]:
            found: dict[str, Any] = client.get(f"/subscriptions/{subscription_id}").json()
            return found

        rx.wait_for(lambda _: detail()["status"] == "disabled")  # the outcome is written
        assert "410" in detail()["status_reason"]
        rx.script = lambda _seen, _envelope: (200, {})
        assert len(rx.received) == 1  # nothing more was sent to a receiver that is gone
        # A replay makes it active again and sends from that position on, same ids.
        replay = client.post(f"/subscriptions/{subscription_id}/replay", json={"from_position": 1})
        assert replay.status_code == 202, replay.text
    rx.wait_for(lambda got: len([r for r in got if r.answered == 200]) >= 2)
    assert rx.delivered()[0].webhook_id == rx.received[0].webhook_id


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example/x",  # not https
        "https://127.0.0.1/x",
        "https://localhost/x",
        "https://10.1.2.3/x",
        "https://192.168.0.9/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/x",
        "https://[::ffff:127.0.0.1]/x",
        "ftp://hooks.example/x",
        "https://user:pw@hooks.example/x",
    ],
)
def test_the_ssrf_guard_refuses_urls(sqlite_server: LiveServer, url: str) -> None:
    with sqlite_server.client("hooks-1", "integration") as client:
        response = client.post("/subscriptions", json={"url": url})
    b.assert_problem(response, 422, "webhook-url-refused")


def test_the_guard_checks_the_resolved_address_at_delivery() -> None:
    """A name that resolves to loopback at delivery time is refused on connection."""
    from projections.webhook_guard import guarded_client

    with receiver() as rx, guarded_client(frozenset(), 2.0) as client:
        for url in (f"http://localhost:{rx.port}/hooks", f"http://127.0.0.1:{rx.port}/hooks"):
            with pytest.raises(httpx.ConnectError, match="refused address"):
                client.post(url, content=b"{}")
        assert rx.received == []
    with receiver() as rx, guarded_client(frozenset({"localhost"}), 2.0) as client:
        assert client.post(f"http://localhost:{rx.port}/hooks", content=b"{}").status_code == 401


def test_the_feed_lists_envelopes_in_store_order(sqlite_hooks: tuple[LiveServer, Receiver]) -> None:
    live, _ = sqlite_hooks
    with casework(live) as po:
        case_id = b.open_case(po, crn="W100005")
        b.command(po, f"/cases/{case_id}/inductions", b.induction())
        b.command(po, f"/cases/{case_id}/registrations", b.registration("ADVP"))
    with live.client("admin1", "admin") as admin:
        assert admin.post("/staff", json=b.staff("po9")).status_code == 201
    with live.client("hooks-1", "integration") as client:
        page = client.get("/domain-events", params={"limit": 2}).json()
        assert [i["event"]["eventType"] for i in page["items"]] == [
            "probation-case.supervision.created",
            "probation-case.induction.completed",
        ]
        rest = client.get("/domain-events", params={"after": page["next"]}).json()
        assert [i["event"]["eventType"] for i in rest["items"]] == [
            "probation-case.registration.added"  # staff events are not published
        ]
        assert rest["next"] is None
        added = rest["items"][0]["event"]["additionalInformation"]
        assert (added["registerTypeCode"], added["caseVersion"]) == ("ADVP", 3)
        only = client.get(
            "/domain-events", params={"event_type": "probation-case.induction.completed"}
        )
        assert [i["position"] for i in only.json()["items"]] == [page["items"][1]["position"]]
        bad = client.get("/domain-events", params={"event_type": "probation-case.nonsense"})
        b.assert_problem(bad, 422, "unknown-event-type")


def test_the_cli_lists_replays_and_retries(sqlite_url: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from api.cli import app
    from tests.support import TEST_SECRET

    env = {
        "CASETRAIL_DATABASE_URL": sqlite_url,
        "CASETRAIL_VAR_DIR": str(tmp_path),
        "CASETRAIL_JWT_SECRET": TEST_SECRET,
        "CASETRAIL_ENV": "test",
        "CASETRAIL_PROJECTIONS": "off",
        "CASETRAIL_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        "COLUMNS": "250",
    }
    with live_server(sqlite_url, tmp_path, webhook_allowed_hosts="127.0.0.1") as live:
        with receiver() as rx:
            subscription_id = subscribe(live, rx)
        runner = CliRunner()
        listed = runner.invoke(app, ["subscriptions", "list"], env=env)
        assert listed.exit_code == 0, listed.output
        assert subscription_id[:8] in listed.output
        replayed = runner.invoke(
            app, ["subscriptions", "replay", subscription_id, "--from", "1"], env=env
        )
        assert replayed.exit_code == 0, replayed.output
        retried = runner.invoke(app, ["subscriptions", "retry", subscription_id], env=env)
        assert "0 parked deliveries" in retried.output
        unknown = runner.invoke(app, ["subscriptions", "retry", str(uuid4())], env=env)
        assert unknown.exit_code == 2


def test_the_secret_is_shown_once_and_stored_sealed(sqlite_server: LiveServer) -> None:
    import sqlalchemy as sa

    from projections.schema import webhook_subscriptions

    with sqlite_server.client("hooks-1", "integration") as client:
        made = client.post(
            "/subscriptions",
            json={
                "url": "https://hooks.example/ct",
                "event_types": ["probation-case.registration.added"],
                "description": "MAPPA partner",
            },
        )
        assert made.status_code == 201, made.text
        created = made.json()
        secret, subscription_id = created["secret"], created["id"]
        assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
        listed = client.get("/subscriptions").json()["items"]
        shown = client.get(f"/subscriptions/{subscription_id}").json()
        assert [i["id"] for i in listed] == [subscription_id]
        assert secret not in json.dumps(listed) + json.dumps(shown)
        assert shown["event_types"] == ["probation-case.registration.added"]
        with sqlite_server.container.engine.connect() as conn:
            stored = conn.execute(sa.select(webhook_subscriptions.c.secret)).scalar_one()
        assert secret.encode() not in bytes(stored)
        assert secret.removeprefix("whsec_").encode() not in bytes(stored)
        bad = client.post(
            "/subscriptions", json={"url": "https://hooks.example/x", "event_types": ["nope"]}
        )
        b.assert_problem(bad, 422, "unknown-event-type")
        ended = client.delete(f"/subscriptions/{subscription_id}")
        assert ended.status_code == 200, ended.text
        assert ended.json()["status"] == "deleted"
        b.assert_problem(client.get(f"/subscriptions/{subscription_id}"), 404, "not-found")
        assert client.get("/subscriptions").json()["items"] == []
        b.assert_problem(client.delete(f"/subscriptions/{subscription_id}"), 404, "not-found")


def test_an_attempt_that_times_out_is_retried(sqlite_url: str, tmp_path: Path) -> None:
    settings = {**FAST, "webhook_timeout_seconds": 0.3}
    with live_server(sqlite_url, tmp_path, **settings) as live, receiver() as rx:
        rx.pauses = [1.0]  # longer than the timeout: the relay gives up on the first attempt
        subscription_id = subscribe(live, rx)
        with casework(live) as po:
            b.open_case(po, crn="W100006")
        rx.wait_for(lambda got: len(got) >= 2)
        assert len({r.webhook_id for r in rx.received}) == 1
        settled(live, subscription_id, delivered=1)
        with live.client("hooks-1", "integration") as client:
            items = client.get(f"/subscriptions/{subscription_id}/deliveries").json()["items"]
        assert [(i["status"], i["attempts"]) for i in items] == [("delivered", 2)]
