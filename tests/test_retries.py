"""The memory of recent eventIds behind the audit line's `retry` mark."""

from __future__ import annotations

from service.retries import RecentEvents


def test_second_sight_is_a_retry() -> None:
    events = RecentEvents()
    assert events.seen_before("a") is False
    assert events.seen_before("a") is True
    assert events.seen_before(None) is False
    assert events.seen_before("") is False


def test_memory_is_bounded_and_forgets_the_oldest() -> None:
    events = RecentEvents(capacity=2)
    for event in ("a", "b", "c"):
        events.seen_before(event)
    assert events.seen_before("a") is False  # forgotten, so recorded afresh
    assert events.seen_before("c") is True
