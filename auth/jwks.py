"""The issuer's signing keys over HTTPS: cached, refreshed on schedule, fetched one at a time."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping

from auth.discovery import DiscoveryError, Fetch, locate_jwks
from auth.keys import (
    ASYMMETRIC_ALGORITHMS,
    JwkEntry,
    JwksFormatError,
    KeyNotFound,
    VerificationKey,
    parse_jwks,
    pick,
)
from core.deadline import time_left
from core.errors import Unavailable
from core.json_fetch import FetchError, fetch_json
from core.loggable import shown
from core.logs import logger

# Each fetch, and all fetches of one refresh (discovery included): well inside Okta's 3 s.
FETCH_TIMEOUT_SECONDS = 0.75
REFRESH_BUDGET_SECONDS = 1.5
# Both bounded further by the request's deadline; a fetch is not started with less than this left,
# since it would fail for want of time and hold every later fetch back by a backoff.
MIN_FETCH_SECONDS = 0.05
WAIT_FOR_FETCH_SECONDS = REFRESH_BUDGET_SECONDS + 0.5
# How long fetched keys are used before a refresh: Cache-Control max-age, kept within bounds.
REFRESH_DEFAULT_SECONDS = 3600
REFRESH_MIN_SECONDS = 300
REFRESH_MAX_SECONDS = 86400
# An unknown kid refetches at most once per cooldown, so forged kids cannot drive fetches.
UNKNOWN_KID_COOLDOWN_SECONDS = 30
# After a failed fetch: retry soon when nothing is cached, later when old keys still serve.
RETRY_WITHOUT_KEYS_SECONDS = 5
RETRY_WITH_KEYS_SECONDS = 30


def refresh_interval(max_age: int | None) -> int:
    if max_age is None:
        return REFRESH_DEFAULT_SECONDS
    return min(max(max_age, REFRESH_MIN_SECONDS), REFRESH_MAX_SECONDS)


class RemoteKeys:
    """Keys from `jwks_uri`, or from the issuer's metadata when no URI is configured.

    One thread at a time fetches. Only the request that starts a scheduled refresh, or one that
    needs keys not cached (none at all, or an unknown kid), waits on the network; the others use
    the cached keys. `fetch` and `clock` are parameters so tests can drive time.
    """

    algorithms = ASYMMETRIC_ALGORITHMS

    def __init__(
        self,
        issuer: str,
        jwks_uri: str | None = None,
        *,
        fetch: Fetch = fetch_json,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._issuer = issuer
        self._jwks_uri = jwks_uri
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: Mapping[str, JwkEntry] = {}
        self._refresh_at = -math.inf
        self._retry_at = -math.inf
        self._kid_refetch_at = -math.inf
        self._last_error = "not fetched yet"

    def __repr__(self) -> str:
        return f"RemoteKeys({self._jwks_uri or self._issuer})"

    def load(self) -> None:
        self._update(wait=True, due=self._refresh_due)
        self._require_keys()

    def key_for(self, kid: str | None, alg: str) -> VerificationKey:
        if self._refresh_due(self._clock()):
            # With keys cached, a refresh another thread is already doing is not waited for.
            self._update(wait=not self._entries, due=self._refresh_due)
        self._require_keys()
        found = pick(self._entries, kid, alg)
        if found is None and kid is not None:
            self._update(wait=True, due=lambda now: self._kid_refetch_due(now, kid))
            found = pick(self._entries, kid, alg)
        if found is None:
            raise KeyNotFound(f"no key {shown(kid)} at the issuer")
        return found

    def _require_keys(self) -> None:
        if not self._entries:
            raise Unavailable(f"no signing keys for {self._issuer}: {self._last_error}")

    def _refresh_due(self, now: float) -> bool:
        return now >= self._refresh_at and now >= self._retry_at

    def _kid_refetch_due(self, now: float, kid: str) -> bool:
        if kid in self._entries or now < self._kid_refetch_at or now < self._retry_at:
            return False
        self._kid_refetch_at = now + UNKNOWN_KID_COOLDOWN_SECONDS
        return True

    def _update(self, *, wait: bool, due: Callable[[float], bool]) -> None:
        if wait:
            acquired = self._lock.acquire(timeout=time_left(WAIT_FOR_FETCH_SECONDS))
        else:
            acquired = self._lock.acquire(blocking=False)
        if not acquired:
            return
        try:
            now = self._clock()
            budget = time_left(REFRESH_BUDGET_SECONDS)
            if budget >= MIN_FETCH_SECONDS and due(now):
                self._fetch_keys(now, budget)
        finally:
            self._lock.release()

    def _fetch_keys(self, now: float, budget: float) -> None:
        deadline = time.monotonic() + budget
        try:
            uri = self._jwks_uri or locate_jwks(
                self._issuer, self._fetch, FETCH_TIMEOUT_SECONDS, deadline
            )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FetchError(f"no time left to fetch {uri}")
            fetched = self._fetch(uri, min(FETCH_TIMEOUT_SECONDS, remaining))
            entries = parse_jwks(fetched.document, uri)
        except (DiscoveryError, FetchError, JwksFormatError) as e:
            self._last_error = str(e)
            backoff = RETRY_WITH_KEYS_SECONDS if self._entries else RETRY_WITHOUT_KEYS_SECONDS
            self._retry_at = self._clock() + backoff
            logger.warning(
                "signing keys not fetched: %s",
                self._last_error,
                extra={"fields": {"event": "keys", "cached_keys": len(self._entries)}},
            )
            return
        self._jwks_uri = uri
        self._entries = entries
        interval = refresh_interval(fetched.max_age)
        self._refresh_at = now + interval
        self._retry_at = -math.inf
        logger.info(
            "signing keys fetched",
            extra={"fields": {"event": "keys", "jwks_uri": uri, "kids": sorted(entries)[:10]}},
        )
