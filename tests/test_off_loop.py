"""service.web.without_waiting: a call made on the event loop while it needs no wait, and made
again in a thread, with the request's deadline, when it raises WouldBlock; what authentication
and the decision both go through."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from core import deadline
from core.errors import Forbidden, Unavailable
from core.refreshing import WouldBlock, may_wait
from service.web import THREAD_GRACE_SECONDS, without_waiting


class Needs:
    """Answers at once when it may not wait only if `cached`; records where it ran."""

    def __init__(self, cached: bool, seconds: float = 0.0) -> None:
        self.cached = cached
        self.seconds = seconds
        self.calls: list[tuple[str, bool, float | None]] = []

    def __call__(self, value: str) -> str:
        bound = deadline.time_left(60.0)
        self.calls.append((threading.current_thread().name, may_wait(), bound))
        if not may_wait() and not self.cached:
            raise WouldBlock("a fetch")
        time.sleep(self.seconds)
        return value.upper()


def run(needs: Needs, seconds: float = 1.0) -> str:
    async def main() -> str:
        ends = deadline.Deadline.after(seconds)
        with deadline.within(ends):
            return await without_waiting(needs, "answer", ends, "the thing")

    return asyncio.run(main())


def test_what_needs_no_wait_is_answered_on_the_loop() -> None:
    needs = Needs(cached=True)
    assert run(needs) == "ANSWER"
    [(thread, waiting, _)] = needs.calls
    assert (thread, waiting) == ("MainThread", False)


def test_what_would_wait_is_answered_again_in_a_thread_within_the_deadline() -> None:
    needs = Needs(cached=False)
    assert run(needs, 1.0) == "ANSWER"
    (loop, on_loop, _), (thread, in_thread, bound) = needs.calls
    assert (loop, on_loop) == ("MainThread", False)
    assert thread != "MainThread"
    assert in_thread
    assert bound is not None
    assert 0 < bound <= 1.0  # the request's deadline went with it


def test_a_thread_that_outlives_the_deadline_is_a_503() -> None:
    needs = Needs(cached=False, seconds=0.5 + THREAD_GRACE_SECONDS)

    async def main() -> float:
        started = time.monotonic()
        ends = deadline.Deadline.after(0.1)
        with pytest.raises(Unavailable, match="the thing not read within the request's deadline"):
            await without_waiting(needs, "x", ends, "the thing")
        return time.monotonic() - started

    # Answered at the deadline and its grace, not when the thread ends.
    assert asyncio.run(main()) < 0.1 + THREAD_GRACE_SECONDS + 0.2


def test_the_threads_own_answer_is_given() -> None:
    def refuse(value: str) -> str:
        if not may_wait():
            raise WouldBlock("keys")
        raise Forbidden("not this caller")

    async def main() -> str:
        ends = deadline.Deadline.after(1.0)
        return await without_waiting(refuse, "x", ends, "keys")

    with pytest.raises(Forbidden):
        asyncio.run(main())
