"""The email domain rule: allowed and blocked names, matched whole, never by substring."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from policy.schema import Path, PolicyError, boolean, only, strings

_DOMAIN = re.compile(
    r"(\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
)
PATH: Path = ("domains",)


@dataclass(frozen=True)
class Domains:
    """Allowed and blocked email domains: exact names, or `*.name` for any subdomain of it."""

    allowed: tuple[str, ...] = ()
    blocked: tuple[str, ...] = ()
    # A domain that fails is logged as a would-be denial and let through.
    shadow: bool = False

    def permits(self, domain: str) -> bool:
        if _matches(domain, self._blocked):
            return False
        if self.allowed:
            return _matches(domain, self._allowed)
        return True

    # Indexed once per policy, not scanned entry by entry on every request.
    @cached_property
    def _blocked(self) -> tuple[frozenset[str], tuple[str, ...]]:
        return _index(self.blocked)

    @cached_property
    def _allowed(self) -> tuple[frozenset[str], tuple[str, ...]]:
        return _index(self.allowed)

    @property
    def configured(self) -> bool:
        return bool(self.allowed or self.blocked)


def _index(entries: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
    """Exact names, and the `.name` suffixes of `*.name` entries (a whole label boundary)."""
    exact = frozenset(entry for entry in entries if not entry.startswith("*."))
    return exact, tuple(entry[1:] for entry in entries if entry.startswith("*."))


def _matches(domain: str, index: tuple[frozenset[str], tuple[str, ...]]) -> bool:
    exact, suffixes = index
    return domain in exact or domain.endswith(suffixes)


def domain_entry(value: str, where: str, at: Path = ()) -> str:
    entry = value.strip().lower()
    if not _DOMAIN.fullmatch(entry) or len(entry) > 253:
        raise PolicyError(
            f"{where}: {value!r} is not a domain name (ASCII; use the xn-- form for IDNs)", at
        )
    return entry


def parse_domains(table: Mapping[str, Any]) -> Domains:
    only(table, {"allowed", "blocked", "shadow"}, PATH)
    lists = {
        key: tuple(
            domain_entry(d, f"[domains] {key}", (*PATH, key)) for d in strings(table, key, PATH)
        )
        for key in ("allowed", "blocked")
    }
    return Domains(lists["allowed"], lists["blocked"], boolean(table, "shadow", PATH))
