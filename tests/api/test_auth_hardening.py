"""Auth hardening: RS256 from an identity provider (PEM or JWKS), issuer and audience,
production refusals, and the per-user command rate limit."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from api.bootstrap import build
from tests.api import builders as b
from tests.support import TEST_SECRET, LiveServer, live_server, make_settings


def _rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _token(key: Any, alg: str = "RS256", kid: str | None = None, **claims: Any) -> str:
    body = {
        "sub": "po1",
        "roles": ["practitioner"],
        "teams": [b.T1],
        "exp": int(time.time()) + 600,
        **claims,
    }
    return jwt.encode(body, key, algorithm=alg, headers={"kid": kid} if kid else None)


def _status(server: LiveServer, token: str) -> int:
    with httpx.Client(base_url=server.base_url) as client:
        return client.get("/staff", headers={"Authorization": f"Bearer {token}"}).status_code


@pytest.fixture(scope="module")
def idp_keys() -> tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]:
    return _rsa(), _rsa()


@pytest.fixture
def rs256_server(
    tmp_path: Path, idp_keys: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]
) -> Iterator[LiveServer]:
    with live_server(
        f"sqlite:///{tmp_path}/c.db",
        tmp_path,
        jwt_public_key=_pem(idp_keys[0]),
        jwt_issuer="https://sign-in.hmpps.example",
        jwt_audience="casetrail",
    ) as s:
        yield s


def test_rs256_tokens_of_the_identity_provider_are_accepted_and_nothing_else(
    rs256_server: LiveServer, idp_keys: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]
) -> None:
    good, stranger = idp_keys
    claims = {"iss": "https://sign-in.hmpps.example", "aud": "casetrail"}
    assert _status(rs256_server, _token(good, **claims)) == 200
    assert _status(rs256_server, _token(stranger, **claims)) == 401
    assert _status(rs256_server, _token(TEST_SECRET, alg="HS256", **claims)) == 401
    assert _status(rs256_server, _token(good, iss="https://evil.example", aud="casetrail")) == 401
    assert _status(rs256_server, _token(good, iss=claims["iss"], aud="other")) == 401
    assert _status(rs256_server, _token(good, aud="casetrail")) == 401  # issuer required
    unsigned = jwt.encode(
        {"sub": "po1", "exp": int(time.time()) + 60, **claims}, None, algorithm="none"
    )
    assert _status(rs256_server, unsigned) == 401


def test_a_jwks_file_selects_the_key_by_kid(
    tmp_path: Path, idp_keys: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]
) -> None:
    first, second = idp_keys
    jwks = {
        "keys": [
            {
                **json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(k.public_key())),
                "kid": kid,
                "use": "sig",
                "alg": "RS256",
            }
            for kid, k in (("k1", first), ("k2", second))
        ]
    }
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks))
    with live_server(f"sqlite:///{tmp_path}/c.db", tmp_path, jwt_public_key=str(path)) as server:
        assert _status(server, _token(second, kid="k2")) == 200
        assert _status(server, _token(first, kid="k1")) == 200
        assert _status(server, _token(first, kid="k2")) == 401  # wrong key for that kid
        assert _status(server, _token(first, kid="k9")) == 401


def test_expired_tokens_get_a_minute_of_leeway_and_no_more(sqlite_server: LiveServer) -> None:
    now = int(time.time())
    assert _status(sqlite_server, _token(TEST_SECRET, alg="HS256", exp=now - 30)) == 200
    assert _status(sqlite_server, _token(TEST_SECRET, alg="HS256", exp=now - 120)) == 401


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"jwt_secret": None}, "CASETRAIL_JWT_SECRET"),
        ({"jwt_secret": "changeme"}, "too weak"),
        ({"jwt_secret": "a" * 40}, "too weak"),
        ({"encryption_key": None}, "CASETRAIL_ENCRYPTION_KEY"),
        ({"encryption_key": "c2hvcnQ="}, "32 bytes"),
        ({"encryption_key": "not base64!"}, "not base64"),
        ({"jwt_public_key": "/no/such/file.pem"}, "CASETRAIL_JWT_PUBLIC_KEY"),
    ],
)
def test_production_refuses_to_start_with_missing_or_weak_secrets(
    tmp_path: Path, overrides: dict[str, Any], message: str
) -> None:
    import base64
    import os

    values: dict[str, Any] = {
        "env": "production",
        "encryption_key": base64.b64encode(os.urandom(32)).decode(),
        **overrides,
    }
    settings = make_settings(f"sqlite:///{tmp_path}/c.db", tmp_path, **values)
    with pytest.raises(RuntimeError, match=message):
        build(settings)
    assert not (tmp_path / "jwt-secret").exists()  # production never invents secrets
    assert not (tmp_path / "encryption-key").exists()


def test_development_creates_its_keys_once_with_owner_only_permissions(tmp_path: Path) -> None:
    settings = make_settings(
        f"sqlite:///{tmp_path}/c.db", tmp_path, env="development", jwt_secret=None
    )
    build(settings).close()
    first = {
        name: (tmp_path / name).read_text()
        for name in ("jwt-secret", "encryption-key", "integrity-key")
    }
    build(settings).close()
    for name, content in first.items():
        path = tmp_path / name
        assert path.read_text() == content
        assert path.stat().st_mode & 0o777 == 0o600


def test_commands_are_rate_limited_per_user_with_retry_after(tmp_path: Path) -> None:
    with live_server(f"sqlite:///{tmp_path}/c.db", tmp_path, rate_limit="3/minute") as server:
        with server.client("po1", "practitioner", teams=(b.T1,)) as po:
            case_id = b.open_case(po)
            statuses = [
                po.post(f"/cases/{case_id}/appointments", json=b.appointment(f"a{i}")).status_code
                for i in range(3)
            ]
            assert statuses == [201, 201, 429]
            limited = po.post(f"/cases/{case_id}/appointments", json=b.appointment("a9"))
            assert limited.status_code == 429
            assert limited.headers["content-type"].startswith("application/problem+json")
            assert 1 <= int(limited.headers["retry-after"]) <= 60
            assert limited.json()["type"].endswith("/rate-limited")
            assert po.get(f"/cases/{case_id}").status_code == 200  # reads are not limited
            assert len(b.events(po, case_id)) == 3  # the refused commands wrote nothing
        with server.client("po2", "practitioner", teams=(b.T1,)) as other:
            assert other.post(f"/cases/{case_id}/inductions", json={}).status_code == 201
