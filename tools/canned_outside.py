"""A case's outside data: the lists' entries given by its case file, and its directory answers
canned as the directory would give them (a status and a JSON body), judged by directory/'s own
code, so that a case runs the policy's matches and copies offline and the same each time."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from core.errors import Unavailable
from core.logs import logger
from directory.answers import Answer, BadAnswer, judge
from directory.client import DirectoryUnavailable
from directory.rule import Judgement, judge_lookup
from directory.settings import DirectorySettings
from lists.entries import Members
from policy.directory_rules import DirectoryRule
from policy.loader import Policy
from policy.outside import ListRef

# A canned answer that is no answer: the call failed, or the circuit is open (no call made).
UNAVAILABLE = "unavailable"
CIRCUIT_OPEN = "circuit_open"
CANNED_FAILURES = (UNAVAILABLE, CIRCUIT_OPEN)


class NotCanned(Exception):
    """The case reaches a list or a directory rule the case file gives nothing for."""


class CannedDirectory:
    """One directory rule's answer in one case."""

    def __init__(self, settings: DirectorySettings, answer: object) -> None:
        self.name = settings.name
        self.settings = settings
        self._answer = answer

    def lookup(self, values: Mapping[str, object]) -> Answer:
        answer = self._answer
        if answer == UNAVAILABLE:
            raise DirectoryUnavailable(f"directory {self.name}: no answer (canned)")
        if answer == CIRCUIT_OPEN:
            raise DirectoryUnavailable(
                f"directory {self.name}: not called while it is failing (canned)",
                circuit_open=True,
            )
        if not isinstance(answer, Mapping):
            raise TypeError(f"directory {self.name}: a canned answer is a table")
        status = answer.get("status", 200)
        body = json.dumps(answer.get("body", {})).encode("utf-8")
        texts = {name: str(values[name]) for name in self.settings.fields}
        try:
            return judge(self.settings, int(status), body, texts)
        except BadAnswer as e:
            raise DirectoryUnavailable(f"directory {self.name}: {e}") from None


class CannedOutside:
    """`lists`: the entries of each list; `unread`: lists treated as never read; `answers`: by
    directory rule, `{status, body}`, "unavailable" or "circuit_open"."""

    def __init__(
        self,
        policy: Policy,
        lists: Mapping[str, Members],
        unread: frozenset[str],
        answers: Mapping[str, object],
    ) -> None:
        self._policy = policy
        self._lists = lists
        self._unread = unread
        self._answers = answers

    def members(self, ref: ListRef) -> Members | None:
        if ref.name in self._unread:
            if self._policy.lists[ref.name].fails_open(ref):
                return None
            raise Unavailable(f"list {ref.name} not read yet (the case says so)")
        found = self._lists.get(ref.name)
        if found is None:
            raise NotCanned(
                f"the case file gives no entries for list {ref.name}: add [lists.{ref.name}] "
                "entries = [...] (or unread_lists to the case)"
            )
        return found

    def lookup(self, rule: DirectoryRule, values: Mapping[str, str]) -> Judgement:
        if rule.name not in self._answers:
            raise NotCanned(
                f"the case gives no answer for [directory.{rule.name}]: add directory = "
                f"{{ {rule.name} = {{ status = 200, body = {{ ... }} }} }}"
            )
        with _quiet():
            return judge_lookup(CannedDirectory(rule.settings, self._answers[rule.name]), values)


@contextmanager
def _quiet() -> Iterator[None]:
    """A canned failure is logged as a real one would be ("fails open: allowed"); where the
    hook's logs are not set up (the policy check, deploy), that line would land on stderr."""
    if logger.handlers or logger.disabled:
        yield
        return
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = False
