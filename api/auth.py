"""JWT bearer authentication: a verified token becomes an Actor."""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from application.access import ROLES, Actor
from application.secrets import resolve_secret
from application.settings import Settings

ALGORITHM = "HS256"
MIN_SECRET_LENGTH = 32


class AuthenticationError(Exception):
    """Missing, malformed, expired or wrongly signed token."""


@dataclass(frozen=True)
class TokenVerifier:
    secret: str
    issuer: str | None = None
    audience: str | None = None
    leeway: int = 60

    def verify(self, token: str) -> Actor:
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                audience=self.audience,
                leeway=self.leeway,
                options={"require": ["exp", "sub"], "verify_aud": self.audience is not None},
            )
        except jwt.PyJWTError as exc:
            raise AuthenticationError(str(exc)) from None
        roles = claims.get("roles", [])
        teams = claims.get("teams", [])
        if not isinstance(roles, list) or not isinstance(teams, list):
            raise AuthenticationError("roles and teams must be lists")
        return Actor(
            sub=str(claims["sub"]),
            roles=frozenset(r for r in roles if r in ROLES),
            teams=frozenset(str(t) for t in teams),
        )


def resolve_jwt_secret(settings: Settings) -> str:
    """The HS256 secret: from settings, or (outside production) one kept under var/."""
    return resolve_secret(settings, settings.jwt_secret, "jwt-secret", "CASETRAIL_JWT_SECRET")


def check_secret_strength(settings: Settings, secret: str) -> None:
    if settings.env == "production" and (
        len(secret) < MIN_SECRET_LENGTH or secret.lower() in {"secret", "changeme", "dev"}
    ):
        msg = (
            f"CASETRAIL_JWT_SECRET is too weak for production (at least {MIN_SECRET_LENGTH} chars)"
        )
        raise RuntimeError(msg)


def issue_token(
    settings: Settings, *, sub: str, roles: list[str], teams: list[str], ttl_seconds: int = 8 * 3600
) -> str:
    """A signed token for local use (``casetrail token``) and tests."""
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": sub,
        "roles": roles,
        "teams": teams,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    return jwt.encode(claims, resolve_jwt_secret(settings), algorithm=ALGORITHM)
