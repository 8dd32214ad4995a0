"""A loopback TCP proxy that counts database round trips, for tests.

Put it between the application and PostgreSQL (point the database URL at ``proxy.port``).
For each client connection it counts a round trip every time the traffic turns from
server->client to client->server, plus the connection's first client send: one request
flight (however many packets and statements it holds) followed by its response.

It also reads the client's side of the PostgreSQL protocol (v3) well enough to say what each
flight asked for: the SQL of every simple Query and Parse, and for a Bind the statement it
executes (a prepared statement is named by the Parse seen earlier on that connection).

Loopback only, bounded (``max_connections``, each served by two daemon threads), and meant
for tests: it never interprets what the server sends.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

LOOPBACK = "127.0.0.1"
_UNTAGGED_REQUESTS = {80877102, 80877103, 80877104}  # CancelRequest, SSLRequest, GSSENCRequest
_PROTOCOL_3 = 196608
_OTHER = {b"S": "(sync)", b"H": "(flush)", b"X": "(terminate)", b"p": "(password)"}


@dataclass
class Flight:
    """One client->server flight: the statements it carried, in order."""

    statements: list[str] = field(default_factory=list)
    answered: bool = False


@dataclass
class _Connection:
    client: socket.socket
    server: socket.socket
    sent: int = 0  # flights sent: turns from server->client (or nothing) to client->server
    answered: int = 0  # flights the server answered: turns from client->server to server->client
    last: str = ""  # "up" (client->server) or "down" (server->client)
    flights: list[Flight] = field(default_factory=list)
    buffer: bytes = b""
    started: bool = False  # the startup message has been seen
    prepared: dict[str, str] = field(default_factory=dict)
    pending_parse: dict[str, str] = field(default_factory=dict)


class RoundTripProxy:
    """``with RoundTripProxy(pg_port) as proxy:`` ... ``proxy.reset()`` ... ``proxy.count()``"""

    def __init__(
        self, target_port: int, *, target_host: str = LOOPBACK, max_connections: int = 128
    ) -> None:
        self.target = (target_host, target_port)
        self.max_connections = max_connections
        self._lock = threading.Lock()
        self._connections: list[_Connection] = []
        self._threads: list[threading.Thread] = []
        self._listener = socket.create_server((LOOPBACK, 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._acceptor = threading.Thread(target=self._accept, name="proxy-accept", daemon=True)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> Self:
        self._acceptor.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._acceptor.join(timeout=5)
        self._listener.close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            for sock in (conn.client, conn.server):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- counting --------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget the round trips and flights counted so far (on every connection)."""
        with self._lock:
            for conn in self._connections:
                conn.sent = conn.answered = 0
                conn.flights = []

    def count(self) -> int:
        """Round trips since the last reset, over every connection: flights the server
        answered (see ``sent``)."""
        with self._lock:
            return sum(conn.answered for conn in self._connections)

    def sent(self) -> int:
        """Flights sent since the last reset, answered or not: turns of the traffic from
        server->client to client->server, plus a connection's first send."""
        with self._lock:
            return sum(conn.sent for conn in self._connections)

    def flights(self) -> list[list[str]]:
        """What each flight since the last reset carried, connection by connection."""
        with self._lock:
            return [
                [
                    (" ; ".join(f.statements) or "(no statement)")
                    + ("" if f.answered else "  [no answer]")
                    for f in conn.flights
                ]
                for conn in self._connections
                if conn.flights
            ]

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._connections)

    # -- plumbing --------------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                full = len(self._connections) >= self.max_connections
            if full:
                client.close()
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            conn = _Connection(client, server)
            with self._lock:
                self._connections.append(conn)
            for up in (True, False):
                thread = threading.Thread(
                    target=self._pump, args=(conn, up), name="proxy-pump", daemon=True
                )
                self._threads.append(thread)
                thread.start()

    def _pump(self, conn: _Connection, up: bool) -> None:
        source, sink = (conn.client, conn.server) if up else (conn.server, conn.client)
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                # Counted before forwarding, so that the answer cannot overtake its request.
                with self._lock:
                    if up:
                        if conn.last != "up":
                            conn.sent += 1
                            conn.flights.append(Flight())
                        self._read_frontend(conn, data)
                    elif conn.last == "up":
                        conn.answered += 1
                        if conn.flights:
                            conn.flights[-1].answered = True
                    conn.last = "up" if up else "down"
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)

    @staticmethod
    def _read_frontend(conn: _Connection, data: bytes) -> None:
        """Note the statements in the client's messages (called under the lock)."""
        conn.buffer += data
        flight = conn.flights[-1] if conn.flights else Flight()
        while True:
            buf = conn.buffer
            if not conn.started:
                if len(buf) < 8:
                    return
                length, code = struct.unpack("!ii", buf[:8])
                if len(buf) < length:
                    return
                conn.buffer = buf[length:]
                if code == _PROTOCOL_3:
                    conn.started = True
                elif code not in _UNTAGGED_REQUESTS:
                    return
                continue
            if len(buf) < 5:
                return
            tag = buf[:1]
            (length,) = struct.unpack("!i", buf[1:5])
            if len(buf) < 1 + length:
                return
            body = buf[5 : 1 + length]
            conn.buffer = buf[1 + length :]
            if tag == b"Q":
                flight.statements.append(_cstring(body, 0)[0] or "(empty query)")
            elif tag == b"P":
                name, at = _cstring(body, 0)
                query, _ = _cstring(body, at)
                if name:
                    conn.prepared[name] = query
                    flight.statements.append(f"PREPARE {name}: {query}")
                else:
                    conn.pending_parse[""] = query
            elif tag == b"B":
                _, at = _cstring(body, 0)
                name, _ = _cstring(body, at)
                if name:
                    flight.statements.append(conn.prepared.get(name, f"EXECUTE {name}"))
                else:
                    flight.statements.append(conn.pending_parse.get("", "?"))
            elif tag in _OTHER:
                flight.statements.append(_OTHER[tag])


def _cstring(body: bytes, start: int) -> tuple[str, int]:
    end = body.index(b"\x00", start)
    return body[start:end].decode(errors="replace"), end + 1
