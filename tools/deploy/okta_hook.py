"""The Okta inline hook: created or updated through Okta's API, or its body printed for the
Admin Console; then the steps that attach it to a profile enrollment policy."""

from __future__ import annotations

import json

from tools.deploy.okta_api import OktaApi
from tools.deploy.options import Options
from tools.deploy.output import Refused, say, step
from tools.deploy.runner import Runner
from tools.deploy.secret_inputs import SecretInputs
from tools.okta_inline_hook import HookInputError, HookSpec, find

HOOKS = "/api/v1/inlineHooks"
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
    def __init__(self, o: Options, runner: Runner, secrets: SecretInputs, basic_secret: str):
        self._o = o
        self._runner = runner
        self._secrets = secrets
        self._basic_secret = basic_secret

    def run(self, url: str, okta: OktaApi | None, *, basic_changed: bool, redeployed: bool) -> None:
        step(f'Okta inline hook "{self._o.okta_hook_name}"')
        spec = hook_spec(self._o, url)
        if okta is not None:
            self._create_or_update(spec, okta, basic_changed=basic_changed, redeployed=redeployed)
        else:
            say(BODY_FOLLOWS)
            say(json.dumps(spec.body(), indent=2))
            say(IN_THE_CONSOLE + CONSOLE_AUTH[self._o.auth])
        say()
        attach_steps(self._o.okta_hook_name)

    def _create_or_update(
        self, spec: HookSpec, okta: OktaApi, *, basic_changed: bool, redeployed: bool
    ) -> None:
        o = self._o
        listing = okta.read(f"{HOOKS}?type=com.okta.user.pre-registration")
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
        elif o.auth == "basic" and basic_changed and not redeployed and not o.force_okta_update:
            say("not updated: the credentials changed in this run, and running instances load them")
            refresh = o.secret_refresh_seconds or "300"
            say(f"within OKTA_HOOK_SECRET_REFRESH_SECONDS ({refresh} s). For Okta to")
            say("send the new last line, run again after that with --force-okta-update.")
        elif hook_state == "differs" or o.force_okta_update:
            sent = f"updated in Okta (id {hook_id})"
            answer = okta.send("PUT", f"{HOOKS}/{hook_id}", lambda: self._body_with_secret(spec))
            self._show_body(spec)
        else:
            say(f"already current in Okta (id {hook_id}). Okta never shows its secret back: after")
            say("changing it, run again with --force-okta-update.")
        if answer is not None:
            if answer.status != "200":
                raise answer.failure("the inline hook")
            say(sent)
        if hook_id != "absent" and hook_status != "ACTIVE":
            say(f"note: the hook is {hook_status} in Okta: activate it in Workflow > Inline Hooks")

    def _show_body(self, spec: HookSpec) -> None:
        if self._runner.dry_run:
            say("body (read by curl from file descriptor 3; placeholders stand for secrets here):")
            say(json.dumps(spec.body(), indent=2))

    def _body_with_secret(self, spec: HookSpec) -> bytes:
        """The body with its real secret, for Okta only."""
        secret: str | None = None
        if spec.mode == "basic":
            secret = self._secrets.basic_credentials or self._stored_basic_credentials()
        elif spec.mode == "oauth-client-secret":
            secret = self._secrets.okta_client_secret
        try:
            return (json.dumps(spec.body(secret), indent=2) + "\n").encode()
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


def attach_steps(hook_name: str) -> None:
    say("To run the hook, attach it to a profile enrollment policy (Admin Console):")
    say("  1. Security > User Profile Policies (Security > Profile Enrollment in older orgs): edit")
    say("     the policy of the app people sign up to.")
    say("  2. In its profile enrollment settings, allow sign-up for new users.")
    say(f'  3. In "Use the following inline hook", choose "{hook_name}".')
    say('  4. In "Run this hook", choose "Both" (registration and progressive profile), or the')
    say("     request type your policy file covers. Save.")
    say(f"  5. Check it: Workflow > Inline Hooks > {hook_name} > Preview.")
