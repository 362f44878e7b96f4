"""Test cases that travel with a policy: `<policy>.cases.toml` beside it, each case a request and
the decision it must get, run through the same parsing and handlers as the function.

    [[case]]
    name = "an employee with every field right is allowed"
    request_type = "registration"            # or "progressive"
    submitted = { email = "ana@example.com", age = 30 }
    current_profile = { employeeNumber = "123456" }   # progressive only
    ip_address = "192.0.2.10"                # data.context.request.ipAddress (any value)
    locale = "fr"                            # the Accept-Language header of Okta's call
    expect = "ALLOW"                         # or "DENY"
    causes = { age = "TOO_YOUNG" }           # DENY: every cause, attribute = reason
    messages = { age = "Vous devez ..." }    # DENY, optional: the text shown, per attribute
    updates = { email = "ana@example.com" }  # ALLOW, optional: the update command's value
    shadowed = { firstName = "INVALID_NAME" }  # optional: the shadow-mode failures
    directory = { hr = { status = 200, body = { department = "Finance" } } }  # canned answers
    unread_lists = ["partners"]              # lists the case treats as never read

    [lists.partners]                         # the entries of the policy's [lists.partners]
    entries = ["partner.example"]

A case never reads a bucket, a secret or the directory: the lists' entries and the directory's
answers come from the case file, so that cases stay offline and give the same answer each run.
`expect = "UNAVAILABLE"`: the hook answers 503 (a list never read, or no answer from the
directory, where the rule fails closed).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import HookError, Unavailable
from handlers import progressive, registration
from lists.parse import ListRefused, ListValue, read_list
from okta_wire.contract import checked_body
from okta_wire.models import Decision, RequestType
from okta_wire.request import parse_hook_request
from okta_wire.response import okta_response
from policy.checks import Trace
from policy.loader import Policy
from policy.on_allow import same
from policy.policy_lines import line_of, syntax_error_line
from policy.schema import REQUEST_TYPES
from tools.canned_outside import CANNED_FAILURES, CannedOutside, NotCanned

KEYS = {
    "name", "request_type", "submitted", "current_profile", "ip_address", "locale", "expect",
    "causes", "messages", "updates", "shadowed", "directory", "unread_lists",
}  # fmt: skip
EXPECTS = ("ALLOW", "DENY", "UNAVAILABLE")
HANDLERS = {
    RequestType.REGISTRATION: registration.decide,
    RequestType.PROGRESSIVE: progressive.decide,
}


class CaseFileError(Exception):
    """The case file cannot be read; the message is `FILE:LINE: what is wrong`."""


@dataclass(frozen=True)
class Case:
    name: str
    line: int
    request_type: RequestType
    body: bytes
    locale: str | None
    expect: str
    causes: Mapping[str, str] | None = None
    messages: Mapping[str, str] | None = None
    updates: Mapping[str, object] | None = None
    shadowed: Mapping[str, str] | None = None
    # Canned answers of the directory rules, by rule; lists this case treats as never read.
    directory: Mapping[str, object] | None = None
    unread_lists: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CaseFile:
    """The cases, and the entries the file gives each list (with the line that gives them)."""

    cases: list[Case]
    lists: Mapping[str, tuple[list[str], int]]


@dataclass
class Outcome:
    """What running a case file found: failures as `FILE:LINE: ...`, and the rules seen."""

    cases: int = 0
    failures: list[str] = field(default_factory=list)
    seen: set[tuple[tuple[str, ...], bool]] = field(default_factory=set)


def cases_path(policy_path: Path) -> Path:
    """`policies/x.toml` -> `policies/x.cases.toml`."""
    return policy_path.with_name(policy_path.stem + ".cases.toml")


def load_cases(path: Path) -> list[Case]:
    return load_case_file(path).cases


def load_case_file(path: Path) -> CaseFile:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as e:
        raise CaseFileError(f"{path}: cannot read: {e.__class__.__name__}") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise CaseFileError(f"{path}:{syntax_error_line(e, text)}: not valid TOML: {e}") from None
    except RecursionError:
        raise CaseFileError(f"{path}: not valid TOML: nested too deeply") from None
    unknown = sorted(set(document) - {"case", "lists"})
    if unknown:
        raise CaseFileError(
            f"{path}:{line_of(text, (unknown[0],)) or 1}: unknown key {unknown[0]!r}"
        )
    entries = document.get("case", [])
    if not isinstance(entries, list) or not entries:
        raise CaseFileError(f"{path}:1: no [[case]]: a case file holds at least one case")
    found = []
    for index, entry in enumerate(entries):
        line = line_of(text, ("case", str(index))) or 1
        try:
            found.append(_case(entry, line))
        except ValueError as e:
            at = line_of(text, ("case", str(index), e.args[1])) if len(e.args) > 1 else None
            raise CaseFileError(f"{path}:{at or line}: case {index + 1}: {e.args[0]}") from None
    names: set[str] = set()
    for case in found:
        if case.name in names:
            raise CaseFileError(f"{path}:{case.line}: case {case.name!r} is named twice")
        names.add(case.name)
    return CaseFile(found, _lists(document.get("lists"), text, path))


def _lists(tables: object, text: str, path: Path) -> dict[str, tuple[list[str], int]]:
    """`[lists.NAME] entries = [...]`: what each list holds in these cases."""
    if tables is None:
        return {}
    if not isinstance(tables, dict):
        raise CaseFileError(f"{path}:{line_of(text, ('lists',)) or 1}: lists must be a table")
    found = {}
    for name, table in tables.items():
        line = line_of(text, ("lists", name)) or 1
        entries = table.get("entries") if isinstance(table, dict) else None
        if (
            not isinstance(table, dict)
            or set(table) != {"entries"}
            or not isinstance(entries, list)
            or not all(isinstance(e, str) and "\n" not in e for e in entries)
        ):
            raise CaseFileError(
                f"{path}:{line}: [lists.{name}] holds entries = [...], a list of one-line strings"
            )
        found[name] = (entries, line)
    return found


def _case(entry: object, line: int) -> Case:
    if not isinstance(entry, dict):
        raise ValueError("must be a table")
    unknown = sorted(set(entry) - KEYS)
    if unknown:
        raise ValueError(
            f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(KEYS))})", unknown[0]
        )
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("name must be a non-empty string", "name")
    request_type = entry.get("request_type")
    kind = REQUEST_TYPES.get(request_type) if isinstance(request_type, str) else None
    if kind is None:
        raise ValueError("request_type must be 'registration' or 'progressive'", "request_type")
    expect = entry.get("expect")
    if not isinstance(expect, str) or expect not in EXPECTS:
        raise ValueError("expect must be 'ALLOW', 'DENY' or 'UNAVAILABLE' (503)", "expect")
    tables = {key: _table(entry, key) for key in ("submitted", "current_profile", "causes",
                                                   "messages", "updates", "shadowed",
                                                   "directory")}  # fmt: skip
    if kind is RequestType.REGISTRATION and "current_profile" in entry:
        raise ValueError("current_profile is read on progressive requests only", "current_profile")
    if expect == "DENY" and tables["causes"] is None:
        raise ValueError(
            "a DENY case names its causes: causes = { attribute = 'REASON' }", "expect"
        )
    for key in ("causes", "messages"):
        if expect != "DENY" and tables[key] is not None:
            raise ValueError(f"{key} go with expect = 'DENY'", key)
    if expect != "ALLOW" and tables["updates"] is not None:
        raise ValueError(
            "only an ALLOW sends an update: updates go with expect = 'ALLOW'", "updates"
        )
    for rule, answer in (tables["directory"] or {}).items():
        canned_failure = isinstance(answer, str) and answer in CANNED_FAILURES
        status = answer.get("status", 200) if isinstance(answer, dict) else None
        if not canned_failure and not (
            isinstance(status, int) and not isinstance(status, bool) and 100 <= status <= 599
        ):
            raise ValueError(
                f"directory {rule}: a canned answer is {{ status = 200, body = {{ ... }} }} "
                f"(an HTTP status, 100 to 599) or one of "
                f"{', '.join(repr(f) for f in CANNED_FAILURES)}",
                "directory",
            )
        if isinstance(answer, dict):
            try:
                json.dumps(answer.get("body", {}), allow_nan=False)
            except (TypeError, ValueError):
                raise ValueError(
                    f"directory {rule}: the body must be a JSON value (no dates, nan or inf)",
                    "directory",
                ) from None
    unread = entry.get("unread_lists", [])
    if not isinstance(unread, list) or not all(isinstance(name, str) for name in unread):
        raise ValueError("unread_lists must be a list of list names", "unread_lists")
    for key in ("causes", "shadowed", "messages"):
        table = tables[key] or {}
        if not all(isinstance(v, str) for v in table.values()):
            raise ValueError(f"{key} maps attributes to strings", key)
    locale = entry.get("locale")
    if locale is not None and not isinstance(locale, str):
        raise ValueError("locale must be a string such as 'fr' or 'fr-CA, en;q=0.5'", "locale")
    try:
        body = json.dumps(_okta_body(kind, entry, tables), allow_nan=False).encode("utf-8")
    except (TypeError, ValueError):
        raise ValueError("values must be JSON values (no dates, nan or inf)", "submitted") from None
    return Case(
        name=name,
        line=line,
        request_type=kind,
        body=body,
        locale=locale,
        expect=expect,
        causes=tables["causes"],
        messages=tables["messages"],
        updates=tables["updates"],
        shadowed=tables["shadowed"],
        directory=tables["directory"],
        unread_lists=frozenset(unread),
    )


def _table(entry: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    value = entry.get(key)
    if value is not None and not isinstance(value, dict):
        raise ValueError(f"{key} must be a table", key)
    return value


def _okta_body(
    kind: RequestType, entry: Mapping[str, Any], tables: Mapping[str, Any]
) -> dict[str, Any]:
    """A request in Okta's shape (as in Okta's documented samples) holding the case's values."""
    context: dict[str, Any] = {"request": {"method": "POST", "id": "case"}}
    if "ip_address" in entry:
        context["request"]["ipAddress"] = entry["ip_address"]
    data: dict[str, Any] = {"context": context}
    submitted = tables["submitted"] or {}
    if kind is RequestType.REGISTRATION:
        data["userProfile"] = submitted
    else:
        context["user"] = {"profile": tables["current_profile"] or {}}
        data["userProfileUpdate"] = submitted
    return {"eventId": "policy-case", "requestType": kind.value, "data": data}


