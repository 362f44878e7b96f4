"""The checks each attribute type offers, built from their keys in an attribute table.

string (and email): min_length, max_length, pattern, one_of; boolean: equals; integer and
number: min, max; array: min_items, max_items, unique, one_of (every member one of the list).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from policy import value_types
from policy.entries import ValueSet
from policy.outside import ListRef, parse_ref
from policy.patterns import PatternError, full_match
from policy.schema import Path, PolicyError, where

if TYPE_CHECKING:
    from policy.conditions import Facts
    from policy.rules import Check

_STRING = frozenset({"min_length", "max_length", "pattern", "one_of"})
CHECK_KEYS: dict[str, frozenset[str]] = {
    "string": _STRING,
    "text": _STRING,
    "email": _STRING,
    "boolean": frozenset({"equals"}),
    "integer": frozenset({"min", "max"}),
    "number": frozenset({"min", "max"}),
    "array": frozenset({"min_items", "max_items", "unique", "one_of"}),
}
# The order checks run in, whatever the order of the keys in the file.
ORDER = ("min_length", "max_length", "pattern", "one_of", "equals", "min", "max",
         "min_items", "max_items", "unique")  # fmt: skip


def build_checks(
    table: dict[str, Any],
    kind: str,
    items: str | None,
    steps: tuple[str, ...],
    path: Path,
    reason: str,
    shadow: bool,
) -> tuple[Check, ...]:
    from policy.rules import Check

    found: list[Check] = []
    for key in ORDER:
        if key in table and key in CHECK_KEYS[kind]:
            at = (*path, key)
            if key == "one_of" and isinstance(table[key], dict):
                ref = parse_ref(table[key], at)
                test, text = _one_of_list(ref, kind)
                found.append(Check(at, test, text, reason, shadow, listed=ref))
                continue
            test, text = _BUILDERS[key](table[key], kind, items, steps, at)
            if key == "unique" and table[key] is False:
                continue  # the default: nothing to check
            found.append(Check(at, test, text, reason, shadow))
    _bounds_meet(table, path, "min_length", "max_length", "characters")
    _bounds_meet(table, path, "min", "max", "")
    _bounds_meet(table, path, "min_items", "max_items", "items")
    return tuple(found)


def _count(value: object, at: Path, least: int = 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        adjective = "positive" if least == 1 else "non-negative"
        raise PolicyError(f"{where(at[:-1])} {at[-1]} must be a {adjective} integer", at)
    return value


def _min_length(value: object, *_: Any) -> tuple[Callable[[Any, Any], bool], str]:
    n = _count(value, _[-1])
    return (lambda v, _f: len(v) >= n), f"at least {n} characters"


def _max_length(value: object, *_: Any) -> tuple[Callable[[Any, Any], bool], str]:
    n = _count(value, _[-1])
    return (lambda v, _f: len(v) <= n), f"at most {n} characters"


def _pattern(value: object, kind: str, items: Any, steps: Any, at: Path) -> tuple[Any, str]:
    if not isinstance(value, str) or not value:
        raise PolicyError(f"{where(at[:-1])} pattern must be a non-empty string", at)
    try:
        matches = full_match(value)
    except PatternError as e:
        raise PolicyError(
            f"{where(at[:-1])} pattern is not a valid regular expression: {e}", at
        ) from None
    return (lambda v, _f: matches(v)), f"matches {value}"


def _one_of(value: object, kind: str, items: str | None, steps: Any, at: Path) -> tuple[Any, str]:
    member = items if kind == "array" and items else "string"
    accepts = value_types.SCALAR_TESTS[member]
    if not isinstance(value, list) or not value:
        raise PolicyError(f"{where(at[:-1])} one_of must be a non-empty list", at)
    for entry in value:
        if not accepts(entry) or isinstance(entry, float) and not math.isfinite(entry):
            raise PolicyError(
                f"{where(at[:-1])} one_of: {entry!r} is not {value_types.describe(member, None)}",
                at,
            )
        if isinstance(entry, str) and "lower" in steps and entry != entry.lower():
            raise PolicyError(
                f"{where(at[:-1])} one_of: {entry!r} can never match a value normalised with "
                "lower (write it in lower case)",
                at,
            )
    listed = ", ".join(ValueSet(value).written)
    # The value's type is checked first: text against text, numbers against numbers (a
    # boolean never reaches here), so Python's own set membership is JSON's equality.
    entries = frozenset(value)
    if kind == "array":
        return (lambda v, _f: entries.issuperset(v)), f"every item one of {listed}"
    return (lambda v, _f: v in entries), f"one of {listed}"


def _one_of_list(ref: ListRef, kind: str) -> tuple[Callable[[Any, Facts], bool], str]:
    """`one_of = { list = "NAME" }`: the value (every member of an array) is in the list; a list
    never read that fails open lets it pass. The loader checks the list's kind fits the type."""

    def test(value: Any, facts: Facts) -> bool:
        members = ref.members(facts)
        if members is None:
            return True
        if kind == "array":
            for member in value:  # a loop, not all(...): no generator on the request's path
                if member not in members:
                    return False
            return True
        return value in members

    what = "every item" if kind == "array" else "one"
    return test, f"{what} of {ref.written[0]}"


