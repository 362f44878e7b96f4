"""The email domain rule: allowed and blocked names, matched whole, never by substring."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from policy.entries import DomainSet
from policy.schema import Path, PolicyError, boolean, only, strings

_DOMAIN = re.compile(
    r"(\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
)
PATH: Path = ("domains",)
KEYS = {"allowed", "blocked", "shadow"}


@dataclass(frozen=True)
class Domains:
    """Allowed and blocked email domains: exact names, or `*.name` for any subdomain of it."""

    allowed: DomainSet = field(default_factory=lambda: DomainSet(()))
    blocked: DomainSet = field(default_factory=lambda: DomainSet(()))
    # A domain that fails is logged as a would-be denial and let through.
    shadow: bool = False

    def permits(self, domain: str) -> bool:
        if domain in self.blocked:
            return False
        if self.allowed:
            return domain in self.allowed
        return True

    @property
    def configured(self) -> bool:
        return bool(self.allowed or self.blocked)


def domain_entry(value: str, where: str, at: Path = ()) -> str:
    entry = value.strip().lower()
    if not _DOMAIN.fullmatch(entry) or len(entry) > 253:
        raise PolicyError(
            f"{where}: {value!r} is not a domain name (ASCII; use the xn-- form for IDNs)", at
        )
    return entry


def domain_set(values: list[str], where: str, at: Path) -> DomainSet:
    return DomainSet(domain_entry(value, where, at) for value in values)


def parse_domains(table: Mapping[str, Any]) -> Domains:
    only(table, KEYS, PATH)
    lists = {
        key: domain_set(strings(table, key, PATH), f"[domains] {key}", (*PATH, key))
        for key in ("allowed", "blocked")
    }
    return Domains(lists["allowed"], lists["blocked"], boolean(table, "shadow", PATH))
