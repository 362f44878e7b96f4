"""A stand-in for `curl` talking to an Okta org, for deploy.sh's tests.

Run as `python fake_curl.py ARGS...` by a `curl` shim on PATH. It reads the curl config from
standard input (`--config -`) and the body from `--data-binary @FILE`, answers like Okta's
management API, writes the answer to `--output` and the status to stdout (`--write-out
'%{http_code}'`), and logs each call to FAKE_CURL_LOG. The org lives in the JSON file named by
FAKE_OKTA_STATE: its API token, its OAuth 2.0 service app, the access tokens it issued, its inline
hooks (with their secrets, which Okta never returns) and its user profile policies.

What it knows: the inline hooks API (list, create, replace, activate, execute), the user profile
policies and their rules (list, read, replace), and the org's token endpoint (client credentials
with a client assertion). A JSON body that breaks Okta's published schema, closed-world, is
refused as Okta refuses a body it cannot take (tests/okta_schema_check.py). `execute` sends the
body to the hook as Okta would (with the hook's Basic header, or FAKE_OKTA_EXECUTE_BEARER for an
OAuth 2.0 hook), at FAKE_OKTA_EXECUTE_URL: a function served on loopback, standing for the
deployed URL.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import secrets
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

# Run as a script by a bare interpreter: the checkout's root makes `tests` importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.okta_schema_check import problems

VALUE_FLAGS = {
    "--request", "--header", "--data-binary", "--output", "--write-out", "--config",
    "--connect-timeout", "--max-time",
}  # fmt: skip
SECRET_FIELDS = ("clientSecret",)
HOOKS = "/api/v1/inlineHooks"
TOKEN = "/oauth2/v1/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SCOPE_OF = {HOOKS: "okta.inlineHooks.manage", "/api/v1/policies": "okta.policies.manage"}
State = dict[str, Any]
Reply = tuple[int, Any]


def main() -> int:
    argv = sys.argv[1:]
    values: dict[str, list[str]] = {}
    urls: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] in VALUE_FLAGS:
            values.setdefault(argv[i], []).append(argv[i + 1])
            i += 2
        elif argv[i].startswith("-"):
            i += 1
        else:
            urls.append(argv[i])
            i += 1
    config = ""
    if "--config" in values:
        assert values["--config"] == ["-"], "the credential comes in a config on standard input"
        config = sys.stdin.read()
    body = ""
    if "--data-binary" in values:
        source = values["--data-binary"][0]
        assert source.startswith("@"), "the body comes from a file descriptor, never argv"
        body = Path(source[1:]).read_text()
    entry: dict[str, Any] = {"argv": ["curl", *argv], "config": config, "body": body}
    state_path = Path(os.environ["FAKE_OKTA_STATE"])
    state = json.loads(state_path.read_text())
    headers = values.get("--header", [])
    status, answer = okta(state, values["--request"][0], urls[0], config, headers, body)
    entry["status"] = status
    state_path.write_text(json.dumps(state, indent=2))
    Path(values["--output"][0]).write_text(json.dumps(answer))
    with open(os.environ["FAKE_CURL_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")
    assert values["--write-out"] == ["%{http_code}"]
    sys.stdout.write(str(status))
    return 0


def error(status: int, summary: str, *causes: str) -> Reply:
    return status, {
        "errorCode": "E0000001",
        "errorSummary": summary,
        "errorCauses": [{"errorSummary": c} for c in causes],
    }


def okta(state: State, method: str, url: str, config: str, headers: list[str], body: str) -> Reply:
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != state["org"]:
        return error(404, "Not found")
    if parts.path == TOKEN:
        return token_endpoint(state, method, url, headers, body)
    sent = re.findall(r'^header = "(.*)"$', config, flags=re.MULTILINE)
    scopes = granted(state, sent)
    if scopes is None:
        return error(401, "Invalid token provided")
    area = next((p for p in SCOPE_OF if parts.path.startswith(p)), "")
    if "*" not in scopes and SCOPE_OF.get(area) not in scopes:
        return error(403, "The access token provided does not contain the required scopes.")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    document: Any = json.loads(body) if body else None
    if area == HOOKS:
        return inline_hooks(state, method, parts.path, query, document)
    if area:
        return policies(state, method, parts.path, query, document)
    return error(404, "Not found")


def granted(state: State, headers: list[str]) -> set[str] | None:
    """The scopes of the credential sent (`*` for the API token), or None when it is no good."""
    if f"Authorization: SSWS {state['token']}" in headers:
        return {"*"}
    for header in headers:
        if header.startswith("Authorization: Bearer "):
            token = state.get("access_tokens", {}).get(
                header.removeprefix("Authorization: Bearer ")
            )
            if token and token["exp"] > time.time():
                return set(token["scopes"])
    return None


def token_endpoint(state: State, method: str, url: str, headers: list[str], body: str) -> Reply:
    """The org authorization server's token endpoint, for a service app (private_key_jwt). The
    assertion's signature is left to the test, which has the public key; its claims are read."""
    if method != "POST" or "Content-Type: application/x-www-form-urlencoded" not in headers:
        return 400, {"error": "invalid_request", "error_description": "form post expected"}
    form = {k: v[0] for k, v in parse_qs(body).items()}
    app = state.get("service_app") or {}
    if app.get("dpop"):
        return 400, {
            "error": "invalid_dpop_proof",
            "error_description": "The DPoP proof JWT header is missing.",
        }
    if form.get("grant_type") != "client_credentials":
        return 400, {"error": "unsupported_grant_type", "error_description": "client_credentials"}
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        return 401, {"error": "invalid_client", "error_description": "no client assertion"}
    try:
        header, claims = (json.loads(_unb64(p)) for p in form["client_assertion"].split(".")[:2])
    except (KeyError, ValueError):
        return 401, {"error": "invalid_client", "error_description": "not a JWT"}
    now = time.time()
    if not (
        claims.get("iss") == claims.get("sub") == app.get("client_id")
        and claims.get("aud") == url
        and now < claims.get("exp", 0) <= now + 3600
        and claims.get("jti")
        and header.get("alg") in ("RS256", "ES256")
    ):
        return 401, {
            "error": "invalid_client",
            "error_description": "The client_assertion is invalid.",
        }
    wanted = form.get("scope", "").split()
    if not wanted or not set(wanted) <= set(app.get("scopes", [])):
        return 400, {
            "error": "invalid_scope",
            "error_description": "The requested scope is invalid.",
        }
    token = "eyJ" + secrets.token_urlsafe(32)
    state.setdefault("access_tokens", {})[token] = {"scopes": wanted, "exp": now + 3600}
    state.setdefault("assertions", []).append(form["client_assertion"])
    return 200, {
        "token_type": "Bearer",
        "expires_in": 3600,
        "access_token": token,
        "scope": " ".join(wanted),
    }


