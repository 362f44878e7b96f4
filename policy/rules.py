"""One attribute's rule: when a value is required, how it is normalised, and what it must match."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from okta_wire.models import RequestType
from okta_wire.names import REASON
from policy import reasons
from policy.normalize import STEPS, ordered
from policy.schema import (
    PolicyError,
    attribute_name,
    boolean,
    only,
    request_types,
    strings,
    where,
)

KEYS = {"type", "required", "pattern", "max_length", "reason", "normalize", "shadow"}


@dataclass(frozen=True)
class AttributeRule:
    name: str
    kind: str  # "text" or "email"
    required: frozenset[RequestType]
    pattern: re.Pattern[str] | None
    max_length: int | None
    reason: str
    normalize: tuple[str, ...] = ()
    # Every failure of this rule is logged as a would-be denial and let through.
    shadow: bool = False


def parse_rule(name: str, table: object) -> AttributeRule:
    path = ("attributes", name)
    attribute_name(name, path)
    if not isinstance(table, dict):
        raise PolicyError(f"{where(path)} must be a table", path)
    only(table, KEYS, path)
    kind = table.get("type", "text")
    if kind not in ("text", "email"):
        raise PolicyError(f"{where(path)} type must be 'text' or 'email'", (*path, "type"))
    default_reason = reasons.INVALID_EMAIL_DOMAIN if kind == "email" else reasons.INVALID_ATTRIBUTE
    reason = table.get("reason", default_reason)
    if not isinstance(reason, str) or not REASON.fullmatch(reason):
        raise PolicyError(
            f"{where(path)} reason must be a code of A-Z, 0-9 and _", (*path, "reason")
        )
    return AttributeRule(
        name=name,
        kind=kind,
        required=request_types(table, "required", path),
        pattern=_pattern(table, path),
        max_length=_max_length(table, path),
        reason=reason,
        normalize=_steps(table, path),
        shadow=boolean(table, "shadow", path),
    )


def _pattern(table: dict[str, Any], path: tuple[str, ...]) -> re.Pattern[str] | None:
    if "pattern" not in table:
        return None
    if not isinstance(table["pattern"], str) or not table["pattern"]:
        raise PolicyError(f"{where(path)} pattern must be a non-empty string", (*path, "pattern"))
    try:
        # ASCII: \d and \w mean 0-9 and [A-Za-z0-9_], never other scripts' digits or letters.
        return re.compile(table["pattern"], re.ASCII)
    except re.error as e:
        raise PolicyError(
            f"{where(path)} pattern is not a valid regular expression: {e}", (*path, "pattern")
        ) from None


def _max_length(table: dict[str, Any], path: tuple[str, ...]) -> int | None:
    value = table.get("max_length")
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise PolicyError(
            f"{where(path)} max_length must be a positive integer", (*path, "max_length")
        )
    return value


def _steps(table: dict[str, Any], path: tuple[str, ...]) -> tuple[str, ...]:
    names = strings(table, "normalize", path)
    for step in names:
        if step not in STEPS:
            raise PolicyError(
                f"{where(path)} normalize: {step!r} is not one of {', '.join(STEPS)}",
                (*path, "normalize"),
            )
    return ordered(names)
