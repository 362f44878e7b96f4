"""The decision policy: read once from a TOML file, checked whole before the first request."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from okta_wire.models import RequestType
from policy import reasons
from policy.catalogue import Catalogue, parse_catalogue
from policy.checks import email_checks
from policy.cross_checks import check_assignment, check_conditions
from policy.directory_rules import DirectoryRule, parse_directory
from policy.disposable import DisposableRule, parse_disposable
from policy.domains import Domains, domain_set, parse_domains
from policy.list_tables import PolicyList, parse_lists
from policy.network import NetworkRule, parse_network
from policy.on_allow import Assignment, parse_assignments
from policy.outside_checks import check_directory, check_lists, list_uses
from policy.policy_lines import line_of, syntax_error_line
from policy.rules import AttributeRule, Check, parse_rule
from policy.schema import Path as KeyPath
from policy.schema import PolicyError, attribute_name, boolean, only, strings, table

__all__ = ["AttributeRule", "Domains", "Policy", "PolicyError", "load_policy", "parse_policy"]

TOP_LEVEL = {
    "shadow", "default_locale", "domains", "attributes", "progressive", "set", "derive",
    "messages", "network", "disposable_domains", "version", "lists", "directory",
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
    network: NetworkRule | None = None
    disposable: DisposableRule | None = None
    # What the policy says it is, e.g. "2024-06-01": shown in logs and Okta's System Log.
    version: str | None = None
    # Lists kept outside the policy ([lists.NAME]) and lookups in the company's directory.
    lists: Mapping[str, PolicyList] = dataclasses.field(default_factory=dict)
    directory: tuple[DirectoryRule, ...] = ()

    def message(self, reason: str) -> str:
        """The message for `reason` in the default locale."""
        return self.catalogue.messages()(reason)

    def reasons(self) -> frozenset[str]:
        """Every reason code a decision under this policy can carry."""
        found = {rule.reason for rule in self.attributes.values()}
        found |= {check.reason for rule in self.attributes.values() for check in rule.checks}
        if self.network is not None:
            found.add(self.network.reason)
        for lookup in self.directory:
            found.update(lookup.reasons())
        return (reasons.BUILTIN_REASONS - reasons.RULE_REASONS) | found

    def assignments_for(self, request_type: RequestType) -> tuple[Assignment, ...]:
        return self._assignments_by_type[request_type]

    @cached_property
    def _assignments_by_type(self) -> dict[RequestType, tuple[Assignment, ...]]:
        return {t: tuple(a for a in self.assignments if t in a.on) for t in RequestType}

    def directory_for(self, request_type: RequestType) -> tuple[DirectoryRule, ...]:
        return self._directory_by_type[request_type]

    @cached_property
    def _directory_by_type(self) -> dict[RequestType, tuple[DirectoryRule, ...]]:
        return {t: tuple(r for r in self.directory if t in r.on) for t in RequestType}

    @property
    def reads_outside(self) -> tuple[str, ...]:
        """Every list location and directory secret the policy names: what the function must be
        allowed to read."""
        found = [entry.location for entry in self.lists.values()]
        found += [rule.auth.secret for rule in self.directory if rule.auth.secret]
        return tuple(dict.fromkeys(found))

    def with_allowed_domains(self, allowed: Iterable[str]) -> Policy:
        entries = domain_set(list(allowed), "OKTA_HOOK_ALLOWED_EMAIL_DOMAINS", ())
        domains = dataclasses.replace(self.domains, allowed=entries)
        attributes = {
            name: _with_email_checks(rule, domains, self.disposable)
            for name, rule in self.attributes.items()
        }
        return dataclasses.replace(self, domains=domains, attributes=attributes)

    def rule_keys(self) -> list[KeyPath]:
        """Every rule of the policy that a request can pass or fail, by its key: what the cases
        must each see both ways."""
        found: list[KeyPath] = []
        for rule in self.attributes.values():
            path = ("attributes", rule.name)
            for key, present in (("when", rule.when), ("required_when", rule.required_when)):
                if present is not None:
                    found.append((*path, key))
            if rule.required:
                found.append((*path, "required"))
            found.append((*path, "type"))
            for check in rule.checks:
                if check.when is not None:
                    found.append((*check.at[:-1], "when"))
                found.append(check.at)
        if self.network is not None:
            if self.network.when is not None:
                found.append(("network", "when"))
            found += [
                ("network", key) for key in ("blocked", "allowed") if getattr(self.network, key)
            ]
        if self.updatable:
            found.append(("progressive", "updatable"))
        for lookup in self.directory:
            if lookup.when is not None:
                found.append(("directory", lookup.name, "when"))
            found.append(("directory", lookup.name))
        return list(dict.fromkeys(found))


# A policy is read whole at every cold start; the shipped ones are a few KiB.
MAX_POLICY_BYTES = 1024 * 1024


def load_policy(path: Path) -> Policy:
    try:
        with path.open("rb") as file:
            data = file.read(MAX_POLICY_BYTES + 1)
        text = data.decode("utf-8")
    except (OSError, UnicodeError) as e:
        raise PolicyError(f"{path}: cannot read: {e.__class__.__name__}") from None
    if len(data) > MAX_POLICY_BYTES:
        raise PolicyError(f"{path}: cannot read: over {MAX_POLICY_BYTES // 1024} KiB")
    return parse_policy(text, str(path))


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    """The policy in `text`; a `PolicyError` reads `source:line: what is wrong`. Whatever the
    text, nothing else is raised: a policy is configuration, refused with a message."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        at_line = syntax_error_line(e, text)
        raise PolicyError(f"{source}:{at_line}: not valid TOML: {e}", line=at_line) from None
    except RecursionError:
        raise PolicyError(f"{source}: not valid TOML: nested too deeply") from None
    try:
        return _build(document, source)
    except PolicyError as e:
        line = line_of(text, e.at)
        prefix = f"{source}:{line}" if line is not None else source
        raise PolicyError(f"{prefix}: {e}", e.at, line) from None
    except Exception as e:  # a refusal, never a traceback, whatever slipped through
        raise PolicyError(
            f"{source}: refused: a value the loader could not take ({e.__class__.__name__})"
        ) from None


