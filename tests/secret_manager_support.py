"""A loopback server speaking Secret Manager's REST v1 `access` call, with faults on demand."""

from __future__ import annotations

import base64
import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import google_crc32c

PROJECT = "hook-project"
ACCESS = re.compile(r"/v1/(projects/([^/]+)/secrets/([^/]+))/versions/([^/:]+):access")
STATUS = {404: "NOT_FOUND", 500: "INTERNAL", 503: "UNAVAILABLE"}
HANG_LIMIT_SECONDS = 10.0


class SecretManagerServer:
    """Secrets by name, each a list of versions; counts every access call it receives.

    `fault` changes how calls are answered: None (as the API does), "hang" (accept, never
    answer), "error-500", "error-503", "bad-crc" (a wrong checksum), "no-crc" (none at all).
    `stop()` closes the port, so connections are refused; `start()` opens it again.
    """

    def __init__(self) -> None:
        self.versions: dict[str, list[bytes]] = {}
        self.reads: Counter[str] = Counter()
        self.fault: str | None = None
        self.released = threading.Event()
        self._lock = threading.Lock()
        self._read = threading.Condition(self._lock)
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add_version(self, secret: str, value: str | bytes) -> str:
        """Add a version to `secret` (created if new); returns the new version's name."""
        data = value.encode("utf-8") if isinstance(value, str) else value
        with self._lock:
            versions = self.versions.setdefault(f"projects/{PROJECT}/secrets/{secret}", [])
            versions.append(data)
            return f"projects/{PROJECT}/secrets/{secret}/versions/{len(versions)}"

    def total_reads(self) -> int:
        return sum(self.reads.values())

    def wait_for_reads(self, name: str, count: int, seconds: float = HANG_LIMIT_SECONDS) -> bool:
        """Wait until `name` has been asked for `count` times in all: a read under way has
        reached the server (and, under "hang", is waiting there)."""
        with self._read:
            return self._read.wait_for(lambda: self.reads[name] >= count, seconds)

    def start(self) -> None:
        handler = type("Handler", (_Handler,), {"owner": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def close(self) -> None:
        self.released.set()  # let hanging handlers go
        self.stop()

    def answer(self, path: str) -> tuple[int, dict[str, Any]] | None:
        """The status and JSON body for a GET of `path`; None to hang."""
        match = ACCESS.fullmatch(urlsplit(path).path)
        if match is None:
            return _error(404, f"no such method: {path}")
        secret, project, _, version = match.groups()
        requested = f"{secret}/versions/{version}"
        with self._lock:
            self.reads[requested] += 1
            self._read.notify_all()
            versions = list(self.versions.get(secret, ()))
        if self.fault == "hang":
            return None
        if self.fault in ("error-500", "error-503"):
            return _error(int(self.fault[-3:]), "injected failure")
        if project != PROJECT or not versions:
            return _error(404, f"Secret [{secret}] not found or has no versions.")
        number = len(versions) if version == "latest" else int(version)
        if not 1 <= number <= len(versions):
            return _error(404, f"Secret Version [{requested}] not found.")
        data = versions[number - 1]
        payload: dict[str, Any] = {"data": base64.b64encode(data).decode("ascii")}
        checksum = google_crc32c.value(data)
        if self.fault == "bad-crc":
            payload["dataCrc32c"] = str(checksum ^ 1)
        elif self.fault != "no-crc":
            payload["dataCrc32c"] = str(checksum)
        return 200, {"name": f"{secret}/versions/{number}", "payload": payload}


class _Handler(BaseHTTPRequestHandler):
    owner: SecretManagerServer

    def do_GET(self) -> None:
        answer = self.owner.answer(self.path)
        if answer is None:
            self.owner.released.wait(HANG_LIMIT_SECONDS)
            return
        status, body = answer
        encoded = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(encoded)))
        self.end_headers()
        self.wfile.write(encoded)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _error(code: int, message: str) -> tuple[int, dict[str, Any]]:
    return code, {"error": {"code": code, "message": message, "status": STATUS[code]}}


@contextmanager
def secret_manager() -> Iterator[SecretManagerServer]:
    server = SecretManagerServer()
    server.start()
    try:
        yield server
    finally:
        server.close()
