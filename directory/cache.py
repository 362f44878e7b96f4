"""Answers kept for a while (found ones longer than not-found ones), and one call at a time for
the same key: concurrent lookups of one key wait for the first one's answer."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class AnswerCache(Generic[K, V]):
    """At most `entries` answers, the least recently used dropped first; thread-safe."""

    def __init__(self, entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries = entries
        self._clock = clock
        self._lock = threading.Lock()
        self._kept: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        with self._lock:
            kept = self._kept.get(key)
            if kept is None:
                return None
            if self._clock() >= kept[0]:
                del self._kept[key]
                return None
            self._kept.move_to_end(key)
            return kept[1]

    def put(self, key: K, value: V, ttl: float) -> None:
        if ttl <= 0 or self._entries == 0:
            return
        with self._lock:
            self._kept[key] = (self._clock() + ttl, value)
            self._kept.move_to_end(key)
            while len(self._kept) > self._entries:
                self._kept.popitem(last=False)

    def __len__(self) -> int:
        return len(self._kept)


class Flight(Generic[V]):
    """One call under way; the others asking for the same key wait for its outcome."""

    __slots__ = ("error", "landed", "value")

    def __init__(self) -> None:
        self.landed = False
        self.value: V | None = None
        self.error: Exception | None = None


class Flights(Generic[K, V]):
    """The calls under way, by key. One condition for all: a call that nobody waits for costs a
    dict entry and no event of its own."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._under_way: dict[K, Flight[V]] = {}

    def join(self, key: K) -> tuple[Flight[V], bool]:
        """The flight for `key`, and whether the caller leads it (makes the call)."""
        with self._cond:
            flight = self._under_way.get(key)
            if flight is not None:
                return flight, False
            flight = self._under_way[key] = Flight()
            return flight, True

    def wait(self, flight: Flight[V], timeout: float) -> bool:
        """Wait for `flight` to land, at most `timeout` seconds; whether it did."""
        with self._cond:
            return self._cond.wait_for(lambda: flight.landed, timeout)

    def land(self, key: K, flight: Flight[V]) -> None:
        with self._cond:
            self._under_way.pop(key, None)
            flight.landed = True
            self._cond.notify_all()
