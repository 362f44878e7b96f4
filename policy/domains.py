"""The email domain rule: allowed and blocked names, matched whole, never by substring."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from policy.entries import DomainSet
from policy.outside import ListRef, parse_ref
from policy.schema import Path, PolicyError, boolean, only, strings

if TYPE_CHECKING:
    from policy.conditions import Facts

_DOMAIN = re.compile(
    r"(\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
)
PATH: Path = ("domains",)
KEYS = {"allowed", "blocked", "shadow"}


@dataclass(frozen=True)
class Domains:
    """Allowed and blocked email domains: exact names, or `*.name` for any subdomain of it."""

    allowed: DomainSet | ListRef = field(default_factory=lambda: DomainSet(()))
    blocked: DomainSet | ListRef = field(default_factory=lambda: DomainSet(()))
    # A domain that fails is logged as a would-be denial and let through.
    shadow: bool = False

    def permits(self, domain: str, facts: Facts) -> bool:
        """Not blocked, and allowed when there is an allow list. A list that was never read
        and fails open (None) lets the domain pass that test."""
        if self.blocked:
            blocked = self.blocked.members(facts)
            if blocked is not None and domain in blocked:
                return False
        if self.allowed:
            allowed = self.allowed.members(facts)
            return allowed is None or domain in allowed
        return True

    @property
    def configured(self) -> bool:
        return bool(self.allowed or self.blocked)


def checked_domain(value: str) -> str:
    """A domain entry (`name` or `*.name`), trimmed and lower-cased; ValueError otherwise, never
    quoting it. The one reader of domain entries, in the policy file and in lists alike."""
    entry = value.strip().lower()
    if not _DOMAIN.fullmatch(entry) or len(entry) > 253:
        raise ValueError("not a domain name (ASCII; use the xn-- form for IDNs)")
    return entry


def domain_entry(value: str, where: str, at: Path = ()) -> str:
    try:
        return checked_domain(value)
    except ValueError as e:
        raise PolicyError(f"{where}: {value!r} is {e}", at) from None


def domain_set(values: list[str], where: str, at: Path) -> DomainSet:
    return DomainSet(domain_entry(value, where, at) for value in values)


def domain_entries(table: Mapping[str, Any], key: str, path: Path) -> DomainSet | ListRef:
    """`key = ["example.com", "*.example.org"]`, or `key = { list = "NAME" }`."""
    if isinstance(table.get(key), dict):
        return parse_ref(table[key], (*path, key))
    return domain_set(strings(table, key, path), f"[{'.'.join(path)}] {key}", (*path, key))


def parse_domains(table: Mapping[str, Any]) -> Domains:
    only(table, KEYS, PATH)
    allowed, blocked = (domain_entries(table, key, PATH) for key in ("allowed", "blocked"))
    return Domains(allowed, blocked, boolean(table, "shadow", PATH))
