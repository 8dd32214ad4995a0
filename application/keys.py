"""Key material: the master key, its subkeys, and the per-case data keys (crypto-shredding).

The master key (CASETRAIL_ENCRYPTION_KEY, base64 of 32 bytes) never encrypts data itself:
HKDF derives one subkey for payloads at rest and one that wraps the data keys. Each case has
its own data key, stored wrapped in ``data_keys`` with the person's CRN; erasing a person
destroys the wrapped keys of all their cases, and with them every sealed field.
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from application.settings import Settings
from application.store import is_postgres

KEY_BYTES = 32
DATA_KEYS_TABLE = "data_keys"


def master_key(settings: Settings) -> bytes:
    """The configured master key; outside production, one created under var/ (mode 0600)."""
    encoded = settings.encryption_key
    if not encoded:
        if settings.env == "production":
            msg = "CASETRAIL_ENCRYPTION_KEY must be set in production (base64 of 32 bytes)"
            raise RuntimeError(msg)
        path = Path(settings.var_dir) / "encryption-key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(base64.b64encode(os.urandom(KEY_BYTES)).decode())
        encoded = path.read_text().strip()
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise RuntimeError("CASETRAIL_ENCRYPTION_KEY is not base64") from None
    if len(key) != KEY_BYTES:
        msg = f"CASETRAIL_ENCRYPTION_KEY must be {KEY_BYTES} bytes (it is {len(key)})"
        raise RuntimeError(msg)
    if settings.env == "production" and len(set(key)) < 8:
        raise RuntimeError("CASETRAIL_ENCRYPTION_KEY is too weak (too few distinct bytes)")
    return key


def subkey(master: bytes, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=f"casetrail {purpose}".encode()
    ).derive(master)


@dataclass(frozen=True)
class DataKey:
    aggregate_id: UUID
    key: bytes | None  # None: destroyed (the person's data was erased)

    @property
    def destroyed(self) -> bool:
        return self.key is None


class KeyStore:
    """Per-case data keys in the store's database (through the event recorder's datastore)."""

    def __init__(self, recorder: Any, master: bytes, *, ttl: float = 30.0) -> None:
        self.datastore = recorder.datastore
        self.postgres = is_postgres(self.datastore)
        self.wrapping = AESGCM(subkey(master, "data key wrapping"))
        self.ttl = ttl
        self.cache: OrderedDict[UUID, tuple[float, DataKey]] = OrderedDict()
        self.lock = threading.Lock()

    def _sql(self, statement: str) -> str:
        return statement if self.postgres else statement.replace("%s", "?")

    def _id(self, aggregate_id: UUID) -> Any:
        return aggregate_id if self.postgres else aggregate_id.hex

    def get(self, aggregate_id: UUID) -> DataKey | None:
        """The case's key (destroyed or not), or None if it has none."""
        with self.lock:
            cached = self.cache.get(aggregate_id)
            if cached is not None and time.monotonic() - cached[0] < self.ttl:
                return cached[1]
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                self._sql(f"SELECT wrapped FROM {DATA_KEYS_TABLE} WHERE aggregate_id = %s"),
                (self._id(aggregate_id),),
            )
            row = c.fetchone()
        if row is None:
            return None
        wrapped = row["wrapped"]
        key = None if wrapped is None else self._unwrap(aggregate_id, bytes(wrapped))
        return self._remember(DataKey(aggregate_id, key))

    def create(self, aggregate_id: UUID, crn: str) -> DataKey:
        """A new key for a new case (committed before the case's first event is saved)."""
        existing = self.get(aggregate_id)
        if existing is not None:
            return existing
        key = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
        nonce = os.urandom(12)
        wrapped = nonce + self.wrapping.encrypt(nonce, key, aggregate_id.bytes)
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                self._sql(
                    f"INSERT INTO {DATA_KEYS_TABLE} (aggregate_id, crn, wrapped, created_at)"
                    " VALUES (%s, %s, %s, %s)"
                ),
                (self._id(aggregate_id), crn, wrapped, datetime.now(UTC)),
            )
        return self._remember(DataKey(aggregate_id, key))

    def create_many(self, cases: list[tuple[UUID, str]]) -> None:
        """Keys for many new cases (case id, CRN) in one transaction, one commit: a bulk import
        would otherwise commit once per case for its key alone. A case that has a key already
        keeps it; the keys are read back on first use, so a concurrent writer's key wins."""
        rows = []
        for aggregate_id, crn in cases:
            key = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
            nonce = os.urandom(12)
            wrapped = nonce + self.wrapping.encrypt(nonce, key, aggregate_id.bytes)
            rows.append((self._id(aggregate_id), crn, wrapped, datetime.now(UTC)))
        with self.datastore.transaction(commit=True) as c:
            c.executemany(
                self._sql(
                    f"INSERT INTO {DATA_KEYS_TABLE} (aggregate_id, crn, wrapped, created_at)"
                    " VALUES (%s, %s, %s, %s) ON CONFLICT (aggregate_id) DO NOTHING"
                ),
                rows,
            )

    def destroy(self, crn: str, reason: str) -> list[UUID]:
        """Destroy the keys of every case of ``crn``; the case ids they belonged to."""
        # Write first: SQLite then takes the write lock at once (waiting for it if need be),
        # where a read followed by a write fails at once while another writer is busy.
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                self._sql(
                    f"UPDATE {DATA_KEYS_TABLE} SET wrapped = NULL, destroyed_at = %s, "
                    "reason = %s WHERE crn = %s"
                ),
                (datetime.now(UTC), reason, crn),
            )
            c.execute(
                self._sql(f"SELECT aggregate_id FROM {DATA_KEYS_TABLE} WHERE crn = %s"), (crn,)
            )
            ids = [r["aggregate_id"] for r in c.fetchall()]
        case_ids = [i if isinstance(i, UUID) else UUID(str(i)) for i in ids]
        with self.lock:
            for case_id in case_ids:
                self.cache.pop(case_id, None)
        return case_ids

    def _unwrap(self, aggregate_id: UUID, wrapped: bytes) -> bytes:
        return self.wrapping.decrypt(wrapped[:12], wrapped[12:], aggregate_id.bytes)

    def _remember(self, data_key: DataKey) -> DataKey:
        with self.lock:
            self.cache[data_key.aggregate_id] = (time.monotonic(), data_key)
            self.cache.move_to_end(data_key.aggregate_id)
            while len(self.cache) > 10_000:
                self.cache.popitem(last=False)
        return data_key
