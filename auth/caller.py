"""The authenticated caller, as the verifiers report it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Caller:
    """Who called: the scheme that proved it and an identifier safe to log."""

    scheme: str
    subject: str
    details: dict[str, str] = field(default_factory=dict)


class Verifier(Protocol):
    """Checks the credentials of one Authorization scheme; returns the caller or raises."""

    scheme: str
    challenge: str

    def load(self) -> None:
        """Read keys or credentials now, at cold start; raises `Unavailable`."""

    def verify(self, credentials: str) -> Caller: ...
