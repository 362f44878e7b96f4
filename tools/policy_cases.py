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
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import HookError
from handlers import progressive, registration
from okta_wire.contract import checked_body
from okta_wire.models import Decision, RequestType
from okta_wire.request import parse_hook_request
from okta_wire.response import okta_response
from policy.checks import Trace
from policy.loader import Policy
from policy.on_allow import same
from policy.policy_lines import line_of, syntax_error_line
from policy.schema import REQUEST_TYPES

KEYS = {
    "name", "request_type", "submitted", "current_profile", "ip_address", "locale", "expect",
    "causes", "messages", "updates", "shadowed",
}  # fmt: skip
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
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as e:
        raise CaseFileError(f"{path}: cannot read: {e.__class__.__name__}") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise CaseFileError(f"{path}:{syntax_error_line(e, text)}: not valid TOML: {e}") from None
    unknown = sorted(set(document) - {"case"})
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
    kind = REQUEST_TYPES.get(entry.get("request_type"))  # type: ignore[arg-type]
    if kind is None:
        raise ValueError("request_type must be 'registration' or 'progressive'", "request_type")
    expect = entry.get("expect")
    if expect not in ("ALLOW", "DENY"):
        raise ValueError("expect must be 'ALLOW' or 'DENY'", "expect")
    tables = {key: _table(entry, key) for key in ("submitted", "current_profile", "causes",
                                                   "messages", "updates", "shadowed")}  # fmt: skip
    if kind is RequestType.REGISTRATION and "current_profile" in entry:
        raise ValueError("current_profile is read on progressive requests only", "current_profile")
    if expect == "DENY" and tables["causes"] is None:
        raise ValueError(
            "a DENY case names its causes: causes = { attribute = 'REASON' }", "expect"
        )
    for key in ("causes", "messages"):
        if expect == "ALLOW" and tables[key] is not None:
            raise ValueError(f"{key} go with expect = 'DENY'", key)
    if expect == "DENY" and tables["updates"] is not None:
        raise ValueError("a DENY sends no update: updates go with expect = 'ALLOW'", "updates")
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


def run_case(policy: Policy, case: Case, trace: Trace = None) -> list[str]:
    """What differs between the case's expectations and the decision; empty when it passes."""
    try:
        request = parse_hook_request(case.body, accept_language=case.locale)
        decision = HANDLERS[request.request_type](policy, request, trace)
        checked_body(okta_response(decision), request.request_type)
    except HookError as e:
        return [f"the request is refused: {e.reason}"]
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
        cases = load_cases(path)
    except CaseFileError as e:
        outcome.failures.append(str(e))
        return outcome
    for case in cases:
        outcome.cases += 1
        for problem in run_case(policy, case, outcome.seen):
            outcome.failures.append(f"{path}:{case.line}: case {case.name!r}: {problem}")
    return outcome


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
