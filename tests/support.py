"""Test support: settings for a test database, a live uvicorn server, and signed clients."""

from __future__ import annotations

import socket
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
from application.settings import Settings

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

    def token(self, sub: str, *roles: str, teams: tuple[str, ...] = ()) -> str:
        return issue_token(self.settings, sub=sub, roles=list(roles), teams=list(teams))

    def client(self, sub: str = "anon", *roles: str, teams: tuple[str, ...] = ()) -> httpx.Client:
        """An httpx client signed in as ``sub`` with ``roles`` in ``teams`` (none: no token)."""
        headers = (
            {"Authorization": f"Bearer {self.token(sub, *roles, teams=teams)}"} if roles else {}
        )
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)


@contextmanager
def live_server(database_url: str, tmp_path: Path, **overrides: object) -> Iterator[LiveServer]:
    server = LiveServer(build(make_settings(database_url, tmp_path, **overrides))).start()
    try:
        yield server
    finally:
        server.stop()
