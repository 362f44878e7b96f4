"""A secret read from outside the process, cached and re-read after an interval."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from core.deadline import time_left
from core.errors import Unavailable
from core.logs import logger
from secret_sources.values import Secret

Clock = Callable[[], float]

FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 60.0
# How long a request with nothing to serve waits for a read already under way; a read is
# bounded well below this (see secret_sources/secret_manager.py). Both waits end by the deadline;
# a read is not started with less than MIN_READ_SECONDS left, since it would fail for want of time
# and hold the next read back by a backoff.
WAIT_FOR_READ_SECONDS = 2.0
MIN_READ_SECONDS = 0.05
# Secret Manager holds at most 64 KiB per version.
MAX_SECRET_BYTES = 64 * 1024


class SecretReadError(Exception):
    """One read failed; the message names the setting and where it reads, never the value."""


@dataclass(frozen=True)
class Reading:
    value: str
    origin: str  # which version or file was read; safe to log


def decode_secret(data: bytes, fail: Callable[[str], SecretReadError]) -> str:
    """The text of a secret's bytes, without the line break a file or `echo` leaves at its end."""
    if len(data) > MAX_SECRET_BYTES:
        raise fail("larger than 64 KiB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        # The codec's message quotes a byte of the value; ours does not.
        raise fail("not UTF-8 text") from None
    text = text.removesuffix("\n").removesuffix("\r")
    if not text.strip():
        raise fail("empty")
    return text


class Reader(Protocol):
    """Reads one setting's value from its store; raises `SecretReadError`."""

    setting: str
    where: str  # the secret version name or the file path, as configured; safe to log

    def read(self) -> Reading: ...


class RefreshingSecret:
    """A `SecretSource` that reads on first use and again once the value is older than
    `refresh_seconds`, in the request that finds it stale: one reader at a time, while other
    requests keep the cached value. A failed read keeps the last good value and is retried
    after a backoff; with no value ever read, `current()` raises `Unavailable` (503).
    """

    def __init__(self, reader: Reader, *, refresh_seconds: float, clock: Clock = time.monotonic):
        if not (refresh_seconds > 0 and math.isfinite(refresh_seconds)):
            raise ValueError("refresh_seconds must be a positive number")
        self.setting = reader.setting
        self._reader = reader
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._secret: Secret | None = None
        self._next_read = -math.inf
        self._failures = 0
        self._last_error = "not read yet"

    def __repr__(self) -> str:
        return f"RefreshingSecret({self.setting!r}, {self._reader.where!r})"

    def current(self) -> Secret:
        secret = self._secret
        if self._clock() < self._next_read:
            return self._serve(secret)
        if secret is not None:
            acquired = self._lock.acquire(blocking=False)
        else:
            acquired = self._lock.acquire(timeout=time_left(WAIT_FOR_READ_SECONDS))
        if not acquired:
            return self._serve(secret)  # another request is reading
        try:
            if self._clock() < self._next_read:  # it read while this one waited
                return self._serve(self._secret)
            if time_left(MIN_READ_SECONDS) < MIN_READ_SECONDS:
                return self._serve(self._secret)  # no time left to read in this request
            return self._serve(self._read())
        finally:
            self._lock.release()

    def _serve(self, secret: Secret | None) -> Secret:
        if secret is None:
            raise Unavailable(f"{self.setting}: no value read yet ({self._last_error})")
        return secret

    def _read(self) -> Secret | None:
        try:
            reading = self._reader.read()
        except SecretReadError as e:
            self._failures += 1
            self._last_error = str(e)
            delay = FIRST_RETRY_SECONDS * 2 ** min(self._failures - 1, 16)
            self._next_read = self._clock() + min(delay, MAX_RETRY_SECONDS, self._refresh_seconds)
            serving = "nothing: requests get 503" if self._secret is None else "the last value"
            logger.error(
                "secret read failed: %s; serving %s",
                e,
                serving,
                extra={"fields": self._fields(error=str(e), failures=self._failures)},
            )
            return self._secret
        self._failures = 0
        self._last_error = "not read yet"
        self._next_read = self._clock() + self._refresh_seconds
        if self._secret is None or self._secret.reveal() != reading.value:
            # A new object only when the value changed: consumers re-parse on a new object.
            self._secret = Secret(reading.value)
            logger.info(
                "secret %s read from %s",
                self.setting,
                reading.origin,
                extra={"fields": self._fields(origin=reading.origin)},
            )
        return self._secret

    def _fields(self, **more: object) -> dict[str, object]:
        return {"event": "secret", "setting": self.setting, "source": self._reader.where, **more}
