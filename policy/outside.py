"""Data a decision reads from outside the policy file: the lists it names (`[lists.NAME]`, read
from Cloud Storage or Secret Manager) and the answers of the company's directory.

A rule takes a list wherever it takes a literal one: `allowed = { list = "partners" }`. The
policy holds only the reference; the entries come with each request, through `Outside`, from
the lists the function keeps fresh (service/outside.py) or from a case file's (tools).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from directory.rule import Judgement
from lists.entries import Members
from policy.schema import Path, PolicyError, boolean, only, where

if TYPE_CHECKING:
    from policy.conditions import Facts
    from policy.directory_rules import DirectoryRule

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
REF_KEYS = {"list", "fail_open"}


@dataclass(frozen=True)
class ListRef:
    """`{ list = "partners" }` where a rule takes a literal list: the named list's entries, read
    when the rule is judged. `fail_open` None: the list's own."""

    name: str
    at: Path
    fail_open: bool | None = None

    def __bool__(self) -> bool:
        return True  # a rule with a list reference has entries to look in

    @property
    def rule(self) -> str:
        """The rule that reads the list, for log lines: `domains.allowed`."""
        return ".".join(self.at)

    @property
    def written(self) -> tuple[str, ...]:
        return (f"list {self.name}",)

    def members(self, facts: Facts) -> Members | None:
        """The entries now; None when the list was never read and this rule fails open (the
        rule passes); Unavailable (503) when it was never read and the rule fails closed."""
        return facts.members(self)


class Outside(Protocol):
    """Where a decision's outside data comes from: kept fresh by the function, or canned by a
    case file."""

    def members(self, ref: ListRef) -> Members | None:
        """The list's entries; None when it was never read and `ref` fails open (said in a log
        line); core.errors.Unavailable when it was never read and `ref` fails closed."""

    def lookup(self, rule: DirectoryRule, values: Mapping[str, str]) -> Judgement:
        """The rule's judgement of these values (directory.rule.judge_lookup); Unavailable or
        WouldBlock as it raises them."""


def parse_ref(value: object, at: Path) -> ListRef:
    """`{ list = "NAME" }`, optionally with `fail_open`."""
    if not isinstance(value, dict):
        raise PolicyError(f"{where(at)} must be a list or {{ list = 'NAME' }}", at)
    only(value, REF_KEYS, at)
    name = value.get("list")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise PolicyError(f"{where(at)}: list must name a [lists.NAME] table", (*at, "list"))
    fail_open = boolean(value, "fail_open", at) if "fail_open" in value else None
    return ListRef(name, at, fail_open)
