"""A readable account of what a policy allows and denies, per request type."""

from __future__ import annotations

import json

from okta_wire.models import RequestType
from policy import reasons
from policy.loader import Policy
from policy.on_allow import Assignment
from policy.rules import AttributeRule


def describe(policy: Policy) -> list[str]:
    lines = [f"{policy.source}: valid"]
    shadowed = [f"[attributes.{r.name}]" for r in policy.attributes.values() if r.shadow]
    if policy.domains.shadow:
        shadowed.insert(0, "[domains]")
    if policy.shadow:
        lines.append(
            "  SHADOW MODE: every rule is logged, none is enforced; every request is ALLOWED"
        )
    else:
        lines.append(
            f"  rules in shadow mode (logged, not enforced): {', '.join(shadowed) or 'none'}"
        )
    lines.append(f"  email domains: {_domains(policy)}")
    for request_type in RequestType:
        lines.append(f"  {request_type.short} ({request_type.value}):")
        lines += [f"    {line}" for line in _request_type(policy, request_type)]
    lines += _messages(policy)
    return lines


def _domains(policy: Policy) -> str:
    domains = policy.domains
    if not domains.configured:
        return "no rule"
    allowed = ", ".join(domains.allowed) or "any not blocked"
    text = f"allowed {allowed}; blocked {', '.join(domains.blocked) or 'none'}"
    return text + (" (shadow)" if domains.shadow else "")


def _request_type(policy: Policy, request_type: RequestType) -> list[str]:
    lines = []
    if request_type is RequestType.PROGRESSIVE:
        updatable = ", ".join(sorted(policy.updatable)) or "none"
        lines.append(f"updatable: {updatable}; any other attribute: ATTRIBUTE_NOT_UPDATABLE")
    for rule in policy.attributes.values():
        lines.append(f"{rule.name}: {_rule(policy, rule, request_type)}")
    if not policy.attributes:
        lines.append("no attribute rules")
    lines.append("on allow: " + _on_allow(policy, request_type))
    return lines


def _rule(policy: Policy, rule: AttributeRule, request_type: RequestType) -> str:
    progressive = request_type is RequestType.PROGRESSIVE
    if progressive and rule.name not in policy.updatable:
        return "not updatable (a value is denied ATTRIBUTE_NOT_UPDATABLE)"
    parts = []
    if request_type in rule.required:
        parts.append("required unless already on the profile" if progressive else "required")
    else:
        parts.append("optional")
    if rule.normalize:
        parts.append("normalised " + ", ".join(rule.normalize))
    parts.append("text (else INVALID_ATTRIBUTE_TYPE)")
    if rule.max_length is not None:
        parts.append(f"at most {rule.max_length} characters")
    if rule.kind == "email":
        parts.append("an email address (else INVALID_EMAIL) with a domain that passes [domains]")
    if rule.pattern is not None:
        parts.append(f"matches {rule.pattern.pattern}")
    parts.append(f"else {rule.reason}")
    return "; ".join(parts) + (" [SHADOW]" if rule.shadow or policy.shadow else "")


def _on_allow(policy: Policy, request_type: RequestType) -> str:
    rules = policy.attributes.values()
    if request_type is RequestType.REGISTRATION:
        normalised = any(rule.normalize for rule in rules)
        parts = ["normalised values that changed are sent back"] if normalised else []
        command = "com.okta.user.profile.update"
    else:
        normalised = any(r.normalize for r in rules if r.name in policy.updatable)
        parts = ["the updatable values are echoed" + (", normalised" if normalised else "")]
        command = "com.okta.user.progressive.profile.update"
    parts += [_assignment(a) for a in policy.assignments_for(request_type)]
    if not parts:
        return "ALLOW, no update command"
    return f"ALLOW + {command}: " + "; ".join(parts)


def _assignment(assignment: Assignment) -> str:
    if assignment.source is not None:
        return f"sets {assignment.target} to the (normalised) {assignment.source}"
    return f"sets {assignment.target} = {json.dumps(assignment.value, ensure_ascii=False)}"


def _messages(policy: Policy) -> list[str]:
    catalogue = policy.catalogue
    default = catalogue.default_locale
    lines = [f"  messages: default locale {default}; locales {', '.join(sorted(catalogue.tables))}"]
    for reason in sorted(policy.reasons()):
        found = [t for t in sorted(catalogue.tables) if reason in catalogue.tables[t]]
        if reason not in catalogue.tables[default]:
            found.insert(0, f"built-in {reasons.BUILTIN_LOCALE}")
        lines.append(f"    {reason}: {', '.join(found)}")
    if default != reasons.BUILTIN_LOCALE:
        missing = sorted(r for r in reasons.BUILTIN_REASONS if r not in catalogue.tables[default])
        if missing:
            lines.append(
                f"  warning: default locale {default} has no message for {', '.join(missing)}; "
                f"the built-in {reasons.BUILTIN_LOCALE} text is shown"
            )
    lines.append("  note: OKTA_HOOK_ALLOWED_EMAIL_DOMAINS, when set, replaces [domains] allowed")
    return lines
