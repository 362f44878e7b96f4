"""A list kept in a Cloud Storage object, read through the JSON API with google-auth's authorized
session: a metadata call conditional on the generation already held (an unchanged object costs
that call and nothing more), then the media of exactly that generation, its CRC32C checked.

Why not google-cloud-storage: its import costs 2.5x google-auth's session at cold start (docs/
outside_data.md has the figures), and this needs two GET requests it would wrap, with the size
cap, the redirect refusal and the deadline each read needs applied to them by hand anyway.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from core import strict_json
from core.bounded_call import BoundedCall, CallTimedOut, StillStalled
from core.per_process import PerProcess
from core.refreshing import Fetched, FetchFailed

STORAGE_ENDPOINT = "https://storage.googleapis.com"
READ_ONLY_SCOPE = "https://www.googleapis.com/auth/devstorage.read_only"
# Each socket wait; the whole read is bounded by the budget Refreshing gives it.
CONNECT_SECONDS = 5.0
MAX_METADATA_BYTES = 64 * 1024
CHUNK_BYTES = 256 * 1024
_BUCKET = re.compile(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]")
_DIGITS = re.compile(r"[0-9]{1,20}")
# What a status means, said without the server's message (which names the caller's account).
_STATUS = {
    401: "not authorised (the function's credentials were refused)",
    403: "permission denied (the function's service account needs roles/storage.objectViewer)",
    404: "no such object",
    429: "rate limited",
}


@dataclass(frozen=True)
class NotRead:
    """A version seen in the metadata and not downloaded; the list's parse refuses it."""

    reason: str


Raw = bytes | NotRead


def parse_location(text: str) -> tuple[str, str]:
    """(bucket, object) of `gs://bucket/object`; ValueError otherwise."""
    if not text.startswith("gs://"):
        raise ValueError("not a gs://bucket/object location")
    bucket, _, name = text[5:].partition("/")
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise ValueError("the bucket is not a bucket name")
    if not name or len(name.encode("utf-8")) > 1024 or any(ord(c) < 32 for c in name):
        raise ValueError("the object name is empty, too long or has control characters")
    if name in (".", "..") or name.startswith(".well-known/acme-challenge/"):
        raise ValueError("the object name is not one Cloud Storage allows")
    return bucket, name


