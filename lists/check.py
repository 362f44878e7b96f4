"""A list read once, as the hook would read it, for the policy check: what it holds, or why the
hook would keep its last good list instead (names, counts and line numbers; never an entry)."""

from __future__ import annotations

from dataclasses import dataclass

from core.refreshing import FetchFailed
from lists.outside_list import GOOGLE, Endpoints, ListSettings, list_parser, list_source
from lists.parse import ListRefused, shrink_refusal

CHECK_SECONDS = 30.0


@dataclass(frozen=True)
class ListReport:
    """What the check found: `problem` is None when the hook would take this version."""

    name: str
    where: str
    origin: str | None = None  # the version read (gs://b/o#generation, .../versions/N)
    entries: int = 0
    lines: int = 0
    skipped: int = 0
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def describe(self) -> str:
        if self.problem is not None:
            return f"list {self.name} ({self.where}): REFUSED: {self.problem}"
        return (
            f"list {self.name} ({self.origin}): {self.entries} entries "
            f"({self.lines - self.entries} repeated, {self.skipped} blank or comment lines)"
        )


def check_list(
    settings: ListSettings,
    *,
    endpoints: Endpoints = GOOGLE,
    previous_entries: int | None = None,
    budget: float = CHECK_SECONDS,
) -> ListReport:
    """Read `settings`' list once; with `previous_entries` (the count the hook last logged or
    the last check reported), judge a shrink as the hook would."""
    try:
        source = list_source(settings, endpoints)
    except ValueError as e:
        return ListReport(settings.name, settings.location, problem=str(e))
    where = str(getattr(source, "where", settings.location))
    try:
        fetched = source.fetch(budget, None)
    except FetchFailed as e:
        return ListReport(settings.name, where, problem=str(e))
    if fetched is None:  # not asked conditionally, so never; kept for the protocol's sake
        return ListReport(settings.name, where, problem="the source answered nothing")
    try:
        value = list_parser(settings)(fetched.raw)
    except ListRefused as e:
        return ListReport(settings.name, where, fetched.origin, problem=str(e))
    problem = None
    if previous_entries is not None and previous_entries > 0:
        problem = shrink_refusal(len(value), previous_entries, settings.max_shrink)
    return ListReport(
        settings.name, where, fetched.origin, len(value), value.lines, value.skipped, problem
    )
