"""A webhook receiver for tests: a real HTTP server on loopback that verifies every request with
the published `standardwebhooks` package (not casetrail's code) and answers as scripted."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass(frozen=True)
class Received:
    webhook_id: str
    timestamp: str
    verified: bool
    envelope: dict[str, Any]
    answered: int

    @property
    def position(self) -> int:
        position: int = self.envelope["additionalInformation"]["position"]
        return position


# (received so far, this request's envelope) -> (status, headers)
Script = Callable[[list[Received], dict[str, Any]], tuple[int, dict[str, str]]]


def always_ok(_: list[Received], __: dict[str, Any]) -> tuple[int, dict[str, str]]:
    return 200, {}


@dataclass
class Receiver:
    port: int
    secret: str = ""
    script: Script = always_ok
    delay: float = 0.0
    pauses: list[float] = field(default_factory=list)  # per request, before answering
    requests: int = 0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        try:
            verified = bool(self.secret) and Webhook(self.secret).verify(body, headers) is not None
        except WebhookVerificationError:
            verified = False
        envelope = json.loads(body)
        with self.lock:
            n, self.requests = self.requests, self.requests + 1
        pause = self.pauses[n] if n < len(self.pauses) else self.delay
        if pause:
            time.sleep(pause)
        with self.lock:
            status, extra = self.script(list(self.received), envelope) if verified else (401, {})
            self.received.append(
                Received(
                    headers.get("webhook-id", ""),
                    headers.get("webhook-timestamp", ""),
                    verified,
                    envelope,
                    status,
                )
            )
        return status, extra

    def wait_for(self, done: Callable[[list[Received]], bool], timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if done(list(self.received)):
                    return
            time.sleep(0.02)
        with self.lock:
            seen = [(r.position, r.answered) for r in self.received]
        raise AssertionError(f"the receiver did not get what was expected in time: {seen}")

    def delivered(self) -> list[Received]:
        with self.lock:
            return [r for r in self.received if 200 <= r.answered < 300]


@contextmanager
def receiver() -> Iterator[Receiver]:
    """A receiver on a free loopback port, stopped afterwards."""
    state: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra = state["receiver"].handle(headers, body)
            answer = b'{"ok": true}' + b" " * 2000  # longer than the prefix the relay keeps
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["receiver"] = Receiver(port=server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["receiver"]
    finally:
        server.shutdown()
        server.server_close()
