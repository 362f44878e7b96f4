"""Self-service registration: a new person's form values, normalised and checked against every
rule; on allow, the values that change go back in `com.okta.user.profile.update`."""

from __future__ import annotations

from handlers.lookups import lookup_failures
from handlers.network import network_failures
from handlers.verdict import verdict
from okta_wire.models import Decision, HookRequest, RequestType
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

REGISTRATION = RequestType.REGISTRATION


def decide(
    policy: Policy, request: HookRequest, trace: Trace = None, outside: Outside | None = None
) -> Decision:
    submitted = request.submitted
    values = dict(submitted)  # as they will be stored: normalised where a rule says so
    # Okta stores what was submitted: only what normalisation changes is sent back.
    updates: dict[str, object] = {}
    for name, rule in policy.attributes.items():
        if name in submitted and rule.changes_values:
            value = values[name] = rule.normalised(submitted[name])
            if not same(value, submitted[name]):
                updates[name] = value
    # Conditions read the values as they will be stored, whatever the order of the rules.
    facts = Facts(RequestType.REGISTRATION, values, outside=outside)
    failures: list[Failure] = network_failures(policy, request, facts, trace)
    failures += unruled_values(policy.attributes, submitted, submitted)
    seen_domain = None
    for name, rule in policy.attributes.items():
        value = values.get(name)
        if rule.is_email and isinstance(value, str):
            seen_domain = facts.domain_of(value)
        if rule.when is not None and not applies(rule, facts, trace):
            continue
        if rule.required and required_here(rule, facts, trace):
            blank = rule.blank(value)
            if trace is not None:
                record_required(rule, not blank, trace)
            if blank:
                failures.append(missing(rule))
                continue
        if is_absent(value):
            continue
        failures += judge_value(rule, value, facts, trace)
    found, copies = lookup_failures(policy, RequestType.REGISTRATION, facts, failures, trace)
    failures += found
    set_on_allow = [(a.target, a.value_for(values)) for a in policy.assignments_for(REGISTRATION)]
    for target, value in [*set_on_allow, *copies.items()]:
        if value is not None and (target not in submitted or not same(value, submitted[target])):
            updates[target] = value
    return verdict(policy, request, failures, updates, seen_domain, facts.outcomes)
