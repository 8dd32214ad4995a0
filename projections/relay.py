"""The webhook relay: one tracked runner per subscription, beside the read models.

Each subscription is a tracked position, like a projection's, behind its own runner lock (a
PostgreSQL advisory lock, or a file lock on SQLite): one process delivers it, the others stand
by. A round has two steps:

1. *enqueue*: the envelopes after the tracked position become delivery rows, committed with
   the new position in one transaction: an event is queued exactly once, and a crash loses
   nothing (the rows and the position go back together);
2. *dispatch*: the oldest pending delivery of each case is sent (Standard Webhooks signature)
   and its outcome recorded. A case's later events wait behind it, so each case is delivered
   in order; once an event is parked (after the last attempt) they go on. A kill between the
   send and the record sends the event again, with the same ``webhook-id``.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

import httpx
import sqlalchemy as sa
from prometheus_client import Counter

from projections import tracking
from projections.base import upsert
from projections.coordination import RunnerLock, Waker, runner_lock
from projections.domain_events import DomainEventFeed
from projections.schema import webhook_deliveries
from projections.webhook_guard import guarded_client
from projections.webhooks import (
    ACTIVE,
    DELIVERED,
    DISABLED,
    PARKED,
    PENDING,
    SECRET_PREFIX,
    Subscription,
    Subscriptions,
    tracking_name,
)

logger = logging.getLogger(__name__)
ATTEMPTS = Counter(
    "casetrail_webhook_attempts_total",
    "Webhook delivery attempts",
    ["subscription", "outcome"],  # delivered, failed, parked, gone
)
PREFIX_BYTES = 256  # of a receiver's answer, kept for diagnosis; the rest is never read
# Outcomes are written together: a crash before the write sends those events again, with
# their webhook-ids (at least once), and a round costs a commit per few dozen deliveries.
FLUSH_EVERY, FLUSH_SECONDS = 50, 0.05


@dataclass(frozen=True)
class RelaySettings:
    allowed_hosts: frozenset[str] = frozenset()
    timeout: float = 5.0
    max_attempts: int = 8
    backoff: float = 1.0
    backoff_max: float = 3600.0
    batch_size: int = 500


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer (refused, timed out, connection failed)
    error: str | None
    prefix: str
    retry_after: float | None


def sign(secret: str, webhook_id: str, timestamp: int, body: str) -> str:
    """Standard Webhooks 1.0: ``v1,`` + base64 HMAC-SHA256 over ``id.timestamp.body``."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_id(subscription_id: UUID, position: int) -> str:
    """The same for every attempt (and every replay) of one event to one subscription."""
    return f"msg_{uuid5(subscription_id, str(position)).hex}"


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - now).total_seconds(), 0.0)


