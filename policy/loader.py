"""The decision policy: read once from a TOML file, checked whole before the first request."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from okta_wire.models import RequestType
from policy import reasons
from policy.catalogue import Catalogue, parse_catalogue
from policy.domains import Domains, domain_entry, parse_domains
from policy.on_allow import Assignment, parse_assignments
from policy.policy_lines import line_of, syntax_error_line
from policy.rules import AttributeRule, parse_rule
from policy.schema import PolicyError, attribute_name, boolean, only, strings, table

__all__ = ["AttributeRule", "Domains", "Policy", "PolicyError", "load_policy", "parse_policy"]

TOP_LEVEL = {
    "shadow", "default_locale", "domains", "attributes", "progressive", "set", "derive", "messages",
    "version",
}  # fmt: skip


@dataclass(frozen=True)
class Policy:
    source: str
    domains: Domains
    attributes: Mapping[str, AttributeRule]
    updatable: frozenset[str]
    catalogue: Catalogue
    assignments: tuple[Assignment, ...] = ()
    # Every rule in shadow mode: failures are logged, never enforced.
    shadow: bool = False
    # What the policy says it is, e.g. "2024-06-01": shown in logs and Okta's System Log.
    version: str | None = None

    def message(self, reason: str) -> str:
        """The message for `reason` in the default locale."""
        return self.catalogue.messages()(reason)

    def reasons(self) -> frozenset[str]:
        """Every reason code a decision under this policy can carry."""
        return reasons.BUILTIN_REASONS | {rule.reason for rule in self.attributes.values()}

    def assignments_for(self, request_type: RequestType) -> tuple[Assignment, ...]:
        return tuple(a for a in self.assignments if request_type in a.on)

    def with_allowed_domains(self, allowed: Iterable[str]) -> Policy:
        entries = tuple(domain_entry(d, "OKTA_HOOK_ALLOWED_EMAIL_DOMAINS") for d in allowed)
        domains = dataclasses.replace(self.domains, allowed=entries)
        return dataclasses.replace(self, domains=domains)


def load_policy(path: Path) -> Policy:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as e:
        raise PolicyError(f"{path}: cannot read: {e.__class__.__name__}") from None
    return parse_policy(text, str(path))


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    """The policy in `text`; a `PolicyError` reads `source:line: what is wrong`."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        at_line = syntax_error_line(e, text)
        raise PolicyError(f"{source}:{at_line}: not valid TOML: {e}", line=at_line) from None
    try:
        return _build(document, source)
    except PolicyError as e:
        line = line_of(text, e.at)
        prefix = f"{source}:{line}" if line is not None else source
        raise PolicyError(f"{prefix}: {e}", e.at, line) from None


def _build(document: dict[str, Any], source: str) -> Policy:
    only(document, TOP_LEVEL, ())
    domains = parse_domains(table(document, "domains", ()))
    attributes = {
        name: parse_rule(name, entry) for name, entry in table(document, "attributes", ()).items()
    }
    for rule in attributes.values():
        if rule.kind == "email" and not domains.configured:
            raise PolicyError(
                "an email attribute needs [domains] allowed or blocked",
                ("attributes", rule.name, "type"),
            )
    progressive = table(document, "progressive", ())
    only(progressive, {"updatable"}, ("progressive",))
    updatable = frozenset(
        attribute_name(name, ("progressive", "updatable"))
        for name in strings(progressive, "updatable", ("progressive",))
    )
    catalogue = parse_catalogue(document)
    for rule in attributes.values():
        if not catalogue.has_default(rule.reason):
            raise PolicyError(
                f"[attributes.{rule.name}] reason {rule.reason} has no [messages] entry",
                ("attributes", rule.name, "reason"),
            )
    assignments = parse_assignments(document)
    for assignment in assignments:
        _check_assignment(assignment, attributes, updatable)
    return Policy(
        source=source,
        domains=domains,
        attributes=attributes,
        updatable=updatable,
        catalogue=catalogue,
        assignments=assignments,
        shadow=boolean(document, "shadow", ()),
        version=_version(document),
    )


_VERSION = re.compile(r"[A-Za-z0-9._+-]{1,64}")


def _version(document: Mapping[str, Any]) -> str | None:
    value = document.get("version")
    if value is None:
        return None
    if not isinstance(value, str) or not _VERSION.fullmatch(value):
        raise PolicyError(
            "version must be 1 to 64 letters, digits, '.', '_', '+' or '-'", ("version",)
        )
    return value


def _check_assignment(
    assignment: Assignment, attributes: Mapping[str, AttributeRule], updatable: frozenset[str]
) -> None:
    section = "set" if assignment.source is None else "derive"
    name = f"[{section}.{assignment.target}]"
    if assignment.target in attributes:
        raise PolicyError(
            f"{name}: {assignment.target} also has [attributes.{assignment.target}]; a value "
            "set on allow replaces the submitted one, so a rule on it would judge nothing stored",
            (section, assignment.target),
        )
    if RequestType.PROGRESSIVE in assignment.on and assignment.target not in updatable:
        raise PolicyError(
            f"{name} on progressive: {assignment.target} is not in [progressive] updatable",
            (section, assignment.target, "on"),
        )
