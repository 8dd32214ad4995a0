"""The composition root: settings in, a wired service out. Tests call it with their own."""

from __future__ import annotations

from dataclasses import dataclass

from api.auth import TokenVerifier, check_secret_strength, resolve_secret
from application.migrate import upgrade
from application.service import CaseTrail, Clock
from application.settings import Settings


@dataclass
class Container:
    """Everything a running casetrail needs, built once per process."""

    settings: Settings
    app: CaseTrail
    verifier: TokenVerifier

    def close(self) -> None:
        self.app.close()


def build(
    settings: Settings | None = None, *, migrate: bool = True, clock: Clock | None = None
) -> Container:
    settings = settings or Settings()
    secret = resolve_secret(settings)
    check_secret_strength(settings, secret)
    app = CaseTrail(settings, clock=clock)
    if migrate:
        upgrade(settings.database_url)
    verifier = TokenVerifier(
        secret=secret,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        leeway=settings.jwt_leeway_seconds,
    )
    return Container(settings=settings, app=app, verifier=verifier)
