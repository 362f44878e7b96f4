"""The time a request may still take: started per request, read by every wait on a dependency."""

from __future__ import annotations

import time
from contextvars import ContextVar

# Okta waits 3 s; the answer must be written before that, whatever the dependencies do.
DEFAULT_DEADLINE_MS = 2000
MIN_DEADLINE_MS = 100
MAX_DEADLINE_MS = 2900


class Deadline:
    """A point on the monotonic clock after which nothing more may be waited for."""

    __slots__ = ("at",)

    def __init__(self, at: float) -> None:
        self.at = at

    def __repr__(self) -> str:
        return f"Deadline(at={self.at!r})"

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())


# The deadline of the request this thread is answering; None at cold start outside `within`.
# A context variable rather than a parameter: the verifiers and secret sources keep their
# signatures, and each wait asks for its own bound with `time_left`.
_current: ContextVar[Deadline | None] = ContextVar("okta_hook_deadline", default=None)


class within:  # lower case: used as `with deadline.within(...)`, like a function
    """Bound every wait in this block (in this thread) by `deadline`. A class rather than a
    generator context manager: it runs on every request."""

    __slots__ = ("_deadline", "_token")

    def __init__(self, deadline: Deadline) -> None:
        self._deadline = deadline

    def __enter__(self) -> Deadline:
        self._token = _current.set(self._deadline)
        return self._deadline

    def __exit__(self, *_: object) -> None:
        _current.reset(self._token)


def time_left(cap: float) -> float:
    """How long a wait may last: `cap`, or less when the current deadline is nearer; 0 when
    it has passed. Outside `within` (a component used on its own), just `cap`."""
    deadline = _current.get()
    if deadline is None:
        return cap
    return min(cap, deadline.remaining())