class WebhookRelay:
    """Delivers every active subscription whose runner lock this process holds."""

    def __init__(
        self,
        engine: sa.Engine,
        feed: DomainEventFeed,
        subscriptions: Subscriptions,
        *,
        waker: Waker,
        settings: RelaySettings,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.engine = engine
        self.feed = feed
        self.subscriptions = subscriptions
        self.waker = waker
        self.settings = settings
        self.rng = rng
        self.client = guarded_client(settings.allowed_hosts, settings.timeout)
        self.locks: dict[UUID, RunnerLock] = {}
        self.secrets: dict[UUID, str] = {}
        self._next_try = 0.0

    def wake(self) -> None:
        self.waker.wake()

    # -- the loop ----------------------------------------------------------------------------

    def run_forever(self, stop: threading.Event, *, idle_wait: float = 1.0) -> None:
        if self.client.is_closed:
            self.client = guarded_client(self.settings.allowed_hosts, self.settings.timeout)
        try:
            while not stop.is_set():
                try:
                    wait = self.step(idle_wait)
                except tracking.FencedError:
                    # A replay moved a subscription's position under this round: read again.
                    logger.info("webhook relay: a position moved (a replay); re-reading")
                    wait = 0.0
                except Exception:
                    logger.exception("webhook relay: a round failed; retrying shortly")
                    wait = 1.0
                if wait > 0:
                    self.waker.wait(wait)
        finally:
            self.close()

    def step(self, idle_wait: float = 1.0) -> float:
        """One round over the subscriptions held; the seconds until a delivery falls due."""
        held = self._held()
        wait = idle_wait
        for subscription in held:
            while not self.enqueue(subscription):
                pass
            due_in = self.dispatch(subscription)
            if due_in is not None:
                wait = min(wait, due_in)
        return max(wait, 0.0)

    def _held(self) -> list[Subscription]:
        """Active subscriptions whose lock this process holds (trying the others each second)."""
        active = {s.id: s for s in self.subscriptions.all(status=ACTIVE)}
        for gone in set(self.locks) - set(active):
            self.locks.pop(gone).release()
            self.secrets.pop(gone, None)
        now = time.monotonic()
        if now >= self._next_try:
            self._next_try = now + 1.0
            for subscription_id in set(active) - set(self.locks):
                lock = runner_lock(self.engine, tracking_name(subscription_id))
                if lock.acquire():
                    self.locks[subscription_id] = lock
        return [active[i] for i in self.locks]

    # -- enqueue: exactly once, with the tracked position --------------------------------------

    def enqueue(self, subscription: Subscription) -> bool:
        """Queue the next batch of envelopes; True once caught up with the store."""
        name = tracking_name(subscription.id)
        with self.engine.begin() as conn:
            current = tracking.open_live(conn, [name])[name]
            page = self.feed.read(
                current.position, self.settings.batch_size, subscription.event_types or None
            )
            if page.position <= current.position:
                return True
            now = datetime.now(UTC)
            upsert(
                conn,
                webhook_deliveries,
                [
                    {
                        "subscription_id": subscription.id,
                        "position": item.position,
                        "case_id": item.case_id,
                        "event_type": item.event_type,
                        "webhook_id": webhook_id(subscription.id, item.position),
                        "body": json.dumps(item.envelope, separators=(",", ":")),
                        "status": PENDING,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                    for item in page.items
                ],
            )
            tracking.advance(conn, current, page.position, len(page.items), page.caught_up)
        return page.caught_up

    # -- dispatch: the oldest pending event of each case ---------------------------------------

    def dispatch(self, subscription: Subscription) -> float | None:
        """Send what is due, oldest first, each case in order: a case whose event is not due
        or has just failed waits for the next round. Outcomes are written in one transaction
        per few dozen attempts. Returns the seconds until the next delivery falls due."""
        now = datetime.now(UTC)
        next_due: datetime | None = None
        blocked: set[UUID] = set()
        outcomes: list[tuple[Any, Answer]] = []
        flushed = time.monotonic()
        for row in self._pending(subscription.id):
            if row.case_id in blocked:
                continue
            if row.next_attempt_at > now:
                blocked.add(row.case_id)
                due = row.next_attempt_at
                next_due = due if next_due is None else min(next_due, due)
                continue
            answer = self.send(subscription, row)
            outcomes.append((row, answer))
            if answer.status == 410:
                self.record(subscription, outcomes)
                return None  # the subscription is disabled
            if answer.status is None or not 200 <= answer.status < 300:
                blocked.add(row.case_id)
                if row.attempts + 1 < self.settings.max_attempts:
                    due = now + timedelta(seconds=self.delay(row.attempts + 1, answer))
                    next_due = due if next_due is None else min(next_due, due)
            if len(outcomes) >= FLUSH_EVERY or time.monotonic() - flushed > FLUSH_SECONDS:
                self.record(subscription, outcomes)
                outcomes, flushed = [], time.monotonic()
        self.record(subscription, outcomes)
        if next_due is None:
            return None
        return max((next_due - datetime.now(UTC)).total_seconds(), 0.0)

    def _pending(self, subscription_id: UUID) -> list[Any]:
        d = webhook_deliveries
        query = (
            sa.select(d)
            .where(d.c.subscription_id == subscription_id, d.c.status == PENDING)
            .order_by(d.c.position)
            .limit(self.settings.batch_size)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(query))

    def send(self, subscription: Subscription, row: Any) -> Answer:
        """One attempt: POST the envelope, signed; keep at most a prefix of the answer."""
        secret = self.secrets.get(subscription.id)
        if secret is None:
            secret = self.secrets[subscription.id] = self.subscriptions.secret(subscription.id)
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "user-agent": "casetrail-webhooks/1",
            "webhook-id": row.webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, row.webhook_id, timestamp, row.body),
        }
        try:
            with self.client.stream(
                "POST", subscription.url, content=row.body.encode(), headers=headers
            ) as response:
                prefix = b""
                for chunk in response.iter_raw():
                    prefix += chunk
                    if len(prefix) >= PREFIX_BYTES:
                        break
                return Answer(
                    response.status_code,
                    None,
                    prefix[:PREFIX_BYTES].decode("utf-8", "replace"),
                    retry_after(response.headers.get("retry-after"), datetime.now(UTC)),
                )
        except httpx.HTTPError as exc:
            return Answer(None, f"{type(exc).__name__}: {exc}"[:500], "", None)

    def record(self, subscription: Subscription, outcomes: list[tuple[Any, Answer]]) -> None:
        """Write the attempts' outcomes in one transaction; a 410 disables the subscription."""
        if not outcomes:
            return
        now = datetime.now(UTC)
        label = str(subscription.id)
        rows = []
        gone = False
        for row, answer in outcomes:
            attempts = row.attempts + 1
            values: dict[str, Any] = {
                "sid": row.subscription_id,
                "pos": row.position,
                "attempts": attempts,
                "last_status": answer.status,
                "last_error": answer.error,
                "response_prefix": answer.prefix or None,
                "status": PENDING,
                "delivered_at": None,
                "next_attempt_at": row.next_attempt_at,
            }
            if answer.status is not None and 200 <= answer.status < 300:
                values.update(status=DELIVERED, delivered_at=now)
                outcome = "delivered"
            elif answer.status == 410:
                gone, outcome = True, "gone"
            elif attempts >= self.settings.max_attempts:
                values.update(status=PARKED)
                outcome = "parked"
                logger.warning(
                    "webhook %s: event %s parked after %s attempts", label, row.position, attempts
                )
            else:
                values["next_attempt_at"] = now + timedelta(seconds=self.delay(attempts, answer))
                outcome = "failed"
            ATTEMPTS.labels(label, outcome).inc()
            rows.append({(k if k in ("sid", "pos") else f"v_{k}"): v for k, v in values.items()})
        d = webhook_deliveries
        statement = (
            sa.update(d)
            .where(d.c.subscription_id == sa.bindparam("sid"), d.c.position == sa.bindparam("pos"))
            .values(
                {
                    name: sa.bindparam(f"v_{name}")
                    for name in (
                        "attempts",
                        "last_status",
                        "last_error",
                        "response_prefix",
                        "status",
                        "delivered_at",
                        "next_attempt_at",
                    )
                }
            )
        )
        with self.engine.begin() as conn:
            conn.execute(statement, rows)
            if gone:
                self.subscriptions.set_status(
                    subscription.id, DISABLED, "the receiver answered 410 Gone", conn
                )
        if gone:
            logger.warning("webhook %s: the receiver answered 410; disabled", label)

    def delay(self, attempts: int, answer: Answer) -> float:
        """Exponential backoff with jitter (half fixed, half random), or Retry-After if later."""
        s = self.settings
        ceiling = min(s.backoff_max, s.backoff * float(2 ** (attempts - 1)))
        delay = ceiling / 2 + self.rng() * ceiling / 2
        if answer.retry_after is not None:
            delay = max(delay, min(answer.retry_after, s.backoff_max))
        return delay

    def close(self) -> None:
        for lock in self.locks.values():
            lock.release()
        self.locks.clear()
        self.client.close()
        self.waker.close()