def _unb64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def inline_hooks(
    state: State, method: str, path: str, query: dict[str, str], document: Any
) -> Reply:
    hooks: list[dict[str, Any]] = state.setdefault("hooks", [])
    if path == HOOKS and method == "GET":
        wanted = query.get("type")
        return 200, [public(h) for h in hooks if wanted in (None, h["type"])]
    if path == HOOKS and method == "POST":
        problem = invalid(document, "InlineHookCreate")
        if problem:
            return error(400, "Api validation failed: inlineHook", problem)
        hook = {"id": f"cal{len(hooks) + 1:017d}", "status": "ACTIVE", **document}
        hooks.append(hook)
        return 200, public(hook)
    match = re.fullmatch(rf"{HOOKS}/([A-Za-z0-9]+)(/lifecycle/activate|/execute)?", path)
    found = [h for h in hooks if match and h["id"] == match.group(1)]
    if not found:
        return error(404, "Not found: Resource not found")
    hook, action = found[0], match.group(2) if match else None
    if action is None and method == "PUT":
        problem = invalid(document, "InlineHookReplace")
        if problem:
            return error(400, "Api validation failed: inlineHook", problem)
        hook.update(document)
        return 200, public(hook)
    if action == "/lifecycle/activate" and method == "POST":
        hook["status"] = "ACTIVE"
        return 200, public(hook)
    if action == "/execute" and method == "POST":
        problem = invalid(document, "RegistrationInlineHookRequest")
        if problem:
            return error(400, "Api validation failed: payloadData", problem)
        return execute(hook, document)
    return error(405, "Method not allowed")


