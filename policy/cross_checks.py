"""Checks across a policy's tables at load: what one table says that another makes impossible."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from okta_wire.models import RequestType
from policy import value_types
from policy.checks import request_types_judging
from policy.conditions import Condition, Reference, can_hold
from policy.directory_rules import DirectoryRule
from policy.disposable import DisposableRule
from policy.network import NetworkRule
from policy.on_allow import Assignment
from policy.rules import AttributeRule
from policy.schema import PolicyError, where

ALL_TYPES = frozenset(RequestType)


def check_assignment(
    assignment: Assignment, attributes: Mapping[str, AttributeRule], updatable: frozenset[str]
) -> None:
    section = "set" if assignment.source is None else "derive"
    name = f"[{section}.{assignment.target}]"
    if assignment.target in attributes:
        raise PolicyError(
            f"{name}: {assignment.target} also has [attributes.{assignment.target}]; a value "
            "set on allow replaces the submitted one, so a rule on it would judge nothing stored",
            (section, assignment.target),
        )
    if RequestType.PROGRESSIVE in assignment.on and assignment.target not in updatable:
        raise PolicyError(
            f"{name} on progressive: {assignment.target} is not in [progressive] updatable",
            (section, assignment.target, "on"),
        )


def _conditions(
    attributes: Mapping[str, AttributeRule],
    updatable: frozenset[str],
    network: NetworkRule | None,
    disposable: DisposableRule | None,
    directory: tuple[DirectoryRule, ...],
) -> Iterator[tuple[Condition, frozenset[RequestType], str]]:
    """Each condition of the policy, the request types it is judged on, and what it governs."""
    for rule in attributes.values():
        judged = request_types_judging(rule, updatable)
        # Progressive requests also judge a required attribute: the profile must hold a value.
        seen = judged | rule.required
        if rule.when is not None:
            yield rule.when, seen, "the whole attribute check"
        if rule.required_when is not None:
            yield rule.required_when, rule.required, "the requirement"
        for check in rule.checks:
            if check.when is not None:
                yield check.when, judged, f"the rule {check.at[-1]}"
    if network is not None and network.when is not None:
        yield network.when, ALL_TYPES, "the network rule"
    if disposable is not None and disposable.when is not None:
        yield disposable.when, ALL_TYPES, "the disposable-address rule"
    for lookup in directory:
        if lookup.when is not None:
            yield lookup.when, lookup.on, f"the directory rule {lookup.name}"


def check_conditions(
    attributes: Mapping[str, AttributeRule],
    updatable: frozenset[str],
    network: NetworkRule | None,
    disposable: DisposableRule | None,
    directory: tuple[DirectoryRule, ...] = (),
) -> None:
    found = _conditions(attributes, updatable, network, disposable, directory)
    for condition, judged, governs in found:
        for reference in condition.references():
            _check_reference(attributes, reference)
        if not can_hold(condition, judged):
            on = " or ".join(sorted(t.short for t in judged)) or "no request"
            raise PolicyError(
                f"{where(condition.at)} can never hold where {governs} is judged ({on}): "
                "the rule never applies",
                condition.at,
            )


def _check_reference(attributes: Mapping[str, AttributeRule], reference: Reference) -> None:
    name, values, at = reference.attribute, reference.values, reference.at
    rule = attributes.get(name)
    if reference.domain:
        if rule is None or not rule.is_email:
            raise PolicyError(
                f"{where(at)} email_domain reads [attributes.email], which must exist with "
                'type = "email"',
                at,
            )
        return
    if rule is None:
        raise PolicyError(
            f"{where(at)} names {name}, an unknown attribute: declare it with "
            f'[attributes.{name}] (type = "string" at least)',
            (*at, "attribute"),
        )
    if rule.kind == "array":
        raise PolicyError(
            f"{where(at)} compares {name}, an array: a condition compares one value", at
        )
    accepts = value_types.SCALAR_TESTS[rule.kind]
    for value in values:
        if not accepts(value_types.as_integer(value) if rule.kind == "integer" else value):
            raise PolicyError(
                f"{where(at)}: {value!r} can never equal {name}, which is "
                f"{value_types.describe(rule.kind, None)}",
                at,
            )
