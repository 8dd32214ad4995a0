"""Envelope encryption: data keys in the store, wrapped by a master key that is not.

Two kinds of data key, each stored wrapped by a master key (``application/masters.py``) with
the fingerprint of the master that wrapped it:

- the **payload key** (``store_keys``, one row): encrypts every stored payload at rest;
- a **case key** per case (``data_keys``, with the person's CRN): seals the personal fields.
  Erasing a person destroys the wrapped keys of all their cases, and with them every sealed
  field (crypto-shredding);
- a **staff key** per member of staff (``data_keys``, with their staff id and no CRN): seals
  their coded characteristics; erasing the staff member destroys it.

Rotating the master re-wraps these keys (``application/rotation.py``); no event changes.
Unwrapped case keys are cached per process for as long as no key is destroyed anywhere
(``application/key_watch.py``).
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import Cipher
from eventsourcing.utils import Environment

from application.key_watch import (
    CHANNEL,
    GENERATION_TABLE,
    GenerationCheck,
    GenerationListener,
    KeyCache,
)
from application.masters import KEY_BYTES, Master, Masters, subkey
from application.store import is_postgres

DATA_KEYS_TABLE = "data_keys"
STORE_KEYS_TABLE = "store_keys"
PAYLOAD = "payloads at rest"  # the payload key's name, its wrapping context, and (before the
# envelope layout) the HKDF purpose that derived it from the master


class KeyUnavailableError(RuntimeError):
    """A key is wrapped by a master this process was not given."""


@dataclass(frozen=True)
class DataKey:
    aggregate_id: UUID
    key: bytes | None  # None: destroyed (the person's or staff member's data was erased)

    @property
    def destroyed(self) -> bool:
        return self.key is None


class KeyStore:
    """The store's data keys (through the event recorder's datastore), and their cache."""

    def __init__(self, recorder: Any, masters: Masters, *, database_url: str = "") -> None:
        self.recorder = recorder
        self.datastore = recorder.datastore
        self.postgres = is_postgres(self.datastore)
        self.masters = masters
        self.cache = KeyCache()
        self.watch: GenerationCheck | GenerationListener = (
            GenerationListener(database_url, self.cache)
            if self.postgres
            else GenerationCheck(self.datastore.pool.db_name, self.cache)
        )
        self._payload: bytes | None = None
        self._payload_lock = threading.Lock()

    def sql(self, statement: str) -> str:
        return statement if self.postgres else statement.replace("%s", "?")

    def db_id(self, aggregate_id: UUID) -> Any:
        return aggregate_id if self.postgres else aggregate_id.hex

    def close(self) -> None:
        self.watch.close()

    # -- case and staff keys ---------------------------------------------------------------

    def get(self, aggregate_id: UUID) -> DataKey | None:
        """The case's or staff member's key (destroyed or not), or None if it has none."""
        generation = self.watch.generation()
        if generation is not None:
            cached: DataKey | None = self.cache.get(aggregate_id, generation)
            if cached is not None:
                return cached
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                self.sql(
                    f"SELECT wrapped, wrapped_by FROM {DATA_KEYS_TABLE} WHERE aggregate_id = %s"
                ),
                (self.db_id(aggregate_id),),
            )
            row = c.fetchone()
        if row is None:
            return None
        key = None
        if row["wrapped"] is not None:
            key = self._unwrap(bytes(row["wrapped"]), aggregate_id.bytes, row["wrapped_by"])
        data_key = DataKey(aggregate_id, key)
        if generation is not None:
            self.cache.put(aggregate_id, data_key, generation)
        return data_key

    def create(
        self, aggregate_id: UUID, crn: str | None = None, *, staff_id: str | None = None
    ) -> DataKey:
        """A new key for a new case (with its CRN) or member of staff (with their staff id),
        committed before the aggregate's first event is saved."""
        existing = self.get(aggregate_id)
        if existing is not None:
            return existing
        key = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
        current = self.masters.current
        generation = self.watch.generation()  # read before: a destruction after it wins
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                self.sql(
                    f"INSERT INTO {DATA_KEYS_TABLE} "
                    "(aggregate_id, crn, staff_id, wrapped, wrapped_by, created_at)"
                    " VALUES (%s, %s, %s, %s, %s, %s)"
                ),
                (
                    self.db_id(aggregate_id),
                    crn,
                    staff_id,
                    current.wrap(key, aggregate_id.bytes),
                    current.fingerprint,
                    datetime.now(UTC),
                ),
            )
        data_key = DataKey(aggregate_id, key)
        if generation is not None:
            self.cache.put(aggregate_id, data_key, generation)
        return data_key

    def create_many(self, cases: list[tuple[UUID, str]]) -> None:
        """Keys for many new cases (case id, CRN) in one transaction, one commit: a bulk import
        would otherwise commit once per case for its key alone. A case that has a key already
        keeps it; the keys are read back on first use, so a concurrent writer's key wins."""
        current = self.masters.current
        now = datetime.now(UTC)
        rows = [
            (
                self.db_id(aggregate_id),
                crn,
                current.wrap(AESGCM.generate_key(bit_length=KEY_BYTES * 8), aggregate_id.bytes),
                current.fingerprint,
                now,
            )
            for aggregate_id, crn in cases
        ]
        with self.datastore.transaction(commit=True) as c:
            c.executemany(
                self.sql(
                    f"INSERT INTO {DATA_KEYS_TABLE} "
                    "(aggregate_id, crn, wrapped, wrapped_by, created_at)"
                    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (aggregate_id) DO NOTHING"
                ),
                rows,
            )

    def destroy(self, crn: str, reason: str) -> list[UUID]:
        """Destroy the keys of every case of ``crn``; the case ids they belonged to. Every
        process stops using its copies at once (see ``application/key_watch.py``)."""
        return self._destroy("crn", crn, reason)

    def destroy_staff(self, staff_id: str, reason: str) -> list[UUID]:
        """Destroy a member of staff's key, as ``destroy`` does a person's; the aggregate id
        it belonged to, or none for a staff member registered before staff keys existed."""
        return self._destroy("staff_id", staff_id, reason)

    def _destroy(self, column: Literal["crn", "staff_id"], value: str, reason: str) -> list[UUID]:
        # Write first: SQLite then takes the write lock at once (waiting for it if need be),
        # where a read followed by a write fails at once while another writer is busy.
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                self.sql(
                    f"UPDATE {DATA_KEYS_TABLE} SET wrapped = NULL, wrapped_by = NULL, "
                    f"destroyed_at = %s, reason = %s WHERE {column} = %s"
                ),
                (datetime.now(UTC), reason, value),
            )
            c.execute(f"UPDATE {GENERATION_TABLE} SET generation = generation + 1 WHERE id = 1")
            c.execute(f"SELECT generation FROM {GENERATION_TABLE} WHERE id = 1")
            generation = int(c.fetchone()["generation"])
            if self.postgres:
                c.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(generation)))
            c.execute(
                self.sql(f"SELECT aggregate_id FROM {DATA_KEYS_TABLE} WHERE {column} = %s"),
                (value,),
            )
            ids = [r["aggregate_id"] for r in c.fetchall()]
        aggregate_ids = [i if isinstance(i, UUID) else UUID(str(i)) for i in ids]
        self.cache.drop(aggregate_ids)
        self.watch.heard(generation)
        return aggregate_ids

    # -- the payload key -------------------------------------------------------------------

    def payload_key(self) -> bytes:
        """The key every stored payload is encrypted with (read once, after migrations)."""
        with self._payload_lock:
            if self._payload is None:
                row = self._payload_row()
                if row is None:
                    self._adopt()
                    row = self._payload_row()
                assert row is not None
                self._payload = self._unwrap(
                    bytes(row["wrapped"]), PAYLOAD.encode(), row["wrapped_by"]
                )
            return self._payload

    def _payload_row(self) -> Any:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                self.sql(f"SELECT wrapped, wrapped_by FROM {STORE_KEYS_TABLE} WHERE name = %s"),
                (PAYLOAD,),
            )
            return c.fetchone()

    def _adopt(self) -> None:
        """First start on the envelope layout: store the payload key, wrapped.

        Before it, the payload key was derived from the master (HKDF, ``PAYLOAD``), so the
        store's first event tells which configured master that was; an empty store takes the
        current one's. Unnamed case keys were all wrapped by that same master: they are named.
        """
        sample = self._first_payload()
        master = next((m for m in self.masters.all if sample is None or _opens(m, sample)), None)
        if master is None:
            msg = (
                "no configured master key decrypts this store's events: set the one it was "
                "written with as CASETRAIL_ENCRYPTION_KEY or in CASETRAIL_PREVIOUS_ENCRYPTION_KEYS"
            )
            raise KeyUnavailableError(msg)
        key = subkey(master.key, PAYLOAD)
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                self.sql(
                    f"INSERT INTO {STORE_KEYS_TABLE} (name, wrapped, wrapped_by, created_at) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT (name) DO NOTHING"
                ),
                (
                    PAYLOAD,
                    master.wrap(key, PAYLOAD.encode()),
                    master.fingerprint,
                    datetime.now(UTC),
                ),
            )
            c.execute(
                self.sql(
                    f"UPDATE {DATA_KEYS_TABLE} SET wrapped_by = %s "
                    "WHERE wrapped_by IS NULL AND wrapped IS NOT NULL"
                ),
                (master.fingerprint,),
            )

    def _first_payload(self) -> bytes | None:
        table = self.recorder.events_table_name
        if self.postgres:
            table = f'"{self.datastore.schema}"."{table}"'
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT state FROM {table} LIMIT 1")
            row = c.fetchone()
        return None if row is None else bytes(row["state"])

    def _unwrap(self, wrapped: bytes, context: bytes, fingerprint: str | None) -> bytes:
        key = self.masters.unwrap(wrapped, context, fingerprint)
        if key is None:
            msg = (
                f"a key is wrapped by master {fingerprint or '(unnamed)'}, which is neither "
                "CASETRAIL_ENCRYPTION_KEY nor in CASETRAIL_PREVIOUS_ENCRYPTION_KEYS"
            )
            raise KeyUnavailableError(msg)
        return key


def _opens(master: Master, stored_state: bytes) -> bool:
    try:
        _aes(subkey(master.key, PAYLOAD)).decrypt(stored_state)
    except Exception:  # InvalidTag, or a damaged row: either way not this master's
        return False
    return True


def _aes(key: bytes) -> AESCipher:
    return AESCipher(Environment(env={AESCipher.CIPHER_KEY: base64.b64encode(key).decode()}))


class PayloadCipher(Cipher):
    """The library's AES-GCM cipher under the store's payload key, read on first use."""

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys
        self._cipher: AESCipher | None = None

    def _aes(self) -> AESCipher:
        if self._cipher is None:
            self._cipher = _aes(self.keys.payload_key())
        return self._cipher

    def encrypt(self, plaintext: bytes) -> bytes:
        return self._aes().encrypt(plaintext)

    def decrypt(self, ciphertext: bytes) -> bytes:
        return self._aes().decrypt(ciphertext)
