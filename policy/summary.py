"""A readable account of what a policy allows and denies, per request type."""

from __future__ import annotations

import json

from okta_wire.models import RequestType
from policy import reasons, value_types
from policy.directory_rules import DirectoryRule
from policy.loader import Policy
from policy.on_allow import Assignment
from policy.rules import AttributeRule, Check


def describe(policy: Policy) -> list[str]:
    lines = [f"{policy.source}: valid"]
    shadowed = []
    for rule in policy.attributes.values():
        if rule.shadow:
            shadowed.append(f"[attributes.{rule.name}]")
            continue
        shadowed += [
            f"[attributes.{rule.name}] {check.text}"
            for check in rule.checks
            if check.shadow and check.at[0] == "attributes"
        ]
    if policy.domains.shadow:
        shadowed.insert(0, "[domains]")
    if policy.network is not None and policy.network.shadow:
        shadowed.append("[network]")
    if policy.disposable is not None and policy.disposable.shadow:
        shadowed.append("[disposable_domains]")
    shadowed += [f"[directory.{rule.name}]" for rule in policy.directory if rule.shadow]
    if policy.shadow:
        lines.append(
            "  SHADOW MODE: every rule is logged, none is enforced; every request is ALLOWED"
        )
    else:
        lines.append(
            f"  rules in shadow mode (logged, not enforced): {', '.join(shadowed) or 'none'}"
        )
    lines.append(f"  email domains: {_domains(policy)}")
    lines.append(f"  disposable addresses: {_disposable(policy)}")
    lines.append(f"  network: {_network(policy)}")
    lines += _lists(policy)
    lines += [f"  directory {rule.name}: {_lookup(rule)}" for rule in policy.directory]
    for request_type in RequestType:
        lines.append(f"  {request_type.short} ({request_type.value}):")
        lines += [f"    {line}" for line in _request_type(policy, request_type)]
    lines += _messages(policy)
    return lines


def _domains(policy: Policy) -> str:
    domains = policy.domains
    if not domains.configured:
        return "no rule"
    allowed = ", ".join(domains.allowed.written) or "any not blocked"
    text = f"allowed {allowed}; blocked {', '.join(domains.blocked.written) or 'none'}"
    return text + (" (shadow)" if domains.shadow else "")


def _disposable(policy: Policy) -> str:
    rule = policy.disposable
    if rule is None:
        return "no rule"
    text = f"denied ({len(rule.listed)} domains of {rule.source}), else {rule.reason}"
    if rule.allowed:
        text += f"; allowed all the same: {', '.join(rule.allowed.written)}"
    if rule.when is not None:
        text += f"; only when {rule.when.text()}"
    return text + (" (shadow)" if rule.shadow else "")


def _network(policy: Policy) -> str:
    rule = policy.network
    if rule is None:
        return "no rule"
    parts = []
    if rule.blocked:
        parts.append(
            f"blocked {', '.join(rule.blocked.written)} (an absent address passes, "
            "a malformed one is denied)"
        )
    if rule.allowed:
        parts.append(
            f"allowed only {', '.join(rule.allowed.written)} (an absent or malformed address is "
            "denied)"
        )
    text = "; ".join(parts) + f"; else {rule.reason} on {rule.attribute}"
    if rule.when is not None:
        text += f"; only when {rule.when.text()}"
    return text + (" (shadow)" if rule.shadow else "")


def _lists(policy: Policy) -> list[str]:
    lines = []
    for entry in policy.lists.values():
        settings = entry.settings
        fails = (
            "a rule using it allows (logged) while it was never read"
            if entry.fail_open
            else "503 while it was never read (Okta retries)"
        )
        lines.append(
            f"  list {entry.name}: {entry.kind} from {entry.location} "
            f"({settings.layout.describe()}; read at cold start, then every "
            f"{settings.refresh_seconds:g} s; a new version may shrink by "
            f"{settings.max_shrink:.0%} at most; {fails})"
        )
    return lines


def _lookup(rule: DirectoryRule) -> str:
    settings = rule.settings
    on = " and ".join(sorted(t.short for t in rule.on))
    parts = [f"{settings.method} {settings.url.text} on {on}"]
    if rule.when is not None:
        parts.append(f"only when {rule.when.text()}")
    parts.append(
        f"found {', '.join(map(str, sorted(settings.found)))}, "
        f"not found {', '.join(map(str, sorted(settings.not_found)))}"
    )
    parts += [
        f"{m.field} must equal {m.path.text}" + (" (any case)" if m.ignore_case else "")
        for m in settings.match
    ]
    parts += [f"copies {target} from {path.text}" for target, path in settings.copy.items()]
    parts.append(rule.auth.describe())
    parts.append(
        f"timeout {settings.timeout_seconds:g} s; answers kept {settings.positive_ttl_seconds:g} s "
        f"(not found: {settings.negative_ttl_seconds:g} s)"
    )
    parts.append(
        "no answer: allowed (logged)"
        if settings.fail_open
        else "no answer: 503, then DENY while the directory is failing"
    )
    parts.append(f"else {'/'.join(rule.reasons())} on {rule.attribute}")
    return "; ".join(parts) + (" (shadow)" if rule.shadow else "")


def _request_type(policy: Policy, request_type: RequestType) -> list[str]:
    lines = []
    if request_type is RequestType.PROGRESSIVE:
        updatable = ", ".join(sorted(policy.updatable)) or "none"
        lines.append(f"updatable: {updatable}; any other attribute: ATTRIBUTE_NOT_UPDATABLE")
    for rule in policy.attributes.values():
        lines.append(f"{rule.name}: {_rule(policy, rule, request_type)}")
    if not policy.attributes:
        lines.append("no attribute rules")
    lines.append(
        "an attribute with no rule: stored as sent; an object or an array of arrays or objects"
        " (no profile attribute holds one): INVALID_ATTRIBUTE_TYPE"
    )
    lines.append("on allow: " + _on_allow(policy, request_type))
    return lines


def _rule(policy: Policy, rule: AttributeRule, request_type: RequestType) -> str:
    progressive = request_type is RequestType.PROGRESSIVE
    if progressive and rule.name not in policy.updatable:
        if request_type in rule.required:
            return "not updatable; required on the profile (else MISSING_ATTRIBUTE)"
        return "not updatable (a value is denied ATTRIBUTE_NOT_UPDATABLE)"
    parts = []
    if rule.when is not None:
        parts.append(f"only when {rule.when.text()}")
    if request_type in rule.required:
        parts.append("required unless already on the profile" if progressive else "required")
        if rule.required_when is not None:
            parts[-1] += f" when {rule.required_when.text()}"
    else:
        parts.append("optional")
    if rule.normalize:
        parts.append("normalised " + ", ".join(rule.normalize))
    parts.append(f"{value_types.describe(rule.kind, rule.items)} (else INVALID_ATTRIBUTE_TYPE)")
    parts += [_check(check, rule.shadow) for check in rule.checks]
    return "; ".join(parts) + (" [SHADOW]" if rule.shadow or policy.shadow else "")


def _check(check: Check, whole_rule_shadowed: bool) -> str:
    text = f"{check.text} (else {check.reason})"
    if check.when is not None:
        text += f" when {check.when.text()}"
    return text + (" [shadow]" if check.shadow and not whole_rule_shadowed else "")


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
    parts += [
        f"copies {', '.join(rule.copies)} from directory {rule.name}"
        for rule in policy.directory_for(request_type)
        if rule.copies
    ]
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
