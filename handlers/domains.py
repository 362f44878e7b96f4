"""The email domain rule: allowed and blocked names, matched whole, never by substring."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from handlers.schema import Path, PolicyError, boolean, only, strings

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
        if any(_matches(domain, entry) for entry in self.blocked):
            return False
        if self.allowed:
            return any(_matches(domain, entry) for entry in self.allowed)
        return True

    @property
    def configured(self) -> bool:
        return bool(self.allowed or self.blocked)


def _matches(domain: str, entry: str) -> bool:
    if entry.startswith("*."):
        return domain.endswith(entry[1:])  # ".example.com": a whole label boundary
    return domain == entry


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
