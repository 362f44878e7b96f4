"""Self-service registration: a new person's form values, normalised and checked against every
rule; on allow, the values that change go back in `com.okta.user.profile.update`."""

from __future__ import annotations

from handlers.verdict import verdict
from okta_wire.models import Decision, HookRequest, RequestType
from policy.checks import Failure, check, email_domain, is_absent, is_blank, missing
from policy.loader import Policy
from policy.normalize import normalize
from policy.on_allow import same


def decide(policy: Policy, request: HookRequest) -> Decision:
    submitted = request.submitted
    values = dict(submitted)  # as they will be stored: normalised where a rule says so
    failures: list[Failure] = []
    seen_domain = None
    for name, rule in policy.attributes.items():
        value = normalize(rule.normalize, submitted.get(name))
        if name in submitted:
            values[name] = value
        if RequestType.REGISTRATION in rule.required and is_blank(value):
            failures.append(missing(rule))
            continue
        if is_absent(value):
            continue
        if rule.kind == "email" and isinstance(value, str):
            seen_domain = email_domain(value)
        failure = check(rule, value, policy.domains)
        if failure is not None:
            failures.append(failure)
    # Okta stores what was submitted: send only what differs from it.
    updates = {name: v for name, v in values.items() if not same(v, submitted[name])}
    for assignment in policy.assignments_for(RequestType.REGISTRATION):
        value = assignment.value_for(values)
        target = assignment.target
        if value is not None and (target not in submitted or not same(value, submitted[target])):
            updates[target] = value
    return verdict(policy, request, failures, updates, seen_domain)