def _build(document: dict[str, Any], source: str) -> Policy:
    only(document, TOP_LEVEL, ())
    lists = parse_lists(table(document, "lists", ()))
    base = Path(source).parent if source != "<policy>" else None
    directory = parse_directory(table(document, "directory", ()), base)
    domains = parse_domains(table(document, "domains", ()))
    disposable = parse_disposable(table(document, "disposable_domains", ()))
    attributes = {
        name: parse_rule(name, entry) for name, entry in table(document, "attributes", ()).items()
    }
    emails = [rule for rule in attributes.values() if rule.is_email]
    for rule in emails:
        if not domains.configured and disposable is None:
            raise PolicyError(
                "an email attribute needs [domains] allowed or blocked, or [disposable_domains]",
                ("attributes", rule.name, "type"),
            )
    if disposable is not None and not emails:
        raise PolicyError(
            '[disposable_domains] can never apply: no attribute has type = "email"',
            ("disposable_domains",),
        )
    attributes = {
        name: _with_email_checks(rule, domains, disposable) for name, rule in attributes.items()
    }
    progressive = table(document, "progressive", ())
    only(progressive, {"updatable"}, ("progressive",))
    updatable = frozenset(
        attribute_name(name, ("progressive", "updatable"))
        for name in strings(progressive, "updatable", ("progressive",))
    )
    network = parse_network(table(document, "network", ()))
    catalogue = parse_catalogue(document)
    policy = Policy(
        source=source,
        domains=domains,
        attributes=attributes,
        updatable=updatable,
        catalogue=catalogue,
        assignments=parse_assignments(document),
        shadow=boolean(document, "shadow", ()),
        network=network,
        disposable=disposable,
        version=_version(document),
        lists=lists,
        directory=directory,
    )
    _check_messages(policy)
    for assignment in policy.assignments:
        check_assignment(assignment, attributes, updatable)
    check_conditions(attributes, updatable, network, disposable, directory)
    check_lists(lists, list_uses(domains, disposable, network, attributes, directory))
    check_directory(directory, attributes, updatable, policy.assignments)
    return policy


def _with_email_checks(
    rule: AttributeRule, domains: Domains, disposable: DisposableRule | None
) -> AttributeRule:
    if not rule.is_email:
        return rule
    return dataclasses.replace(rule, checks=email_checks(rule, domains, disposable) + own(rule))


def own(rule: AttributeRule) -> tuple[Check, ...]:
    """The checks the attribute's own table and [[rules]] give (not those of the email type)."""
    return tuple(
        check
        for check in rule.checks
        if check.at[0] == "attributes" and check.at[2:] != ("type", "email")
    )


def _check_messages(policy: Policy) -> None:
    catalogue = policy.catalogue
    for rule in policy.attributes.values():
        for reason, at in [(rule.reason, ("attributes", rule.name, "reason"))] + [
            (check.reason, (*check.at[:-1], "reason")) for check in own(rule)
        ]:
            if not catalogue.has_default(reason):
                raise PolicyError(
                    f"[{'.'.join(at[:-1])}] reason {reason} has no [messages] entry", at
                )
    others: list[tuple[tuple[str, ...], str | None]] = [
        (("network", "reason"), policy.network.reason if policy.network else None),
        (
            ("disposable_domains", "reason"),
            policy.disposable.reason if policy.disposable else None,
        ),
    ]
    for lookup in policy.directory:
        keys = ("mismatch_reason", "not_found_reason", "unavailable_reason")
        others += [
            (("directory", lookup.name, key), code)
            for key, code in zip(keys, lookup.reasons(), strict=True)
        ]
    for at, code in others:
        if code is not None and not catalogue.has_default(code):
            raise PolicyError(f"[{'.'.join(at[:-1])}] {at[-1]} {code} has no [messages] entry", at)


VERSION = re.compile(r"[A-Za-z0-9._+-]{1,64}")


def _version(document: Mapping[str, Any]) -> str | None:
    value = document.get("version")
    if value is None:
        return None
    if not isinstance(value, str) or not VERSION.fullmatch(value):
        raise PolicyError(
            "version must be 1 to 64 letters, digits, '.', '_', '+' or '-'", ("version",)
        )
    return value
