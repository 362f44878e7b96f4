"""A clock the test moves by hand: refresh intervals, cooldowns and expiry without sleeping."""

from __future__ import annotations


class ManualClock:
    """Reads as a monotonic or wall clock; `advance` moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
