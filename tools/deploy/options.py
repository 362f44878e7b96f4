"""The options: each one also read from an environment variable, the option winning."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from tools.deploy.output import PROG, Refused

DEFAULT_POLICY = "policies/ssr_and_progressive.toml"
SWITCH_VALUES = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


def _value(env: str, default: str = "") -> Any:
    return field(default=default, metadata={"env": env})


def _switch(env: str | None) -> Any:
    return field(default=False, metadata={"env": env, "switch": True})


def _repeated(env: str) -> Any:
    """An option given as often as needed; its environment variable holds a comma-separated
    list."""
    return field(default=(), metadata={"env": env, "repeat": True})


@dataclass(frozen=True)
class Options:
    """Every option as given (`--name-like-this`); after `checks.check`, completed too."""

    project: str = _value("GOOGLE_CLOUD_PROJECT")
    region: str = _value("DEPLOY_REGION", "us-central1")
    function: str = _value("DEPLOY_FUNCTION", "okta-registration-hook")
    service_account: str = _value("DEPLOY_SERVICE_ACCOUNT")
    runtime: str = _value("DEPLOY_RUNTIME", "python312")
    build_service_account: str = _value("DEPLOY_BUILD_SERVICE_ACCOUNT")
    min_instances: str = _value("DEPLOY_MIN_INSTANCES", "1")
    max_instances: str = _value("DEPLOY_MAX_INSTANCES", "10")
    memory: str = _value("DEPLOY_MEMORY", "512Mi")
    cpu: str = _value("DEPLOY_CPU", "1")
    concurrency: str = _value("DEPLOY_CONCURRENCY", "80")
    timeout: str = _value("DEPLOY_TIMEOUT", "5")
    auth: str = _value("DEPLOY_AUTH", "basic")
    basic_credentials_file: str = _value("DEPLOY_BASIC_CREDENTIALS_FILE")
    issuer: str = _value("OKTA_HOOK_ISSUER")
    audience: str = _value("OKTA_HOOK_AUDIENCE")
    scopes: str = _value("OKTA_HOOK_SCOPES")
    client_id: str = _value("OKTA_HOOK_CLIENT_IDS")
    jwks_uri: str = _value("OKTA_HOOK_JWKS_URI")
    jwks_file: str = _value("DEPLOY_JWKS_FILE")
    leeway_seconds: str = _value("OKTA_HOOK_LEEWAY_SECONDS")
    token_url: str = _value("DEPLOY_TOKEN_URL")
    okta_client_secret_file: str = _value("DEPLOY_OKTA_CLIENT_SECRET_FILE")
    hook_key_id: str = _value("DEPLOY_HOOK_KEY_ID")
    policy: str = _value("OKTA_HOOK_POLICY", DEFAULT_POLICY)
    allowed_email_domains: str = _value("OKTA_HOOK_ALLOWED_EMAIL_DOMAINS")
    secret_refresh_seconds: str = _value("OKTA_HOOK_SECRET_REFRESH_SECONDS")
    public_access: str = _value("DEPLOY_PUBLIC_ACCESS", "allusers")
    okta_hook_name: str = _value("DEPLOY_HOOK_NAME")
    okta_policy: str = _value("DEPLOY_OKTA_POLICY")
    okta_api_client_id: str = _value("OKTA_API_CLIENT_ID")
    okta_api_private_key_file: str = _value("OKTA_API_PRIVATE_KEY_FILE")
    okta_api_key_id: str = _value("OKTA_API_KEY_ID")
    notification_channel: tuple[str, ...] = _repeated("DEPLOY_NOTIFICATION_CHANNELS")
    no_requests_hours: str = _value("DEPLOY_NO_REQUESTS_HOURS")
    no_monitoring: bool = _switch("DEPLOY_NO_MONITORING")
    debug_context: bool = _switch("DEPLOY_DEBUG_CONTEXT")
    create_okta_hook: bool = _switch("DEPLOY_CREATE_OKTA_HOOK")
    force_okta_update: bool = _switch(None)
    skip_okta_verify: bool = _switch("DEPLOY_SKIP_OKTA_VERIFY")
    dry_run: bool = _switch("DEPLOY_DRY_RUN")
    plan: bool = _switch(None)
    force_deploy: bool = _switch("DEPLOY_FORCE")

    @property
    def service_account_email(self) -> str:
        return f"{self.service_account}@{self.project}.iam.gserviceaccount.com"

    @property
    def workers(self) -> int:
        """One process per whole CPU, at least one: Python runs one thread at a time."""
        return max(1, int(self.cpu.split(".")[0]))


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def environment_variables() -> dict[str, str]:
    """Each option's environment variable, by option."""
    return {
        flag(f.name): f.metadata["env"] for f in dataclasses.fields(Options) if f.metadata["env"]
    }


def parse(argv: Sequence[str], env: Mapping[str, str]) -> Options | None:
    """The options, or None when the help was asked for; raises `Refused`."""
    values: dict[str, Any] = {}
    # Switches from the environment first: a wrong one stops the run whatever the options say.
    for f in dataclasses.fields(Options):
        if f.metadata.get("switch") and f.metadata["env"]:
            values[f.name] = _env_switch(f.metadata["env"], env)
    try:
        given, unknown = _parser().parse_known_args(list(argv))
    except argparse.ArgumentError as e:
        raise Refused(_parse_error(e)) from None
    if given.help:
        return None
    if unknown:
        raise Refused(f"unknown option: {unknown[0].split('=')[0]} (see ./{PROG} --help)")
    for f in dataclasses.fields(Options):
        value = getattr(given, f.name)
        if f.metadata.get("switch"):
            values[f.name] = value or values.get(f.name, False)
        elif f.metadata.get("repeat"):
            raw = value if value is not None else (env.get(f.metadata["env"]) or "").split(",")
            values[f.name] = tuple(item.strip() for item in raw if item.strip())
        elif value is not None:
            values[f.name] = value
        else:
            values[f.name] = env.get(f.metadata["env"]) or f.default
    return Options(**values)


def _env_switch(name: str, env: Mapping[str, str]) -> bool:
    raw = env.get(name) or "0"
    if raw not in SWITCH_VALUES:
        raise Refused(f"{name}={raw}: use 1 or 0")
    return SWITCH_VALUES[raw]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise Refused(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, add_help=False, allow_abbrev=False, exit_on_error=False)
    parser.add_argument("-h", "--help", action="store_true")
    for f in dataclasses.fields(Options):
        if f.metadata.get("switch"):
            parser.add_argument(flag(f.name), action="store_true")
        elif f.metadata.get("repeat"):
            parser.add_argument(flag(f.name), dest=f.name, action="append", default=None)
        else:
            parser.add_argument(flag(f.name), dest=f.name, default=None)
    return parser


def _parse_error(error: argparse.ArgumentError) -> str:
    option = (error.argument_name or "").split("/")[-1]
    if error.message.startswith("expected one argument"):
        return f"{option} needs a value"
    if error.message.startswith("ignored explicit argument"):
        return f"{option} takes no value"
    return f"{option}: {error.message}"
