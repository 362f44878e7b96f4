"""Checks of one submitted value against its attribute rule; each failure is a reason code."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from okta_wire.models import RequestType
from policy import reasons
from policy.addresses import email_domain
from policy.conditions import Condition, Facts
from policy.value_types import is_profile_value
from policy.visible import shows_something

if TYPE_CHECKING:
    from policy.disposable import DisposableRule
    from policy.domains import Domains
    from policy.rules import AttributeRule, Check

__all__ = ["Failure", "Trace", "email_domain", "is_absent", "is_blank"]

# What a request did with each rule, for the cases' coverage: (the rule's key, passed). None in
# production: nothing is recorded.
Trace = set[tuple[tuple[str, ...], bool]] | None


@dataclass(frozen=True, slots=True)
class Failure:
    attribute: str
    reason: str
    # A failure of a rule in shadow mode: logged as a would-be denial, not enforced.
    shadow: bool = False


def is_absent(value: object) -> bool:
    """Missing, null or an empty string: the field was not filled in."""
    return value is None or value == ""


def is_blank(value: object) -> bool:
    """Absent, or text in which no character is drawn (white space, zero-width, filler and other
    invisible characters, marks on their own): no value a required attribute could hold. An
    optional attribute sent such text is still judged by its rule."""
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    return not shows_something(value)


def applies(rule: AttributeRule, facts: Facts, trace: Trace) -> bool:
    """Whether the attribute is judged at all on this request (its `when`)."""
    if rule.when is None:
        return True
    return _holds(rule.when, facts, trace, ("attributes", rule.name, "when"))


def required_here(rule: AttributeRule, facts: Facts, trace: Trace) -> bool:
    if facts.request_type not in rule.required:
        return False
    if rule.required_when is None:
        return True
    return _holds(rule.required_when, facts, trace, ("attributes", rule.name, "required_when"))


def _holds(condition: Condition, facts: Facts, trace: Trace, at: tuple[str, ...]) -> bool:
    holds = condition.holds(facts)
    if trace is not None:
        trace.add((at, holds))
    return holds


def record_required(rule: AttributeRule, present: bool, trace: Trace) -> None:
    if trace is not None:
        trace.add((("attributes", rule.name, "required"), present))


def missing(rule: AttributeRule) -> Failure:
    return Failure(rule.name, reasons.MISSING_ATTRIBUTE, rule.shadow)


def judge_value(rule: AttributeRule, value: object, facts: Facts, trace: Trace) -> list[Failure]:
    """The failures of a present (normalised) value: its type, then each check in a fixed order,
    up to the first enforced failure."""
    accepted = rule.accepts(value)
    if trace is not None:
        trace.add((("attributes", rule.name, "type"), accepted))
    if not accepted:
        return [Failure(rule.name, reasons.INVALID_ATTRIBUTE_TYPE, rule.shadow)]
    found: list[Failure] = []
    for check in rule.checks:
        if check.when is not None and not _holds(
            check.when, facts, trace, (*check.at[:-1], "when")
        ):
            continue
        passed = check.test(value, facts)
        if trace is not None:
            trace.add((check.at, passed))
        if not passed:
            found.append(Failure(rule.name, check.reason, check.shadow))
            if not check.shadow:
                break
    return found


def unruled_values(
    rules: Mapping[str, AttributeRule], submitted: Mapping[str, object], names: Iterable[str]
) -> list[Failure]:
    """The attributes among `names` that no rule judges and whose submitted value no Okta profile
    attribute could hold (an object, an array of arrays): refused, never passed on to Okta."""
    return [
        Failure(name, reasons.INVALID_ATTRIBUTE_TYPE)
        for name in names
        if name not in rules and not is_profile_value(submitted[name])
    ]


def email_checks(
    rule: AttributeRule, domains: Domains, disposable: DisposableRule | None
) -> tuple[Check, ...]:
    """What an email attribute checks before its own keys: the address syntax, [domains], and
    [disposable_domains] when the policy turns it on."""
    from policy.rules import Check

    at = ("attributes", rule.name, "type", "email")

    def syntax(value: str, facts: Facts) -> bool:
        return facts.domain_of(value) is not None

    found = [Check(at, syntax, "an email address", reasons.INVALID_EMAIL, rule.shadow)]
    if domains.configured:

        def permitted(value: str, facts: Facts) -> bool:
            domain = facts.domain_of(value)
            return domain is not None and domains.permits(domain, facts)

        found.append(
            Check(
                ("domains",),
                permitted,
                "a domain that passes [domains]",
                rule.reason,
                rule.shadow or domains.shadow,
            )
        )
    if disposable is not None:
        rule_of_list = disposable

        def not_disposable(value: str, facts: Facts) -> bool:
            domain = facts.domain_of(value)
            return domain is not None and rule_of_list.permits(domain, facts)

        found.append(
            Check(
                ("disposable_domains", "deny"),
                not_disposable,
                "not a disposable-address domain",
                disposable.reason,
                rule.shadow or disposable.shadow,
                disposable.when,
            )
        )
    return tuple(found)


def request_types_judging(rule: AttributeRule, updatable: frozenset[str]) -> frozenset[RequestType]:
    """The request types on which a value of this attribute is ever judged."""
    if rule.name in updatable:
        return frozenset(RequestType)
    return frozenset({RequestType.REGISTRATION})
