"""A value fetched from outside the process and kept fresh: a key set, a secret, a list.

One state machine for all of them. The last good value is served; one thread at a time fetches
(the request that finds the value due, or one that has none), the others keep the cached value;
a failed fetch keeps the last good value and is retried after a backoff; a new value that cannot
be parsed, or that `check` refuses beside the last good one, never replaces it; every wait is
bounded by the request's deadline. On the event loop no wait is allowed at all: `WouldBlock`
tells the caller to go to a thread. A value too large to fetch within a request (a long list) is
refreshed in the background instead: no request waits for it.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from core.deadline import time_left
from core.errors import Unavailable
from core.logs import logger

R = TypeVar("R")
T = TypeVar("T")
Clock = Callable[[], float]


class FetchFailed(Exception):
    """One fetch failed; the message names the source and the cause, never a value."""


class WouldBlock(Exception):
    """The value needs a wait (a fetch, or a fetch under way), and this thread may not wait."""


# False on the event loop: a source that would wait raises WouldBlock instead.
_may_wait: ContextVar[bool] = ContextVar("okta_hook_may_wait", default=True)


def may_wait() -> bool:
    return _may_wait.get()


class no_waiting:  # lower case: used as `with no_waiting():`, like a function
    """In this block, a value that would need a wait raises WouldBlock."""

    __slots__ = ("_token",)

    def __enter__(self) -> None:
        self._token = _may_wait.set(False)

    def __exit__(self, *_: object) -> None:
        _may_wait.reset(self._token)


@dataclass(frozen=True)
class Fetched(Generic[R]):
    """What one fetch returned: the raw value, and what tells it from the previous one."""

    raw: R
    origin: str  # which version, file or URL was read; safe to log
    tag: object = None  # an equal tag means the same value (a digest, a generation); None: new
    refresh_seconds: float | None = None  # the source's own interval (Cache-Control), if any


class Source(Protocol[R]):
    """Where a value is fetched from. `fetch` raises FetchFailed; it may return None when it can
    tell cheaply that the value still has the tag `known`."""

    @property
    def name(self) -> str:
        """The setting or the thing it reads, for messages; safe to log."""

    @property
    def fields(self) -> Mapping[str, object]:
        """What identifies the source in a log line; safe to log."""

    def fetch(self, budget: float, known: object) -> Fetched[R] | None: ...


@dataclass(frozen=True)
class Schedule:
    """When to fetch: every `refresh_seconds` (or the source's own interval); after `failures`
    failures in a row, again after `retry(failures, has_value)` seconds."""

    refresh_seconds: float
    retry: Callable[[int, bool], float]
    fetch_seconds: float  # the most one fetch may take
    wait_seconds: float  # the most a request with no value waits for a fetch under way
    min_fetch_seconds: float = 0.05  # less left than this: no fetch is started
    kind: str = "value"  # what it is, in log lines: "secret", "signing keys of", "list"
    event: str = "refresh"  # the `event` field of its log lines
    failure_level: int = logging.ERROR  # of the line a failed fetch writes
    extra_fetch_cooldown: float = 30.0  # between fetches asked for out of schedule
    # Fetch in a thread of its own, bounded by `fetch_seconds` rather than by the deadline of the
    # request that found the value due; that request, and every other, is served what there is
    # (the last good value, or Unavailable) and never waits nor gets WouldBlock.
    background: bool = False
    # Why a request gets 503 while there is no value; the line a failed fetch writes.
    missing: str = "{name}: no value read yet ({error})"
    failed: str = "{kind} {name} not read: {error}; serving {serving}"


@dataclass
class _State(Generic[T]):
    value: T | None = None
    next_fetch: float = -math.inf
    known_tag: object = None
    refused_tag: object = None
    failures: int = 0
    last_error: str = "not read yet"
    extra_at: float = -math.inf


def _forked(ref: weakref.ref[Refreshing[Any, Any]]) -> None:
    value = ref()
    if value is not None:
        value.forked()


class Refreshing(Generic[R, T]):
    """The value of `source`, parsed by `parse` (which raises ValueError for a value it refuses),
    and kept fresh by `schedule`. `check(new, last_good)`, when given, judges a parsed value
    beside the one it would replace, and raises ValueError to refuse it (a list that shrank by
    too much)."""

    def __init__(
        self,
        source: Source[R],
        parse: Callable[[R], T],
        schedule: Schedule,
        *,
        clock: Clock = time.monotonic,
        check: Callable[[T, T], None] | None = None,
    ) -> None:
        self.source = source
        self._parse = parse
        self._check = check
        self._schedule = schedule
        self._clock = clock
        self._lock = threading.Lock()
        self._state: _State[T] = _State()
        if schedule.background:
            # A worker forked while a background fetch held the lock would inherit it held, by
            # a thread that does not exist there, and never fetch again.
            ref = weakref.ref(self)
            os.register_at_fork(after_in_child=lambda: _forked(ref))

    def __repr__(self) -> str:
        return f"Refreshing({self.source.name!r})"

    def current(self, wanted: Callable[[T | None], bool] | None = None) -> T:
        """The value; fetched first when it is due, by one thread at a time. `wanted` asks for a
        fetch out of schedule (a key id not in the cached set): granted when it holds of the
        cached value, at most once per `extra_fetch_cooldown`, never during a failure backoff."""
        state = self._state
        want = wanted is not None and wanted(state.value)
        if not want and self._clock() < state.next_fetch:
            return self._serve()
        if self._schedule.background:
            self._start_background()
            return self._serve()
        if not self._lock.acquire(blocking=False):
            # A fetch is under way. With a value to serve and nothing wanted beyond it, do not
            # wait for it; otherwise wait (bounded), but never on the event loop.
            if state.value is not None and not want:
                return self._serve()
            if not may_wait():
                raise WouldBlock(self.source.name)
            if not self._lock.acquire(timeout=time_left(self._schedule.wait_seconds)):
                return self._serve()
        try:
            now = self._clock()
            extra = self._extra_due(wanted, now)
            if extra or now >= state.next_fetch:
                if not may_wait():
                    raise WouldBlock(self.source.name)  # the fetch is handed to a thread
                if extra:
                    state.extra_at = now + self._schedule.extra_fetch_cooldown
                enough = self._schedule.min_fetch_seconds
                if time_left(enough) >= enough:
                    self._fetch()
            return self._serve()
        finally:
            self._lock.release()

    def _extra_due(self, wanted: Callable[[T | None], bool] | None, now: float) -> bool:
        state = self._state
        if wanted is None or now < state.extra_at or not wanted(state.value):
            return False
        return state.failures == 0 or now >= state.next_fetch

    def has_value(self) -> bool:
        return self._state.value is not None

    def idle(self, timeout: float) -> bool:
        """Wait until no fetch is under way (at most `timeout` s); False if one still is."""
        if not self._lock.acquire(timeout=timeout):
            return False
        self._lock.release()
        return True

    def _start_background(self) -> None:
        lock = self._lock
        if not lock.acquire(blocking=False):
            return  # under way
        if self._clock() < self._state.next_fetch:
            lock.release()  # fetched by another thread meanwhile
            return
        try:
            # A new thread starts with an empty context: no request's deadline bounds the fetch.
            threading.Thread(
                target=self._fetch_and_release,
                args=(lock,),
                name=f"refresh {self.source.name}",
                daemon=True,
            ).start()
        except BaseException:
            lock.release()
            raise

    def forked(self) -> None:
        """In a child process: no fetch is under way here, whatever the parent was doing."""
        self._lock = threading.Lock()

    def _fetch_and_release(self, lock: threading.Lock) -> None:
        try:
            self._fetch()
        except Exception as e:  # no caller to hand it to: said, and retried after the backoff
            self._failed(f"{self.source.name}: {type(e).__name__} while fetching")
        finally:
            lock.release()  # the lock taken for it, even if a fork has replaced it since

    def _serve(self) -> T:
        value = self._state.value
        if value is None:
            why = self._schedule.missing.format(name=self.source.name, error=self._state.last_error)
            raise Unavailable(why)
        return value

    def _fetch(self) -> None:
        state = self._state
        try:
            fetched = self.source.fetch(time_left(self._schedule.fetch_seconds), state.known_tag)
        except FetchFailed as e:
            self._failed(str(e))
            return
        if fetched is None or (fetched.tag is not None and fetched.tag == state.known_tag):
            self._scheduled(None)  # unchanged: the value stays, and so does its identity
            return
        if fetched.tag is not None and fetched.tag == state.refused_tag:
            self._failed(state.last_error, said=True)  # refused before, and said so then
            return
        try:
            value = self._parse(fetched.raw)
            if self._check is not None and state.value is not None:
                self._check(value, state.value)
        except ValueError as e:
            state.refused_tag = fetched.tag
            self._failed(self._named(str(e)), refused=True, plain=str(e))
            return
        first = state.value is None
        state.value, state.known_tag, state.refused_tag = value, fetched.tag, None
        self._scheduled(fetched.refresh_seconds)
        logger.info(
            "%s %s %s from %s",
            self._schedule.kind,
            self.source.name,
            "read" if first else "read again",
            fetched.origin,
            extra=self._log(origin=fetched.origin),
        )

    def _scheduled(self, refresh_seconds: float | None) -> None:
        state = self._state
        state.failures, state.last_error = 0, "not read yet"
        state.next_fetch = self._clock() + (refresh_seconds or self._schedule.refresh_seconds)

    def _named(self, error: str) -> str:
        name = self.source.name
        return error if error.startswith(f"{name}:") else f"{name}: {error}"

    def _failed(
        self, error: str, *, refused: bool = False, said: bool = False, plain: str = ""
    ) -> None:
        state = self._state
        state.failures += 1
        state.last_error = error
        has_value = state.value is not None
        state.next_fetch = self._clock() + self._schedule.retry(state.failures, has_value)
        if said:
            return
        if refused and has_value:
            message = f"{self.source.name}: new value refused, the previous one stays: {plain}"
        else:
            serving = "the last value" if has_value else "nothing: requests get 503"
            message = self._schedule.failed.format(
                kind=self._schedule.kind, name=self.source.name, error=error, serving=serving
            )
        fields = self._log(error=error, failures=state.failures)
        logger.log(self._schedule.failure_level, "%s", message, extra=fields)

    def _log(self, **more: object) -> dict[str, object]:
        return {"fields": {"event": self._schedule.event, **self.source.fields, **more}}
