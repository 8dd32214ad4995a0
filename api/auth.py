"""JWT bearer authentication: a verified token becomes an Actor."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from application.access import ROLES, Actor
from application.secrets import resolve_secret
from application.settings import Settings

ALGORITHM = "HS256"
MIN_SECRET_LENGTH = 32
WEAK_SECRETS = {"secret", "changeme", "change-me", "dev", "development", "password", "casetrail"}


class AuthenticationError(Exception):
    """Missing, malformed, expired or wrongly signed token."""


@dataclass(frozen=True)
class TokenVerifier:
    """Verifies bearer tokens: HS256 with a shared secret, or RS256 with an identity
    provider's public key or JWKS (chosen by kid). ``alg: none`` and other algorithms are
    refused; ``exp`` and ``sub`` are required; issuer and audience when configured."""

    secret: str | None = None
    public_keys: dict[str | None, Any] | None = None  # kid -> RSA public key
    issuer: str | None = None
    audience: str | None = None
    leeway: int = 60

    def _key(self, token: str) -> tuple[Any, str]:
        if self.public_keys is None:
            return self.secret, ALGORITHM
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise AuthenticationError(str(exc)) from None
        key = self.public_keys.get(kid) or (
            next(iter(self.public_keys.values())) if len(self.public_keys) == 1 else None
        )
        if key is None:
            raise AuthenticationError(f"no public key for kid {kid!r}")
        return key, "RS256"

    def verify(self, token: str) -> Actor:
        key, algorithm = self._key(token)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                issuer=self.issuer,
                audience=self.audience,
                leeway=self.leeway,
                options={"require": ["exp", "sub"], "verify_aud": self.audience is not None},
            )
        except jwt.PyJWTError as exc:
            raise AuthenticationError(str(exc)) from None
        roles = claims.get("roles", [])
        teams = claims.get("teams", [])
        pdus = claims.get("pdus", [])
        if not all(isinstance(claim, list) for claim in (roles, teams, pdus)):
            raise AuthenticationError("roles, teams and pdus must be lists")
        return Actor(
            sub=str(claims["sub"]),
            roles=frozenset(r for r in roles if r in ROLES),
            teams=frozenset(str(t) for t in teams),
            pdus=frozenset(str(p) for p in pdus),
        )


def load_public_keys(value: str) -> dict[str | None, Any]:
    """RS256 keys from CASETRAIL_JWT_PUBLIC_KEY: PEM text, or a PEM or JWKS file's path."""
    text = value
    if not value.lstrip().startswith("-----BEGIN"):
        path = Path(value)
        if not path.is_file():
            msg = f"CASETRAIL_JWT_PUBLIC_KEY: no PEM key and no file {value!r}"
            raise RuntimeError(msg)
        text = path.read_text()
    try:
        if text.lstrip().startswith("{"):
            keys = jwt.PyJWKSet.from_json(text).keys
            return {k.key_id: k.key for k in keys if k.key_type == "RSA"}
        return {None: load_pem_public_key(text.encode())}
    except (ValueError, TypeError, jwt.PyJWTError) as exc:
        msg = f"CASETRAIL_JWT_PUBLIC_KEY is not a usable RSA key or JWKS: {exc}"
        raise RuntimeError(msg) from None


def build_verifier(settings: Settings) -> TokenVerifier:
    """RS256 when an identity provider's key is configured; otherwise HS256."""
    if settings.jwt_public_key:
        keys = load_public_keys(settings.jwt_public_key)
        secret = None
    else:
        keys = None
        secret = resolve_jwt_secret(settings)
        check_secret_strength(settings, secret)
    return TokenVerifier(
        secret=secret,
        public_keys=keys,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        leeway=settings.jwt_leeway_seconds,
    )


def resolve_jwt_secret(settings: Settings) -> str:
    """The HS256 secret: from settings, or (outside production) one kept under var/."""
    return resolve_secret(settings, settings.jwt_secret, "jwt-secret", "CASETRAIL_JWT_SECRET")


def check_secret_strength(settings: Settings, secret: str) -> None:
    if settings.env == "production" and (
        len(secret) < MIN_SECRET_LENGTH or secret.lower() in WEAK_SECRETS or len(set(secret)) < 8
    ):
        msg = (
            f"CASETRAIL_JWT_SECRET is too weak for production (at least {MIN_SECRET_LENGTH} chars)"
        )
        raise RuntimeError(msg)


def issue_token(
    settings: Settings,
    *,
    sub: str,
    roles: list[str],
    teams: list[str],
    pdus: list[str] | None = None,
    ttl_seconds: int = 8 * 3600,
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
    if pdus:
        claims["pdus"] = pdus
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    return jwt.encode(claims, resolve_jwt_secret(settings), algorithm=ALGORITHM)
