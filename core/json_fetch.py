"""GET a small JSON document over HTTPS with a hard time budget and size cap (keys, metadata)."""

from __future__ import annotations

import http.client
import ipaddress
import json
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from core.bounded_call import BoundedCall, CallTimedOut

MAX_DOCUMENT_BYTES = 128 * 1024
LOOPBACK_NAMES = frozenset({"localhost"})
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d{1,10})\"?\s*(?:,|$)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|,)\s*(?:no-store|no-cache)\s*(?:,|=|$)", re.IGNORECASE)


class FetchError(Exception):
    """The document could not be fetched or is not a JSON object; the message is safe to log."""


@dataclass(frozen=True)
class Fetched:
    document: dict[str, Any]
    max_age: int | None  # seconds, from Cache-Control; 0 for no-store/no-cache; None when absent


def is_allowed_url(url: str) -> bool:
    """HTTPS anywhere; plain HTTP only to a loopback host (local runs and tests)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return False
    if not host or parts.username or parts.password or parts.fragment:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and _is_loopback(host)


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        if not is_allowed_url(newurl):
            fp.close()
            raise FetchError(f"redirect to a URL that is not HTTPS: {newurl[:200]}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


# No proxy from the environment: where keys come from is decided here, not by ambient variables.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _CheckedRedirects())


def fetch_json(url: str, timeout: float) -> Fetched:
    """The JSON object at `url`, or FetchError within `timeout` seconds whatever the server does."""
    if not is_allowed_url(url):
        raise FetchError(f"not an HTTPS URL: {url[:200]}")
    # urllib's timeout bounds each socket wait, not their sum: a server that drips bytes could hold
    # the request for longer. The read runs in a worker so the caller stops at the deadline.
    calls: BoundedCall[Fetched | FetchError] = BoundedCall("key-fetch")
    try:
        outcome = calls.run(lambda: _attempt(url, timeout), timeout)
    except CallTimedOut:
        raise FetchError(f"{url[:200]}: no complete answer within {timeout:.2f} s") from None
    if isinstance(outcome, FetchError):
        raise outcome
    return outcome


def _attempt(url: str, timeout: float) -> Fetched | FetchError:
    deadline = time.monotonic() + timeout
    # S310: fetch_json let only is_allowed_url through (https://, or http:// to loopback).
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            body = _read_capped(response, deadline)
            cache_control = response.headers.get("Cache-Control", "")
    except FetchError as e:
        return e
    except urllib.error.HTTPError as e:
        e.close()
        return FetchError(f"{url[:200]}: HTTP {e.code}")
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
        return FetchError(f"{url[:200]}: {type(e).__name__}: {str(e)[:200]}")
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return FetchError(f"{url[:200]}: the body is not JSON")
    if not isinstance(document, dict):
        return FetchError(f"{url[:200]}: the body is not a JSON object")
    return Fetched(document, cache_max_age(cache_control))


def _read_capped(response: Any, deadline: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError("the body took too long")
        chunk = response.read1(16384)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_DOCUMENT_BYTES:
            raise ValueError(f"the body is over {MAX_DOCUMENT_BYTES} bytes")
        chunks.append(chunk)


def cache_max_age(cache_control: str) -> int | None:
    """`max-age` of a Cache-Control value; 0 when it forbids caching; None when it says nothing."""
    if _NO_CACHE.search(cache_control):
        return 0
    match = _MAX_AGE.search(cache_control)
    return int(match.group(1)) if match else None
