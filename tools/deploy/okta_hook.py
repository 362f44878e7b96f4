"""The Okta inline hook: created or updated through Okta's API (and activated, attached to a user
profile policy, checked through Okta), or its body printed for the Admin Console; then the Okta
set-up the policy needs."""

from __future__ import annotations

import json

from policy.loader import Policy
from tools.deploy.okta_api import OktaApi
from tools.deploy.okta_policy import NEW_HOOK, PolicyStep
from tools.deploy.okta_verify import verify
from tools.deploy.options import Options
from tools.deploy.output import Refused, say, step
from tools.deploy.runner import Runner
from tools.deploy.secret_inputs import SecretInputs
from tools.okta_inline_hook import HookInputError, HookSpec, find
from tools.okta_steps import okta_steps

HOOKS = "/api/v1/inlineHooks"
PLANNED_HOOK = "<hook id>"
BODY_FOLLOWS = """\
Body for Okta's POST /api/v1/inlineHooks (placeholders where secrets go; run again
with OKTA_ORG_URL, OKTA_API_TOKEN and --create-okta-hook to have it created):"""
IN_THE_CONSOLE = """\
Or in the Admin Console: Workflow > Inline Hooks > Add Inline Hook > Registration; URL as
above; """
CONSOLE_AUTH = {
    "basic": "Authentication field Authorization; secret: Basic <base64 of a line>.",
    "oauth-client-secret": "OAuth 2.0, Use client secret, client id, token URL, scope.",
    "oauth-private-key": "OAuth 2.0, Use private key, client id, key, token URL, scope.",
}


def hook_spec(o: Options, url: str) -> HookSpec:
    if o.auth == "basic":
        return HookSpec(mode=o.auth, name=o.okta_hook_name, uri=url, hook_key_id=o.hook_key_id)
    return HookSpec(
        mode=o.auth,
        name=o.okta_hook_name,
        uri=url,
        client_id=o.client_id.split(",")[0],
        token_url=o.token_url,
        scope=o.scopes,
        hook_key_id=o.hook_key_id,
    )


