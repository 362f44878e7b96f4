"""HTTPS to one directory host: TLS verified, connections kept alive, no redirect followed, the
body capped, and every call ended at its deadline whatever the server does.

A socket timeout bounds each wait, not their sum: a server that drips its status line, headers or
body a byte at a time could hold a call far past its deadline. One watchdog thread shuts down the
socket of any call still running at its deadline, which ends the call in its own thread at once,
so no thread is spawned or left behind per call.
"""

from __future__ import annotations

import heapq
import http.client
import itertools
import math
import os
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

CHUNK_BYTES = 16 * 1024
POOL_SIZE = 16
USER_AGENT = "okta-registration-hook"


class CallFailed(Exception):
    """The call got no usable answer; the message is safe to log (no URL, no values)."""


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes


class _Watch:
    __slots__ = ("active", "fired", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.active = True
        self.fired = False


class Watchdog:
    """Shuts down the socket of a call that is still running at its deadline."""

    def __init__(self) -> None:
        self._start()
        os.register_at_fork(after_in_child=self._start)

    def _start(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Watch]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        self._wakes_at = math.inf  # when the thread wakes up next, unless told sooner

    def watch(self, sock: socket.socket, at: float) -> _Watch:
        watch = _Watch(sock)
        with self._cond:
            heapq.heappush(self._heap, (at, next(self._order), watch))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="socket-deadlines")
                self._thread.daemon = True
                self._thread.start()
            if at < self._wakes_at:
                # Sooner than the thread would look: wake it. (Most calls end well before the
                # first deadline it waits for, and cost it nothing.)
                self._wakes_at = at
                self._cond.notify()
        return watch

    def done(self, watch: _Watch) -> bool:
        """The call is over; True when its socket was shut down at the deadline first."""
        with self._cond:
            watch.active = False
            return watch.fired

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and not self._heap[0][2].active:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._wakes_at = math.inf
                    self._cond.wait()
                    continue
                self._wakes_at = self._heap[0][0]
                delay = self._wakes_at - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                _, _, watch = heapq.heappop(self._heap)
                watch.fired = True
                try:
                    # The plain socket's shutdown: an SSLSocket's own would drop its TLS state
                    # under the thread still reading it.
                    socket.socket.shutdown(watch.sock, socket.SHUT_RDWR)
                except OSError:
                    pass


WATCHDOG = Watchdog()