def run_case(
    policy: Policy,
    case: Case,
    trace: Trace = None,
    lists: Mapping[str, ListValue] | None = None,
) -> list[str]:
    """What differs between the case's expectations and the decision; empty when it passes.
    `lists`: the entries of the policy's lists in these cases."""
    outside = CannedOutside(policy, lists or {}, case.unread_lists, case.directory or {})
    try:
        request = parse_hook_request(case.body, accept_language=case.locale)
        decision = HANDLERS[request.request_type](policy, request, trace, outside)
        checked_body(okta_response(decision), request.request_type)
    except NotCanned as e:
        return [str(e)]
    except Unavailable as e:
        if case.expect == "UNAVAILABLE":
            return []
        return [f"the hook answers 503: {e.reason}"]
    except HookError as e:
        return [f"the request is refused: {e.reason}"]
    if case.expect == "UNAVAILABLE":
        return [f"expected UNAVAILABLE (503), got {'ALLOW' if decision.allowed else 'DENY'}"]
    return _differences(case, decision)


def _differences(case: Case, decision: Decision) -> list[str]:
    got = "ALLOW" if decision.allowed else "DENY"
    causes = {cause.attribute: cause.reason for cause in decision.causes}
    problems = []
    if got != case.expect:
        detail = f" (causes {_show(causes)})" if causes else ""
        problems.append(f"expected {case.expect}, got {got}{detail}")
    elif case.causes is not None and dict(case.causes) != causes:
        problems.append(f"expected causes {_show(case.causes)}, got {_show(causes)}")
    if case.messages is not None and not decision.allowed:
        shown = {cause.attribute: cause.message for cause in decision.causes}
        for attribute, message in case.messages.items():
            if shown.get(attribute) != message:
                problems.append(
                    f"expected the message of {attribute} {message!r}, got {shown.get(attribute)!r}"
                )
    if case.updates is not None and decision.allowed:
        if not same(dict(case.updates), dict(decision.updates)):
            problems.append(
                f"expected updates {_show(case.updates)}, got {_show(decision.updates)}"
            )
    if case.shadowed is not None:
        shadowed = {cause.attribute: cause.reason for cause in decision.shadowed}
        if dict(case.shadowed) != shadowed:
            problems.append(f"expected shadowed {_show(case.shadowed)}, got {_show(shadowed)}")
    return problems


