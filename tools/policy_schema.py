"""The JSON Schema of the policy file, for editors (Taplo, VS Code's Even Better TOML: a
`#:schema ./policy.schema.json` first line), generated from the key sets the loader accepts.

python -m tools.policy_schema            # writes policies/policy.schema.json
python -m tools.policy_schema --check    # exit 1 when the file is not what would be written

Every key the loader knows must have a shape here (generation fails otherwise), and none is
described that the loader does not know; tests check the two agree on valid and broken files.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from directory.settings import MAX_TIMEOUT_SECONDS
from okta_wire.names import ATTRIBUTE, REASON
from policy import (
    conditions,
    directory_rules,
    disposable,
    domains,
    list_tables,
    loader,
    network,
    outside,
    rules,
    value_types,
)
from policy.catalogue import MAX_MESSAGE_CHARS
from policy.checks_by_key import CHECK_KEYS
from policy.list_kinds import KINDS
from policy.normalize import STEPS
from policy.schema import REQUEST_TYPES
from secret_sources.secret_manager import VERSION_NAME

OUTPUT = Path(__file__).resolve().parent.parent / "policies" / "policy.schema.json"
Schema = dict[str, Any]

_REQUEST_TYPE: Schema = {"enum": sorted(REQUEST_TYPES)}
_REQUEST_TYPES: Schema = {"type": "array", "items": _REQUEST_TYPE, "uniqueItems": True}
_REASON: Schema = {"type": "string", "pattern": f"^{REASON.pattern}$"}
_NAME: Schema = {"type": "string", "pattern": f"^{ATTRIBUTE.pattern}$"}
_STRINGS: Schema = {"type": "array", "items": {"type": "string"}}
_SCALAR: Schema = {"type": ["string", "number", "boolean"]}
_CONDITION: Schema = {"$ref": "#/$defs/condition"}
_COUNT: Schema = {"type": "integer", "minimum": 1}
_MESSAGE: Schema = {"type": "string", "minLength": 1, "maxLength": MAX_MESSAGE_CHARS}
_LOCALE_TABLE: Schema = {
    "type": "object",
    "propertyNames": _REASON,
    "additionalProperties": _MESSAGE,
}
_LIST_NAME: Schema = {"type": "string", "pattern": f"^{outside.NAME.pattern}$"}
_BOOLEAN: Schema = {"type": "boolean"}
# `{ list = "NAME" }` wherever a rule takes a literal list; in a condition, without fail_open.
_LIST_REF: Schema = {
    "type": "object",
    "properties": {"list": _LIST_NAME, "fail_open": _BOOLEAN},
    "required": ["list"],
    "additionalProperties": False,
    "description": "a list of [lists], read from outside the policy",
}
_CONDITION_LIST_REF: Schema = {
    "type": "object",
    "properties": {"list": _LIST_NAME},
    "required": ["list"],
    "additionalProperties": False,
}
_STRINGS_OR_LIST: Schema = {"oneOf": [_STRINGS, _LIST_REF]}
_SECRET_VERSION: Schema = {"type": "string", "pattern": f"^{VERSION_NAME.pattern}$"}
_SECONDS: Schema = {"type": "number", "minimum": 0}
_STATUSES: Schema = {
    "type": "array",
    "items": {
        "type": "integer",
        "minimum": 200,
        "maximum": 499,
        "not": {"minimum": 300, "maximum": 399},
    },
}

# The shape of each key, by name; each table below takes its keys from the loader.
ATTRIBUTE_KEYS: dict[str, Schema] = {
    "type": {"enum": list(value_types.TYPES)},
    "items": {"enum": list(value_types.ITEM_TYPES)},
    "required": _REQUEST_TYPES,
    "required_when": _CONDITION,
    "when": _CONDITION,
    "reason": _REASON,
    "normalize": {"type": "array", "items": {"enum": list(STEPS)}},
    "shadow": {"type": "boolean"},
    "rules": {"type": "array", "items": {"$ref": "#/$defs/rule_entry"}},
    "min_length": _COUNT,
    "max_length": _COUNT,
    "pattern": {"type": "string", "minLength": 1},
    "one_of": {
        "oneOf": [
            {"type": "array", "minItems": 1, "items": {"type": ["string", "number"]}},
            _LIST_REF,
        ]
    },
    "equals": {"type": "boolean"},
    "min": {"type": "number"},
    "max": {"type": "number"},
    "min_items": _COUNT,
    "max_items": _COUNT,
    "unique": {"type": "boolean"},
}
TABLE_KEYS: dict[str, dict[str, Schema]] = {
    "domains": {
        "allowed": _STRINGS_OR_LIST,
        "blocked": _STRINGS_OR_LIST,
        "shadow": {"type": "boolean"},
    },
    "network": {
        "allowed": _STRINGS_OR_LIST,
        "blocked": _STRINGS_OR_LIST,
        "attribute": _NAME,
        "reason": _REASON,
        "shadow": {"type": "boolean"},
        "when": _CONDITION,
    },
    "disposable_domains": {
        "deny": {"type": "boolean"},
        "allowed": _STRINGS_OR_LIST,
        "reason": _REASON,
        "shadow": {"type": "boolean"},
        "when": _CONDITION,
    },
}
LOADER_TABLE_KEYS = {
    "domains": domains.KEYS,
    "network": network.KEYS,
    "disposable_domains": disposable.KEYS,
}
LIST_KEYS: dict[str, Schema] = {
    "source": {"type": "string", "pattern": "^gs://[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]/.+$"},
    "secret": _SECRET_VERSION,
    "kind": {"enum": list(KINDS)},
    "csv_column": {"type": "string", "minLength": 1},
    "max_bytes": {"type": "integer", "minimum": 1, "maximum": list_tables.MAX_LIST_BYTES},
    "max_shrink": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
    "refresh_seconds": {
        "type": "number",
        "minimum": list_tables.MIN_REFRESH_SECONDS,
        "maximum": list_tables.MAX_REFRESH_SECONDS,
    },
    "fail_open": {
        "type": "boolean",
        "description": "a rule using the list allows (logged) while it was never read",
    },
}
DIRECTORY_KEYS: dict[str, Schema] = {
    "url": {"type": "string", "pattern": "^https://"},
    "body": {"description": "a JSON body template: its strings may hold {attribute}"},
    "method": {"enum": ["GET", "POST"]},
    "on": {**_REQUEST_TYPES, "minItems": 1},
    "when": _CONDITION,
    "attribute": _NAME,
    "record": {"type": "string"},
    "match": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"path": {"type": "string"}, "attribute": _NAME, "ignore_case": _BOOLEAN},
            "required": ["path", "attribute"],
            "additionalProperties": False,
        },
    },
    "copy": {"type": "object", "propertyNames": _NAME, "additionalProperties": {"type": "string"}},
    "found_statuses": {**_STATUSES, "minItems": 1},
    "not_found_statuses": _STATUSES,
    "timeout_seconds": {
        "type": "number",
        "exclusiveMinimum": 0,
        "maximum": MAX_TIMEOUT_SECONDS,
    },
    "ttl_seconds": _SECONDS,
    "negative_ttl_seconds": _SECONDS,
    "failures_to_open": {"type": "integer", "minimum": 1},
    "open_seconds": {"type": "number", "exclusiveMinimum": 0},
    "fail_open": _BOOLEAN,
    "bearer_secret": _SECRET_VERSION,
    "api_key_secret": _SECRET_VERSION,
    "api_key_header": {"type": "string", "pattern": "^[A-Za-z0-9_-]+$"},
    "id_token_audience": {"type": "string", "pattern": "^https://"},
    "ca_bundle": {"type": "string", "minLength": 1},
    "mismatch_reason": _REASON,
    "not_found_reason": _REASON,
    "unavailable_reason": _REASON,
    "shadow": _BOOLEAN,
}


def _object(keys: dict[str, Schema], required: list[str] | None = None) -> Schema:
    found: Schema = {"type": "object", "properties": keys, "additionalProperties": False}
    if required:
        found["required"] = required
    return found


def _keys(wanted: set[str] | frozenset[str], shapes: dict[str, Schema]) -> dict[str, Schema]:
    missing = sorted(set(wanted) - set(shapes))
    if missing:
        raise KeyError(f"no JSON Schema shape for the loader's key(s) {', '.join(missing)}")
    return {key: shapes[key] for key in sorted(wanted)}


def _condition() -> Schema:
    forms: dict[str, Schema] = {
        "request_type": _object(
            {"request_type": {"oneOf": [_REQUEST_TYPE, {**_REQUEST_TYPES, "minItems": 1}]}},
            ["request_type"],
        ),
        "email_domain": _object(
            {"email_domain": {"oneOf": [{**_STRINGS, "minItems": 1}, _CONDITION_LIST_REF]}},
            ["email_domain"],
        ),
        "equals": _object({"attribute": _NAME, "equals": _SCALAR}, ["attribute", "equals"]),
        "in": _object(
            {
                "attribute": _NAME,
                "in": {
                    "oneOf": [
                        {"type": "array", "minItems": 1, "items": _SCALAR},
                        _CONDITION_LIST_REF,
                    ]
                },
            },
            ["attribute", "in"],
        ),
        "all": _object({"all": {"type": "array", "minItems": 1, "items": _CONDITION}}, ["all"]),
        "any": _object({"any": {"type": "array", "minItems": 1, "items": _CONDITION}}, ["any"]),
        "not": _object({"not": _CONDITION}, ["not"]),
    }
    if list(forms) != list(conditions.FORMS):
        raise KeyError("the condition forms differ from the loader's")
    return {"oneOf": list(forms.values())}


def _attribute() -> Schema:
    every = set(rules.COMMON_KEYS) | {"items"} | set().union(*CHECK_KEYS.values())
    table: Schema = _object(_keys(every, ATTRIBUTE_KEYS))
    by_type = []
    for kind in value_types.TYPES:
        allowed = (
            set(rules.COMMON_KEYS) | CHECK_KEYS[kind] | ({"items"} if kind == "array" else set())
        )
        entry = sorted(rules.RULE_ENTRY_KEYS | CHECK_KEYS[kind])
        then: Schema = {
            "propertyNames": {"enum": sorted(allowed)},
            "properties": {"rules": {"items": {"propertyNames": {"enum": entry}}}},
        }
        if kind == "array":
            then["required"] = ["items"]
        condition: Schema = {"properties": {"type": {"const": kind}}, "required": ["type"]}
        if kind == "text":  # the default type
            condition = {"anyOf": [condition, {"not": {"required": ["type"]}}]}
        by_type.append({"if": condition, "then": then})
    table["allOf"] = by_type
    return table


def schema() -> Schema:
    entry_keys = rules.RULE_ENTRY_KEYS | set().union(*CHECK_KEYS.values())
    tables = {
        name: _object(_keys(LOADER_TABLE_KEYS[name], shapes)) for name, shapes in TABLE_KEYS.items()
    }
    tables["disposable_domains"]["required"] = ["deny"]
    on = {**_REQUEST_TYPES, "minItems": 1}
    top: dict[str, Schema] = {
        "shadow": {"type": "boolean", "description": "every rule watched, none enforced"},
        "default_locale": {"type": "string"},
        "version": {
            "type": "string",
            "pattern": f"^{loader.VERSION.pattern}$",
            "description": "shown in the audit line and in Okta's System Log",
        },
        "domains": tables["domains"],
        "network": tables["network"],
        "disposable_domains": tables["disposable_domains"],
        "attributes": {
            "type": "object",
            "propertyNames": _NAME,
            "additionalProperties": {"$ref": "#/$defs/attribute"},
        },
        "progressive": _object({"updatable": {"type": "array", "items": _NAME}}),
        "set": {
            "type": "object",
            "propertyNames": _NAME,
            "additionalProperties": _object(
                {"value": {"oneOf": [_SCALAR, {"type": "array", "items": _SCALAR}]}, "on": on},
                ["value", "on"],
            ),
        },
        "derive": {
            "type": "object",
            "propertyNames": _NAME,
            "additionalProperties": _object({"from": _NAME, "on": on}, ["from", "on"]),
        },
        "lists": {
            "type": "object",
            "propertyNames": _LIST_NAME,
            "additionalProperties": {
                **_object(_keys(list_tables.LIST_KEYS, LIST_KEYS), ["kind"]),
                "oneOf": [{"required": ["source"]}, {"required": ["secret"]}],
            },
        },
        "directory": {
            "type": "object",
            "propertyNames": _LIST_NAME,
            "additionalProperties": _object(
                _keys(directory_rules.KEYS, DIRECTORY_KEYS), ["url", "on"]
            ),
        },
        "messages": {
            "type": "object",
            # A reason code holds a message; any other key is a locale's table.
            "patternProperties": {f"^{REASON.pattern}$": {"oneOf": [_MESSAGE, _LOCALE_TABLE]}},
            "additionalProperties": _LOCALE_TABLE,
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "policy.schema.json",
        "title": "Okta registration hook policy",
        "description": "Generated by python -m tools.policy_schema; see docs/policy.md.",
        **_object(_keys(loader.TOP_LEVEL, top)),
        "$defs": {
            "condition": _condition(),
            "attribute": _attribute(),
            "rule_entry": _object(_keys(entry_keys, ATTRIBUTE_KEYS)),
        },
    }


def text() -> str:
    return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.policy_schema", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text(encoding="utf-8") != text():
            print(f"{OUTPUT} is out of date: run python -m tools.policy_schema", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text(), encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
