"""What an ALLOW sets beyond the submitted values: static attributes and derived ones."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from okta_wire.models import RequestType
from policy.schema import (
    Path,
    PolicyError,
    attribute_name,
    only,
    request_types,
    table,
    where,
)

_SCALARS = (str, int, float, bool)


@dataclass(frozen=True)
class Assignment:
    """`target` set on allow, on the request types in `on`: to `value`, or to `source`'s value."""

    target: str
    on: frozenset[RequestType]
    value: object = None
    source: str | None = None

    def value_for(self, values: Mapping[str, object]) -> object:
        """The value to set, or None when a derivation's source holds no text."""
        if self.source is None:
            return self.value
        found = values.get(self.source)
        return found if isinstance(found, str) and found != "" else None


def same(a: object, b: object) -> bool:
    """Equal as JSON text: `true` is not `1`, and `3.0` is not `3`."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[key], b[key]) for key in a)
    return a == b


def parse_assignments(document: Mapping[str, Any]) -> tuple[Assignment, ...]:
    found: dict[str, Assignment] = {}
    for section, key in (("set", "value"), ("derive", "from")):
        for target, entry in table(document, section, ()).items():
            path: Path = (section, target)
            attribute_name(target, path)
            if not isinstance(entry, dict):
                raise PolicyError(f"{where(path)} must be a table with {key} and on", path)
            only(entry, {key, "on"}, path)
            if target in found:
                raise PolicyError(f"{where(path)}: {target} is already set by [set]", path)
            on = request_types(entry, "on", path)
            if not on:
                raise PolicyError(
                    f"{where(path)} on must name the request types it applies to "
                    "('registration', 'progressive')",
                    (*path, "on"),
                )
            if key not in entry:
                raise PolicyError(f"{where(path)} needs {key}", path)
            if section == "set":
                found[target] = Assignment(target, on, value=_json_value(entry[key], path))
            else:
                source = entry[key]
                if not isinstance(source, str):
                    raise PolicyError(f"{where(path)} from must be an attribute name", (*path, key))
                found[target] = Assignment(target, on, source=attribute_name(source, (*path, key)))
    for assignment in found.values():
        if assignment.source is not None and assignment.source in found:
            raise PolicyError(
                f"[derive.{assignment.target}] from {assignment.source}, which is itself set on "
                "allow: derive from a submitted attribute",
                ("derive", assignment.target, "from"),
            )
    return tuple(found.values())


def _json_value(value: object, path: Path) -> object:
    if isinstance(value, list):
        if all(isinstance(item, _SCALARS) for item in value):
            return [_json_value(item, path) for item in value]
    elif isinstance(value, _SCALARS):
        if not isinstance(value, float) or math.isfinite(value):
            return value
    raise PolicyError(
        f"{where(path)} value must be a string, number, boolean or a list of them "
        "(no tables, dates, nan or inf)",
        (*path, "value"),
    )
