"""A throwaway PostgreSQL 15 server for the test suite.

The tests run against a *real* PostgreSQL server, not a mock and not a shared developer
database: every run gets its own cluster in a temporary directory, on a free port, and it is
deleted afterwards. That keeps runs reproducible and lets tests create databases freely.

Usage::

    with PostgresServer() as server:
        url = server.create_database()  # postgresql+psycopg://postgres@127.0.0.1:PORT/NAME

The server binaries come from ``/usr/lib/postgresql/15/bin`` (Debian's ``postgresql-15``
package, which ``make test`` installs) or from the directory in ``$CASETRAIL_PG_BIN``.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import psycopg
from psycopg import sql

DEFAULT_PG_BIN = "/usr/lib/postgresql/15/bin"
PG_BIN_ENV_VAR = "CASETRAIL_PG_BIN"
# initdb/postgres refuse to run as root, so as root we drop to this (Debian-created) account.
POSTGRES_OS_USER = "postgres"
SUPERUSER = "postgres"
HOST = "127.0.0.1"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 30.0
_DBNAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class PostgresServer:
    """Start, use and stop a private PostgreSQL cluster (trust auth, durability off).

    Durability settings (fsync, synchronous_commit, full_page_writes) are off because the
    cluster is thrown away after the run; this makes the suite several times faster. With
    ``durable=True`` they are on (PostgreSQL's defaults, what a system of record runs with):
    the benchmarks measure that, not the test harness's shortcut.
    """

    def __init__(
        self, bin_dir: str | os.PathLike[str] | None = None, *, durable: bool = False
    ) -> None:
        self.bin_dir = Path(bin_dir or os.environ.get(PG_BIN_ENV_VAR) or DEFAULT_PG_BIN)
        self.durable = durable
        self.port: int | None = None
        self._tmp: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._db_counter = itertools.count(1)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        """Create a fresh cluster and start the server; returns once it accepts connections."""
        if self._proc is not None:
            return self
        for name in ("initdb", "postgres"):
            if not os.access(self.bin_dir / name, os.X_OK):
                # Never skip: a missing server must fail loudly so PostgreSQL tests can't be
                # silently dropped from a run.
                raise RuntimeError(
                    f"PostgreSQL 15 binary {self.bin_dir / name} not found. Run `make test` "
                    f"(it installs the Debian package postgresql-15) or point "
                    f"${PG_BIN_ENV_VAR} at a directory containing initdb and postgres."
                )
        # Safety net in case the caller never reaches stop(): atexit also runs when the
        # interpreter exits on an uncaught exception (not on SIGKILL or os._exit, though).
        atexit.register(self.stop)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        # As root, create under /tmp explicitly: $TMPDIR might sit somewhere (e.g. below
        # /root) that the postgres account cannot traverse.
        tmp = Path(tempfile.mkdtemp(prefix="casetrail-pg-", dir="/tmp" if _is_root() else None))
        self._tmp = tmp
        sock_dir = tmp / "sock"
        sock_dir.mkdir()
        if _is_root():
            for path in (tmp, sock_dir):
                shutil.chown(path, user=POSTGRES_OS_USER, group=_postgres_account().pw_gid)

        self._initdb()
        log = self._log = (tmp / "postgres.log").open("ab")
        # Picking a free port and binding it later is racy; if another process grabbed the
        # port in between, try again with a new one.
        for attempt in range(1, 4):
            log.truncate(0)
            self.port = _free_port()
            self._launch()
            try:
                self._wait_until_ready()
                return
            except RuntimeError:
                if attempt == 3 or "could not bind" not in self.log_tail():
                    raise
                self._kill()

    def _launch(self) -> None:
        """Start the postmaster on the cluster and port already chosen."""
        durability = "on" if self.durable else "off"
        assert self._log is not None
        self._proc = self._popen(
            [
                str(self.bin_dir / "postgres"),
                "-D", str(self.data_dir),
                "-p", str(self._require_port()),
                "-k", str(self._require_tmp() / "sock"),
                "-c", f"listen_addresses={HOST}",
                "-c", f"fsync={durability}",
                "-c", f"synchronous_commit={durability}",
                "-c", f"full_page_writes={durability}",
                "-c", "max_connections=200",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # Own session/process group: a Ctrl-C in the terminal reaches pytest only (which
            # then shuts the server down cleanly), and _kill() can take out every backend.
            start_new_session=True,
        )  # fmt: skip

    def pause(self) -> None:
        """Stop the server as an operator would (fast shutdown: clients are disconnected),
        keeping its cluster and port; ``resume`` starts it again on the same data."""
        if self._proc is None:
            raise RuntimeError("PostgresServer is not running")
        self._proc.send_signal(signal.SIGINT)
        try:
            self._proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._kill()
        self._proc = None

    def resume(self) -> None:
        """Start the paused server again; returns once it accepts connections."""
        if self._proc is not None:
            raise RuntimeError("PostgresServer is already running")
        self._launch()
        self._wait_until_ready()

    def stop(self) -> None:
        """Fast shutdown (SIGINT), escalate to SIGKILL if needed, delete the cluster. Idempotent."""
        if self._proc is not None:
            if self._proc.poll() is None:
                # SIGINT = "fast" shutdown: disconnect clients, no waiting for them to finish.
                self._proc.send_signal(signal.SIGINT)
                try:
                    self._proc.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    self._kill()
            self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        self.port = None
        atexit.unregister(self.stop)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- connection details -------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        return self._require_tmp() / "data"

    @property
    def host(self) -> str:
        return HOST

    @property
    def user(self) -> str:
        return SUPERUSER

    @property
    def admin_dsn(self) -> str:
        """libpq DSN for the maintenance database ``postgres`` (for psycopg.connect)."""
        return self.dsn("postgres")

    def dsn(self, dbname: str) -> str:
        """libpq DSN for ``dbname``; sslmode=disable so a stray $PGSSLMODE can't interfere."""
        return (
            f"host={HOST} port={self._require_port()} user={SUPERUSER} dbname={dbname} "
            "sslmode=disable"
        )

    def url(self, dbname: str) -> str:
        """SQLAlchemy URL for ``dbname`` (psycopg 3 driver, no password: trust auth)."""
        return f"postgresql+psycopg://{SUPERUSER}@{HOST}:{self._require_port()}/{dbname}"

    # -- databases -----------------------------------------------------------------------------

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database (unique name unless given) and return its SQLAlchemy URL."""
        name = name or f"test_{next(self._db_counter)}_{uuid.uuid4().hex[:8]}"
        if not _DBNAME_RE.match(name):
            raise ValueError(f"unsupported database name {name!r}")
        # CREATE DATABASE cannot run inside a transaction block, hence autocommit.
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name``, disconnecting any session still using it (e.g. a leaked pool)."""
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    # -- internals -----------------------------------------------------------------------------

    def log_tail(self, lines: int = 30) -> str:
        """Last lines of the server log, for error messages."""
        if self._tmp is None:
            return ""
        try:
            text = (self._tmp / "postgres.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _initdb(self) -> None:
        result = self._run(
            [
                str(self.bin_dir / "initdb"),
                "-D", str(self.data_dir),
                "--auth=trust",
                "-U", SUPERUSER,
                "--encoding=UTF8",
                # C locale: identical sorting on every machine, and no dependency on which
                # OS locales happen to be generated (initdb fails on a missing $LANG locale).
                "--locale=C",
                "--no-sync",
            ],
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed (exit {result.returncode}):\n{result.stdout}")

    def _wait_until_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"postgres exited with code {self._proc.returncode} during startup. "
                    f"Server log:\n{self.log_tail()}"
                )
            try:
                with psycopg.connect(self.admin_dsn, connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as exc:
                last_error = exc
                time.sleep(0.1)
        raise RuntimeError(
            f"postgres did not accept connections within {START_TIMEOUT_S:.0f}s "
            f"(last error: {last_error}). Server log:\n{self.log_tail()}"
        )

    def _kill(self) -> None:
        """SIGKILL the whole process group (postmaster and backends) and reap it."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            # Safe from pid reuse: the postmaster is not reaped yet, so its pgid is still ours.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGKILL)
        self._proc.wait()
        self._proc = None

    def _popen(self, args: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        return subprocess.Popen(args, **self._as_postgres_kwargs(), **kwargs)

    def _run(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
            **self._as_postgres_kwargs(),
        )

    def _as_postgres_kwargs(self) -> dict[str, Any]:
        """Popen arguments that run the child as the postgres account when we are root.

        Popen's user/group/extra_groups do the setuid in the child, so no runuser/sudo needed.
        cwd is the temp dir because the postgres account may not be allowed into ours.
        """
        kwargs: dict[str, Any] = {"cwd": self._require_tmp()}
        if _is_root():
            account = _postgres_account()
            kwargs |= {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
        return kwargs

    def _require_tmp(self) -> Path:
        if self._tmp is None:
            raise RuntimeError("PostgresServer is not started; call start() first")
        return self._tmp

    def _require_port(self) -> int:
        if self.port is None:
            raise RuntimeError("PostgresServer is not started; call start() first")
        return self.port


def _is_root() -> bool:
    return os.geteuid() == 0


def _postgres_account() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(POSTGRES_OS_USER)
    except KeyError:
        raise RuntimeError(
            f"Running as root, but there is no {POSTGRES_OS_USER!r} OS account to run the "
            "PostgreSQL server as (initdb/postgres refuse to run as root). Run `make test`, "
            "which installs postgresql-15 and thereby creates the account."
        ) from None


def _free_port() -> int:
    """Ask the kernel for a currently unused TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port
