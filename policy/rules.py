"""One attribute's rule: its type, when it applies, when a value is required, how it is
normalised, and the checks a value must pass, each with the reason it fails with."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from okta_wire.models import RequestType
from okta_wire.names import REASON
from policy import reasons, value_types
from policy.checks import is_blank
from policy.checks_by_key import CHECK_KEYS, build_checks
from policy.conditions import Condition, Facts, parse_when
from policy.normalize import STEPS, composed, ordered
from policy.outside import ListRef
from policy.schema import (
    Path,
    PolicyError,
    attribute_name,
    boolean,
    only,
    request_types,
    strings,
    where,
)

COMMON_KEYS = {
    "type",
    "required",
    "required_when",
    "when",
    "reason",
    "normalize",
    "shadow",
    "rules",
}
# The keys of one entry of [[attributes.<name>.rules]]: a condition, a reason, and checks.
RULE_ENTRY_KEYS = {"when", "reason", "shadow"}


@dataclass(frozen=True, slots=True)
class Check:
    """One test of a value of the right type, failing with `reason`."""

    at: Path  # the key in the policy: for error lines, summaries and the cases' coverage
    test: Callable[[Any, Facts], bool]
    text: str
    reason: str
    shadow: bool = False
    # The check applies only when this holds (a [[rules]] entry's `when`).
    when: Condition | None = None
    # The list the check looks values up in, when it names one (`one_of = { list = ... }`).
    listed: ListRef | None = None


@dataclass(frozen=True)
class AttributeRule:
    name: str
    kind: str  # one of value_types.TYPES
    required: frozenset[RequestType]
    reason: str
    normalize: tuple[str, ...] = ()
    # Every failure of this rule is logged as a would-be denial and let through.
    shadow: bool = False
    items: str | None = None  # the member type of an array
    # The whole attribute is judged only when this holds.
    when: Condition | None = None
    # `required` applies only when this holds.
    required_when: Condition | None = None
    checks: tuple[Check, ...] = ()

    @cached_property
    def is_email(self) -> bool:
        return self.kind == "email"

    @cached_property
    def accepts(self) -> Callable[[object], bool]:
        return value_types.accepts(self.kind, self.items)

    @cached_property
    def changes_values(self) -> bool:
        """Whether `normalised` can change a value: text steps, or whole floats as integers."""
        return bool(self.normalize) or "integer" in (self.kind, self.items)

    @cached_property
    def _one(self) -> Callable[[object], object]:
        kind = self.items if self.kind == "array" else self.kind
        if kind == "integer":
            return value_types.as_integer
        text = composed(self.normalize)
        return lambda value: text(value) if isinstance(value, str) else value

    def normalised(self, value: object) -> object:
        """The value as it would be stored: text steps on text (and on each text member of an
        array), and a whole float made an integer where the type is integer."""
        one = self._one
        if self.kind == "array":
            if not isinstance(value, list):
                return value  # the wrong type, judged as it came
            items = [one(item) for item in value]
            # Unchanged, it stays the submitted list: nothing to send back.
            return value if all(a is b for a, b in zip(items, value, strict=True)) else items
        return one(value)

    def blank(self, value: object) -> bool:
        """No value a required attribute could hold: absent, invisible text, an empty array."""
        return is_blank(value) or (self.kind == "array" and value == [])


def parse_rule(name: str, table: object) -> AttributeRule:
    path = ("attributes", name)
    attribute_name(name, path)
    if not isinstance(table, dict):
        raise PolicyError(f"{where(path)} must be a table", path)
    kind = table.get("type", "text")
    if kind not in value_types.TYPES:
        raise PolicyError(
            f"{where(path)} type must be one of {', '.join(value_types.TYPES)}", (*path, "type")
        )
    items = _items(table, kind, path)
    only(table, COMMON_KEYS | CHECK_KEYS[kind] | ({"items"} if kind == "array" else set()), path)
    default_reason = reasons.INVALID_EMAIL_DOMAIN if kind == "email" else reasons.INVALID_ATTRIBUTE
    reason = _reason(table, path, default_reason)
    shadow = boolean(table, "shadow", path)
    required = request_types(table, "required", path)
    required_when = parse_when(table, "required_when", path)
    if required_when is not None and not required:
        raise PolicyError(
            f"{where(path)} required_when without required can never apply: list the request "
            "types in required",
            (*path, "required_when"),
        )
    steps = _steps(table, kind, items, path)
    checks = build_checks(table, kind, items, steps, path, reason, shadow)
    checks += _rule_entries(table, kind, items, steps, path, reason, shadow)
    return AttributeRule(
        name=name,
        kind=kind,
        required=required,
        reason=reason,
        normalize=steps,
        shadow=shadow,
        items=items,
        when=parse_when(table, "when", path),
        required_when=required_when,
        checks=checks,
    )


def _items(table: dict[str, Any], kind: str, path: Path) -> str | None:
    if kind != "array":
        return None
    items = table.get("items")
    if not isinstance(items, str) or items not in value_types.ITEM_TYPES:
        raise PolicyError(
            f"{where(path)} an array needs items = one of {', '.join(value_types.ITEM_TYPES)}",
            (*path, "items" if "items" in table else "type"),
        )
    return items


def _reason(table: dict[str, Any], path: Path, default: str) -> str:
    reason = table.get("reason", default)
    if not isinstance(reason, str) or not REASON.fullmatch(reason):
        raise PolicyError(
            f"{where(path)} reason must be a code of A-Z, 0-9 and _", (*path, "reason")
        )
    return reason


def _rule_entries(
    table: dict[str, Any],
    kind: str,
    items: str | None,
    steps: tuple[str, ...],
    path: Path,
    reason: str,
    shadow: bool,
) -> tuple[Check, ...]:
    entries = table.get("rules", [])
    if not isinstance(entries, list):
        raise PolicyError(f"{where(path)} rules must be an array of tables", (*path, "rules"))
    found: list[Check] = []
    for index, entry in enumerate(entries):
        at = (*path, "rules", str(index))
        if not isinstance(entry, dict):
            raise PolicyError(f"{where(at)} must be a table", at)
        only(entry, RULE_ENTRY_KEYS | CHECK_KEYS[kind], at)
        if not set(entry) & CHECK_KEYS[kind]:
            raise PolicyError(
                f"{where(at)} checks nothing: give one of {', '.join(sorted(CHECK_KEYS[kind]))}",
                at,
            )
        when = parse_when(entry, "when", at)
        entry_reason = _reason(entry, at, reason)
        entry_shadow = shadow or boolean(entry, "shadow", at)
        checks = build_checks(entry, kind, items, steps, at, entry_reason, entry_shadow)
        found += [dataclasses.replace(check, when=when) for check in checks]
    # A fixed order, whatever the order of the entries: enforced checks first, then by reason,
    # so that the one cause an attribute gets never depends on how the file is written.
    return tuple(sorted(found, key=lambda check: (check.shadow, check.reason)))


def _steps(table: dict[str, Any], kind: str, items: str | None, path: Path) -> tuple[str, ...]:
    names = strings(table, "normalize", path)
    for step in names:
        if step not in STEPS:
            raise PolicyError(
                f"{where(path)} normalize: {step!r} is not one of {', '.join(STEPS)}",
                (*path, "normalize"),
            )
    if names and kind not in value_types.STRING_TYPES and items != "string":
        raise PolicyError(
            f"{where(path)} normalize applies to text: type {kind} has none",
            (*path, "normalize"),
        )
    return ordered(names)
