"""Test support: settings for a test database, a live uvicorn server, and signed clients."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn

from api.auth import issue_token
from api.bootstrap import Container, build
from api.main import create_app
from application.access import Actor
from application.commands import RegisterStaff
from application.errors import AlreadyExistsError, NotFoundError
from application.service import CaseTrail
from application.settings import Settings
from domain.allocation import DEFAULT_REQUIRED_TRAINING
from domain.vocabulary import Grade

TEST_SECRET = "test-secret-for-casetrail-tests-0123456789"


def make_settings(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": "test",
        "database_url": database_url,
        "var_dir": tmp_path,
        "jwt_secret": TEST_SECRET,
        "embedded_projections": False,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """casetrail served by uvicorn in a thread on a free loopback port: real HTTP."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.settings = container.settings
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(container=container),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.container.close()

    def token(
        self, sub: str, *roles: str, teams: tuple[str, ...] = (), pdus: tuple[str, ...] = ()
    ) -> str:
        return issue_token(
            self.settings, sub=sub, roles=list(roles), teams=list(teams), pdus=list(pdus)
        )

    def client(
        self,
        sub: str = "anon",
        *roles: str,
        teams: tuple[str, ...] = (),
        pdus: tuple[str, ...] = (),
    ) -> httpx.Client:
        """An httpx client signed in as ``sub`` with ``roles`` in ``teams`` and ``pdus`` (no
        roles: no token)."""
        token = self.token(sub, *roles, teams=teams, pdus=pdus) if roles else None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)


@contextmanager
def live_server(database_url: str, tmp_path: Path, **overrides: object) -> Iterator[LiveServer]:
    server = LiveServer(build(make_settings(database_url, tmp_path, **overrides))).start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def serve_process(
    env: dict[str, str], *args: str, timeout: float = 60.0
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`casetrail serve ARGS` as a real process with environment ``env`` (on a free port set
    here): yields its base URL and process once /health answers, and terminates it after."""
    port = free_port()
    cli = Path(sys.executable).with_name("casetrail")
    process = subprocess.Popen(
        [str(cli), "serve", *args],
        env={**env, "CASETRAIL_PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                stderr = process.stderr.read() if process.stderr and process.poll() else b""
                raise RuntimeError(f"casetrail serve did not start: {stderr.decode()}")
            time.sleep(0.1)
        yield base, process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


FULLY_TRAINED = sorted(set(DEFAULT_REQUIRED_TRAINING.values()))


def ensure_staff(app: CaseTrail, staff_id: str, team: str = "T1", pdu: str = "SHF") -> None:
    """Register ``staff_id`` (fully trained, ample capacity) unless already registered: tests
    that are not about the allocation guard allocate to practitioners who pass it."""
    try:
        app.get_staff(staff_id)
    except NotFoundError:
        with contextlib.suppress(AlreadyExistsError):  # another thread of the test was first
            app.register_staff(
                RegisterStaff(
                    staff_id=staff_id,
                    name="Test Practitioner",
                    grade=Grade.PO,
                    team=team,
                    pdu=pdu,
                    capacity=1000,
                    training=FULLY_TRAINED,
                ),
                Actor("admin-support", frozenset({"admin"})),
            )
