"""The disposable-address rule: email domains of throwaway-inbox providers, denied on request.

The list is the `disposable-email-domains` package (pinned in requirements.txt), a mirror of the
community-kept list at github.com/disposable-email-domains/disposable-email-domains. It is read
only when a policy turns the rule on, at cold start: about 10,000 names, ~1 MiB.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from typing import Any

from okta_wire.names import REASON
from policy import reasons
from policy.conditions import Condition, Facts, parse_when
from policy.domains import domain_entries
from policy.entries import DomainSet
from policy.outside import ListRef
from policy.schema import Path, PolicyError, boolean, only

PATH: Path = ("disposable_domains",)
KEYS = {"deny", "allowed", "reason", "shadow", "when"}
PACKAGE = "disposable-email-domains"


@dataclass(frozen=True)
class DisposableRule:
    listed: Set[str]
    # Domains of the list this policy lets through all the same.
    allowed: DomainSet | ListRef
    reason: str = reasons.DISPOSABLE_EMAIL_DOMAIN
    shadow: bool = False
    when: Condition | None = None
    source: str = PACKAGE

    def permits(self, domain: str, facts: Facts) -> bool:
        """False for a listed domain or a name under one (`x.mailinator.com`), unless allowed
        (or the list of allowed ones was never read and fails open)."""
        if self.allowed:
            allowed = self.allowed.members(facts)
            if allowed is None or domain in allowed:
                return True
        name = domain
        while True:
            if name in self.listed:
                return False
            _, dot, name = name.partition(".")
            if not dot or "." not in name:
                return True  # a top-level name alone is never listed


def provider_list() -> tuple[Set[str], str]:
    """The listed domains, and the package and version they come from."""
    # Imported only here, when a policy asks for the rule: a cold start without it pays nothing
    # (importlib.metadata alone costs a cold start some 20 ms).
    from importlib import metadata

    from disposable_email_domains import blocklist

    return blocklist, f"{PACKAGE} {metadata.version(PACKAGE)}"


def parse_disposable(table: Mapping[str, Any]) -> DisposableRule | None:
    if not table:
        return None
    only(table, KEYS, PATH)
    if "deny" not in table:
        raise PolicyError("[disposable_domains] needs deny = true to turn the rule on", PATH)
    if not boolean(table, "deny", PATH):
        return None
    reason = table.get("reason", reasons.DISPOSABLE_EMAIL_DOMAIN)
    if not isinstance(reason, str) or not REASON.fullmatch(reason):
        raise PolicyError(
            "[disposable_domains] reason must be a code of A-Z, 0-9 and _", (*PATH, "reason")
        )
    allowed = domain_entries(table, "allowed", PATH)
    listed, source = provider_list()
    return DisposableRule(
        listed=listed,
        allowed=allowed,
        reason=reason,
        shadow=boolean(table, "shadow", PATH),
        when=parse_when(table, "when", PATH),
        source=source,
    )
