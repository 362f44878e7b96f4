"""The one refreshing-value mechanism (`core/refreshing.py`) on its own: a source the test
controls, the production schedules, and a clock moved by hand.

One fetcher at a time; the last good value kept; a backoff per failure count; an unchanged tag
keeps the value's identity; a refused value logged once and never replacing a good one; a fetch
out of schedule (`wanted`) with its cooldown; and, where no wait is allowed (`no_waiting`),
WouldBlock whenever a wait or a fetch would be needed, never while the value is fresh.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from auth.jwks import KEYS_SCHEDULE, RETRY_WITH_KEYS_SECONDS, UNKNOWN_KID_COOLDOWN_SECONDS
from core import deadline
from core.errors import Unavailable
from core.refreshing import Fetched, FetchFailed, Refreshing, Schedule, WouldBlock, no_waiting
from secret_sources.setting import FIRST_RETRY_SECONDS, MAX_RETRY_SECONDS, SecretSetting
from tests.clock_support import ManualClock

NAME = "OKTA_HOOK_SOME_VALUE"
REFRESH = 300.0
WAIT_SECONDS = 5.0  # the most a test waits for a thread it started
TICK = 0.25  # a step of the manual clock (exact in binary: sums of steps land on the due time)


@dataclass(frozen=True, eq=False)
class Value:
    """A parsed value: compared by identity, so a test sees whether it was replaced."""

    text: str


def parse(raw: str) -> Value:
    if raw.startswith("bad"):
        raise ValueError(f"{raw!r} is not a value")
    return Value(raw)


class Source:
    """Returns `raw` (tagged by its text) or raises `failure`; a fetch can be held at `gate`."""

    name = NAME
    fields = {"setting": NAME}

    def __init__(self, raw: str = "first") -> None:
        self.raw = raw
        self.failure: str | None = None
        self.unchanged = False  # answer None: the source can tell the value has not changed
        self.refresh_seconds: float | None = None
        self.fetches = 0
        self.known: list[object] = []
        self.gate: threading.Event | None = None
        self.fetching = threading.Event()

    def fetch(self, budget: float, known: object) -> Fetched[str] | None:
        self.fetches += 1
        self.known.append(known)
        self.fetching.set()
        if self.gate is not None:
            assert self.gate.wait(WAIT_SECONDS)
        if self.failure is not None:
            raise FetchFailed(f"{NAME}: {self.failure}")
        if self.unchanged:
            return None
        return Fetched(self.raw, "the test", tag=self.raw, refresh_seconds=self.refresh_seconds)


def secret_like(source: Source, clock: ManualClock) -> Refreshing[str, Value]:
    """As a secret-valued setting is kept: SecretSetting's own schedule."""
    return SecretSetting(NAME, source, REFRESH, clock).reading(parse)


def keys_like(source: Source, clock: ManualClock) -> Refreshing[str, Value]:
    """As the issuer's keys are kept: KEYS_SCHEDULE, with its out-of-schedule fetches."""
    return Refreshing(source, parse, KEYS_SCHEDULE, clock=clock)


def not_having(text: str) -> Callable[[Value | None], bool]:
    """What `key_for` asks with an unknown kid: a fetch, unless the cached value has it."""
    return lambda value: value is None or value.text != text