class CloudStorageObject:
    """`gs://bucket/object` as the raw value of the list `name`: None when the generation is
    still `known`; the object's bytes (at most `max_bytes`, CRC32C checked) when it changed;
    `NotRead` for a version that is too large, empty or compressed, or was refused before."""

    def __init__(
        self, name: str, location: str, *, max_bytes: int, endpoint: str | None = None
    ) -> None:
        self.name = name
        self.bucket, self.object = parse_location(location)
        self.where = f"gs://{self.bucket}/{self.object}"
        self.fields: Mapping[str, object] = {"list": name, "source": self.where}
        self.max_bytes = max_bytes
        self._endpoint = (endpoint or STORAGE_ENDPOINT).rstrip("/")
        path = f"/b/{quote(self.bucket, safe='')}/o/{quote(self.object, safe='')}"
        self._url = f"{self._endpoint}/storage/v1{path}"
        self._calls: BoundedCall[Fetched[Raw] | None] = BoundedCall(f"read {name}")
        self._returned: str | None = None  # the generation last handed to Refreshing

    def __repr__(self) -> str:
        return f"CloudStorageObject({self.name!r}, {self.where!r})"

    def fetch(self, budget: float, known: object) -> Fetched[Raw] | None:
        try:
            return self._calls.run(lambda: self._read(budget, known), budget)
        except StillStalled:
            raise self._error("an earlier read is still waiting for an answer") from None
        except CallTimedOut:
            raise self._error(f"no complete answer within {budget:.3g} s") from None

    def _read(self, budget: float, known: object) -> Fetched[Raw] | None:
        deadline = time.monotonic() + budget
        params = {"fields": "generation,size,crc32c,contentEncoding"}
        if isinstance(known, str):
            params["ifGenerationNotMatch"] = known
        status, body, _ = self._get(params, deadline, MAX_METADATA_BYTES)
        if status == 304:
            return None  # still the generation held: one call, nothing downloaded
        if status != 200:
            raise self._error(_said(status))
        generation, size, crc32c, encoding = self._metadata(body)
        origin = f"{self.where}#{generation}"
        refusal = self._refusal(generation, known, size, encoding)
        if refusal is not None:
            self._returned = generation
            return Fetched(NotRead(refusal), origin, tag=generation)
        media = {"alt": "media", "generation": generation}
        status, data, headers = self._get(media, deadline, size)
        if status != 200:
            raise self._error(f"the media of generation {generation}: {_said(status)}")
        if headers.get("x-goog-generation", generation) != generation:
            raise self._error("the media is of another generation")
        if len(data) != size:
            raise self._error(f"{len(data)} bytes of media where the metadata says {size}")
        if _crc32c(data) != crc32c:
            raise self._error("the media's CRC32C does not match the object's")
        self._returned = generation
        return Fetched(data, origin, tag=generation)

    def _refusal(self, generation: str, known: object, size: int, encoding: str) -> str | None:
        if generation == self._returned and generation != known:
            # Handed over before and not taken: the list refused it, and said why then.
            return "refused before"
        if size > self.max_bytes:
            return f"{size} bytes, over the limit of {self.max_bytes}"
        if size == 0:
            return "empty"
        if encoding not in ("", "identity"):
            return "stored compressed (Content-Encoding); store the list as plain text"
        return None

    def _get(
        self, params: dict[str, str], deadline: float, limit: int
    ) -> tuple[int, bytes, Mapping[str, str]]:
        left = deadline - time.monotonic()
        if left <= 0:
            raise self._error("no time left")
        try:
            response = _sessions.get(self._endpoint).get(
                self._url,
                params=params,
                headers={"Accept-Encoding": "identity"},
                timeout=(min(CONNECT_SECONDS, left), left),
                allow_redirects=False,
                stream=True,
            )
        except Exception as e:  # the boundary of requests and google-auth
            raise self._error(_failure(e)) from None
        with response:
            if response.is_redirect:
                raise self._error(f"HTTP {response.status_code} redirect, not followed")
            if response.status_code != 200:
                return response.status_code, b"", response.headers
            if response.headers.get("Content-Encoding", "identity") != "identity":
                raise self._error("the media came compressed though identity was asked for")
            return 200, self._body(response, deadline, limit), response.headers

    def _body(self, response: Any, deadline: float, limit: int) -> bytes:
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                if time.monotonic() > deadline:
                    raise self._error("the body took too long")
                chunk = response.raw.read1(CHUNK_BYTES, decode_content=False)
                if not chunk:
                    return b"".join(chunks)
                size += len(chunk)
                if size > limit:
                    raise self._error(f"an answer over the {limit} bytes expected")
                chunks.append(chunk)
        except FetchFailed:
            raise
        except Exception as e:
            raise self._error(_failure(e)) from None

    def _metadata(self, body: bytes) -> tuple[str, int, int, str]:
        try:
            document = strict_json.loads(body)
            generation = document["generation"]
            size = document["size"]
            crc32c = base64.b64decode(document["crc32c"], validate=True)
            encoding = document.get("contentEncoding", "")
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise self._error("the metadata is not an object's") from None
        if not (isinstance(generation, str) and _DIGITS.fullmatch(generation)):
            raise self._error("the metadata's generation is not a number")
        if not (isinstance(size, str) and _DIGITS.fullmatch(size)) or len(crc32c) != 4:
            raise self._error("the metadata's size or CRC32C is malformed")
        return generation, int(size), int.from_bytes(crc32c, "big"), str(encoding)

    def _error(self, cause: str) -> FetchFailed:
        return FetchFailed(f"{self.name}: cannot read {self.where}: {cause}")


def _said(status: int) -> str:
    return f"HTTP {status}" + (f", {_STATUS[status]}" if status in _STATUS else "")


def _failure(error: Exception) -> str:
    """What went wrong, by the error's type: the libraries' messages carry URLs and accounts."""
    from google.auth import exceptions as auth_errors
    from requests import exceptions as http_errors

    if isinstance(error, auth_errors.GoogleAuthError):
        return f"no credentials ({type(error).__name__})"
    if isinstance(error, http_errors.SSLError):
        return "TLS failure"
    if isinstance(error, http_errors.ConnectionError | http_errors.Timeout):
        return f"no answer ({type(error).__name__})"
    return type(error).__name__


def _crc32c(data: bytes) -> int:
    import google_crc32c

    return int(google_crc32c.value(data))


def _new_session(endpoint: str) -> Any:
    # Imported here, only when a list is read from Cloud Storage.
    import google.auth
    from google.auth.transport.requests import AuthorizedSession

    credentials: Any
    if endpoint.startswith("http://"):
        # A local emulator or test server: no TLS, so anonymous credentials.
        from google.auth.credentials import AnonymousCredentials

        credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
    else:
        credentials, _ = google.auth.default(scopes=[READ_ONLY_SCOPE])
    session = AuthorizedSession(credentials)  # type: ignore[no-untyped-call]
    # Where the list comes from is decided here, not by ambient proxy variables.
    session.trust_env = False
    return session


# One authorized session per endpoint and process.
_sessions: PerProcess[str, Any] = PerProcess(_new_session)
