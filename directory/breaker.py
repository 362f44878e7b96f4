"""A circuit breaker: after `failures_to_open` failed calls in a row, no call for `open_seconds`;
then one probe, whose outcome closes the circuit or opens it again."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from core.logs import logger


class Breaker:
    """Thread-safe; `admit` before a call, then exactly one of `succeeded` or `failed`."""

    def __init__(
        self,
        name: str,
        failures_to_open: int,
        open_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._name = name
        self._threshold = failures_to_open
        self._open_seconds = open_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._open_until: float | None = None  # None: closed
        self._probing = False

    def is_open(self) -> bool:
        """True while calls are refused (open, or half-open with its probe under way)."""
        with self._lock:
            if self._open_until is None:
                return False
            return self._probing or self._clock() < self._open_until

    def admit(self) -> bool:
        """Whether a call may be made now; the first call after the cooldown is the probe."""
        with self._lock:
            if self._open_until is None:
                return True
            if self._probing or self._clock() < self._open_until:
                return False
            self._probing = True
            return True

    def succeeded(self) -> None:
        with self._lock:
            was_open = self._open_until is not None
            self._failures, self._open_until, self._probing = 0, None, False
        if was_open:
            logger.info(
                "directory %s answers again: calls resume",
                self._name,
                extra={"fields": {"event": "directory", "rule": self._name, "circuit": "closed"}},
            )

    def failed(self) -> None:
        with self._lock:
            self._failures += 1
            probe = self._probing
            if not probe and (self._open_until is not None or self._failures < self._threshold):
                return
            self._open_until = self._clock() + self._open_seconds
            self._probing = False
            failures = self._failures
        why = "the probe failed" if probe else f"{failures} failed calls in a row"
        logger.warning(
            "directory %s: %s; no call for %g s",
            self._name,
            why,
            self._open_seconds,
            extra={"fields": {"event": "directory", "rule": self._name, "circuit": "open"}},
        )
