"""Bodies sent to Okta, checked against Okta's published schemas, closed-world.

The schemas come from Okta's Management API spec (tests/okta_schemas/, see its README). They
are loose: no `required`, no `additionalProperties: false`. So the check is closed-world: a
property that the resolved schema does not declare is a problem (Okta would ignore a misspelled
field without a word), as is a value not of its declared type, a `null` where the schema does
not allow one, a value outside an `enum`, and, in a request, a property marked `readOnly`.
`$ref` and `allOf` are resolved, and a discriminator's mapping is followed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

SCHEMAS = Path(__file__).resolve().parent / "okta_schemas"
PREFIX = "#/components/schemas/"
Schema = dict[str, Any]

TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


@cache
def schemas(root: str) -> dict[str, Schema]:
    document = json.loads((SCHEMAS / f"{root}.json").read_text("utf-8"))
    assert document["root"] == root
    found: dict[str, Schema] = document["schemas"]
    return found


def problems(body: Any, root: str, *, request: bool = True) -> list[str]:
    """Every way `body` breaks the schema `root` (empty when it conforms)."""
    return _Checker(schemas(root), request).check(body, {"$ref": PREFIX + root}, "$")


@dataclass
class _Flat:
    """A schema with its `$ref`s and `allOf` parts merged into one."""

    names: set[str] = field(default_factory=set)
    types: list[str] = field(default_factory=list)
    properties: dict[str, Schema] = field(default_factory=dict)
    additional: Any = None
    nullable: bool = False
    read_only: bool = False
    enum: list[Any] | None = None
    items: Schema | None = None
    discriminator: Schema | None = None


class _Checker:
    def __init__(self, known: dict[str, Schema], request: bool) -> None:
        self._known = known
        self._request = request

    def flat(self, schema: Schema, into: _Flat | None = None) -> _Flat:
        flat = into if into is not None else _Flat()
        if "$ref" in schema:
            name = schema["$ref"].removeprefix(PREFIX)
            if name in flat.names:
                return flat
            flat.names.add(name)
            return self.flat(self._known[name], flat)
        for part in schema.get("allOf", []):
            self.flat(part, flat)
        if "type" in schema:
            flat.types.append(schema["type"])
        flat.properties.update(schema.get("properties", {}))
        if schema.get("additionalProperties") not in (None, False):
            flat.additional = schema["additionalProperties"]
        flat.nullable |= bool(schema.get("nullable"))
        flat.read_only |= bool(schema.get("readOnly"))
        if "enum" in schema:
            flat.enum = list(schema["enum"])
        if "items" in schema:
            flat.items = schema["items"]
        if "discriminator" in schema and flat.discriminator is None:
            flat.discriminator = schema["discriminator"]
        return flat

    def check(self, value: Any, schema: Schema, path: str) -> list[str]:
        flat = self.flat(schema)
        mapped = self._mapped(flat, value, path)
        if mapped is not None:
            return mapped
        if value is None:
            return [] if flat.nullable else [f"{path}: null, which the schema does not allow"]
        found = [self._type_problem(t, value, path) for t in dict.fromkeys(flat.types)]
        if any(found):
            return [p for p in found if p]
        if flat.enum is not None and value not in flat.enum:
            return [f"{path}: {value!r} is not one of {flat.enum}"]
        if isinstance(value, dict):
            return self._object(flat, value, path)
        if isinstance(value, list) and flat.items is not None:
            return [
                p for i, v in enumerate(value) for p in self.check(v, flat.items, f"{path}[{i}]")
            ]
        return []

    def _mapped(self, flat: _Flat, value: Any, path: str) -> list[str] | None:
        """The problems against the schema the discriminator picks, or None to go on here."""
        if flat.discriminator is None or not isinstance(value, dict):
            return None
        key = flat.discriminator["propertyName"]
        mapping: dict[str, str] = flat.discriminator.get("mapping", {})
        if key not in value:
            return [f"{path}: no {key}, which picks the schema"]
        target = mapping.get(value[key])
        if target is None:
            return [f"{path}.{key}: {value[key]!r} is not one of {sorted(mapping)}"]
        if target.removeprefix(PREFIX) in flat.names:
            return None  # already inside the mapped schema (it includes its base through allOf)
        return self.check(value, {"$ref": target}, path)

    def _object(self, flat: _Flat, value: dict[str, Any], path: str) -> list[str]:
        found = []
        for key, item in value.items():
            where = f"{path}.{key}"
            declared = flat.properties.get(key)
            if declared is None:
                if isinstance(flat.additional, dict):
                    found += self.check(item, flat.additional, where)
                elif flat.additional is not True:
                    found.append(f"{where}: not a property the schema declares")
                continue
            if self._request and self.flat(declared).read_only:
                found.append(f"{where}: read-only, never sent in a request")
            found += self.check(item, declared, where)
        return found

    @staticmethod
    def _type_problem(expected: str, value: Any, path: str) -> str:
        allowed = TYPES[expected]
        if isinstance(value, bool) and bool not in allowed:
            return f"{path}: {value!r} is not of type {expected}"
        return "" if isinstance(value, allowed) else f"{path}: {value!r} is not of type {expected}"
