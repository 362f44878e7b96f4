"""The JSON types of Okta profile attributes, and how a submitted value is read as one of them.

A boolean is never a number (JSON `true` is not `1`), a number is never a string, and an integer
is a number with no fractional part: `3` and `3.0` (and `3e0`) are the integer 3, stored as `3`.
A text a double only rounds to a whole number (`17.99999999999999999`, `1e300`) is not an
integer, and an integer is at most 2**53 - 1 either way (RFC 8259: the integers every JSON reader
keeps exactly).
"""

from __future__ import annotations

from collections.abc import Callable

from core.strict_json import InexactNumber

# `text` is the name earlier policies used for `string`; `email` is a string holding an address.
TYPES = ("string", "text", "email", "boolean", "integer", "number", "array")
ITEM_TYPES = ("string", "integer", "number")
STRING_TYPES = frozenset({"string", "text", "email"})
NUMBER_TYPES = frozenset({"integer", "number"})


MAX_INTEGER = 2**53 - 1


def is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_stored_integer(value: object) -> bool:
    """An integer a profile attribute may hold: within ±(2**53 - 1)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    return -MAX_INTEGER <= value <= MAX_INTEGER


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_string(value: object) -> bool:
    return isinstance(value, str)


def is_boolean(value: object) -> bool:
    return isinstance(value, bool)


SCALAR_TESTS: dict[str, Callable[[object], bool]] = {
    "string": is_string,
    "text": is_string,
    "email": is_string,
    "boolean": is_boolean,
    "integer": is_stored_integer,
    "number": is_number,
}


def is_profile_value(value: object) -> bool:
    """Whether some Okta profile attribute could hold the value: Okta's profile schema types are
    string, boolean, integer, number and arrays of these, so an object, or an array holding an
    array or an object, is never one. What else Okta takes is left to Okta."""
    if isinstance(value, dict):
        return False
    if isinstance(value, list):
        return not any(isinstance(member, dict | list) for member in value)
    return True


def as_integer(value: object) -> object:
    """`value` with a whole float (3.0) made the integer it is; any other value as it is."""
    if type(value) is float and value.is_integer():
        return int(value)
    return value


def accepts(kind: str, items: str | None) -> Callable[[object], bool]:
    """The test that a (normalised) value is of this type."""
    if kind != "array":
        return SCALAR_TESTS[kind]
    if items is None:
        raise ValueError("an array type names the type of its items")
    if items == "integer":  # within the stored range, and never a boolean
        return lambda value: isinstance(value, list) and all(map(is_stored_integer, value))
    # The exact types a member may have (bool is not int here: type(True) is bool).
    allowed = frozenset({str}) if items == "string" else frozenset({int, float, InexactNumber})

    def every_member(value: object) -> bool:
        return isinstance(value, list) and allowed.issuperset(map(type, value))

    return every_member


def describe(kind: str, items: str | None) -> str:
    if kind == "array":
        return f"an array of {items}s"
    if kind in STRING_TYPES:
        return "text"
    return {"boolean": "true or false", "integer": "a whole number", "number": "a number"}[kind]
