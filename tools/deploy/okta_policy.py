"""--okta-policy NAME: the hook attached to that user profile policy through Okta's Policies API,
with what the policy needs (sign-up, progressive profiling, the form inputs); the change shown
before it is made. Okta keeps these on the policy's one rule, `actions.profileEnrollment`."""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import quote

from tools.deploy.okta_api import OktaApi
from tools.deploy.output import Refused, say
from tools.okta_steps import OktaSteps

POLICIES = "/api/v1/policies"
KIND = "PROFILE_ENROLLMENT"
# Okta's limit on a profile enrollment form.
MAX_INPUTS = 10
# Set by Okta; never sent back.
READ_ONLY = ("id", "created", "lastUpdated", "_links")
NEW_HOOK = "<the new hook's id>"


class PolicyStep:
    def __init__(self, okta: OktaApi, steps: OktaSteps, policy_name: str) -> None:
        self._okta = okta
        self._steps = steps
        self._name = policy_name

    def run(self, hook_id: str) -> None:
        """Attach the hook (`hook_id`, or "" when it does not exist yet: a dry run)."""
        policy = self._find_policy()
        if policy is None:  # a plan: nothing read
            self._plan(hook_id)
            return
        rule = self._rule(policy["id"])
        body, changes = attached(rule, hook_id or NEW_HOOK, self._steps)
        where = f'user profile policy "{self._name}" ({policy["id"]}), rule "{rule.get("name")}"'
        if not changes:
            say(f"{where}: already runs this hook with the form inputs the policy needs")
            return
        say(f"{where}: changes")
        for line in changes:
            say(f"  {line}")
        path = f"{POLICIES}/{policy['id']}/rules/{rule['id']}"
        answer = self._okta.send("PUT", path, lambda: (json.dumps(body, indent=2) + "\n").encode())
        if answer is None:
            say("body (the rule as read from Okta, with the changes above):")
            say(json.dumps(body, indent=2))
        elif answer.status != "200":
            raise answer.failure(f"the rule of user profile policy {self._name}")
        else:
            say(f"user profile policy {self._name}: updated")

    def _find_policy(self) -> dict[str, Any] | None:
        listing = self._okta.read(f"{POLICIES}?type={KIND}&q={quote(self._name, safe='')}")
        if listing.planned:
            return None
        if listing.status != "200" or not isinstance(listing.document, list):
            raise listing.failure("the list of user profile policies")
        found = [p for p in listing.document if isinstance(p, dict) and p.get("name") == self._name]
        if len(found) != 1:
            named = sorted(str(p.get("name")) for p in listing.document if isinstance(p, dict))
            have = f" (those whose name starts so: {', '.join(named)})" if named else ""
            count = "no" if not found else str(len(found))
            raise Refused(f"Okta has {count} user profile policies named {self._name!r}{have}")
        return found[0]

    def _rule(self, policy_id: str) -> dict[str, Any]:
        listing = self._okta.read(f"{POLICIES}/{policy_id}/rules")
        if listing.status != "200" or not isinstance(listing.document, list):
            raise listing.failure(f"the rules of user profile policy {self._name}")
        rules = [r for r in listing.document if isinstance(r, dict) and r.get("type") == KIND]
        if len(rules) != 1:
            raise Refused(
                f"user profile policy {self._name} has {len(rules)} rules; Okta gives it one"
            )
        return rules[0]

    def _plan(self, hook_id: str) -> None:
        """Nothing is read in a plan: the rule's members deploy sets, whatever it holds."""
        path = f"{POLICIES}/<policy id>/rules/<rule id>"
        self._okta.read(f"{POLICIES}/<policy id>/rules")
        body, _ = attached({"actions": {"profileEnrollment": {}}}, hook_id, self._steps)
        self._okta.send("PUT", path, lambda: b"")
        say("body: the rule as read from Okta, these members set (an input already there is")
        say("kept, and stays required if it is; no input is removed):")
        say(json.dumps(body, indent=2))


def attached(
    rule: dict[str, Any], hook_id: str, steps: OktaSteps
) -> tuple[dict[str, Any], list[str]]:
    """The body of `PUT /api/v1/policies/{id}/rules/{ruleId}`: the rule as Okta gave it, with this
    hook and what the policy needs; and each change, a line. Nothing the org has is relaxed: an
    input already required stays so, other inputs stay. Read-only members are left out, and so
    is a null where Okta's schema declares none (absent means the same in a replace)."""
    body = {k: v for k, v in copy.deepcopy(rule).items() if k not in READ_ONLY and v is not None}
    actions = body.setdefault("actions", {})
    old = actions.get("profileEnrollment") or {}
    enrollment = {k: v for k, v in old.items() if v is not None}
    actions["profileEnrollment"] = enrollment
    changes = []
    hooks = [{"inlineHookId": hook_id}]
    if enrollment.get("preRegistrationInlineHooks") != hooks:
        before = [h.get("inlineHookId") for h in old.get("preRegistrationInlineHooks") or []]
        changes.append(f"inline hook: {', '.join(map(str, before)) or 'none'} -> {hook_id}")
        enrollment["preRegistrationInlineHooks"] = hooks
    signup = steps.registration or not steps.progressive
    if signup and enrollment.get("unknownUserAction") != "REGISTER":
        changes.append(
            "self-service registration: "
            f"{enrollment.get('unknownUserAction') or 'unset'} -> REGISTER (Allowed)"
        )
        enrollment["unknownUserAction"] = "REGISTER"
    if steps.progressive and enrollment.get("progressiveProfilingAction") != "ENABLED":
        was = enrollment.get("progressiveProfilingAction") or "unset"
        changes.append(f"progressive profiling: {was} -> ENABLED")
        enrollment["progressiveProfilingAction"] = "ENABLED"
    inputs = [dict(i) for i in enrollment.get("profileAttributes") or [] if isinstance(i, dict)]
    by_name = {i.get("name"): i for i in inputs}
    for wanted in steps.inputs:
        have = by_name.get(wanted.name)
        if have is None:
            need = "required" if wanted.required else "optional"
            changes.append(f"form input {wanted.name} ({wanted.label}): added, {need}")
            inputs.append({"name": wanted.name, "label": wanted.label, "required": wanted.required})
        elif wanted.required and have.get("required") is not True:
            changes.append(f"form input {wanted.name}: optional -> required")
            have["required"] = True
    if len(inputs) > MAX_INPUTS:
        raise Refused(f"the form would have {len(inputs)} inputs; Okta takes at most {MAX_INPUTS}")
    if inputs != (old.get("profileAttributes") or []):
        enrollment["profileAttributes"] = inputs
    return body, changes
