"""`[lists.NAME]`: a list kept outside the policy file, where it lives and how it is read,
into lists/'s own settings with the kind the policy's own validators make (list_kinds.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lists.cloud_storage import parse_location
from lists.outside_list import DEFAULT_MAX_SHRINK, DEFAULT_REFRESH_SECONDS, ListSettings
from lists.parse import LINES, MAX_BYTES, Layout
from policy.list_kinds import KINDS
from policy.outside import NAME, ListRef
from policy.schema import Path, PolicyError, boolean, finite_number, only, where
from secret_sources.secret_manager import VERSION_FORM, parse_version_name

LIST_KEYS = {
    "source", "secret", "kind", "csv_column", "max_bytes", "max_shrink", "refresh_seconds",
    "fail_open",
}  # fmt: skip
MIN_REFRESH_SECONDS = 1.0
MAX_REFRESH_SECONDS = 86_400.0
MAX_LIST_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class PolicyList:
    """`[lists.NAME]`: where the list lives and how it is read (`settings`, as lists/ takes
    them); `fail_open`: what a rule using it does while it was never read, unless the rule says;
    `declared_bytes`: the `max_bytes` the policy gives, for deploy's memory estimate."""

    settings: ListSettings
    kind: str
    fail_open: bool = False
    declared_bytes: int | None = None

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def location(self) -> str:
        return self.settings.location

    def fails_open(self, ref: ListRef) -> bool:
        return self.fail_open if ref.fail_open is None else ref.fail_open


def parse_lists(tables: Mapping[str, Any]) -> dict[str, PolicyList]:
    return {name: _policy_list(name, entry) for name, entry in tables.items()}


def _policy_list(name: str, table: object) -> PolicyList:
    path = ("lists", name)
    if not NAME.fullmatch(name):
        raise PolicyError(
            f"{where(path)}: a list's name is a letter, then letters, digits, _, -", path
        )
    if not isinstance(table, dict):
        raise PolicyError(f"{where(path)} must be a table", path)
    only(table, LIST_KEYS, path)
    kind = table.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise PolicyError(f"{where(path)} kind must be one of {', '.join(KINDS)}", (*path, "kind"))
    location = _location(table, path)
    column = table.get("csv_column")
    if column is not None and (not isinstance(column, str) or not column.strip()):
        raise PolicyError(f"{where(path)} csv_column must name a column", (*path, "csv_column"))
    declared = table.get("max_bytes")
    if declared is not None and not _whole(declared, 1, MAX_LIST_BYTES):
        raise PolicyError(
            f"{where(path)} max_bytes must be a whole number from 1 to {MAX_LIST_BYTES}",
            (*path, "max_bytes"),
        )
    max_shrink = _number(table, "max_shrink", DEFAULT_MAX_SHRINK, path)
    if not 0 < max_shrink <= 1:
        raise PolicyError(
            f"{where(path)} max_shrink must be above 0 and at most 1 (1: no guard)",
            (*path, "max_shrink"),
        )
    refresh = _number(table, "refresh_seconds", DEFAULT_REFRESH_SECONDS, path)
    if not MIN_REFRESH_SECONDS <= refresh <= MAX_REFRESH_SECONDS:
        raise PolicyError(
            f"{where(path)} refresh_seconds must be from {MIN_REFRESH_SECONDS:g} to "
            f"{MAX_REFRESH_SECONDS:g}",
            (*path, "refresh_seconds"),
        )
    settings = ListSettings(
        name,
        location,
        KINDS[kind],
        layout=Layout(column.strip()) if column else LINES,
        max_bytes=declared or MAX_BYTES,
        max_shrink=max_shrink,
        refresh_seconds=refresh,
    )
    return PolicyList(settings, kind, boolean(table, "fail_open", path), declared)


def _location(table: Mapping[str, Any], path: Path) -> str:
    given = [key for key in ("source", "secret") if key in table]
    if len(given) != 1:
        raise PolicyError(
            f"{where(path)} needs source = 'gs://bucket/object' or secret = "
            f"'projects/P/secrets/S/versions/V', one of them",
            path,
        )
    key = given[0]
    value = table[key]
    try:
        if not isinstance(value, str):
            raise ValueError("not a string")
        if key == "source":
            parse_location(value)
            return value
        return parse_version_name(value)
    except ValueError as e:
        wanted = "gs://bucket/object" if key == "source" else VERSION_FORM
        raise PolicyError(f"{where(path)} {key}: {e}; expected {wanted}", (*path, key)) from None


def _whole(value: object, least: int, most: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and least <= value <= most


def _number(table: Mapping[str, Any], key: str, default: float, path: Path) -> float:
    number = finite_number(table.get(key, default))
    if number is None:
        raise PolicyError(f"{where(path)} {key} must be a number", (*path, key))
    return number
