"""A loopback endpoint in front of a real one (a key server, Secret Manager's REST API) that
forwards each request, or answers it with the fault it is set to."""

from __future__ import annotations

import http.client
import json
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# Each fault, as a dependency can really fail. "refused" closes the port.
FAULTS = (
    "refused",  # nothing listens
    "closed",  # the connection is accepted, then closed without a word
    "hang",  # accepted, never answered
    "trickle-headers",  # the status line, then a header byte every 50 ms
    "trickle-body",  # headers promising a body, then a byte of it every 50 ms
    "slow",  # the right answer, after SLOW_SECONDS
    "500",
    "503",
    "garbage",  # 200 with bytes that are not JSON
    "huge",  # 200 with a 32 MiB body, announced
    "huge-chunked",  # 200 with an endless chunked body
    "redirect-http",  # 302 to plain HTTP on a host that is not loopback
    "redirect-file",  # 302 to a file: URL
    "redirect-loop",  # 302 to itself
    "redirect-other-host",  # 302 to `other_host`, another loopback server
)
# Longer than the deadline the fault tests set (0.4 s), so a slow answer always comes too late.
SLOW_SECONDS = 0.6
# Held connections are let go when the test ends, and never later than this.
HOLD_LIMIT_SECONDS = 10.0
# Requests answered with each fault, over the whole run (for the run's figures).
INJECTED: Counter[str] = Counter()


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.fault: str | None = None
        self.other_host: str | None = None  # origin a "redirect-other-host" points at
        self.hits: Counter[str] = Counter()
        self.released = threading.Event()
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def total_hits(self) -> int:
        with self._lock:
            return sum(self.hits.values())

    def start(self) -> None:
        handler = type("Handler", (_Handler,), {"proxy": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        # Nothing listens, and nothing answers on a connection a client kept open either.
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def set(self, fault: str | None) -> None:
        """Change the fault; "refused" closes the port, anything else (re)opens it."""
        assert fault is None or fault in FAULTS, fault
        self.released.set()  # connections held by the previous fault are let go
        self.released = threading.Event()
        self.fault = fault
        if fault == "refused":
            self.stop()
        elif self._server is None:
            self.start()

    def recover(self) -> None:
        """Forward again, let go of what the fault holds, and wait for the hook's readers it held:
        what follows starts with no read stalled."""
        self.set(None)
        join_readers()

    def close(self) -> None:
        self.released.set()
        self.stop()

    def forward(self, method: str, path: str, headers: dict[str, str]) -> tuple[int, Any, bytes]:
        connection = http.client.HTTPConnection(
            self.upstream.hostname or "", self.upstream.port, timeout=5
        )
        try:
            headers = {k: v for k, v in headers.items() if k.lower() not in ("host", "connection")}
            connection.request(method, path, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()


class _Handler(BaseHTTPRequestHandler):
    proxy: FaultProxy
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        with self.proxy._lock:
            self.proxy._connections.add(self.connection)

    def finish(self) -> None:
        with self.proxy._lock:
            self.proxy._connections.discard(self.connection)
        super().finish()

    def do_GET(self) -> None:
        proxy = self.proxy
        fault, released = proxy.fault, proxy.released
        with proxy._lock:
            proxy.hits[self.path] += 1
            if fault is not None:
                INJECTED[fault] += 1
        try:
            self._answer(fault, released)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the hook gave up, as it should

    def _answer(self, fault: str | None, released: threading.Event) -> None:
        if fault == "closed":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if fault == "hang":
            released.wait(HOLD_LIMIT_SECONDS)
            self.close_connection = True
            return
        if fault == "trickle-headers":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            self._drip(released)
            return
        if fault == "trickle-body":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self._drip(released)
            return
        if fault in ("500", "503"):
            body = json.dumps({"error": {"code": int(fault), "message": "injected"}}).encode()
            return self._send(int(fault), body)
        if fault == "garbage":
            return self._send(200, b"\x00\xff<html>not json</html>")
        if fault == "huge":
            return self._send_huge(chunked=False, released=released)
        if fault == "huge-chunked":
            return self._send_huge(chunked=True, released=released)
        if fault is not None and fault.startswith("redirect-"):
            target = {
                "redirect-http": "http://keys.example.test" + self.path,
                "redirect-file": "file:///etc/passwd",
                "redirect-loop": self.path,
                "redirect-other-host": f"{self.proxy.other_host}{self.path}",
            }[fault]
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if fault == "slow":
            released.wait(SLOW_SECONDS)
        status, headers, body = self.proxy.forward("GET", self.path, dict(self.headers))
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "transfer-encoding", "connection", "date",
                                    "server"):  # fmt: skip
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _drip(self, released: threading.Event) -> None:
        deadline = time.monotonic() + HOLD_LIMIT_SECONDS
        while not released.wait(0.05) and time.monotonic() < deadline:
            self.wfile.write(b"x")
            self.wfile.flush()
        self.close_connection = True

    def _send_huge(self, *, chunked: bool, released: threading.Event) -> None:
        size = 32 * 1024 * 1024
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(size))
        self.end_headers()
        chunk = b'{"keys": [' + b" " * 65526
        sent = 0
        while sent < size and not released.is_set():
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            sent += len(chunk)
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


def readers() -> list[threading.Thread]:
    """The hook's threads that wait on a dependency (`core.bounded_call`): a key fetch, or a
    read of a secret-valued setting."""
    return [
        thread
        for thread in threading.enumerate()
        if thread.name == "key-fetch" or thread.name.startswith("read OKTA_HOOK_")
    ]


def join_readers(seconds: float = HOLD_LIMIT_SECONDS) -> None:
    """Wait for the hook's readers to end, once what held them has let go: a recovery is then
    seen as soon as it is due, never behind a read still stalled."""
    for thread in readers():
        thread.join(seconds)
        assert not thread.is_alive(), f"{thread.name!r} is still waiting"


def release_fifo(path: Path) -> None:
    """Give the reader blocked on the FIFO at `path` (a stalled secret volume) an empty answer,
    and wait for it to end."""
    os.close(os.open(path, os.O_WRONLY))
    join_readers()


@contextmanager
def fault_proxy(upstream: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.close()