def in_thread(call: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    results: list[object] = []

    def run() -> None:
        try:
            results.append(call())
        except Exception as e:  # handed to the test, which asserts on it
            results.append(e)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, results


# Fresh values, the interval, and identity


def test_read_once_then_served_until_the_interval() -> None:
    source, clock = Source(), ManualClock()
    value = secret_like(source, clock)
    first = value.current()
    assert first.text == "first"
    assert source.fetches == 1
    clock.advance(REFRESH - TICK)
    assert value.current() is first
    assert source.fetches == 1
    clock.advance(TICK)
    source.raw = "second"
    assert value.current().text == "second"
    assert source.fetches == 2


def test_the_source_s_own_interval_is_used_when_it_gives_one() -> None:
    source, clock = Source(), ManualClock()
    source.refresh_seconds = 42.0  # as a key set's Cache-Control says
    value = secret_like(source, clock)
    value.current()
    clock.advance(42.0 - TICK)
    value.current()
    assert source.fetches == 1
    clock.advance(TICK)
    value.current()
    assert source.fetches == 2


def test_an_unchanged_tag_keeps_the_value_and_its_identity(
    caplog: pytest.LogCaptureFixture,
) -> None:
    source, clock = Source(), ManualClock()
    value = secret_like(source, clock)
    first = value.current()
    clock.advance(REFRESH)
    assert value.current() is first  # read again, the same tag: not parsed again
    source.unchanged = True  # the source tells, without the value, that nothing changed
    clock.advance(REFRESH)
    assert value.current() is first
    assert source.fetches == 3
    assert source.known == [None, "first", "first"]  # each fetch is told the tag it has
    assert [r.getMessage() for r in caplog.records] == [f"secret {NAME} read from the test"]


def test_a_new_tag_is_a_new_value_logged_as_read_again(caplog: pytest.LogCaptureFixture) -> None:
    source, clock = Source(), ManualClock()
    value = secret_like(source, clock)
    first = value.current()
    source.raw = "rotated"
    clock.advance(REFRESH)
    assert value.current() is not first
    assert value.current().text == "rotated"
    assert caplog.records[-1].getMessage() == f"secret {NAME} read again from the test"


# Failures: the last good value, the backoff per failure, the log


def test_a_failed_refresh_keeps_the_last_good_value_and_backs_off_per_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    source, clock = Source(), ManualClock()
    value = secret_like(source, clock)
    good = value.current()
    source.failure = "the store is down"
    clock.advance(REFRESH)
    caplog.clear()
    assert value.current() is good
    # 1 s, 2 s, 4 s ... after the 1st, 2nd, 3rd failure in a row, up to MAX_RETRY_SECONDS.
    backoffs = [min(FIRST_RETRY_SECONDS * 2**n, MAX_RETRY_SECONDS) for n in range(8)]
    assert backoffs[-2:] == [MAX_RETRY_SECONDS, MAX_RETRY_SECONDS]
    for backoff in backoffs:
        fetches = source.fetches
        clock.advance(backoff - TICK)
        assert value.current() is good
        assert source.fetches == fetches  # not on every request
        clock.advance(TICK)
        assert value.current() is good
        assert source.fetches == fetches + 1
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failures) == 1 + len(backoffs)  # each failed fetch says so
    assert failures[0].getMessage() == (
        f"secret read failed: {NAME}: the store is down; serving the last value"
    )
    assert failures[-1].fields["failures"] == 1 + len(backoffs)  # type: ignore[attr-defined]
    # Back: the next fetch succeeds, and the interval is the refresh interval again.
    source.failure = None
    clock.advance(MAX_RETRY_SECONDS)
    assert value.current() is good  # unchanged tag: the same object
    fetches = source.fetches
    clock.advance(REFRESH - TICK)
    value.current()
    assert source.fetches == fetches


def test_the_backoff_is_never_longer_than_the_refresh_interval() -> None:
    source, clock = Source(), ManualClock()
    value = SecretSetting(NAME, source, 3.0, clock).reading(parse)
    value.current()
    source.failure = "down"
    for _ in range(4):  # four failures: backoffs of 1 s, 2 s, then 3 s (the interval), not 4 s
        clock.advance(3.0)
        value.current()
    fetches = source.fetches
    clock.advance(3.0 - TICK)
    value.current()
    assert source.fetches == fetches
    clock.advance(TICK)
    value.current()
    assert source.fetches == fetches + 1


def test_no_value_yet_is_unavailable_naming_the_cause_until_a_retry_succeeds() -> None:
    source, clock = Source(), ManualClock()
    source.failure = "cannot read it"
    value = secret_like(source, clock)
    with pytest.raises(Unavailable) as raised:
        value.current()
    assert raised.value.reason == f"{NAME}: no value read yet ({NAME}: cannot read it)"
    source.failure = None
    with pytest.raises(Unavailable):
        value.current()  # within the backoff: no fetch
    assert source.fetches == 1
    clock.advance(FIRST_RETRY_SECONDS)
    assert value.current().text == "first"


def test_a_refused_value_is_logged_once_and_never_replaces_a_good_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    source, clock = Source(), ManualClock()
    value = secret_like(source, clock)
    good = value.current()
    source.raw = "bad: a typo in the new version"
    clock.advance(REFRESH)
    caplog.clear()
    assert value.current() is good
    for backoff in (FIRST_RETRY_SECONDS, 2 * FIRST_RETRY_SECONDS):
        clock.advance(backoff)  # fetched again: the same refused version
        assert value.current() is good
    assert source.fetches == 4
    [refusal] = caplog.records
    assert refusal.getMessage() == (
        f"{NAME}: new value refused, the previous one stays: "
        "'bad: a typo in the new version' is not a value"
    )
    source.raw = "fixed"
    clock.advance(4 * FIRST_RETRY_SECONDS)
    assert value.current().text == "fixed"


