"""From the failures of one request to its decision: enforced ones deny, shadowed ones are noted."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from okta_wire.models import Cause, Decision, HookRequest
from policy import reasons
from policy.checks import Failure
from policy.loader import Policy
from policy.locales import preferred_locales


def verdict(
    policy: Policy,
    request: HookRequest,
    failures: Iterable[Failure],
    updates: Mapping[str, object],
    email_domain: str | None = None,
) -> Decision:
    """DENY with a message per enforced failure, in the person's language; else ALLOW."""
    failures = list(failures)
    if not failures:
        # No message to write: the languages are not worked out.
        return Decision(
            request_type=request.request_type,
            allowed=True,
            updates=dict(updates),
            email_domain=email_domain,
        )
    messages = policy.catalogue.messages(preferred_locales(request))
    enforced: list[Cause] = []
    shadowed: list[Cause] = []
    for failure in failures:
        cause = Cause(failure.attribute, failure.reason, messages(failure.reason))
        (shadowed if failure.shadow or policy.shadow else enforced).append(cause)
    if enforced:
        return Decision(
            request_type=request.request_type,
            allowed=False,
            causes=tuple(enforced),
            summary=messages(reasons.DENIED),
            email_domain=email_domain,
            shadowed=tuple(shadowed),
            locale=messages.locale,
        )
    return Decision(
        request_type=request.request_type,
        allowed=True,
        updates=dict(updates),
        email_domain=email_domain,
        shadowed=tuple(shadowed),
    )
