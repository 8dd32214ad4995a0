"""`casetrail keys status | rotate | rechain` as an operator runs them."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from api.bootstrap import build
from tests.api.test_erasure_at_once import _casetrail, _env
from tests.integration.test_key_rotation import _open
from tests.support import make_settings


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_an_operator_rotates_the_master_key_and_rechains(sqlite_url: str, tmp_path: Path) -> None:
    old, new, chain = _key(), _key(), "integrity-key-before-0123456789abcdef"
    container = build(make_settings(sqlite_url, tmp_path, encryption_key=old, integrity_key=chain))
    _open(container, "X000001")
    _open(container, "X000002")
    container.close()
    before = {**_env(sqlite_url, tmp_path), "CASETRAIL_INTEGRITY_KEY": chain}

    status = _casetrail({**before, "CASETRAIL_ENCRYPTION_KEY": old}, "keys", "status")
    assert status.returncode == 0, status.stderr
    assert "current: 3" in status.stdout  # the payload key and two case keys

    rotating = {
        **before,
        "CASETRAIL_ENCRYPTION_KEY": new,
        "CASETRAIL_PREVIOUS_ENCRYPTION_KEYS": old,
    }
    assert "previous 1: 3" in _casetrail(rotating, "keys", "status").stdout
    rotated = _casetrail(rotating, "keys", "rotate", "--batch", "1")
    assert rotated.returncode == 0, rotated.stderr
    assert "re-wrapped 3 keys" in rotated.stdout
    assert "previous 1" not in rotated.stdout

    after = {**before, "CASETRAIL_ENCRYPTION_KEY": new}
    (tmp_path / "new-chain-key").write_text("integrity-key-after-0123456789abcdef\n")
    rechained = _casetrail(
        after, "keys", "rechain", "--new-key-file", str(tmp_path / "new-chain-key")
    )
    assert rechained.returncode == 0, rechained.stderr
    assert "re-chained 2 links" in rechained.stdout
    assert _casetrail(after, "verify").returncode == 1  # the old integrity key no longer fits
    verified = _casetrail(
        {**after, "CASETRAIL_INTEGRITY_KEY": "integrity-key-after-0123456789abcdef"}, "verify"
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr

    refused = _casetrail({**before, "CASETRAIL_ENCRYPTION_KEY": old}, "keys", "status")
    assert refused.returncode == 2  # the old master alone opens nothing any more
    assert "CASETRAIL_PREVIOUS_ENCRYPTION_KEYS" in refused.stderr
