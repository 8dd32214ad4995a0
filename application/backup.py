"""Backup and restore of the whole database: events, chain, keys table, access log, read models.

SQLite: the online backup API copies the database in one step, as one read transaction, so
the copy is the database as it stood at one instant while writers carry on (in WAL mode they
do not wait for it). PostgreSQL: ``pg_dump`` in its custom format, which reads every table
in one snapshot (it takes only ACCESS SHARE locks, which the store's per-insert table lock
does not conflict with), and ``pg_restore`` in one transaction. Either way every command
acknowledged before the backup began is in it, and the read models come with the tracking
positions they were built to: a restore is consistent, and the runners carry on from there.

The keys are not in the backup: the encryption, integrity and JWT keys live outside the
database (settings or var/). The manifest holds a fingerprint of the integrity key, so that
a restore under another key is refused rather than reported as a store full of breaks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import sqlalchemy as sa

from application.errors import ApplicationError

MANIFEST = "manifest.json"
SQLITE_FILE = "casetrail.db"
PG_FILE = "casetrail.dump"
FORMAT = 1
# Where Debian and Ubuntu put the client tools of each PostgreSQL version, newest first.
PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


class BackupError(ApplicationError):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Manifest:
    """What a backup directory holds, written beside the data."""

    backend: str
    file: str
    taken_at: str
    events_at_least: int  # the store's last position when the backup began
    integrity_key_fingerprint: str
    format: int = FORMAT

    def write(self, directory: Path) -> None:
        (directory / MANIFEST).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        path = directory / MANIFEST
        if not path.is_file():
            msg = f"{directory} is not a casetrail backup: it has no {MANIFEST}"
            raise BackupError(msg)
        values = json.loads(path.read_text())
        if values.get("format") != FORMAT:
            msg = f"{path}: backup format {values.get('format')!r}, this casetrail reads {FORMAT}"
            raise BackupError(msg)
        return cls(**values)


def fingerprint(integrity_key: bytes) -> str:
    """Names the integrity key without revealing it."""
    return hmac.new(integrity_key, b"casetrail backup fingerprint", hashlib.sha256).hexdigest()[:16]


def backend(database_url: str) -> str:
    return sa.make_url(database_url).get_backend_name()


def take_backup(
    database_url: str, directory: Path, *, events_at_least: int, integrity_key: bytes
) -> Manifest:
    """Back the database up into ``directory`` (created; must be empty)."""
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        msg = f"{directory} is not empty: back up into a new directory"
        raise BackupError(msg)
    kind = backend(database_url)
    if kind == "sqlite":
        _sqlite_copy(_sqlite_path(database_url), directory / SQLITE_FILE)
        file = SQLITE_FILE
    else:
        _pg_dump(database_url, directory / PG_FILE)
        file = PG_FILE
    manifest = Manifest(
        backend=kind,
        file=file,
        taken_at=datetime.now(UTC).isoformat(),
        events_at_least=events_at_least,
        integrity_key_fingerprint=fingerprint(integrity_key),
    )
    manifest.write(directory)
    return manifest


def restore_backup(database_url: str, directory: Path, *, integrity_key: bytes) -> Manifest:
    """Replace the database's contents with the backup in ``directory``. Stop the service
    (API and projection workers) first: the restore replaces tables under them."""
    manifest = Manifest.read(directory)
    kind = backend(database_url)
    if manifest.backend != kind:
        msg = f"a {manifest.backend} backup cannot be restored into {kind}"
        raise BackupError(msg)
    if manifest.integrity_key_fingerprint != fingerprint(integrity_key):
        msg = (
            "this backup was taken under another CASETRAIL_INTEGRITY_KEY: set the key it was "
            "taken with (and the encryption key of that time) before restoring"
        )
        raise BackupError(msg)
    source = directory / manifest.file
    if not source.is_file():
        msg = f"{source} is missing"
        raise BackupError(msg)
    if kind == "sqlite":
        target = _sqlite_path(database_url)
        target.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(source, target)
    else:
        _pg_restore(database_url, source)
    return manifest


def _sqlite_path(database_url: str) -> Path:
    database = sa.make_url(database_url).database
    if not database or database == ":memory:":
        msg = "SQLite needs a file path: sqlite:///var/casetrail.db"
        raise BackupError(msg)
    return Path(database)


def _sqlite_copy(source: Path, target: Path) -> None:
    """The online backup API, all pages in one step: one consistent read of ``source``."""
    if not source.is_file():
        msg = f"no SQLite database at {source}"
        raise BackupError(msg)
    with (
        closing(sqlite3.connect(source, timeout=30)) as src,
        closing(sqlite3.connect(target, timeout=30)) as dst,
    ):
        src.backup(dst)
        checked = dst.execute("PRAGMA quick_check").fetchone()
        if checked is None or checked[0] != "ok":
            msg = f"the copy at {target} fails SQLite's check: {checked}"
            raise BackupError(msg)


def pg_tool(name: str) -> str:
    """``pg_dump`` or ``pg_restore``: on PATH, else in Debian's PostgreSQL directories."""
    found = shutil.which(name)
    if found:
        return found
    for directory in PG_BIN_DIRS:
        if os.access(directory / name, os.X_OK):
            return str(directory / name)
    msg = (
        f"{name} was not found on PATH or under /usr/lib/postgresql/*/bin. Install the "
        "PostgreSQL client tools of the server's major version or newer (Debian and Ubuntu: "
        "apt-get install postgresql-client-15; Red Hat: dnf install postgresql15), or put "
        f"their directory on PATH."
    )
    raise BackupError(msg)


def _pg_dump(database_url: str, target: Path) -> None:
    _run_pg(database_url, pg_tool("pg_dump"), "--format=custom", f"--file={target}")


def _pg_restore(database_url: str, source: Path) -> None:
    _run_pg(
        database_url,
        pg_tool("pg_restore"),
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        str(source),
    )


def _run_pg(database_url: str, tool: str, *args: str) -> None:
    url = sa.make_url(database_url)
    conninfo = psycopg.conninfo.make_conninfo(
        dbname=url.database or "casetrail",
        host=url.host or "127.0.0.1",
        port=str(url.port or 5432),
        user=url.username or "casetrail",
    )
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = url.password  # not on the command line, where ps would show it
    result = subprocess.run(
        [tool, *args, f"--dbname={conninfo}"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        msg = f"{Path(tool).name} failed (exit {result.returncode}): {result.stderr.strip()}"
        raise BackupError(msg)
