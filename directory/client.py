"""The lookup: an answer from the cache, or one call (shared by concurrent lookups of the same
values) through the circuit breaker, judged and cached. Synchronous and thread-safe; on the event
loop (`no_waiting`) anything but a cached answer or an open circuit raises WouldBlock."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping

from core.deadline import time_left
from core.errors import Unavailable
from core.logs import logger
from core.refreshing import Clock, WouldBlock, may_wait
from directory.answers import Answer, BadAnswer, Outcome, judge
from directory.auth import Auth, NoAuth
from directory.breaker import Breaker
from directory.cache import AnswerCache, Flights
from directory.settings import DirectorySettings
from directory.transport import CallFailed, HttpsTransport

# A call is not started with less time than this left: it would fail for want of time, and
# count against the directory in the breaker.
MIN_CALL_SECONDS = 0.05
# How much longer than a call's own bound a lookup waits for the same call made by another.
FOLLOW_SLACK_SECONDS = 0.1

Key = tuple[str, ...]


class DirectoryUnavailable(Exception):
    """No answer now; the message is safe to log. `circuit_open`: the directory is known to be
    failing, and no call was made."""

    def __init__(self, reason: str, *, circuit_open: bool = False) -> None:
        super().__init__(reason)
        self.circuit_open = circuit_open


class Directory:
    """Lookups as `settings` describes them, authenticated by `auth`."""

    def __init__(
        self,
        settings: DirectorySettings,
        auth: Auth | None = None,
        *,
        clock: Clock = time.monotonic,
    ) -> None:
        self.settings = settings
        self.name = settings.name
        self._auth = auth or NoAuth()
        self._transport = HttpsTransport(
            settings.url.host,
            settings.url.port,
            ca_bundle=settings.ca_bundle,
            max_body_bytes=settings.max_body_bytes,
        )
        self._cache: AnswerCache[Key, Answer] = AnswerCache(settings.cache_entries, clock)
        self._flights: Flights[Key, Answer] = Flights()
        self._breaker = Breaker(
            settings.name, settings.failures_to_open, settings.open_seconds, clock
        )
        self.calls = 0  # made to the directory, for the tests and the bench

    def __repr__(self) -> str:
        return f"Directory({self.name!r}, {self.settings.url.origin!r})"

    def close(self) -> None:
        self._transport.close()

    def lookup(self, values: Mapping[str, object]) -> Answer:
        """The judged answer for these submitted values; DirectoryUnavailable when there is
        none to be had; WouldBlock when one needs a call and this thread may not wait."""
        key = self.settings.key(values)
        answer = self._cache.get(key)
        if answer is not None:
            return answer
        if self._breaker.is_open():
            raise DirectoryUnavailable(
                f"directory {self.name}: not called while it is failing", circuit_open=True
            )
        if not may_wait():
            raise WouldBlock(self.name)
        flight, leading = self._flights.join(key)
        if not leading:
            bound = time_left(self.settings.timeout_seconds + FOLLOW_SLACK_SECONDS)
            if not self._flights.wait(flight, bound):
                raise DirectoryUnavailable(f"directory {self.name}: the same lookup took too long")
            if flight.value is not None:
                return flight.value
            error = flight.error
            circuit_open = isinstance(error, DirectoryUnavailable) and error.circuit_open
            raise DirectoryUnavailable(str(error), circuit_open=circuit_open)
        try:
            flight.value = self._cache.get(key) or self._call(key)
            return flight.value
        except Exception as e:
            flight.error = e
            raise
        finally:
            self._flights.land(key, flight)

    def _call(self, key: Key) -> Answer:
        settings = self.settings
        texts = dict(zip(settings.fields, key, strict=True))
        timeout = time_left(settings.timeout_seconds)
        if timeout < MIN_CALL_SECONDS:
            raise DirectoryUnavailable(f"directory {self.name}: no time left for a call")
        try:
            headers = self._auth.headers()
        except Unavailable as e:
            raise DirectoryUnavailable(f"directory {self.name}: {e.reason}") from None
        target = settings.url.target(texts)
        body = None
        if settings.body is not None:
            body = json.dumps(settings.body.fill(texts), ensure_ascii=False).encode("utf-8")
        if not self._breaker.admit():
            raise DirectoryUnavailable(
                f"directory {self.name}: not called while it is failing", circuit_open=True
            )
        started = time.perf_counter()
        reported = False
        try:
            self.calls += 1
            reply = self._transport.call(settings.method, target, body, headers, timeout)
            answer = judge(settings, reply.status, reply.body, texts)
            reported = True
            self._breaker.succeeded()
        except (CallFailed, BadAnswer) as e:
            reported = True
            self._said(str(e), started)
            self._breaker.failed()
            raise DirectoryUnavailable(f"directory {self.name}: {e}") from None
        finally:
            if not reported:
                self._breaker.failed()
        found = answer.outcome is Outcome.FOUND
        ttl = settings.positive_ttl_seconds if found else settings.negative_ttl_seconds
        self._cache.put(key, answer, ttl)
        if answer.missing:
            logger.warning(
                "directory %s: the record has no value to copy for %s",
                self.name,
                ", ".join(answer.missing),
                extra={"fields": {"event": "directory", "rule": self.name}},
            )
        return answer

    def _said(self, error: str, started: float) -> None:
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        fields = {
            "event": "directory",
            "rule": self.name,
            "directory": self.settings.url.origin,
            "error": error,
            "elapsed_ms": elapsed_ms,
        }
        logger.warning(
            "directory %s: %s after %g ms", self.name, error, elapsed_ms, extra={"fields": fields}
        )