def execute(hook: dict[str, Any], document: Any) -> Reply:
    """Okta calls the hook with the body, as it calls it for a registration, and returns its
    answer; a hook that cannot be reached or answers otherwise than 200 is Okta's 400."""
    if hook["status"] != "ACTIVE":
        return error(400, "The inline hook is not active.")
    url = os.environ.get("FAKE_OKTA_EXECUTE_URL", "")
    if not url:
        return error(400, "Failed to call the external service.", "no hook to reach")
    config = hook["channel"]["config"]
    if hook["channel"]["type"] == "HTTP":
        authorization = config["authScheme"]["value"]
    else:
        authorization = "Bearer " + os.environ.get("FAKE_OKTA_EXECUTE_BEARER", "")
    request = urllib.request.Request(
        url,
        data=json.dumps(document).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": authorization},
    )
    try:
        with urllib.request.urlopen(request, timeout=3) as response:
            return 200, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return error(400, "The external service responded with an error.", f"HTTP {e.code}")
    except (OSError, ValueError) as e:
        return error(400, "Failed to call the external service.", type(e).__name__)


def policies(state: State, method: str, path: str, query: dict[str, str], document: Any) -> Reply:
    known: list[dict[str, Any]] = state.setdefault("policies", [])
    if path == "/api/v1/policies" and method == "GET":
        if query.get("type") != "PROFILE_ENROLLMENT":
            return error(400, "Api validation failed: type")
        prefix = query.get("q", "")
        return 200, [p for p in known if p["name"].startswith(unquote(prefix))]
    match = re.fullmatch(r"/api/v1/policies/([A-Za-z0-9]+)/rules(?:/([A-Za-z0-9]+))?", path)
    policy = [p for p in known if match and p["id"] == match.group(1)]
    if not policy or not match:
        return error(404, "Not found: Resource not found")
    rules: list[dict[str, Any]] = state.setdefault("rules", {}).setdefault(match.group(1), [])
    if match.group(2) is None and method == "GET":
        return 200, rules
    rule = [r for r in rules if r["id"] == match.group(2)]
    if not rule:
        return error(404, "Not found: Resource not found")
    if method == "GET":
        return 200, rule[0]
    if method == "PUT":
        problem = invalid(document, "PolicyRule")
        if problem:
            return error(400, "Api validation failed: policyRule", problem)
        held = rule[0]["actions"]["profileEnrollment"].get("uiSchemaId")
        if held and document["actions"]["profileEnrollment"].get("uiSchemaId") != held:
            return error(400, "Api validation failed: uiSchemaId must be sent back")
        kept: dict[str, Any] = {k: rule[0][k] for k in ("id", "created", "_links") if k in rule[0]}
        rule[0].clear()
        rule[0].update({**kept, **document, "lastUpdated": "2026-01-01T00:00:00.000Z"})
        return 200, rule[0]
    return error(405, "Method not allowed")


def invalid(document: Any, root: str) -> str:
    """What Okta would refuse in a body, or '': its published schema, closed-world, and for an
    inline hook the fields it needs."""
    if not isinstance(document, dict):
        return "not an object"
    found = problems(document, root)
    if root.startswith("InlineHook"):
        found += missing_hook_fields(document, needs_type=root == "InlineHookCreate")
    return "; ".join(found)


def missing_hook_fields(document: dict[str, Any], needs_type: bool) -> list[str]:
    channel = document.get("channel") or {}
    config = channel.get("config") or {}
    needed = ("name", "type", "version") if needs_type else ("name", "version")
    if not all(document.get(k) for k in needed):
        return [f"{', '.join(needed)} are required"]
    if not str(config.get("uri", "")).startswith("https://"):
        return ["uri must begin with https://"]
    if channel.get("type") == "HTTP":
        scheme = config.get("authScheme") or {}
        return [] if scheme.get("type") == "HEADER" and scheme.get("value") else ["authScheme"]
    if config.get("authType") == "client_secret_post":
        wanted = ("clientId", "clientSecret", "tokenUrl", "scope")
    else:
        wanted = ("clientId", "hookKeyId", "tokenUrl", "scope")
    missing = [k for k in wanted if not config.get(k)]
    return [f"missing {', '.join(missing)}"] if missing else []


def public(hook: dict[str, Any]) -> dict[str, Any]:
    """A hook as Okta shows it: never the header value or the client secret."""
    shown = copy.deepcopy(hook)
    config = shown["channel"]["config"]
    if isinstance(config.get("authScheme"), dict):
        config["authScheme"].pop("value", None)
    for field in SECRET_FIELDS:
        config.pop(field, None)
    return shown


if __name__ == "__main__":
    sys.exit(main())
