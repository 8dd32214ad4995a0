"""The composition root: settings in, a wired service out. Tests call it with their own."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

import sqlalchemy as sa

from api.auth import TokenVerifier, build_verifier
from api.ratelimit import CommandRateLimit
from application.access_log import AccessLog
from application.allocation import Caseload
from application.masters import subkey
from application.migrate import upgrade
from application.service import CaseTrail, Clock
from application.settings import Settings
from projections.case_list import count_caseload
from projections.coordination import Waker
from projections.database import make_engine
from projections.domain_events import DomainEventFeed
from projections.oversight_history import HistoryCache
from projections.relay import RelaySettings, WebhookRelay
from projections.system import ProjectionSystem
from projections.webhooks import SecretBox, Subscriptions


@dataclass
class Container:
    """Everything a running casetrail needs, built once per process."""

    settings: Settings
    app: CaseTrail
    verifier: TokenVerifier
    engine: sa.Engine
    projections: ProjectionSystem
    rate_limit: CommandRateLimit | None = None
    feed: DomainEventFeed | None = None  # the domain-event feed (GET /domain-events)
    subscriptions: Subscriptions | None = None  # webhook subscriptions
    histories: HistoryCache = field(default_factory=HistoryCache)  # GET .../oversight-history

    def close(self) -> None:
        self.projections.stop()
        self.app.close()
        self.engine.dispose()
        self.projections.engine.dispose()


def build(
    settings: Settings | None = None, *, migrate: bool = True, clock: Clock | None = None
) -> Container:
    settings = settings or Settings()
    verifier = build_verifier(settings)  # first: a production misconfiguration stops here
    app = CaseTrail(settings, clock=clock)
    if migrate:
        try:
            upgrade(settings.database_url)
            app.keys.payload_key()  # a store from before envelope encryption adopts it, once
        except BaseException:
            app.close()
            raise
    engine = make_engine(settings.database_url, pool_size=settings.effective_pool_size + 4)
    projections = ProjectionSystem(
        make_engine(settings.database_url, pool_size=4, upkeep=True),
        app.recorder,
        app.projection_mapper(),
        batch_size=settings.projection_batch_size,
        linger=settings.projection_linger_ms / 1000,
    )
    if migrate:
        projections.setup()
    app.listeners.append(projections.wake)
    app.access_log = AccessLog(engine, app.chain_key)
    if migrate:
        app.access_log.chain_unlinked()
    feed, subscriptions = _webhooks(settings, app, engine, projections)
    app.allocation.caseload = caseload_query(engine, projections)
    return Container(
        settings=settings,
        app=app,
        verifier=verifier,
        engine=engine,
        projections=projections,
        rate_limit=CommandRateLimit(settings.rate_limit) if settings.rate_limit else None,
        feed=feed,
        subscriptions=subscriptions,
    )


def _webhooks(
    settings: Settings, app: CaseTrail, engine: sa.Engine, projections: ProjectionSystem
) -> tuple[DomainEventFeed, Subscriptions]:
    """The domain-event feed, the subscriptions, and the relay that runs beside the read
    models (on their engine, with their locks), wherever they run."""
    # Under the payload key (itself wrapped by the master), so a master-key rotation re-wraps
    # it and the secrets stay readable without being re-encrypted.
    box = SecretBox(subkey(app.keys.payload_key(), "webhook secrets"))
    mapper = app.projection_mapper()
    feed = DomainEventFeed(app.recorder, mapper, public_url=settings.public_url)
    relay_feed = DomainEventFeed(app.recorder, mapper, public_url=settings.public_url)
    projections.relay = WebhookRelay(
        projections.engine,
        relay_feed,
        Subscriptions(projections.engine, box),
        waker=Waker(projections.engine, projections.channel),
        settings=RelaySettings(
            allowed_hosts=settings.allowed_webhook_hosts,
            timeout=settings.webhook_timeout_seconds,
            max_attempts=settings.webhook_max_attempts,
            backoff=settings.webhook_backoff_seconds,
            backoff_max=settings.webhook_backoff_max_seconds,
        ),
    )
    return feed, Subscriptions(engine, box)


def caseload_query(engine: sa.Engine, projections: ProjectionSystem) -> Caseload:
    """The allocation guard's caseload count, from the case list read model."""

    def caseload(practitioner_id: str, leaving_out: UUID) -> int:
        with engine.connect() as conn:
            generation = projections.live("case_list")
            return count_caseload(conn, generation, practitioner_id, leaving_out)

    return caseload
