"""Reading typed values out of a parsed TOML policy; every error names the key it is about."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from okta_wire.models import RequestType
from okta_wire.names import ATTRIBUTE

REQUEST_TYPES = {"registration": RequestType.REGISTRATION, "progressive": RequestType.PROGRESSIVE}

Path = tuple[str, ...]


class PolicyError(Exception):
    """The policy file cannot be used; the message says where and why."""

    def __init__(self, message: str, at: Path = (), line: int | None = None) -> None:
        super().__init__(message)
        # The key path the error is about, turned into a line number by `parse_policy`.
        self.at = at
        self.line = line


def finite_number(value: object) -> float | None:
    """The value as a float when it is a finite number; None for a boolean, text, NaN, an
    infinity, or an integer too large for a float (TOML integers have no bound)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def where(path: Path) -> str:
    """`[attributes.email]`-style name of a table, for messages."""
    return "[" + ".".join(path) + "]" if path else "top level"


def only(table: Mapping[str, Any], allowed: set[str], path: Path) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise PolicyError(
            f"{where(path)}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})",
            (*path, unknown[0]),
        )


def table(parent: Mapping[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = parent.get(key, {})
    if not isinstance(value, dict):
        raise PolicyError(f"{where((*path, key))} must be a table", (*path, key))
    return value


def strings(parent: Mapping[str, Any], key: str, path: Path) -> list[str]:
    value = parent.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(f"{where(path)} {key} must be a list of strings", (*path, key))
    return value


def boolean(parent: Mapping[str, Any], key: str, path: Path) -> bool:
    value = parent.get(key, False)
    if not isinstance(value, bool):
        raise PolicyError(f"{where(path)} {key} must be true or false", (*path, key))
    return value


def request_types(parent: Mapping[str, Any], key: str, path: Path) -> frozenset[RequestType]:
    found = set()
    for item in strings(parent, key, path):
        if item not in REQUEST_TYPES:
            raise PolicyError(
                f"{where(path)} {key}: {item!r} is not 'registration' or 'progressive'",
                (*path, key),
            )
        found.add(REQUEST_TYPES[item])
    return frozenset(found)


def attribute_name(name: str, path: Path) -> str:
    if not ATTRIBUTE.fullmatch(name):
        raise PolicyError(f"{where(path)}: {name!r} is not an attribute name", path)
    return name
