"""Checks that need nothing but the inputs, and the defaults that follow from them. The settings
the function reads are checked by the function's own code (`function_checks`)."""

from __future__ import annotations

import dataclasses
import re

from tools.deploy.options import Options, flag
from tools.deploy.output import Refused
from tools.okta_inline_hook import MODES

OAUTH_MODES = MODES[1:]
PROJECT_ID = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
REGION = re.compile(r"[a-z]+-[a-z]+[0-9]+")
FUNCTION_NAME = re.compile(r"[a-z]([a-z0-9-]{0,61}[a-z0-9])?")
PYTHON_RUNTIME = re.compile(r"python3([0-9]+)")
WHOLE_NUMBER = re.compile(r"0|[1-9][0-9]*")
POSITIVE_NUMBER = re.compile(r"[1-9][0-9]*")
MEMORY = re.compile(r"[1-9][0-9]*(k|M|G|Ki|Mi|Gi)")
CPUS = re.compile(r"[0-9]+(\.[0-9]+)?")
# Cloud Run's bounds: at most 8 CPUs an instance, and 1000 instances a service by default.
MAX_CPUS = 8
MAX_INSTANCES = 1000
HTTPS_URL = re.compile(r"https://[^\s/]+(/\S*)?")
PUBLIC_ACCESS = ("allusers", "no-invoker-iam-check")


def check(given: Options) -> Options:
    """The options completed with their defaults; raises `Refused` naming the first problem."""
    options = _where_and_what(given)
    _how_it_runs(options)
    return _authentication(options)


def https_url(name: str, value: str) -> None:
    """Refuses a URL that Okta or Google would not be given: https, a host, no white space."""
    if not HTTPS_URL.fullmatch(value):
        raise Refused(f"{name} {value} is not an https:// URL")


def _where_and_what(o: Options) -> Options:
    if not o.project:
        raise Refused("no project: pass --project ID (or set GOOGLE_CLOUD_PROJECT)")
    if not PROJECT_ID.fullmatch(o.project):
        raise Refused(f"--project {o.project} is not a project id")
    if not REGION.fullmatch(o.region):
        raise Refused(f"--region {o.region} is not a region name")
    if not FUNCTION_NAME.fullmatch(o.function):
        raise Refused(
            f"--function {o.function}: use lowercase letters, digits and hyphens (at most 63)"
        )
    account = o.service_account or o.function[:30]
    account = account.removesuffix("-")
    if not PROJECT_ID.fullmatch(account):
        raise Refused(
            f"service account id {account}: 6 to 30 lowercase letters, digits or hyphens "
            "(pass --service-account)"
        )
    runtime = PYTHON_RUNTIME.fullmatch(o.runtime)
    if runtime is None:
        raise Refused(f"--runtime {o.runtime} is not a Python runtime (python311, python312, ...)")
    if int(runtime.group(1)) < 11:
        raise Refused(f"--runtime {o.runtime}: the hook needs python311 or newer")
    return dataclasses.replace(
        o, service_account=account, okta_hook_name=o.okta_hook_name or o.function
    )