def _equals(value: object, *_: Any) -> tuple[Any, str]:
    if not isinstance(value, bool):
        raise PolicyError(f"{where(_[-1][:-1])} equals must be true or false", _[-1])
    return (lambda v, _f: v is value), f"is {'true' if value else 'false'}"


def _infinite(value: int | float) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def _bound(value: object, kind: str, at: Path) -> int | float:
    good = value_types.is_integer(value) if kind == "integer" else value_types.is_number(value)
    if good and isinstance(value, int | float) and not _infinite(value):
        return value
    wanted = "an integer" if kind == "integer" else "a number"
    raise PolicyError(f"{where(at[:-1])} {at[-1]} must be {wanted}", at)


def _min(value: object, kind: str, items: Any, steps: Any, at: Path) -> tuple[Any, str]:
    n = _bound(value, kind, at)
    return (lambda v, _f: v >= n), f"at least {n}"


def _max(value: object, kind: str, items: Any, steps: Any, at: Path) -> tuple[Any, str]:
    n = _bound(value, kind, at)
    return (lambda v, _f: v <= n), f"at most {n}"


def _min_items(value: object, *_: Any) -> tuple[Any, str]:
    n = _count(value, _[-1])
    return (lambda v, _f: len(v) >= n), f"at least {n} items"


def _max_items(value: object, *_: Any) -> tuple[Any, str]:
    n = _count(value, _[-1])
    return (lambda v, _f: len(v) <= n), f"at most {n} items"


def _unique(value: object, *_: Any) -> tuple[Any, str]:
    if not isinstance(value, bool):
        raise PolicyError(f"{where(_[-1][:-1])} unique must be true or false", _[-1])
    # Members are all text or all numbers (no boolean): 1 and 1.0 are one number, as in JSON.
    return (lambda v, _f: len(set(v)) == len(v)), "no duplicates"


_BUILDERS: dict[str, Callable[..., tuple[Callable[[Any, Any], bool], str]]] = {
    "min_length": _min_length,
    "max_length": _max_length,
    "pattern": _pattern,
    "one_of": _one_of,
    "equals": _equals,
    "min": _min,
    "max": _max,
    "min_items": _min_items,
    "max_items": _max_items,
    "unique": _unique,
}


def _bounds_meet(table: dict[str, Any], path: Path, low: str, high: str, unit: str) -> None:
    lower, upper = table.get(low), table.get(high)
    if isinstance(lower, int | float) and isinstance(upper, int | float) and lower > upper:
        raise PolicyError(
            f"{where(path)} {low} {lower} is over {high} {upper}: no value can pass",
            (*path, low),
        )
