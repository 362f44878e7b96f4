"""Checks at load of what a policy reads from outside it: each list a rule names is declared, of
a kind that fits where it is used; each directory rule reads attributes that exist and copies
onto attributes nothing else sets."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from okta_wire.models import RequestType
from policy import value_types
from policy.conditions import Condition
from policy.directory_rules import DirectoryRule
from policy.disposable import DisposableRule
from policy.domains import Domains
from policy.list_kinds import DOMAINS, NETWORKS, VALUE_KINDS
from policy.list_tables import PolicyList
from policy.network import NetworkRule
from policy.on_allow import Assignment
from policy.outside import ListRef
from policy.rules import AttributeRule
from policy.schema import Path, PolicyError, where

# The attribute types a directory lookup can send: text, and whole numbers written in decimal.
LOOKUP_TYPES = frozenset({"string", "text", "email", "integer"})


def list_uses(
    domains: Domains,
    disposable: DisposableRule | None,
    network: NetworkRule | None,
    attributes: Mapping[str, AttributeRule],
    directory: tuple[DirectoryRule, ...],
) -> Iterator[tuple[ListRef, tuple[str, ...], AttributeRule | None]]:
    """Each list reference, the kinds that fit where it is, and the attribute it is compared
    with (one_of, a condition's `in`), if any."""
    conditions: list[Condition] = []
    for listed in (domains.allowed, domains.blocked):
        if isinstance(listed, ListRef):
            yield listed, (DOMAINS,), None
    if disposable is not None:
        if isinstance(disposable.allowed, ListRef):
            yield disposable.allowed, (DOMAINS,), None
        if disposable.when is not None:
            conditions.append(disposable.when)
    if network is not None:
        for entries in (network.allowed, network.blocked):
            if isinstance(entries, ListRef):
                yield entries, (NETWORKS,), None
        if network.when is not None:
            conditions.append(network.when)
    for rule in attributes.values():
        conditions += [c for c in (rule.when, rule.required_when) if c is not None]
        for check in rule.checks:
            if check.listed is not None:
                yield check.listed, VALUE_KINDS, rule
            if check.when is not None:
                conditions.append(check.when)
    conditions += [rule.when for rule in directory if rule.when is not None]
    for condition in conditions:
        for reference in condition.references():
            if reference.listed is None:
                continue
            if reference.domain:
                yield reference.listed, (DOMAINS,), None
            else:
                yield reference.listed, VALUE_KINDS, attributes.get(reference.attribute)


def check_lists(
    declared: Mapping[str, PolicyList],
    uses: Iterator[tuple[ListRef, tuple[str, ...], AttributeRule | None]],
) -> None:
    used: set[str] = set()
    for ref, kinds, rule in uses:
        found = declared.get(ref.name)
        if found is None:
            raise PolicyError(
                f"{where(ref.at)}: no [lists.{ref.name}] declares the list it names",
                (*ref.at, "list"),
            )
        used.add(ref.name)
        if found.kind not in kinds:
            raise PolicyError(
                f"{where(ref.at)}: list {ref.name} is of kind {found.kind}; here a list of "
                f"{' or '.join(kinds)}",
                (*ref.at, "list"),
            )
        if rule is not None and not _compares_text(rule):
            raise PolicyError(
                f"{where(ref.at)}: list {ref.name} holds text, and {rule.name} is "
                f"{value_types.describe(rule.kind, rule.items)}",
                (*ref.at, "list"),
            )
    for name in declared:
        if name not in used:
            raise PolicyError(
                f"[lists.{name}] is named by no rule: use it or remove it", ("lists", name)
            )


def _compares_text(rule: AttributeRule) -> bool:
    return rule.kind in value_types.STRING_TYPES or rule.items == "string"


def check_directory(
    directory: tuple[DirectoryRule, ...],
    attributes: Mapping[str, AttributeRule],
    updatable: frozenset[str],
    assignments: tuple[Assignment, ...],
) -> None:
    copied: dict[str, str] = {}
    for rule in directory:
        path: Path = ("directory", rule.name)
        for name in rule.reads:
            read = attributes.get(name)
            if read is None or read.kind not in LOOKUP_TYPES:
                raise PolicyError(
                    f"{where(path)} reads {name}: it needs an [attributes.{name}] table of type "
                    "string, email or integer (the value is sent as text)",
                    path,
                )
        for target in rule.copies:
            at = (*path, "copy", target)
            if target in attributes:
                raise PolicyError(
                    f"{where(path)} copy: {target} also has [attributes.{target}]; a value "
                    "copied on allow replaces the submitted one, so a rule on it would judge "
                    "nothing stored",
                    at,
                )
            if any(a.target == target for a in assignments):
                raise PolicyError(
                    f"{where(path)} copy: {target} is already set by [set] or [derive]", at
                )
            if target in copied:
                raise PolicyError(
                    f"{where(path)} copy: {target} is already copied by "
                    f"[directory.{copied[target]}]",
                    at,
                )
            copied[target] = rule.name
            if RequestType.PROGRESSIVE in rule.on and target not in updatable:
                raise PolicyError(
                    f"{where(path)} on progressive copies {target}, which is not in [progressive] "
                    "updatable",
                    at,
                )
