"""The environment the function gets: its settings, and for each secret a reference, never the
value. Written as the env-vars file gcloud reads (YAML, one quoted string a line)."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from tools.deploy.options import Options
from tools.deploy.output import Refused
from tools.deploy.secret_inputs import SecretInputs

BASIC_CREDENTIALS = "OKTA_HOOK_BASIC_CREDENTIALS"
JWKS = "OKTA_HOOK_JWKS"


def stored_secrets(options: Options, secrets: SecretInputs) -> dict[str, str]:
    """Each secret-valued setting in use, as the function names it, with its secret's id."""
    ids = {}
    if options.auth == "basic":
        ids[BASIC_CREDENTIALS] = f"{options.function}-basic-credentials"
    if secrets.jwks:
        ids[JWKS] = f"{options.function}-jwks"
    return ids


def secret_version(project: str, secret: str) -> str:
    return f"projects/{project}/secrets/{secret}/versions/latest"


def function_env(options: Options, secret_ids: Mapping[str, str]) -> dict[str, str]:
    """What the function will find in its environment, in the order the env-vars file lists it."""
    o = options
    env = {
        "GOOGLE_CLOUD_PROJECT": o.project,
        "WORKERS": str(o.workers),
        "OKTA_HOOK_POLICY": o.policy,
    }
    if o.allowed_email_domains:
        env["OKTA_HOOK_ALLOWED_EMAIL_DOMAINS"] = o.allowed_email_domains
    for setting, secret in secret_ids.items():
        env[f"{setting}_SECRET"] = secret_version(o.project, secret)
    if o.secret_refresh_seconds:
        env["OKTA_HOOK_SECRET_REFRESH_SECONDS"] = o.secret_refresh_seconds
    if o.debug_context:
        env["OKTA_HOOK_DEBUG_CONTEXT"] = "true"
    if o.auth != "basic":
        env["OKTA_HOOK_ISSUER"] = o.issuer
        env["OKTA_HOOK_AUDIENCE"] = o.audience
        env["OKTA_HOOK_SCOPES"] = o.scopes
        env["OKTA_HOOK_CLIENT_IDS"] = o.client_id
        if o.jwks_uri:
            env["OKTA_HOOK_JWKS_URI"] = o.jwks_uri
        if o.leeway_seconds:
            env["OKTA_HOOK_LEEWAY_SECONDS"] = o.leeway_seconds
    return env


def env_file_text(env: Mapping[str, str]) -> str:
    lines = []
    for name, value in env.items():
        if any(unicodedata.category(c) == "Cc" for c in value):
            raise Refused(f"{name} holds a control character")
        quoted = value.replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'{name}: "{quoted}"\n')
    return "".join(lines)
