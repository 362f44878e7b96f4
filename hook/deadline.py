"""The time a request may still take: started per request, read by every wait on a dependency."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

# Okta waits 3 s; the answer must be written before that, whatever the dependencies do.
DEFAULT_DEADLINE_MS = 2000
MIN_DEADLINE_MS = 100
MAX_DEADLINE_MS = 2900


@dataclass(frozen=True)
class Deadline:
    """A point on the monotonic clock after which nothing more may be waited for."""

    at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())


# The deadline of the request this thread is answering; None at cold start outside `within`.
# A context variable rather than a parameter: the verifiers and secret sources keep their
# signatures, and each wait asks for its own bound with `time_left`.
_current: ContextVar[Deadline | None] = ContextVar("okta_hook_deadline", default=None)


@contextmanager
def within(deadline: Deadline) -> Iterator[Deadline]:
    """Bound every wait in this block (in this thread) by `deadline`."""
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)


def time_left(cap: float) -> float:
    """How long a wait may last: `cap`, or less when the current deadline is nearer; 0 when
    it has passed. Outside `within` (a component used on its own), just `cap`."""
    deadline = _current.get()
    if deadline is None:
        return cap
    return min(cap, deadline.remaining())
