"""Clients kept per process: one per key, made on first use and shared by the threads of the
process; a worker forked after the cold start makes its own rather than share the parent's
pooled connections."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class PerProcess(Generic[K, V]):
    def __init__(self, make: Callable[[K], V]) -> None:
        self._make = make
        self._made: dict[K, V] = {}
        self._lock = threading.Lock()
        os.register_at_fork(after_in_child=self._made.clear)

    def get(self, key: K) -> V:
        with self._lock:
            made = self._made.get(key)
            if made is None:
                made = self._made[key] = self._make(key)
            return made
