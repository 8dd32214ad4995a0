"""Knowing at once when another process destroys data keys, so a cached key is never used
after its person's erasure.

Every destruction of keys adds one to the store's key generation (table ``key_generation``)
in the same transaction. A process's unwrapped keys (``KeyCache``) are valid for one
generation only:

- SQLite: each look-up reads the generation first (one indexed row in the same file: a few
  microseconds, no round trip to a server);
- PostgreSQL: a thread LISTENs on ``casetrail_keys``, which the destroying transaction
  NOTIFYs with the new generation; while that connection is down (or not yet up) the cache
  is not used at all, and on reconnecting it reads the generation it may have missed. TCP
  keepalives find a connection dropped without a word (no end-of-file) within about 10 s.
  The destroying process waits until its own listener has heard the notification, which the
  server sends to every listener at the same commit. LISTEN needs a session of its own: not
  through a pooler in transaction mode.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import OrderedDict
from typing import Any
from uuid import UUID

import psycopg
from sqlalchemy.engine import make_url

CHANNEL = "casetrail_keys"
LISTENER_NAME = "casetrail key listener"
GENERATION_TABLE = "key_generation"
logger = logging.getLogger(__name__)


class KeyCache:
    """Unwrapped keys of one key generation; any other generation empties it."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self.entries: OrderedDict[UUID, Any] = OrderedDict()
        self.generation: int | None = None
        self.changed = threading.Condition()

    def get(self, key: UUID, generation: int) -> Any:
        with self.changed:
            if generation != self.generation:
                return None
            return self.entries.get(key)

    def put(self, key: UUID, value: Any, generation: int) -> None:
        """Keep ``value`` if it was read in the generation the cache is in."""
        with self.changed:
            if generation != self.generation:
                return
            self.entries[key] = value
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def advance(self, generation: int | None) -> None:
        """Enter ``generation`` (None: unknown, the cache unused until it is known)."""
        with self.changed:
            if generation is None or generation != self.generation:
                self.entries.clear()
            self.generation = generation
            self.changed.notify_all()

    def drop(self, keys: list[UUID]) -> None:
        with self.changed:
            for key in keys:
                self.entries.pop(key, None)

    def wait_for(self, generation: int, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(
                lambda: self.generation is not None and self.generation >= generation, timeout
            )


class GenerationCheck:
    """SQLite: the generation is read on every look-up, on a connection of its own: a
    cached look-up takes about 5 µs against 43 uncached (bench/README.md, "Data keys");
    through the datastore's pool the check alone took 24."""

    def __init__(self, db_name: str, cache: KeyCache) -> None:
        self.cache = cache
        self.lock = threading.Lock()
        # Autocommit: each read sees the last committed generation.
        self.conn = sqlite3.connect(
            db_name, uri=True, isolation_level=None, check_same_thread=False
        )

    def generation(self) -> int | None:
        with self.lock:
            row = self.conn.execute(
                f"SELECT generation FROM {GENERATION_TABLE} WHERE id = 1"
            ).fetchone()
        generation = None if row is None else int(row[0])
        self.cache.advance(generation)
        return generation

    def heard(self, generation: int) -> None:
        """Nothing to wait for: the next look-up anywhere reads the new generation."""

    def close(self) -> None:
        with self.lock:
            self.conn.close()


class GenerationListener:
    """PostgreSQL: a thread LISTENs for new generations; the cache is used only while it does."""

    def __init__(self, database_url: str, cache: KeyCache, *, wait: float = 2.0) -> None:
        url = make_url(database_url)
        self.dsn = psycopg.conninfo.make_conninfo(
            dbname=url.database or "",
            host=url.host or "",
            port=url.port or 5432,
            user=url.username or "",
            password=url.password or "",
            connect_timeout=5,
            application_name=LISTENER_NAME,
            # TCP keepalives: a connection dropped without a word is found dead in about 10 s.
            keepalives=1,
            keepalives_idle=5,
            keepalives_interval=2,
            keepalives_count=2,
        )
        self.cache = cache
        self.wait = wait
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="key-listener", daemon=True)
        self.thread.start()

    def generation(self) -> int | None:
        return self.cache.generation

    def heard(self, generation: int) -> None:
        """Return once this process's listener has heard ``generation`` (bounded wait)."""
        if not self.cache.wait_for(generation, self.wait):
            logger.warning("key generation %s not heard back within %s s", generation, self.wait)

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                with psycopg.connect(self.dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    # What it may have missed while not listening.
                    row = conn.execute(
                        f"SELECT generation FROM {GENERATION_TABLE} WHERE id = 1"
                    ).fetchone()
                    self.cache.advance(None if row is None else int(row[0]))
                    while not self.stopping.is_set():
                        for note in conn.notifies(timeout=0.5):
                            self.cache.advance(int(note.payload))
            except (psycopg.Error, OSError, ValueError):
                logger.debug("key listener reconnecting", exc_info=True)
            finally:
                self.cache.advance(None)
            self.stopping.wait(0.2)