def _show(values: Mapping[str, object]) -> str:
    return json.dumps(dict(values), ensure_ascii=False, sort_keys=True)


def run_cases(policy: Policy, path: Path) -> Outcome:
    outcome = Outcome()
    try:
        case_file = load_case_file(path)
    except CaseFileError as e:
        outcome.failures.append(str(e))
        return outcome
    lists: dict[str, ListValue] = {}
    for name, (entries, line) in case_file.lists.items():
        declared = policy.lists.get(name)
        if declared is None:
            outcome.failures.append(f"{path}:{line}: [lists.{name}]: the policy has no such list")
            continue
        try:
            lists[name] = read_list("\n".join(entries), declared.settings.kind)
        except ListRefused as e:
            outcome.failures.append(f"{path}:{line}: [lists.{name}] entries: {e}")
    if outcome.failures:
        return outcome
    for case in case_file.cases:
        outcome.cases += 1
        for problem in _canned_problems(policy, case) or run_case(
            policy, case, outcome.seen, lists
        ):
            outcome.failures.append(f"{path}:{case.line}: case {case.name!r}: {problem}")
    return outcome


def _canned_problems(policy: Policy, case: Case) -> list[str]:
    """Canned answers or unread lists the policy has no rule or list for."""
    rules = {rule.name for rule in policy.directory}
    found = [f"directory {name}: the policy has no [directory.{name}]" for name in
             sorted(set(case.directory or {}) - rules)]  # fmt: skip
    found += [f"unread_lists: the policy has no [lists.{name}]" for name in
              sorted(case.unread_lists - set(policy.lists))]  # fmt: skip
    return found


def coverage_gaps(policy: Policy, policy_text: str, outcome: Outcome) -> list[str]:
    """Each rule of the policy that no case saw passing, or none saw failing."""
    gaps = []
    for key in policy.rule_keys():
        line = line_of(policy_text, key)
        where = f"{policy.source}:{line}" if line is not None else policy.source
        for passed, how in ((True, "passing"), (False, "failing")):
            if (key, passed) not in outcome.seen:
                gaps.append(f"{where}: {_rule_name(key)} is never seen {how} by a case")
    return gaps


def _rule_name(key: tuple[str, ...]) -> str:
    if key[0] == "attributes" and len(key) > 2:
        rest = key[2:]
        if rest[:1] == ("rules",):
            return f"[[attributes.{key[1]}.rules]] #{int(rest[1]) + 1} {'.'.join(rest[2:])}"
        return f"[attributes.{key[1]}] {'.'.join(rest)}"
    return f"[{key[0]}] {'.'.join(key[1:])}".rstrip()
