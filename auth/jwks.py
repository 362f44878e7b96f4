"""The issuer's signing keys over HTTPS: cached, refreshed on schedule, fetched one at a time."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from auth.discovery import DiscoveryError, Fetch, locate_jwks
from auth.keys import (
    ASYMMETRIC_ALGORITHMS,
    JwkEntry,
    KeyNotFound,
    VerificationKey,
    parse_jwks,
    pick,
)
from core.json_fetch import FetchError, fetch_json
from core.loggable import shown
from core.refreshing import Fetched, FetchFailed, Refreshing, Schedule

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


KEYS_SCHEDULE = Schedule(
    refresh_seconds=REFRESH_DEFAULT_SECONDS,
    # Retry soon when nothing is cached, later when old keys still serve.
    retry=lambda _failures, has_keys: (
        RETRY_WITH_KEYS_SECONDS if has_keys else RETRY_WITHOUT_KEYS_SECONDS
    ),
    fetch_seconds=REFRESH_BUDGET_SECONDS,
    wait_seconds=WAIT_FOR_FETCH_SECONDS,
    min_fetch_seconds=MIN_FETCH_SECONDS,
    kind="signing keys of",
    event="keys",
    failure_level=logging.WARNING,
    extra_fetch_cooldown=UNKNOWN_KID_COOLDOWN_SECONDS,
    missing="no signing keys for {name}: {error}",
    failed="signing keys not fetched: {error}; serving {serving}",
)

KeySet = Mapping[str, JwkEntry]
Document = tuple[str, dict[str, Any]]  # where it was read, and what


class KeySetSource:
    """The issuer's published key set: at `jwks_uri`, or where its metadata says."""

    def __init__(self, issuer: str, jwks_uri: str | None, fetch: Fetch) -> None:
        self.name = issuer
        self.fields: Mapping[str, object] = {"issuer": issuer}
        self._jwks_uri = jwks_uri
        self._fetch = fetch

    def fetch(self, budget: float, known: object) -> Fetched[Document]:
        deadline = time.monotonic() + budget
        try:
            uri = self._jwks_uri or locate_jwks(
                self.name, self._fetch, FETCH_TIMEOUT_SECONDS, deadline
            )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FetchError(f"no time left to fetch {uri}")
            fetched = self._fetch(uri, min(FETCH_TIMEOUT_SECONDS, remaining))
        except (DiscoveryError, FetchError) as e:
            raise FetchFailed(str(e)) from None
        self._jwks_uri = uri
        interval = refresh_interval(fetched.max_age)
        return Fetched((uri, fetched.document), uri, refresh_seconds=interval)


def _parse(document: Document) -> KeySet:
    uri, content = document
    return parse_jwks(content, uri)


class RemoteKeys:
    """Keys from `jwks_uri`, or from the issuer's metadata when no URI is configured, kept
    fresh by the one refreshing mechanism: the request that finds them due refreshes them while
    the others use the cached keys; an unknown kid refetches at most once per cooldown."""

    algorithms = ASYMMETRIC_ALGORITHMS

    def __init__(
        self,
        issuer: str,
        jwks_uri: str | None = None,
        *,
        fetch: Fetch = fetch_json,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = KeySetSource(issuer, jwks_uri, fetch)
        self._keys: Refreshing[Document, KeySet] = Refreshing(
            self._source, _parse, KEYS_SCHEDULE, clock=clock
        )

    def __repr__(self) -> str:
        return f"RemoteKeys({self._source.name})"

    def load(self) -> None:
        self._keys.current()

    def key_for(self, kid: str | None, alg: str) -> VerificationKey:
        found = pick(self._keys.current(), kid, alg)
        if found is None and kid is not None:
            # A key the issuer has just rotated in is picked up on first sight.
            entries = self._keys.current(wanted=lambda keys: keys is None or kid not in keys)
            found = pick(entries, kid, alg)
        if found is None:
            raise KeyNotFound(f"no key {shown(kid)} at the issuer")
        return found
