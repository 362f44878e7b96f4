"""The decision policy: read once from a TOML file, checked whole before the first request."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handlers.models import RequestType

REQUEST_TYPES = {"registration": RequestType.REGISTRATION, "progressive": RequestType.PROGRESSIVE}

# Reason codes the handlers emit by themselves, with the message shown when a policy gives none.
BUILTIN_MESSAGES = {
    "DENIED": "We couldn't complete your request. Please review the highlighted fields.",
    "MISSING_ATTRIBUTE": "This field is required.",
    "INVALID_ATTRIBUTE_TYPE": "This field has a value of the wrong kind.",
    "INVALID_ATTRIBUTE": "This field has an invalid value.",
    "INVALID_EMAIL": "Enter a valid email address.",
    "INVALID_EMAIL_DOMAIN": "This email domain is not allowed to register.",
    "ATTRIBUTE_NOT_UPDATABLE": "This field cannot be updated here.",
}

_REASON = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
_ATTRIBUTE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,99}")
_DOMAIN = re.compile(
    r"(\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
)


class PolicyError(Exception):
    """The policy file cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Domains:
    """Allowed and blocked email domains: exact names, or `*.name` for any subdomain of it."""

    allowed: tuple[str, ...] = ()
    blocked: tuple[str, ...] = ()

    def permits(self, domain: str) -> bool:
        if any(_matches(domain, entry) for entry in self.blocked):
            return False
        if self.allowed:
            return any(_matches(domain, entry) for entry in self.allowed)
        return True


def _matches(domain: str, entry: str) -> bool:
    if entry.startswith("*."):
        return domain.endswith(entry[1:])  # ".example.com": a whole label boundary
    return domain == entry


@dataclass(frozen=True)
class AttributeRule:
    name: str
    kind: str  # "text" or "email"
    required: frozenset[RequestType]
    pattern: re.Pattern[str] | None
    max_length: int | None
    reason: str


@dataclass(frozen=True)
class Policy:
    source: str
    domains: Domains
    attributes: Mapping[str, AttributeRule]
    updatable: frozenset[str]
    messages: Mapping[str, str]

    def message(self, reason: str) -> str:
        return (
            self.messages.get(reason) or BUILTIN_MESSAGES.get(reason) or BUILTIN_MESSAGES["DENIED"]
        )

    def with_allowed_domains(self, allowed: Iterable[str]) -> Policy:
        entries = tuple(_domain_entry(d, "OKTA_HOOK_ALLOWED_EMAIL_DOMAINS") for d in allowed)
        domains = Domains(allowed=entries, blocked=self.domains.blocked)
        return Policy(self.source, domains, self.attributes, self.updatable, self.messages)


def load_policy(path: Path) -> Policy:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as e:
        raise PolicyError(f"{path}: cannot read: {e.__class__.__name__}") from None
    return parse_policy(text, str(path))


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise PolicyError(f"{source}: not valid TOML: {e}") from None
    try:
        return _build(document, source)
    except PolicyError as e:
        raise PolicyError(f"{source}: {e}") from None


def _build(document: dict[str, Any], source: str) -> Policy:
    _only(document, {"domains", "attributes", "progressive", "messages"}, "top level")
    domains_table = _table(document, "domains", "[domains]")
    _only(domains_table, {"allowed", "blocked"}, "[domains]")
    domains = Domains(
        allowed=tuple(
            _domain_entry(d, "[domains] allowed")
            for d in _strings(domains_table, "allowed", "[domains]")
        ),
        blocked=tuple(
            _domain_entry(d, "[domains] blocked")
            for d in _strings(domains_table, "blocked", "[domains]")
        ),
    )
    attributes = {
        name: _rule(name, table)
        for name, table in _table(document, "attributes", "[attributes]").items()
    }
    if any(rule.kind == "email" for rule in attributes.values()) and not (
        domains.allowed or domains.blocked
    ):
        raise PolicyError("an email attribute needs [domains] allowed or blocked")

    progressive = _table(document, "progressive", "[progressive]")
    _only(progressive, {"updatable"}, "[progressive]")
    updatable = frozenset(_strings(progressive, "updatable", "[progressive]"))
    for name in updatable:
        if not _ATTRIBUTE.fullmatch(name):
            raise PolicyError(f"[progressive] updatable: {name!r} is not an attribute name")

    messages = _table(document, "messages", "[messages]")
    for reason, message in messages.items():
        if not _REASON.fullmatch(reason):
            raise PolicyError(f"[messages] {reason!r} is not a reason code (A-Z, 0-9, _)")
        if not isinstance(message, str) or not message.strip():
            raise PolicyError(f"[messages] {reason} must be a non-empty string")
    for rule in attributes.values():
        if rule.reason not in messages and rule.reason not in BUILTIN_MESSAGES:
            raise PolicyError(
                f"[attributes.{rule.name}] reason {rule.reason} has no [messages] entry"
            )
    return Policy(source, domains, attributes, updatable, dict(messages))


def _rule(name: str, table: object) -> AttributeRule:
    where = f"[attributes.{name}]"
    if not _ATTRIBUTE.fullmatch(name):
        raise PolicyError(f"{where}: not an attribute name")
    if not isinstance(table, dict):
        raise PolicyError(f"{where} must be a table")
    _only(table, {"type", "required", "pattern", "max_length", "reason"}, where)
    kind = table.get("type", "text")
    if kind not in ("text", "email"):
        raise PolicyError(f"{where} type must be 'text' or 'email'")
    required = set()
    for item in _strings(table, "required", where):
        if item not in REQUEST_TYPES:
            raise PolicyError(f"{where} required: {item!r} is not 'registration' or 'progressive'")
        required.add(REQUEST_TYPES[item])
    pattern = None
    if "pattern" in table:
        if not isinstance(table["pattern"], str) or not table["pattern"]:
            raise PolicyError(f"{where} pattern must be a non-empty string")
        try:
            # ASCII: \d and \w mean 0-9 and [A-Za-z0-9_], never other scripts' digits or letters.
            pattern = re.compile(table["pattern"], re.ASCII)
        except re.error as e:
            raise PolicyError(f"{where} pattern is not a valid regular expression: {e}") from None
    max_length = table.get("max_length")
    if max_length is not None and (
        not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 1
    ):
        raise PolicyError(f"{where} max_length must be a positive integer")
    default_reason = "INVALID_EMAIL_DOMAIN" if kind == "email" else "INVALID_ATTRIBUTE"
    reason = table.get("reason", default_reason)
    if not isinstance(reason, str) or not _REASON.fullmatch(reason):
        raise PolicyError(f"{where} reason must be a code of A-Z, 0-9 and _")
    return AttributeRule(name, kind, frozenset(required), pattern, max_length, reason)


def _domain_entry(value: str, where: str) -> str:
    entry = value.strip().lower()
    if not _DOMAIN.fullmatch(entry) or len(entry) > 253:
        raise PolicyError(
            f"{where}: {value!r} is not a domain name (ASCII; use the xn-- form for IDNs)"
        )
    return entry


def _only(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise PolicyError(
            f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})"
        )


def _table(parent: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = parent.get(key, {})
    if not isinstance(value, dict):
        raise PolicyError(f"{where} must be a table")
    return value


def _strings(table: Mapping[str, Any], key: str, where: str) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(f"{where} {key} must be a list of strings")
    return value
