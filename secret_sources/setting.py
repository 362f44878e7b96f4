"""One secret-valued setting: where its value comes from, and how that value is kept fresh."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from core.refreshing import Clock, Refreshing, Schedule, Source

T = TypeVar("T")

FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 60.0
# How long a request with no value waits for a read already under way; a read itself is bounded
# well below this (see secret_manager.py and files.py), and both by the request's deadline.
WAIT_FOR_READ_SECONDS = 2.0
READ_SECONDS = 1.6


@dataclass(frozen=True)
class SecretSetting:
    """`name` (OKTA_HOOK_BASIC_CREDENTIALS, ...), read from `source` again every
    `refresh_seconds`; a value given in the environment is read once."""

    name: str
    source: Source[str]
    refresh_seconds: float
    clock: Clock = time.monotonic

    def reading(self, parse: Callable[[str], T]) -> Refreshing[str, T]:
        """The setting's value as `parse` makes it (ValueError refuses a value: a malformed
        new version never replaces a good one, or Okta would be locked out by a typo)."""
        return Refreshing(self.source, parse, self.schedule(), clock=self.clock)

    def schedule(self) -> Schedule:
        refresh = self.refresh_seconds

        def retry(failures: int, has_value: bool) -> float:
            # 1 s, 2 s, 4 s ... up to 60 s, never later than the refresh interval.
            delay: float = FIRST_RETRY_SECONDS * 2 ** min(failures - 1, 16)
            return min(delay, MAX_RETRY_SECONDS, refresh)

        return Schedule(
            refresh_seconds=refresh,
            retry=retry,
            fetch_seconds=READ_SECONDS,
            wait_seconds=WAIT_FOR_READ_SECONDS,
            kind="secret",
            event="secret",
            failed="secret read failed: {error}; serving {serving}",
        )
