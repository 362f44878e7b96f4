"""core.refreshing on its own: the `check` of a new value beside the last good one, and the
background refresh of a value too large to fetch within a request, on the manual clock."""

from __future__ import annotations

import threading
from collections.abc import Mapping

import pytest

from core.errors import Unavailable
from core.refreshing import Fetched, FetchFailed, Refreshing, Schedule, no_waiting
from tests.clock_support import ManualClock

REFRESH = 60.0
RETRY = 10.0


class Values:
    """A source that returns the next of `values` on each fetch (a string: FetchFailed), and can
    hold a fetch until it is released."""

    name = "made-up-list"
    fields: Mapping[str, object] = {"list": "made-up-list"}

    def __init__(self, *values: str) -> None:
        self.values = list(values)
        self.fetches = 0
        self.threads: list[str] = []
        self.hold: threading.Event | None = None
        self.started = threading.Event()

    def fetch(self, budget: float, known: object) -> Fetched[list[int]]:
        self.fetches += 1
        self.threads.append(threading.current_thread().name)
        self.started.set()
        if self.hold is not None:
            self.hold.wait(5)
        value = self.values.pop(0) if len(self.values) > 1 else self.values[0]
        if value.startswith("fail"):
            raise FetchFailed(f"{self.name}: {value}")
        numbers = [int(n) for n in value.split()] if value.strip() else []
        return Fetched(numbers, f"version {self.fetches}", tag=value)


def schedule(*, background: bool = False) -> Schedule:
    return Schedule(
        refresh_seconds=REFRESH,
        retry=lambda _failures, _has_value: RETRY,
        fetch_seconds=5.0,
        wait_seconds=5.0,
        kind="list",
        event="list",
        background=background,
    )


def parse(raw: list[int]) -> tuple[int, ...]:
    if not raw:
        raise ValueError("empty")
    return tuple(raw)


def no_halving(new: tuple[int, ...], old: tuple[int, ...]) -> None:
    if len(new) * 2 < len(old):
        raise ValueError(f"{len(new)} entries where there were {len(old)}")


def test_check_refuses_a_new_value_beside_the_last_good_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    source, clock = Values("1 2 3 4", "1"), ManualClock()
    value = Refreshing(source, parse, schedule(), clock=clock, check=no_halving)
    assert value.current() == (1, 2, 3, 4)
    clock.advance(REFRESH)
    caplog.clear()
    assert value.current() == (1, 2, 3, 4)
    assert [r.getMessage() for r in caplog.records] == [
        "made-up-list: new value refused, the previous one stays: 1 entries where there were 4"
    ]


def test_check_is_not_asked_of_the_first_value() -> None:
    calls: list[object] = []

    def check(new: tuple[int, ...], old: tuple[int, ...]) -> None:
        calls.append((new, old))

    value = Refreshing(Values("1"), parse, schedule(), clock=ManualClock(), check=check)
    assert value.current() == (1,)
    assert calls == []


def test_a_refused_value_is_said_once_and_a_later_good_one_replaces_the_last(
    caplog: pytest.LogCaptureFixture,
) -> None:
    source, clock = Values("1 2 3 4", "1", "1", "1 2 3"), ManualClock()
    value = Refreshing(source, parse, schedule(), clock=clock, check=no_halving)
    value.current()
    caplog.clear()
    clock.advance(REFRESH)
    assert value.current() == (1, 2, 3, 4)  # "1" refused, said
    clock.advance(RETRY)
    assert value.current() == (1, 2, 3, 4)  # "1" again: refused before, not said again
    clock.advance(RETRY)
    assert value.current() == (1, 2, 3)  # within the bound: accepted
    assert source.fetches == 4
    messages = [r.getMessage() for r in caplog.records]
    assert len([m for m in messages if "refused" in m]) == 1
    assert messages[-1] == "list made-up-list read again from version 4"


