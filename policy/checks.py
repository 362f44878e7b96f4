"""Checks of one submitted value against its attribute rule; each failure is a reason code."""

from __future__ import annotations

import re
from dataclasses import dataclass

from policy import reasons
from policy.domains import Domains
from policy.rules import AttributeRule

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.ASCII)


@dataclass(frozen=True)
class Failure:
    attribute: str
    reason: str
    # A failure of a rule in shadow mode: logged as a would-be denial, not enforced.
    shadow: bool = False


def is_absent(value: object) -> bool:
    """Missing, null or an empty string: the field was not filled in."""
    return value is None or value == ""


def is_blank(value: object) -> bool:
    """Absent, or text with no visible character (white space, zero-width or other invisible
    characters): no value a required attribute could hold. An optional attribute sent such text
    is still judged by its rule."""
    if is_absent(value):
        return True
    return isinstance(value, str) and not any(c.isprintable() and not c.isspace() for c in value)


def email_domain(value: str) -> str | None:
    """The lower-cased domain of a well-formed address, or None when it is not one."""
    local, at, domain = value.partition("@")
    if not at or "@" in domain or not local or len(local) > 64:
        return None
    # Every white space character but " " is also unprintable: one scan in C, not a loop here.
    if " " in local or not local.isprintable():
        return None
    # Only ASCII domains: a lookalike in another script must never pass for an allowed name.
    if not domain.isascii() or len(domain) > 253:
        return None
    domain = domain.lower()
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        return None
    return domain


def check(rule: AttributeRule, value: object, domains: Domains) -> Failure | None:
    """None when `value` passes `rule`, else the failure."""

    def failure(reason: str, shadow: bool = rule.shadow) -> Failure:
        return Failure(rule.name, reason, shadow)

    if not isinstance(value, str):
        return failure(reasons.INVALID_ATTRIBUTE_TYPE)
    if rule.max_length is not None and len(value) > rule.max_length:
        return failure(rule.reason)
    if rule.kind == "email":
        domain = email_domain(value)
        if domain is None:
            return failure(reasons.INVALID_EMAIL)
        if not domains.permits(domain):
            return failure(rule.reason, rule.shadow or domains.shadow)
    if rule.pattern is not None and not rule.pattern.fullmatch(value):
        return failure(rule.reason)
    return None


def missing(rule: AttributeRule) -> Failure:
    return Failure(rule.name, reasons.MISSING_ATTRIBUTE, rule.shadow)
