"""Progressive profile: an existing person's new values, normalised, checked and echoed back on
allow in `com.okta.user.progressive.profile.update` (never `com.okta.user.profile.update`)."""

from __future__ import annotations

from handlers.verdict import verdict
from okta_wire.models import Decision, HookRequest, RequestType
from policy import reasons
from policy.checks import Failure, check, is_absent, is_blank, missing
from policy.loader import Policy
from policy.normalize import normalize
from policy.on_allow import same


def decide(policy: Policy, request: HookRequest) -> Decision:
    submitted, current = request.submitted, request.current_profile
    failures = [
        Failure(name, reasons.ATTRIBUTE_NOT_UPDATABLE)
        for name in submitted
        if name not in policy.updatable
    ]
    # Only attributes the policy lets a progressive update set are ever sent back.
    values = {
        name: normalize(rule.normalize if (rule := policy.attributes.get(name)) else (), value)
        for name, value in submitted.items()
        if name in policy.updatable
    }
    for name, rule in policy.attributes.items():
        if name in submitted and name not in policy.updatable:
            continue  # one cause per field is enough
        value = values.get(name)
        # Required here means: after this update the profile holds a value. A blank sent for it
        # would clear the stored one, so it is refused like a missing one.
        if RequestType.PROGRESSIVE in rule.required and is_blank(value):
            if name in submitted or is_blank(current.get(name)):
                failures.append(missing(rule))
            continue
        if is_absent(value):
            continue
        failure = check(rule, value, policy.domains)
        if failure is not None:
            failures.append(failure)
    updates = dict(values)
    for assignment in policy.assignments_for(RequestType.PROGRESSIVE):
        value = assignment.value_for(values)
        target = assignment.target
        if value is not None and (target in submitted or not same(value, current.get(target))):
            updates[target] = value
    return verdict(policy, request, failures, updates)
