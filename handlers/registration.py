"""Self-service registration: a new person's form values, checked against every rule."""

from __future__ import annotations

from handlers.checks import check, email_domain, is_blank
from handlers.models import Cause, Decision, HookRequest, RequestType
from handlers.policy import Policy


def decide(policy: Policy, request: HookRequest) -> Decision:
    causes: list[Cause] = []
    seen_domain = None
    for name, rule in policy.attributes.items():
        value = request.submitted.get(name)
        if is_blank(value):
            if RequestType.REGISTRATION in rule.required:
                causes.append(Cause(name, "MISSING_ATTRIBUTE", policy.message("MISSING_ATTRIBUTE")))
            continue
        if rule.kind == "email" and isinstance(value, str):
            seen_domain = email_domain(value)
        reason = check(rule, value, policy.domains)
        if reason is not None:
            causes.append(Cause(name, reason, policy.message(reason)))
    return Decision(
        request_type=RequestType.REGISTRATION,
        allowed=not causes,
        causes=tuple(causes),
        summary=policy.message("DENIED") if causes else "",
        email_domain=seen_domain,
    )