def test_a_refused_first_value_is_unavailable_with_the_refusal() -> None:
    source, clock = Source("bad"), ManualClock()
    with pytest.raises(Unavailable) as raised:
        secret_like(source, clock).current()
    assert raised.value.reason == f"{NAME}: no value read yet ({NAME}: 'bad' is not a value)"


# One fetcher at a time


def test_while_one_thread_refreshes_the_others_keep_the_cached_value() -> None:
    source, clock = Source(), ManualClock()
    value = secret_like(source, clock)
    good = value.current()
    clock.advance(REFRESH)
    source.gate, source.fetching = threading.Event(), threading.Event()
    refresher, results = in_thread(value.current)
    assert source.fetching.wait(WAIT_SECONDS)
    for _ in range(20):
        assert value.current() is good  # not waiting, not fetching
    assert source.fetches == 2
    assert refresher.is_alive()
    source.gate.set()
    refresher.join(WAIT_SECONDS)
    assert results == [good]


def test_with_no_value_yet_a_thread_waits_for_the_fetch_under_way() -> None:
    source, clock = Source(), ManualClock()
    value = secret_like(source, clock)
    source.gate = threading.Event()
    first, first_results = in_thread(value.current)
    assert source.fetching.wait(WAIT_SECONDS)
    second, second_results = in_thread(value.current)
    second.join(0.05)
    assert second.is_alive()
    assert second_results == []  # waiting on the fetch under way
    source.gate.set()
    first.join(WAIT_SECONDS)
    second.join(WAIT_SECONDS)
    assert first_results == second_results
    assert isinstance(first_results[0], Value)
    assert source.fetches == 1


def test_the_wait_for_a_fetch_under_way_ends_at_the_request_s_deadline() -> None:
    source, clock = Source(), ManualClock()
    value = secret_like(source, clock)
    source.gate = threading.Event()
    fetcher, _ = in_thread(value.current)
    assert source.fetching.wait(WAIT_SECONDS)

    def within_a_short_deadline() -> Value:
        with deadline.within(deadline.Deadline.after(0.05)):
            return value.current()

    waiter, results = in_thread(within_a_short_deadline)
    waiter.join(WAIT_SECONDS)
    [outcome] = results
    assert isinstance(outcome, Unavailable)
    assert fetcher.is_alive()
    source.gate.set()
    fetcher.join(WAIT_SECONDS)


def test_threads_that_find_the_value_due_together_fetch_it_once() -> None:
    source, clock = Source(), ManualClock()
    value = secret_like(source, clock)
    value.current()
    clock.advance(REFRESH)
    start = threading.Barrier(16)
    threads = [threading.Thread(target=lambda: (start.wait(), value.current())) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_SECONDS)
    assert source.fetches == 2


def test_no_fetch_is_started_with_less_than_its_minimum_left() -> None:
    source, clock = Source(), ManualClock()
    schedule = SecretSetting(NAME, source, REFRESH, clock).schedule()
    value = secret_like(source, clock)
    with deadline.within(deadline.Deadline.after(schedule.min_fetch_seconds / 2)):
        with pytest.raises(Unavailable):
            value.current()
    assert source.fetches == 0


# Out of schedule: `wanted`


def test_a_wanted_fetch_comes_at_most_once_per_cooldown() -> None:
    source, clock = Source(), ManualClock()
    value = keys_like(source, clock)
    value.current()
    source.raw = "new-key"
    assert value.current(wanted=not_having("new-key")).text == "new-key"
    assert source.fetches == 2  # before the interval: asked for
    for step in (0, UNKNOWN_KID_COOLDOWN_SECONDS - 1):
        clock.advance(step)
        value.current(wanted=not_having("forged"))
    assert source.fetches == 2  # within the cooldown: not granted
    clock.advance(1)
    value.current(wanted=not_having("forged"))
    assert source.fetches == 3


def test_a_wanted_fetch_is_not_made_when_the_value_already_has_it() -> None:
    source, clock = Source(), ManualClock()
    value = keys_like(source, clock)
    value.current()
    value.current(wanted=not_having("first"))
    assert source.fetches == 1


def test_a_wanted_fetch_waits_out_a_failure_s_backoff() -> None:
    source, clock = Source(), ManualClock()
    value = keys_like(source, clock)
    good = value.current()
    source.failure = "the issuer is down"
    clock.advance(KEYS_SCHEDULE.refresh_seconds)
    assert value.current() is good  # a scheduled refresh failed: backoff, no cooldown yet
    source.failure = None
    clock.advance(RETRY_WITH_KEYS_SECONDS - 1)
    value.current(wanted=not_having("new-key"))
    assert source.fetches == 2
    clock.advance(1)
    value.current(wanted=not_having("new-key"))
    assert source.fetches == 3