def _how_it_runs(o: Options) -> None:
    if not WHOLE_NUMBER.fullmatch(o.min_instances):
        raise Refused(f"--min-instances {o.min_instances} is not a whole number")
    _positive("--max-instances", o.max_instances)
    for option, value in (
        ("--min-instances", o.min_instances),
        ("--max-instances", o.max_instances),
    ):
        if int(value) > MAX_INSTANCES:
            raise Refused(f"{option} {value} is above {MAX_INSTANCES}, Cloud Run's limit")
    if int(o.max_instances) < int(o.min_instances):
        raise Refused("--max-instances is below --min-instances")
    _positive("--concurrency", o.concurrency)
    if int(o.concurrency) > 1000:
        raise Refused(f"--concurrency {o.concurrency} is above 1000")
    _positive("--timeout", o.timeout)
    if int(o.timeout) > 60:
        raise Refused(f"--timeout {o.timeout}: Okta waits 3 seconds; use at most 60")
    if not MEMORY.fullmatch(o.memory):
        raise Refused(f"--memory {o.memory} is not a size like 512Mi")
    if not CPUS.fullmatch(o.cpu) or float(o.cpu) <= 0:
        raise Refused(f"--cpu {o.cpu} is not a number of CPUs like 1, 2 or 0.5")
    if float(o.cpu) > MAX_CPUS:
        raise Refused(f"--cpu {o.cpu} is above {MAX_CPUS}, Cloud Run's limit")
    if float(o.cpu) < 1 and int(o.concurrency) != 1:
        raise Refused("--concurrency above 1 needs --cpu 1 or more")
    if o.public_access not in PUBLIC_ACCESS:
        raise Refused(
            f"--public-access {o.public_access} is not one of: {', '.join(PUBLIC_ACCESS)}"
        )


def _positive(option: str, value: str) -> None:
    if not POSITIVE_NUMBER.fullmatch(value):
        raise Refused(f"{option} {value} is not a positive whole number")


# Only the auth mode's own settings may be given: a stray one means a mistake somewhere.
OAUTH_OPTIONS = (
    "issuer", "audience", "scopes", "client_id", "jwks_uri", "jwks_file", "leeway_seconds",
    "token_url",
)  # fmt: skip
ONLY_FOR = {
    "basic_credentials_file": ("basic",),
    **dict.fromkeys(OAUTH_OPTIONS, OAUTH_MODES),
    "okta_client_secret_file": ("oauth-client-secret",),
    "hook_key_id": ("oauth-private-key",),
}


HMAC_REFUSED = (
    "Okta signs hook tokens with RS256: the HMAC mode (OKTA_HOOK_JWT_HMAC_SECRET) is for local "
    "tests only, and deploy.sh does not deploy it"
)


def _authentication(o: Options) -> Options:
    if "hmac" in o.auth.lower() or o.auth.upper().startswith("HS"):
        raise Refused(f"--auth {o.auth}: {HMAC_REFUSED}")
    if o.auth not in MODES:
        raise Refused(f"--auth {o.auth} is not one of: {', '.join(MODES)}")
    for name, modes in ONLY_FOR.items():
        if getattr(o, name) and o.auth not in modes:
            only = " ".join(modes)
            raise Refused(f"{flag(name)} does not apply to --auth {o.auth} (only to: {only})")
    if o.auth == "basic":
        return o
    if not o.issuer:
        raise Refused(f"--auth {o.auth} needs --issuer (the Okta authorization server)")
    https_url("--issuer", o.issuer)
    issuer = o.issuer.removesuffix("/")
    scopes = " ".join(word for word in o.scopes.split(" ") if word)
    if not scopes:
        raise Refused(f"--auth {o.auth} needs --scopes (the custom scope Okta requests)")
    for scope in scopes.split():
        if scope.lower().startswith("okta."):
            raise Refused(
                f"--scopes {scope}: Okta refuses a custom scope whose name starts with okta. "
                "(the prefix of its own API scopes); name it e.g. hooks.registration"
            )
    if not o.client_id.replace(" ", "").replace(",", ""):
        raise Refused(f"--auth {o.auth} needs --client-id (the Okta app's client id)")
    token_url = o.token_url or f"{issuer}/v1/token"
    https_url("--token-url", token_url)
    jwks_uri = o.jwks_uri
    if not o.jwks_file:
        jwks_uri = jwks_uri or f"{issuer}/v1/keys"
        https_url("--jwks-uri", jwks_uri)
    elif jwks_uri:
        raise Refused("give --jwks-uri or --jwks-file, not both")
    return dataclasses.replace(
        o,
        issuer=issuer,
        scopes=scopes,
        client_id=o.client_id.replace(" ", ""),
        audience=o.audience or "api://default",
        token_url=token_url,
        jwks_uri=jwks_uri,
    )
