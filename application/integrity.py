"""Tamper evidence: every stored event is chained to the one before it in its aggregate.

link(v) = HMAC-SHA256(key, link(v-1) | aggregate id | v | topic | stored state bytes), with
link(0) = 64 zeros. The chain covers the bytes exactly as stored — after encryption at rest,
with personal fields sealed under per-person keys — so it can be checked without decrypting
anything and still holds after a person's key is destroyed. The links live in their own table,
written by the recorder in the same transaction as the events. Without the key nobody with
write access to the database can forge a consistent chain.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

GENESIS = "0" * 64
CHAIN_TABLE = "event_chain"


def link(
    key: bytes, previous: str, originator_id: UUID, version: int, topic: str, state: bytes
) -> str:
    mac = hmac.new(key, digestmod=hashlib.sha256)
    mac.update(f"{previous}|{originator_id.hex}|{version}|{topic}|".encode())
    mac.update(as_bytes(state))
    return mac.hexdigest()


def as_bytes(value: object) -> bytes:
    """Stored state as bytes, whatever a tampered row now holds (text, numbers, NULL)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return repr(value).encode()


@dataclass(frozen=True)
class Integrity:
    ok: bool
    first_bad_version: int | None
    checked: int
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass(frozen=True)
class StoredRow:
    version: int
    topic: str
    state: bytes


class ChainVerifier:
    """Walks one aggregate's stored events in version order and checks each link."""

    def __init__(self, key: bytes, originator_id: UUID) -> None:
        self.key = key
        self.originator_id = originator_id
        self.previous = GENESIS
        self.version = 0
        self.bad: Integrity | None = None

    def feed(self, row: StoredRow, stored_link: str | None) -> bool:
        """Check the next stored event; False (and ``bad`` set) at the first break."""
        if self.bad is not None:
            return False
        expected_version = self.version + 1
        if row.version != expected_version:
            return self._break(expected_version, f"version {expected_version} is missing")
        if stored_link is None:
            return self._break(row.version, "its chain link is missing")
        computed = link(
            self.key, self.previous, self.originator_id, row.version, row.topic, row.state
        )
        if not hmac.compare_digest(computed, stored_link):
            return self._break(row.version, "its content does not match its chain link")
        self.previous = stored_link
        self.version = row.version
        return True

    def finish(
        self, chained_versions: Iterable[int], known_version: int | None = None
    ) -> Integrity:
        """The verdict, with tails: links or a read model that know of later versions."""
        if self.bad is not None:
            return self.bad
        beyond = [v for v in chained_versions if v > self.version]
        if beyond:
            return Integrity(
                False,
                self.version + 1,
                self.version,
                f"version {self.version + 1} is missing (chain knows {max(beyond)})",
            )
        if known_version is not None and known_version > self.version:
            return Integrity(
                False,
                self.version + 1,
                self.version,
                f"version {self.version + 1} is missing (read model knows {known_version})",
            )
        return Integrity(True, None, self.version)

    def _break(self, version: int, reason: str) -> bool:
        self.bad = Integrity(False, version, self.version, reason)
        return False


def verify(
    key: bytes,
    originator_id: UUID,
    rows: Sequence[StoredRow],
    links: dict[int, str],
    known_version: int | None = None,
) -> Integrity:
    verifier = ChainVerifier(key, originator_id)
    for row in sorted(rows, key=lambda r: r.version):
        if not verifier.feed(row, links.get(row.version)):
            break
    return verifier.finish(links.keys(), known_version)
