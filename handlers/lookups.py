"""The directory rules of a policy, judged last: only a request every other rule lets through is
looked up (no call for a request already denied, and no malformed value sent to the directory).
"""

from __future__ import annotations

from okta_wire.models import RequestType
from policy import reasons
from policy.checks import Failure, Trace, is_blank
from policy.conditions import Facts
from policy.loader import Policy


def lookup_failures(
    policy: Policy,
    request_type: RequestType,
    facts: Facts,
    failures: list[Failure],
    trace: Trace,
) -> tuple[list[Failure], dict[str, str]]:
    """The failures of the directory rules that apply, and the values to copy onto the profile
    from the records found. May raise Unavailable (no answer, fail-closed) or WouldBlock (an
    answer not cached, on the event loop)."""
    rules = policy.directory_for(request_type)
    if not rules or (not policy.shadow and any(not f.shadow for f in failures)):
        return [], {}
    found: list[Failure] = []
    copies: dict[str, str] = {}
    for rule in rules:
        at = ("directory", rule.name)
        if rule.when is not None:
            holds = rule.when.holds(facts)
            if trace is not None:
                trace.add(((*at, "when"), holds))
            if not holds:
                continue
        values: dict[str, str] = {}
        missing = []
        for name in rule.reads:
            value = facts.get(name)
            if is_blank(value) or isinstance(value, bool) or not isinstance(value, str | int):
                missing.append(name)
            else:
                values[name] = str(value)
        if missing:
            # The lookup needs every value it names: a rule that applies is never passed by
            # leaving one out.
            found += [Failure(name, reasons.MISSING_ATTRIBUTE, rule.shadow) for name in missing]
            if trace is not None:
                trace.add((at, False))
            continue
        judgement = facts.lookup(rule, values)
        facts.note(f"directory.{rule.name}", judgement.reason)
        if trace is not None:
            trace.add((at, judgement.allow))
        if judgement.allow:
            copies.update(judgement.values)
        else:
            found.append(Failure(rule.attribute, rule.reason_for(judgement), rule.shadow))
    return found, copies
