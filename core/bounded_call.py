"""A blocking call run in a worker thread, waited for at most so long, never two stalled at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class CallTimedOut(Exception):
    """The call did not end in time; it goes on in its thread, and is not waited for."""


class StillStalled(Exception):
    """An earlier call has not ended yet; another is not started beside it."""


class BoundedCall(Generic[T]):
    """Runs `call` in a thread named `name`, so that the caller stops waiting at its bound even
    when the call itself cannot be interrupted (a socket that drips bytes, a stalled mount)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._stalled: threading.Thread | None = None

    def run(self, call: Callable[[], T], seconds: float) -> T:
        if self._stalled is not None and self._stalled.is_alive():
            raise StillStalled(self._name)
        outcome: list[T] = []
        failure: list[Exception] = []

        def target() -> None:
            try:
                outcome.append(call())
            except Exception as e:  # handed to the caller, which names it
                failure.append(e)

        worker = threading.Thread(target=target, name=self._name, daemon=True)
        worker.start()
        worker.join(max(seconds, 0.0))
        if worker.is_alive():
            self._stalled = worker
            raise CallTimedOut(self._name)
        if failure:
            raise failure[0]
        return outcome[0]
