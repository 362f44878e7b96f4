"""A list named by the policy, where it lives, and how it is kept: loaded at cold start, refreshed
in the background by the one refreshing mechanism, a bad new version never replacing a good one.

A rule asks `members()`: the last good list, or Unavailable while none was ever read (a 503 Okta
retries); a rule that fails open asks `members_for(rule, fail_open=True)`, which answers None
then (and says so in a log line), and the rule allows. Neither ever waits, so both are safe on
the event loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.errors import Unavailable
from core.logs import logger
from core.refreshing import Clock, Refreshing, Schedule, Source
from lists.cloud_storage import CloudStorageObject, NotRead
from lists.entries import Kind
from lists.parse import LINES, MAX_BYTES, Layout, ListRefused, ListValue, read_list, shrink_guard
from lists.secret_list import SecretList

DEFAULT_REFRESH_SECONDS = 60.0
DEFAULT_MAX_SHRINK = 0.5
# A refresh runs in its own thread, never in a request: a long list may take this long to read.
FETCH_SECONDS = 30.0
# How long the cold start waits for a list before the function serves without it (503 or fail
# open on the rules that use it, while the read goes on).
LOAD_SECONDS = 30.0
FIRST_RETRY_SECONDS = 5.0
MAX_RETRY_SECONDS = 300.0


@dataclass(frozen=True)
class ListSettings:
    """One list as the policy names it: `location` is gs://bucket/object or a Secret Manager
    version (projects/P/secrets/S/versions/V)."""

    name: str
    location: str
    kind: Kind[Any]
    layout: Layout = LINES
    max_bytes: int = MAX_BYTES
    max_shrink: float = DEFAULT_MAX_SHRINK
    refresh_seconds: float = DEFAULT_REFRESH_SECONDS


@dataclass(frozen=True)
class Endpoints:
    """Where the APIs are: None for Google's own; a loopback URL for tests or an emulator."""

    storage: str | None = None
    secret_manager: str | None = None


GOOGLE = Endpoints()


def list_source(settings: ListSettings, endpoints: Endpoints = GOOGLE) -> Source[Any]:
    """The source of `settings.location`; ValueError (never quoting it) when it is neither."""
    if settings.location.startswith("gs://"):
        return CloudStorageObject(
            settings.name,
            settings.location,
            max_bytes=settings.max_bytes,
            endpoint=endpoints.storage,
        )
    if settings.location.startswith("projects/"):
        return SecretList(settings.name, settings.location, endpoints.secret_manager)
    raise ValueError(
        f"list {settings.name}: the location is neither gs://bucket/object nor a Secret Manager "
        "version (projects/P/secrets/S/versions/V)"
    )


def list_parser(settings: ListSettings) -> Callable[[bytes | NotRead], ListValue]:
    """The raw value into the list, or ListRefused; the same for the hook and the policy check."""

    def parse(raw: bytes | NotRead) -> ListValue:
        if isinstance(raw, NotRead):
            raise ListRefused(raw.reason)
        return read_list(raw, settings.kind, settings.layout, max_bytes=settings.max_bytes)

    return parse


def list_schedule(settings: ListSettings) -> Schedule:
    refresh = settings.refresh_seconds

    def retry(failures: int, has_value: bool) -> float:
        # 5 s, 10 s, 20 s ... never later than the refresh interval once a list is held.
        delay: float = FIRST_RETRY_SECONDS * 2 ** min(failures - 1, 16)
        return min(delay, MAX_RETRY_SECONDS, refresh if has_value else MAX_RETRY_SECONDS)

    return Schedule(
        refresh_seconds=refresh,
        retry=retry,
        fetch_seconds=FETCH_SECONDS,
        wait_seconds=0.0,
        kind="list",
        event="list",
        failure_level=logging.ERROR,
        background=True,
        missing="list {name} not read yet ({error})",
        failed="list {name} not read: {error}; serving {serving}",
    )


class OutsideList:
    """The list `settings` names, kept fresh; `members()` never waits."""

    def __init__(
        self,
        settings: ListSettings,
        *,
        endpoints: Endpoints = GOOGLE,
        clock: Clock = time.monotonic,
    ) -> None:
        self.settings = settings
        self.name = settings.name
        self._value: Refreshing[Any, ListValue] = Refreshing(
            list_source(settings, endpoints),
            list_parser(settings),
            list_schedule(settings),
            clock=clock,
            check=shrink_guard(settings.max_shrink),
        )

    def __repr__(self) -> str:
        return f"OutsideList({self.name!r})"

    def load(self, timeout: float = LOAD_SECONDS) -> bool:
        """At cold start: read the list, waiting at most `timeout`; False when it could not be
        (the read goes on, and requests meanwhile get Unavailable from `members`)."""
        try:
            self._value.current()
        except Unavailable:
            pass
        self._value.idle(timeout)
        return self._value.has_value()

    def loaded(self) -> bool:
        """Whether a list was ever read: a rule that fails open may check this first."""
        return self._value.has_value()

    def members(self) -> ListValue:
        """The last good list (a refresh that is due is started in the background), or
        Unavailable while none was ever read."""
        return self._value.current()

    def members_for(self, rule: str, *, fail_open: bool) -> ListValue | None:
        """For `rule`: the last good list; while none was ever read, None when the rule fails
        open (said in a log line: the rule allows), else Unavailable (503)."""
        try:
            return self._value.current()
        except Unavailable as e:
            if not fail_open:
                raise
            logger.warning(
                "%s; rule %s fails open: allowed",
                e.reason,
                rule,
                extra={
                    "fields": {"event": "list", "list": self.name, "rule": rule, "fail": "open"}
                },
            )
            return None

    def idle(self, timeout: float) -> bool:
        """Wait for a refresh under way (tests, and a tool that reads the list once)."""
        return self._value.idle(timeout)
