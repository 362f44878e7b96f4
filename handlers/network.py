"""The network rule of a policy, judged once per request on the caller's address."""

from __future__ import annotations

from okta_wire.models import HookRequest
from policy.checks import Failure, Trace
from policy.conditions import Facts
from policy.loader import Policy


def network_failures(
    policy: Policy, request: HookRequest, facts: Facts, trace: Trace
) -> list[Failure]:
    rule = policy.network
    if rule is None:
        return []
    if rule.when is not None:
        holds = rule.when.holds(facts)
        if trace is not None:
            trace.add((("network", "when"), holds))
        if not holds:
            return []
    failed = rule.failed_list(request, facts)
    if trace is not None:
        if failed != "blocked" and rule.blocked:
            trace.add((("network", "blocked"), True))
        if failed is not None:
            trace.add((("network", failed), False))
        elif rule.allowed:
            trace.add((("network", "allowed"), True))
    if failed is None:
        return []
    return [Failure(rule.attribute, rule.reason, rule.shadow)]
