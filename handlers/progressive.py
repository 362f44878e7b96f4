"""Progressive profile: an existing person's new values, checked and echoed back on allow."""

from __future__ import annotations

from handlers.checks import check, is_blank
from handlers.models import Cause, Decision, HookRequest, RequestType
from handlers.policy import Policy


def decide(policy: Policy, request: HookRequest) -> Decision:
    causes = [
        Cause(name, "ATTRIBUTE_NOT_UPDATABLE", policy.message("ATTRIBUTE_NOT_UPDATABLE"))
        for name in request.submitted
        if name not in policy.updatable
    ]
    for name, rule in policy.attributes.items():
        if name in request.submitted and name not in policy.updatable:
            continue  # one cause per field is enough
        value = request.submitted.get(name)
        if is_blank(value):
            # Required here means: after this update the profile holds a value.
            already_set = not is_blank(request.current_profile.get(name))
            if RequestType.PROGRESSIVE in rule.required and not already_set:
                causes.append(Cause(name, "MISSING_ATTRIBUTE", policy.message("MISSING_ATTRIBUTE")))
            continue
        reason = check(rule, value, policy.domains)
        if reason is not None:
            causes.append(Cause(name, reason, policy.message(reason)))
    if causes:
        return Decision(
            request_type=RequestType.PROGRESSIVE,
            allowed=False,
            causes=tuple(causes),
            summary=policy.message("DENIED"),
        )
    return Decision(
        request_type=RequestType.PROGRESSIVE, allowed=True, updates=dict(request.submitted)
    )
