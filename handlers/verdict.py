"""From the failures of one request to its decision: enforced ones deny, shadowed ones are noted."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from okta_wire.models import Cause, Decision, HookRequest
from policy import reasons
from policy.checks import Failure
from policy.loader import Policy
from policy.locales import preferred_locales

# Okta shows one message per field; a request naming thousands of fields gets this many causes,
# the last of which says that there were more, so that the answer stays a DENY of bounded size.
MAX_CAUSES = 20


def verdict(
    policy: Policy,
    request: HookRequest,
    failures: Iterable[Failure],
    updates: Mapping[str, object],
    email_domain: str | None = None,
    outcomes: Iterable[tuple[str, str]] = (),
) -> Decision:
    """DENY with a message per enforced failure, in the person's language; else ALLOW.
    `outcomes`: what the list and directory rules did, for the audit line."""
    failures = list(failures)
    outcomes = tuple(outcomes)
    if not failures:
        # No message to write: the languages are not worked out.
        return Decision(
            request_type=request.request_type,
            allowed=True,
            updates=dict(updates),
            email_domain=email_domain,
            outcomes=outcomes,
        )
    messages = policy.catalogue.messages(preferred_locales(request))
    enforced: dict[str, Failure] = {}
    shadowed: dict[str, Failure] = {}
    for failure in failures:
        # One cause per field: the first failure found for it.
        chosen = shadowed if failure.shadow or policy.shadow else enforced
        chosen.setdefault(failure.attribute, failure)
    watched = tuple(_cause(f, messages) for f in list(shadowed.values())[:MAX_CAUSES])
    unlisted = max(0, len(shadowed) - MAX_CAUSES)
    if enforced:
        return Decision(
            request_type=request.request_type,
            allowed=False,
            causes=_bounded(list(enforced.values()), messages, policy),
            summary=messages(reasons.DENIED),
            email_domain=email_domain,
            shadowed=watched,
            shadowed_unlisted=unlisted,
            locale=messages.locale,
            outcomes=outcomes,
        )
    return Decision(
        request_type=request.request_type,
        allowed=True,
        updates=dict(updates),
        email_domain=email_domain,
        shadowed=watched,
        shadowed_unlisted=unlisted,
        outcomes=outcomes,
    )


def _cause(failure: Failure, messages: Callable[[str], str]) -> Cause:
    return Cause(failure.attribute, failure.reason, messages(failure.reason))


def _bounded(
    failures: list[Failure], messages: Callable[[str], str], policy: Policy
) -> tuple[Cause, ...]:
    """A cause per failure, at most MAX_CAUSES: past that, the last one says there were more,
    placed at the first field it stands for. Failures of the policy's own attribute rules are
    kept first, so that a flood of other fields never hides them; the order stays the request's."""
    if len(failures) <= MAX_CAUSES:
        return tuple(_cause(f, messages) for f in failures)
    ranked = sorted(
        range(len(failures)), key=lambda i: failures[i].attribute not in policy.attributes
    )
    kept = sorted(ranked[: MAX_CAUSES - 1])
    first_unlisted = failures[min(ranked[MAX_CAUSES - 1 :])].attribute
    more = reasons.TOO_MANY_ERRORS
    return (
        *(_cause(failures[i], messages) for i in kept),
        Cause(first_unlisted, more, messages(more)),
    )
