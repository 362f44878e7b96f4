"""The body of Okta's `POST /api/v1/inlineHooks` for this hook, and how it compares with Okta's.

Used by deploy.sh (tools/deploy imports it); from the command line, secrets arrive on standard
input only, never as arguments:

python -m tools.okta_inline_hook body --mode basic --name N --uri U            # placeholders
python -m tools.okta_inline_hook body --mode basic ... --secret-from-stdin      # for Okta only
python -m tools.okta_inline_hook find --mode basic --name N --uri U < list.json
python -m tools.okta_inline_hook error-summary < response.json
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from auth.basic import CredentialsFormatError, credential_lines

HOOK_TYPE = "com.okta.user.pre-registration"
VERSION = "1.0.0"
MODES = ("basic", "oauth-client-secret", "oauth-private-key")
AUTH_TYPES = {"oauth-client-secret": "client_secret_post", "oauth-private-key": "private_key_jwt"}
BASIC_PLACEHOLDER = "<set in Okta: Basic base64(user:password) of a line of the credentials>"
# A placeholder the plan prints where Okta's form takes the secret; it is not one.
CLIENT_SECRET_PLACEHOLDER = "<set in Okta: the client secret of the Okta app {client_id}>"  # noqa: S105
HOOK_KEY_PLACEHOLDER = "<the id of your key in Workflow > Key Management>"


class HookInputError(ValueError):
    """The input cannot make an inline hook body; the message never holds a secret."""


@dataclass(frozen=True)
class HookSpec:
    """The non-secret fields of the inline hook, as deploy.sh knows them."""

    mode: str
    name: str
    uri: str
    client_id: str = ""
    token_url: str = ""
    scope: str = ""
    hook_key_id: str = ""

    def body(self, secret: str | None = None) -> dict[str, Any]:
        """The inline hook object; with `secret` None, a placeholder stands where it goes."""
        config: dict[str, Any] = {"uri": self.uri, "method": "POST"}
        if self.mode == "basic":
            value = basic_header(secret) if secret is not None else BASIC_PLACEHOLDER
            config["authScheme"] = {"type": "HEADER", "key": "Authorization", "value": value}
            channel_type = "HTTP"
        else:
            channel_type = "OAUTH"
            config["authType"] = AUTH_TYPES[self.mode]
            config["clientId"] = self.client_id
            config["tokenUrl"] = self.token_url
            config["scope"] = self.scope
            if self.mode == "oauth-client-secret":
                config["clientSecret"] = (
                    secret.strip()
                    if secret is not None
                    else CLIENT_SECRET_PLACEHOLDER.format(client_id=self.client_id)
                )
            else:
                config["hookKeyId"] = self.hook_key_id or HOOK_KEY_PLACEHOLDER
        return {
            "name": self.name,
            "type": HOOK_TYPE,
            "version": VERSION,
            "channel": {"type": channel_type, "version": VERSION, "config": config},
        }

    def replace_body(self, secret: str | None = None) -> dict[str, Any]:
        """The body of `PUT /api/v1/inlineHooks/{id}`: Okta's InlineHookReplace has no `type`
        (a hook's type never changes)."""
        body = self.body(secret)
        del body["type"]
        return body

    def matches(self, hook: Mapping[str, Any]) -> bool:
        """Whether an inline hook read from Okta has every field this spec sets.

        Okta never returns `authScheme.value` or `clientSecret`, so those are not compared.
        """
        wanted = self.body()
        channel = hook.get("channel") or {}
        config = channel.get("config") or {}
        wanted_config = wanted["channel"]["config"]
        if self.mode == "basic":
            scheme = config.get("authScheme") or {}
            # A header name is case-insensitive: the Admin Console's guide writes `authorization`.
            key = scheme.get("key")
            same_auth = (
                scheme.get("type") == "HEADER"
                and isinstance(key, str)
                and key.casefold() == "authorization"
            )
        else:
            keys = ["authType", "clientId", "tokenUrl", "scope"]
            if self.mode == "oauth-private-key":
                keys.append("hookKeyId")
            same_auth = all(config.get(key) == wanted_config[key] for key in keys)
        return (
            same_auth
            and hook.get("name") == self.name
            and hook.get("type") == HOOK_TYPE
            and hook.get("version") == VERSION
            and channel.get("type") == wanted["channel"]["type"]
            and channel.get("version") == VERSION
            and config.get("uri") == self.uri
            and config.get("method", "POST") == "POST"
        )


def basic_header(credentials: str) -> str:
    """`Basic base64(user:password)` of the last credentials line: the newest, in a rotation.
    The lines are read by the function's own parser, so Okta gets exactly what it accepts."""
    try:
        user, password = credential_lines(credentials)[-1]
    except CredentialsFormatError as e:
        raise HookInputError(f"the basic credentials: {e}") from None
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def find(spec: HookSpec, listing: Any) -> str:
    """`absent`, or `<id> <status> current|differs` for the hook of that name in Okta's list."""
    if not isinstance(listing, list):
        raise HookInputError("Okta's list of inline hooks is not a JSON array")
    same_name = [h for h in listing if isinstance(h, dict) and h.get("name") == spec.name]
    if not same_name:
        return "absent"
    if len(same_name) > 1:
        raise HookInputError(f"Okta has {len(same_name)} inline hooks named {spec.name!r}")
    hook = same_name[0]
    state = "current" if spec.matches(hook) else "differs"
    return f"{hook.get('id', '')} {hook.get('status', 'UNKNOWN')} {state}"


def error_summary(document: Any) -> str:
    """Okta's error summary and causes, which name fields, never secret values; or the OAuth 2.0
    error of its token endpoint (`error`, `error_description`)."""
    if not isinstance(document, dict):
        return "no error details"
    if "errorSummary" not in document and isinstance(document.get("error"), str):
        found = [str(document[k]) for k in ("error", "error_description") if document.get(k)]
        return ": ".join(found)
    parts = [str(document.get("errorSummary") or "no error summary")]
    for cause in document.get("errorCauses") or []:
        if isinstance(cause, dict) and cause.get("errorSummary"):
            parts.append(str(cause["errorSummary"]))
    return "; ".join(parts)


def _spec(args: argparse.Namespace) -> HookSpec:
    spec = HookSpec(
        mode=args.mode,
        name=args.name,
        uri=args.uri,
        client_id=args.client_id,
        token_url=args.token_url,
        scope=args.scope,
        hook_key_id=args.hook_key_id,
    )
    if spec.mode != "basic" and not (spec.client_id and spec.token_url and spec.scope):
        raise HookInputError("an OAuth hook needs a client id, a token URL and a scope")
    return spec


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.okta_inline_hook", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("body", "find"):
        command = commands.add_parser(name)
        command.add_argument("--mode", choices=MODES, required=True)
        command.add_argument("--name", required=True)
        command.add_argument("--uri", required=True)
        command.add_argument("--client-id", default="")
        command.add_argument("--token-url", default="")
        command.add_argument("--scope", default="")
        command.add_argument("--hook-key-id", default="")
    commands.choices["body"].add_argument("--secret-from-stdin", action="store_true")
    commands.add_parser("error-summary")
    args = parser.parse_args(argv)
    try:
        if args.command == "error-summary":
            try:
                document = json.load(sys.stdin)
            except ValueError:
                document = None
            print(error_summary(document))
        elif args.command == "body":
            secret = sys.stdin.read() if args.secret_from_stdin else None
            print(json.dumps(_spec(args).body(secret), indent=2))
        else:
            try:
                listing = json.load(sys.stdin)
            except ValueError:
                raise HookInputError("Okta's answer is not JSON") from None
            print(find(_spec(args), listing))
    except HookInputError as e:
        print(f"okta_inline_hook: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
