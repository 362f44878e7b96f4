"""Checks of one submitted value against its attribute rule; each failure is a reason code."""

from __future__ import annotations

import re

from handlers.policy import AttributeRule, Domains

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.ASCII)


def is_blank(value: object) -> bool:
    """Missing, null or an empty string: the field was not filled in."""
    return value is None or value == ""


def email_domain(value: str) -> str | None:
    """The lower-cased domain of a well-formed address, or None when it is not one."""
    local, at, domain = value.partition("@")
    if not at or "@" in domain or not local or len(local) > 64:
        return None
    if any(ch.isspace() or not ch.isprintable() for ch in local):
        return None
    # Only ASCII domains: a lookalike in another script must never pass for an allowed name.
    if not domain.isascii() or len(domain) > 253:
        return None
    domain = domain.lower()
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        return None
    return domain


def check(rule: AttributeRule, value: object, domains: Domains) -> str | None:
    """None when `value` passes `rule`, else the reason code of the failure."""
    if not isinstance(value, str):
        return "INVALID_ATTRIBUTE_TYPE"
    if rule.max_length is not None and len(value) > rule.max_length:
        return rule.reason
    if rule.kind == "email":
        domain = email_domain(value)
        if domain is None:
            return "INVALID_EMAIL"
        if not domains.permits(domain):
            return rule.reason
    if rule.pattern is not None and not rule.pattern.fullmatch(value):
        return rule.reason
    return None
