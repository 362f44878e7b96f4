"""What a directory's answer means for the rule: a record that matches (with the values to copy),
one that does not, or none; anything else the directory says is a failure."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core import strict_json
from directory.settings import DirectorySettings

MAX_VALUE_CHARS = 1024


class BadAnswer(Exception):
    """The directory answered something this lookup cannot read; safe to log (no values)."""


class Outcome(enum.Enum):
    FOUND = "found"  # the record exists and every match agrees
    MISMATCH = "mismatch"  # the record exists, and a match does not agree
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Answer:
    outcome: Outcome
    values: Mapping[str, str] = field(default_factory=dict)  # to set on ALLOW (FOUND only)
    mismatched: tuple[str, ...] = ()  # the submitted fields that disagree (names only)
    missing: tuple[str, ...] = ()  # attributes to copy that the record lacks (names only)

    def __repr__(self) -> str:
        # The values are the directory's data: never in a repr that may reach a log.
        return f"Answer({self.outcome.value}, copies {sorted(self.values)})"


def judge(
    settings: DirectorySettings, status: int, body: bytes, submitted: Mapping[str, str]
) -> Answer:
    if status in settings.not_found:
        return Answer(Outcome.NOT_FOUND)
    if status not in settings.found:
        raise BadAnswer(f"HTTP {status}")
    try:
        document = strict_json.loads(body)
    except strict_json.StrictJsonError as e:
        raise BadAnswer(f"HTTP {status} with a body that {e.public}") from None
    record = settings.record.find(document)
    if record is None or record == [] or record == {}:
        return Answer(Outcome.NOT_FOUND)
    mismatched = tuple(
        m.field
        for m in settings.match
        if not _agrees(m.path.find(record), str(submitted[m.field]), m.ignore_case)
    )
    if mismatched:
        return Answer(Outcome.MISMATCH, mismatched=mismatched)
    values: dict[str, str] = {}
    missing: list[str] = []
    for name, path in settings.copy.items():
        value = _text(path.find(record))
        if value is None:
            missing.append(name)
        else:
            values[name] = value
    return Answer(Outcome.FOUND, values, missing=tuple(missing))


def _agrees(found: Any, submitted: str, ignore_case: bool) -> bool:
    value = _text(found)
    if value is None:
        return False
    if ignore_case:
        return value.casefold() == submitted.casefold()
    return value == submitted


def _text(value: Any) -> str | None:
    """A JSON value as profile text: a string, or an integer written in decimal; a value too
    long or with control characters is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str) or len(value) > MAX_VALUE_CHARS:
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return None
    return value