# Where no wait is allowed (the event loop)


def test_a_fresh_value_never_blocks() -> None:
    source, clock = Source(), ManualClock()
    value = keys_like(source, clock)
    good = value.current()
    clock.advance(KEYS_SCHEDULE.refresh_seconds - TICK)
    with no_waiting():
        assert value.current() is good
        assert value.current(wanted=not_having("first")) is good  # it has what is wanted
    assert source.fetches == 1


@pytest.mark.parametrize(
    "situation",
    ["no value yet", "refresh due", "wanted out of schedule", "no value, a fetch under way"],
)
def test_would_block_whenever_a_wait_or_a_fetch_is_needed(situation: str) -> None:
    source, clock = Source(), ManualClock()
    value = keys_like(source, clock)
    wanted: Callable[[Value | None], bool] | None = None
    fetcher: threading.Thread | None = None
    if situation == "refresh due":
        value.current()
        clock.advance(KEYS_SCHEDULE.refresh_seconds)
    elif situation == "wanted out of schedule":
        value.current()
        wanted = not_having("new-key")
    elif situation == "no value, a fetch under way":
        source.gate = threading.Event()
        fetcher, _ = in_thread(value.current)
        assert source.fetching.wait(WAIT_SECONDS)
    fetches = source.fetches
    with no_waiting(), pytest.raises(WouldBlock):
        value.current(wanted=wanted)
    assert source.fetches == fetches  # the fetch is left to a thread that may wait
    if fetcher is not None:
        assert source.gate is not None
        source.gate.set()
        fetcher.join(WAIT_SECONDS)
    value.current(wanted=wanted)  # where waiting is allowed, the same call goes through


@pytest.mark.parametrize(
    "situation",
    ["a fetch under way", "in a failure's backoff", "wanted within the cooldown"],
)
def test_a_cached_value_is_served_without_blocking_when_nothing_is_due(situation: str) -> None:
    source, clock = Source(), ManualClock()
    value = keys_like(source, clock)
    good = value.current()
    wanted: Callable[[Value | None], bool] | None = None
    fetcher: threading.Thread | None = None
    if situation == "a fetch under way":
        clock.advance(KEYS_SCHEDULE.refresh_seconds)
        source.gate = threading.Event()
        fetcher, _ = in_thread(value.current)
        assert source.fetching.wait(WAIT_SECONDS)
    elif situation == "in a failure's backoff":
        source.failure = "down"
        clock.advance(KEYS_SCHEDULE.refresh_seconds)
        value.current()
        wanted = not_having("new-key")
    else:
        value.current(wanted=not_having("new-key"))
        wanted = not_having("new-key")
    fetches = source.fetches
    with no_waiting():
        assert value.current(wanted=wanted) is good
    assert source.fetches == fetches
    if fetcher is not None:
        assert source.gate is not None
        source.gate.set()
        fetcher.join(WAIT_SECONDS)


def test_with_no_value_and_nothing_due_it_is_unavailable_rather_than_blocking() -> None:
    source, clock = Source(), ManualClock()
    source.failure = "down"
    value = keys_like(source, clock)
    with pytest.raises(Unavailable):
        value.current()
    with no_waiting(), pytest.raises(Unavailable):
        value.current()  # within the backoff: there is nothing to wait for


def test_a_schedule_s_messages_and_level_are_its_own(caplog: pytest.LogCaptureFixture) -> None:
    source, clock = Source(), ManualClock()
    source.failure = "down"
    schedule = Schedule(
        refresh_seconds=REFRESH,
        retry=lambda failures, has_value: 1.0,
        fetch_seconds=1.0,
        wait_seconds=1.0,
        kind="list",
        failure_level=logging.WARNING,
        missing="no list {name}: {error}",
        failed="list not read: {error}; serving {serving}",
    )
    with pytest.raises(Unavailable) as raised:
        Refreshing(source, parse, schedule, clock=clock).current()
    assert raised.value.reason == f"no list {NAME}: {NAME}: down"
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == f"list not read: {NAME}: down; serving nothing: requests get 503"
    assert record.fields == {  # type: ignore[attr-defined]
        "event": "refresh",
        "setting": NAME,
        "error": f"{NAME}: down",
        "failures": 1,
    }
