"""A loopback server speaking Cloud Storage's JSON API for object reads (metadata, and the media
with `alt=media`), as the real API answers them, with faults on demand.

What it answers as the API does: `generation` and `size` as decimal strings, `crc32c` as the
base64 of the big-endian CRC32C, `fields` to pick members, `ifGenerationNotMatch` equal to the
live generation is `304 Not Modified` with no body, `generation=N` for a generation that is no
longer live is 404, media carries `x-goog-generation` and `x-goog-hash`, and errors are JSON whose
message names the caller's account (which the client must never log).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import google_crc32c

OBJECT = re.compile(r"/storage/v1/b/([^/]+)/o/([^/]+)")
FIRST_GENERATION = 1_700_000_000_000_001
HANG_LIMIT_SECONDS = 10.0
# In the 403 message as the real API puts it: the client must not repeat it.
ACCOUNT = "hook-function@hook-project-1.iam.gserviceaccount.com"


class CloudStorageServer:
    """Objects by "bucket/object", each a list of (generation, bytes) with the live one last.
    `metadata_calls` and `media_calls` count requests per object; `fault` changes answers:
    None, "hang", "slow" (answers after `delay`), "drip" (the media a byte at a time, `delay`
    apart), "error-500", "error-503", "error-403", "bad-crc", "huge" (more media than the size
    says), "short", "redirect", "gzip" (stored with Content-Encoding gzip), "media-404", or
    "garbage" (metadata that is not JSON)."""

    def __init__(self) -> None:
        self.objects: dict[str, list[tuple[int, bytes]]] = {}
        self.metadata_calls: Counter[str] = Counter()
        self.media_calls: Counter[str] = Counter()
        self.not_modified = 0
        self.fault: str | None = None
        self.delay = 0.0
        self.released = threading.Event()
        self._lock = threading.Lock()
        self._next = FIRST_GENERATION
        self.port = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def put(self, location: str, data: bytes | str) -> str:
        """Write `gs://bucket/object` (a new generation); returns the generation."""
        key = location.removeprefix("gs://")
        body = data.encode("utf-8") if isinstance(data, str) else data
        with self._lock:
            generation = self._next
            self._next += 1
            self.objects.setdefault(key, []).append((generation, body))
            return str(generation)

    def delete(self, location: str) -> None:
        with self._lock:
            self.objects.pop(location.removeprefix("gs://"), None)

    def calls(self, location: str) -> tuple[int, int]:
        key = location.removeprefix("gs://")
        return self.metadata_calls[key], self.media_calls[key]

    def start(self) -> None:
        handler = type("Handler", (_Handler,), {"owner": self})
        self._server = _Quiet(("127.0.0.1", self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def close(self) -> None:
        self.released.set()
        self.stop()

    def live(self, key: str) -> tuple[int, bytes] | None:
        with self._lock:
            versions = self.objects.get(key)
            return versions[-1] if versions else None

    def generation(self, key: str, number: int) -> bytes | None:
        with self._lock:
            for generation, data in self.objects.get(key, ()):
                if generation == number:
                    return data
        return None


def metadata(bucket: str, name: str, generation: int, data: bytes) -> dict[str, Any]:
    crc = google_crc32c.value(data).to_bytes(4, "big")
    return {
        "kind": "storage#object",
        "id": f"{bucket}/{name}/{generation}",
        "name": name,
        "bucket": bucket,
        "generation": str(generation),
        "metageneration": "1",
        "contentType": "text/plain",
        "size": str(len(data)),
        "md5Hash": base64.b64encode(hashlib.md5(data).digest()).decode(),  # noqa: S324  the API's field
        "crc32c": base64.b64encode(crc).decode(),
        "etag": base64.b64encode(f"etag-{generation}".encode()).decode(),
        "updated": "2026-11-28T08:00:00.000Z",
    }


class _Quiet(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up mid-answer is what the fault tests do


class _Handler(BaseHTTPRequestHandler):
    owner: CloudStorageServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        owner = self.owner
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        match = OBJECT.fullmatch(parts.path)
        if match is None:
            return self._error(404, "Not Found")
        bucket, name = unquote(match.group(1)), unquote(match.group(2))
        key = f"{bucket}/{name}"
        media = query.get("alt") == "media"
        with owner._lock:
            (owner.media_calls if media else owner.metadata_calls)[key] += 1
        fault = owner.fault
        if fault == "hang":
            owner.released.wait(HANG_LIMIT_SECONDS)
            return
        if fault == "slow":
            time.sleep(owner.delay)
        if fault in ("error-500", "error-503", "error-403"):
            code = int(fault[-3:])
            message = (
                f"{ACCOUNT} does not have storage.objects.get access to the Google Cloud "
                f"Storage object. Permission 'storage.objects.get' denied on resource."
                if code == 403
                else "Backend Error"
            )
            return self._error(code, message)
        if fault == "redirect":
            self.send_response(302)
            self.send_header("Location", "https://elsewhere.example/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        live = owner.live(key)
        if live is None:
            return self._error(404, f"No such object: {key}")
        generation, data = live
        if "generation" in query:
            pinned = owner.generation(key, int(query["generation"]))
            if pinned is None or fault == "media-404":
                return self._error(404, f"No such object: {key}")
            generation, data = int(query["generation"]), pinned
        if query.get("ifGenerationNotMatch") == str(generation):
            with owner._lock:
                owner.not_modified += 1
            self.send_response(304)
            self.end_headers()
            return None
        if media:
            return self._media(generation, data, fault)
        document = metadata(bucket, name, generation, data)
        if fault == "bad-crc":
            document["crc32c"] = base64.b64encode(b"\0\0\0\1").decode()
        if fault == "gzip":
            document["contentEncoding"] = "gzip"
        if "fields" in query:
            wanted = query["fields"].split(",")
            document = {k: v for k, v in document.items() if k in wanted}
        body = b"{not json" if fault == "garbage" else json.dumps(document).encode()
        self._send(200, body, {"Content-Type": "application/json; charset=UTF-8"})
        return None

    def _media(self, generation: int, data: bytes, fault: str | None) -> None:
        if fault == "huge":
            data = data + b"x" * (1024 * 1024)
        elif fault == "short":
            data = data[: len(data) // 2]
        crc = base64.b64encode(google_crc32c.value(data).to_bytes(4, "big")).decode()
        headers = {
            "Content-Type": "text/plain",
            "x-goog-generation": str(generation),
            "x-goog-metageneration": "1",
            "x-goog-hash": f"crc32c={crc}",
            "x-goog-stored-content-length": str(len(data)),
            "x-goog-stored-content-encoding": "identity",
        }
        if fault != "drip":
            return self._send(200, data, headers)
        self.send_response(200)
        for header, value in headers.items():
            self.send_header(header, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            for i in range(len(data)):
                if self.owner.released.wait(self.owner.delay):
                    return None
                self.wfile.write(data[i : i + 1])
                self.wfile.flush()
        except OSError:
            pass
        return None

    def _error(self, code: int, message: str) -> None:
        body = {"error": {"code": code, "message": message, "errors": [{"message": message}]}}
        self._send(code, json.dumps(body).encode(), {"Content-Type": "application/json"})

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for header, value in headers.items():
            self.send_header(header, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def cloud_storage() -> Iterator[CloudStorageServer]:
    server = CloudStorageServer()
    server.start()
    try:
        yield server
    finally:
        server.close()
