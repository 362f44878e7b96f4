"""What a rule makes of a lookup: ALLOW with the values to copy, DENY with a reason, or no
decision (503) while the directory cannot answer, unless the rule fails open.

Fail-closed is a 503 while the circuit is closed: one failed call may be a blip, and Okta's one
retry (within seconds) calls again. Once the circuit is open the directory is known to be
failing, a retry would meet the same refusal, and Okta would then deny with its own generic
error: the rule denies at once instead, with a "try again later" message the person can act on.
Fail-open allows (and says so in a log line) whenever there is no answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from core.errors import Unavailable
from core.logs import logger
from directory.answers import Answer, Outcome
from directory.client import DirectoryUnavailable
from directory.settings import DirectorySettings

FOUND = "directory_found"
MISMATCH = "directory_mismatch"
NOT_FOUND = "directory_not_found"
UNAVAILABLE = "directory_unavailable"
REASONS = {Outcome.FOUND: FOUND, Outcome.MISMATCH: MISMATCH, Outcome.NOT_FOUND: NOT_FOUND}


@dataclass(frozen=True)
class Judgement:
    allow: bool
    reason: str
    values: Mapping[str, str] = field(default_factory=dict)  # to set on the profile on ALLOW
    try_later: bool = False  # a DENY for want of an answer: the message says to try again later
    failed_open: bool = False  # an ALLOW for want of an answer

    def __repr__(self) -> str:
        return f"Judgement({'ALLOW' if self.allow else 'DENY'}, {self.reason})"


class Lookup(Protocol):
    """What a rule looks up in: a `directory.client.Directory`, or canned answers (the policy
    check's cases)."""

    name: str
    settings: DirectorySettings

    def lookup(self, values: Mapping[str, object]) -> Answer: ...


def judge_lookup(directory: Lookup, values: Mapping[str, object]) -> Judgement:
    """The rule's judgement of `values`; Unavailable (503) when it cannot judge now;
    WouldBlock (from the lookup) when a call is needed on the event loop."""
    try:
        answer = directory.lookup(values)
    except DirectoryUnavailable as e:
        if directory.settings.fail_open:
            logger.warning(
                "%s; the rule fails open: allowed",
                e,
                extra={"fields": {"event": "directory", "rule": directory.name, "fail": "open"}},
            )
            return Judgement(True, UNAVAILABLE, failed_open=True)
        if e.circuit_open:
            return Judgement(False, UNAVAILABLE, try_later=True)
        raise Unavailable(str(e)) from None
    if answer.outcome is Outcome.FOUND:
        return Judgement(True, FOUND, answer.values)
    return Judgement(False, REASONS[answer.outcome])
