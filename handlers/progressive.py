"""Progressive profile: an existing person's new values, normalised, checked and echoed back on
allow in `com.okta.user.progressive.profile.update` (never `com.okta.user.profile.update`)."""

from __future__ import annotations

from handlers.lookups import lookup_failures
from handlers.network import network_failures
from handlers.verdict import verdict
from okta_wire.models import Decision, HookRequest, RequestType
from policy import reasons
from policy.checks import (
    Failure,
    Trace,
    applies,
    is_absent,
    judge_value,
    missing,
    record_required,
    required_here,
    unruled_values,
)
from policy.conditions import Facts
from policy.loader import Policy
from policy.on_allow import same
from policy.outside import Outside

_UPDATABLE = ("progressive", "updatable")
PROGRESSIVE = RequestType.PROGRESSIVE


def decide(
    policy: Policy, request: HookRequest, trace: Trace = None, outside: Outside | None = None
) -> Decision:
    submitted, current = request.submitted, request.current_profile
    failures = [
        Failure(name, reasons.ATTRIBUTE_NOT_UPDATABLE)
        for name in submitted
        if name not in policy.updatable
    ]
    if trace is not None and submitted:
        if failures:
            trace.add((_UPDATABLE, False))
        if len(failures) < len(submitted):
            trace.add((_UPDATABLE, True))
    # Only attributes the policy lets a progressive update set are ever sent back.
    values = {
        name: rule.normalised(value) if (rule := policy.attributes.get(name)) else value
        for name, value in submitted.items()
        if name in policy.updatable
    }
    # Conditions read the profile as it would be after the update.
    facts = Facts(RequestType.PROGRESSIVE, values, current, outside)
    failures = network_failures(policy, request, facts, trace) + failures
    failures += unruled_values(policy.attributes, submitted, values)
    for name, rule in policy.attributes.items():
        if name in submitted and name not in policy.updatable:
            continue  # one cause per field is enough
        if rule.when is not None and not applies(rule, facts, trace):
            continue
        value = values.get(name)
        # Required here means: after this update the profile holds a value. A blank sent for it
        # would clear the stored one, so it is refused like a missing one.
        if rule.required and required_here(rule, facts, trace):
            blank = rule.blank(value)
            kept = blank and name not in submitted and not rule.blank(current.get(name))
            record_required(rule, not blank or kept, trace)
            if blank:
                if not kept:
                    failures.append(missing(rule))
                continue
        if is_absent(value):
            continue
        failures += judge_value(rule, value, facts, trace)
    found, copies = lookup_failures(policy, RequestType.PROGRESSIVE, facts, failures, trace)
    failures += found
    updates = dict(values)
    set_on_allow = [(a.target, a.value_for(values)) for a in policy.assignments_for(PROGRESSIVE)]
    for target, value in [*set_on_allow, *copies.items()]:
        if value is not None and (target in submitted or not same(value, current.get(target))):
            updates[target] = value
    return verdict(policy, request, failures, updates, outcomes=facts.outcomes)