class HttpsTransport:
    """Calls to `host:port`, trusting the system's CAs and those in `ca_bundle`."""

    def __init__(self, host: str, port: int, *, ca_bundle: str | None, max_body_bytes: int) -> None:
        self.host, self.port = host, port
        self.max_body_bytes = max_body_bytes
        self._context = ssl.create_default_context()  # hostname checked, certificate required
        if ca_bundle is not None:
            self._context.load_verify_locations(cafile=ca_bundle)
        self._idle: list[http.client.HTTPSConnection] = []
        self._lock = threading.Lock()
        os.register_at_fork(after_in_child=self._idle.clear)

    def call(
        self,
        method: str,
        target: str,
        body: bytes | None,
        headers: Mapping[str, str],
        timeout: float,
    ) -> Reply:
        """The status and body of one exchange, or CallFailed within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        sent = {
            "Accept": "application/json",
            "Accept-Encoding": "identity",
            "User-Agent": USER_AGENT,
            **headers,
        }
        if body is not None:
            sent["Content-Type"] = "application/json"
        with self._lock:
            idle = self._idle.pop() if self._idle else None
        if idle is not None:
            try:
                return self._exchange(idle, method, target, body, sent, deadline)
            except _Stale:
                pass  # the server closed a kept connection: one fresh try, within the deadline
        return self._exchange(None, method, target, body, sent, deadline)

    def _exchange(
        self,
        kept: http.client.HTTPSConnection | None,
        method: str,
        target: str,
        body: bytes | None,
        headers: Mapping[str, str],
        deadline: float,
    ) -> Reply:
        left = deadline - time.monotonic()
        if left <= 0:
            raise CallFailed("no time left")
        connection = kept
        watch = None
        keep = False
        try:
            if connection is None:
                connection = self._connect(left)
            sock = connection.sock
            if sock is None:  # closed under us: a kept one gets the one fresh try
                raise _Stale if kept is not None else CallFailed("connection closed")
            if kept is None:
                watch = WATCHDOG.watch(sock, deadline)
                sock.do_handshake()
            else:
                sock.settimeout(left)
                watch = WATCHDOG.watch(sock, deadline)
            received = False
            try:
                connection.request(method, target, body=body, headers=dict(headers))
                response = connection.getresponse()
                received = True
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                if kept is not None and not received and not WATCHDOG.done(watch):
                    raise _Stale from None
                raise
            reply, keep = self._read(response, deadline)
        except CallFailed:
            raise
        except _Stale:
            raise
        except ssl.SSLCertVerificationError as e:
            raise CallFailed(f"TLS: the certificate was refused ({e.verify_message})") from None
        except ssl.SSLError as e:
            raise CallFailed(f"TLS failure ({e.reason or type(e).__name__})") from None
        except TimeoutError:
            raise CallFailed("no answer in time (socket timeout)") from None
        except (OSError, http.client.HTTPException) as e:
            if watch is not None and WATCHDOG.done(watch):
                raise CallFailed("no complete answer by the deadline") from None
            raise CallFailed(f"connection failed ({type(e).__name__})") from None
        finally:
            fired = watch is not None and WATCHDOG.done(watch)
            if connection is not None and (not keep or fired):
                connection.close()
        if fired:
            raise CallFailed("no complete answer by the deadline")
        with self._lock:
            if len(self._idle) < POOL_SIZE:
                self._idle.append(connection)
                connection = None
        if connection is not None:
            connection.close()
        return reply

    def _connect(self, left: float) -> http.client.HTTPSConnection:
        """A connection whose TLS handshake is still to be made (under the watchdog)."""
        raw = socket.create_connection((self.host, self.port), timeout=left)
        # As http.client does: a request is written whole, so Nagle only delays it.
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            tls = self._context.wrap_socket(
                raw, server_hostname=self.host, do_handshake_on_connect=False
            )
        except BaseException:
            raw.close()
            raise
        connection = http.client.HTTPSConnection(self.host, self.port, context=self._context)
        connection.sock = tls
        return connection

    def close(self) -> None:
        """Close the connections kept alive (a directory no longer used)."""
        with self._lock:
            idle, self._idle[:] = list(self._idle), []
        for connection in idle:
            connection.close()

    def _read(self, response: http.client.HTTPResponse, deadline: float) -> tuple[Reply, bool]:
        status = response.status
        if 300 <= status <= 399:
            where = urlsplit(response.getheader("Location") or "")
            same = not where.netloc or (where.hostname == self.host and where.scheme == "https")
            host = "the same host" if same else "another host"
            raise CallFailed(f"HTTP {status} redirect to {host}, not followed")
        encoding = (response.getheader("Content-Encoding") or "identity").strip().lower()
        if encoding != "identity":
            raise CallFailed("a compressed answer though identity was asked for")
        length = response.getheader("Content-Length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            raise CallFailed(f"an answer over {self.max_body_bytes} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            if time.monotonic() > deadline:
                raise CallFailed("no complete answer by the deadline")
            chunk = response.read1(CHUNK_BYTES)
            if not chunk:
                break
            size += len(chunk)
            if size > self.max_body_bytes:
                raise CallFailed(f"an answer over {self.max_body_bytes} bytes")
            chunks.append(chunk)
        if response.length:  # what Content-Length promised and did not come
            raise CallFailed("the answer ended early")
        keep = not response.will_close
        response.close()  # read to its end: the connection may carry the next request
        return Reply(status, b"".join(chunks)), keep


class _Stale(Exception):
    """A kept-alive connection the server had closed before this request."""