def test_without_check_any_parsed_value_replaces_the_last() -> None:
    source, clock = Values("1 2 3 4", "1"), ManualClock()
    value = Refreshing(source, parse, schedule(), clock=clock)
    value.current()
    clock.advance(REFRESH)
    assert value.current() == (1,)


def loaded(value: Refreshing[list[int], tuple[int, ...]], source: Values) -> None:
    """The first value, fetched in the background while the caller is told there is none."""
    source.hold = threading.Event()
    with pytest.raises(Unavailable):
        value.current()
    source.hold.set()
    assert value.idle(5)
    source.hold = None


def test_background_refresh_serves_the_last_value_while_it_fetches() -> None:
    source, clock = Values("1 2", "3 4"), ManualClock()
    value = Refreshing(source, parse, schedule(background=True), clock=clock)
    loaded(value, source)
    assert value.current() == (1, 2)
    clock.advance(REFRESH)
    source.hold = threading.Event()
    source.started.clear()
    with no_waiting():
        assert value.current() == (1, 2)  # due: the fetch runs elsewhere, no WouldBlock
        assert source.started.wait(5)
        assert value.current() == (1, 2)  # under way: not started twice
    source.hold.set()
    assert value.idle(5)
    assert value.current() == (3, 4)
    assert source.fetches == 2
    assert all(name == "refresh made-up-list" for name in source.threads)


def test_background_refresh_with_no_value_is_unavailable_at_once() -> None:
    source = Values("1")
    source.hold = threading.Event()
    value = Refreshing(source, parse, schedule(background=True), clock=ManualClock())
    with no_waiting(), pytest.raises(Unavailable) as raised:
        value.current()
    assert raised.value.reason == "made-up-list: no value read yet (not read yet)"
    source.hold.set()
    assert value.idle(5)
    assert value.current() == (1,)


def test_background_failure_keeps_the_value_and_backs_off() -> None:
    source, clock = Values("1 2", "fail: HTTP 500", "5 6"), ManualClock()
    value = Refreshing(source, parse, schedule(background=True), clock=clock)
    loaded(value, source)
    clock.advance(REFRESH)
    assert value.current() == (1, 2)
    value.idle(5)
    assert value.current() == (1, 2)  # failed: retried after RETRY, not before
    assert source.fetches == 2
    clock.advance(RETRY)
    value.current()
    value.idle(5)
    assert value.current() == (5, 6)


def test_background_bug_is_logged_by_type_and_retried(caplog: pytest.LogCaptureFixture) -> None:
    def broken(raw: list[int]) -> tuple[int, ...]:
        raise KeyError("a value that must not be logged")

    source, clock = Values("1"), ManualClock()
    value = Refreshing(source, broken, schedule(background=True), clock=clock)
    with pytest.raises(Unavailable):
        value.current()
    assert value.idle(5)
    assert [r.getMessage() for r in caplog.records] == [
        "list made-up-list not read: made-up-list: KeyError while fetching; serving nothing:"
        " requests get 503"
    ]
    clock.advance(RETRY)
    with pytest.raises(Unavailable):
        value.current()
    assert value.idle(5)
    assert source.fetches == 2


def test_a_child_forked_during_a_background_fetch_fetches_again() -> None:
    source, clock = Values("1 2"), ManualClock()
    value = Refreshing(source, parse, schedule(background=True), clock=clock)
    source.hold = threading.Event()
    with pytest.raises(Unavailable):
        value.current()  # a fetch under way, holding the lock, as at a fork
    assert source.started.wait(5)
    value.forked()  # what the child runs after the fork: no fetch is under way there
    assert value.idle(0)  # the lock is free, though the parent's fetch goes on
    source.hold.set()
    for thread in threading.enumerate():
        if thread.name == "refresh made-up-list":
            thread.join(5)
    source.started.clear()
    source.hold = None
    # In the real child the first fetch never ends; here it did, so the clock is moved on.
    clock.advance(REFRESH)
    value.current()
    assert value.idle(5)
    assert source.fetches == 2