class HookStep:
    def __init__(
        self,
        o: Options,
        runner: Runner,
        secrets: SecretInputs,
        basic_secret: str,
        policy: Policy,
    ) -> None:
        self._o = o
        self._runner = runner
        self._secrets = secrets
        self._basic_secret = basic_secret
        self._policy = policy
        self._steps = okta_steps(policy)

    def run(self, url: str, okta: OktaApi | None, *, basic_changed: bool, redeployed: bool) -> None:
        o = self._o
        step(f'Okta inline hook "{o.okta_hook_name}"')
        spec = hook_spec(o, url)
        if okta is None:
            say(BODY_FOLLOWS)
            say(json.dumps(spec.body(), indent=2))
            say(IN_THE_CONSOLE + CONSOLE_AUTH[o.auth])
            say()
            self._okta_steps(automated=False)
            return
        say(f"Okta org {okta.access.org_url}, signed in with: {okta.access.how}")
        if self._runner.plan:
            okta.plan_token_request()
        hook_id = self._create_or_update(
            spec, okta, basic_changed=basic_changed, redeployed=redeployed
        )
        if o.okta_policy:
            step(f'User profile policy "{o.okta_policy}"')
            PolicyStep(okta, self._steps, o.okta_policy).run(hook_id)
        if not o.skip_okta_verify:
            step("The hook through Okta (POST /api/v1/inlineHooks/{id}/execute)")
            verify(okta, hook_id or NEW_HOOK, self._policy)
        say()
        self._okta_steps(automated=bool(o.okta_policy))

    def _okta_steps(self, *, automated: bool) -> None:
        name = self._o.okta_hook_name
        lines = self._steps.lines(name)
        if automated:
            # The Policies API has no "Run this hook", nor the Profile Editor's permissions.
            say("Left to do in the Admin Console (Okta's Policies API does not set these):")
            say(f"  Security > User Profile Policies > {self._o.okta_policy} > Enrollment:")
            say(f"    Run this hook: {self._steps.run_this_hook}")
            lines = [line for line in lines if "Profile Editor" in line or "warning:" in line]
        for line in lines:
            say(line)
        say(f"Check it: Workflow > Inline Hooks > {name} > Preview.")

    def _create_or_update(
        self, spec: HookSpec, okta: OktaApi, *, basic_changed: bool, redeployed: bool
    ) -> str:
        """The hook's id in Okta, once it is current and active: "" when a dry run would create
        it, a placeholder in a plan."""
        o = self._o
        listing = okta.read(f"{HOOKS}?type=com.okta.user.pre-registration")
        if listing.planned:
            okta.send("POST", HOOKS, lambda: self._body_with_secret(spec))
            self._show_body(spec)
            return PLANNED_HOOK
        if listing.status != "200":
            raise listing.failure("the list of inline hooks")
        try:
            found = find(spec, listing.document)
        except HookInputError as e:
            raise Refused(f"cannot compare with the inline hooks in Okta: {e}") from None
        hook_id, hook_status, hook_state = [*found.split(maxsplit=2), "", ""][:3]
        sent, answer = "", None
        if hook_id == "absent":
            sent = "created in Okta"
            answer = okta.send("POST", HOOKS, lambda: self._body_with_secret(spec))
            self._show_body(spec)
            if answer is None:
                return ""
        elif o.auth == "basic" and basic_changed and not redeployed and not o.force_okta_update:
            say("not updated: the credentials changed in this run, and running instances load them")
            refresh = o.secret_refresh_seconds or "300"
            say(f"within OKTA_HOOK_SECRET_REFRESH_SECONDS ({refresh} s). For Okta to")
            say("send the new last line, run again after that with --force-okta-update.")
        elif hook_state == "differs" or o.force_okta_update:
            sent = f"updated in Okta (id {hook_id})"
            answer = okta.send(
                "PUT", f"{HOOKS}/{hook_id}", lambda: self._body_with_secret(spec, replace=True)
            )
            self._show_body(spec, replace=True)
        else:
            say(f"already current in Okta (id {hook_id}). Okta never shows its secret back: after")
            say("changing it, run again with --force-okta-update.")
        if answer is not None:
            if answer.status != "200" or not isinstance(answer.document, dict):
                raise answer.failure("the inline hook")
            say(sent)
            hook_id = str(answer.document.get("id") or hook_id)
            hook_status = str(answer.document.get("status") or hook_status)
        if hook_status != "ACTIVE":
            say(f"the hook is {hook_status or 'not active'} in Okta: activating it")
            activated = okta.send("POST", f"{HOOKS}/{hook_id}/lifecycle/activate", None)
            if activated is not None:
                if activated.status != "200":
                    raise activated.failure("the activation of the inline hook")
                say(f"activated in Okta (id {hook_id})")
        return hook_id

    def _show_body(self, spec: HookSpec, *, replace: bool = False) -> None:
        if self._runner.dry_run:
            say("body (read by curl from file descriptor 3; placeholders stand for secrets here):")
            say(json.dumps(spec.replace_body() if replace else spec.body(), indent=2))

    def _body_with_secret(self, spec: HookSpec, *, replace: bool = False) -> bytes:
        """The body with its real secret, for Okta only."""
        secret: str | None = None
        if spec.mode == "basic":
            secret = self._secrets.basic_credentials or self._stored_basic_credentials()
        elif spec.mode == "oauth-client-secret":
            secret = self._secrets.okta_client_secret
        try:
            body = spec.replace_body(secret) if replace else spec.body(secret)
            return (json.dumps(body, indent=2) + "\n").encode()
        except HookInputError as e:
            raise Refused(str(e)) from None

    def _stored_basic_credentials(self) -> str:
        latest = self._runner.check(
            ["gcloud", "secrets", "versions", "access", "latest", "--secret", self._basic_secret,
             "--project", self._o.project]
        )  # fmt: skip
        if not latest.ok:
            raise Refused(f"secret {self._basic_secret}: its latest version cannot be read")
        return latest.stdout.decode("utf-8", "replace")
