"""A stand-in for `curl` talking to Okta's inline hooks API, for deploy.sh's tests.

Run as `python fake_curl.py ARGS...` by a `curl` shim on PATH. It reads the curl config from
standard input (`--config -`) and the body from `--data-binary @FILE`, answers like Okta's
`/api/v1/inlineHooks` (the org's hooks live in the JSON file named by FAKE_OKTA_STATE, with their
secrets, which Okta never returns), writes the answer to `--output` and the status to stdout
(`--write-out '%{http_code}'`), and logs each call to FAKE_CURL_LOG.
"""

from __future__ import annotations

import copy
import json
import os
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

VALUE_FLAGS = {
    "--request", "--header", "--data-binary", "--output", "--write-out", "--config",
    "--connect-timeout", "--max-time",
}  # fmt: skip
SECRET_FIELDS = ("clientSecret",)


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
    assert values.get("--config") == ["-"], "the token comes in a config on standard input"
    config = sys.stdin.read()
    body = ""
    if "--data-binary" in values:
        source = values["--data-binary"][0]
        assert source.startswith("@"), "the body comes from a file descriptor, never argv"
        body = Path(source[1:]).read_text()
    entry = {"argv": ["curl", *argv], "config": config, "body": body}
    state_path = Path(os.environ["FAKE_OKTA_STATE"])
    state = json.loads(state_path.read_text())
    status, answer = okta(state, values["--request"][0], urls[0], config, body)
    entry["status"] = status
    state_path.write_text(json.dumps(state, indent=2))
    Path(values["--output"][0]).write_text(json.dumps(answer))
    with open(os.environ["FAKE_CURL_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")
    assert values["--write-out"] == ["%{http_code}"]
    sys.stdout.write(str(status))
    return 0


def error(status: int, summary: str) -> tuple[int, Any]:
    return status, {"errorCode": "E0000001", "errorSummary": summary, "errorCauses": []}


def okta(state: dict[str, Any], method: str, url: str, config: str, body: str) -> tuple[int, Any]:
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != state["org"]:
        return error(404, "Not found")
    headers = re.findall(r'^header = "(.*)"$', config, flags=re.MULTILINE)
    if f"Authorization: SSWS {state['token']}" not in headers:
        return error(401, "Invalid token provided")
    hooks: list[dict[str, Any]] = state.setdefault("hooks", [])
    if parts.path == "/api/v1/inlineHooks" and method == "GET":
        wanted = dict(p.split("=", 1) for p in parts.query.split("&") if p).get("type")
        return 200, [public(h) for h in hooks if wanted in (None, h["type"])]
    document: Any = json.loads(body) if body else None
    if parts.path == "/api/v1/inlineHooks" and method == "POST":
        problem = invalid(document)
        if problem:
            return error(400, f"Api validation failed: {problem}")
        hook = {"id": f"cal{len(hooks) + 1:017d}", "status": "ACTIVE", **document}
        hooks.append(hook)
        return 200, public(hook)
    match = re.fullmatch(r"/api/v1/inlineHooks/([A-Za-z0-9]+)", parts.path)
    if match and method == "PUT":
        for index, hook in enumerate(hooks):
            if hook["id"] == match.group(1):
                problem = invalid(document)
                if problem:
                    return error(400, f"Api validation failed: {problem}")
                hooks[index] = {"id": hook["id"], "status": hook["status"], **document}
                return 200, public(hooks[index])
        return error(404, "Not found: Resource not found")
    return error(405, "Method not allowed")


def invalid(document: Any) -> str:
    """What Okta would refuse in an inline hook object, or ''."""
    if not isinstance(document, dict):
        return "not an object"
    channel = document.get("channel") or {}
    config = channel.get("config") or {}
    if not all(document.get(k) for k in ("name", "type", "version")):
        return "name, type and version are required"
    if not str(config.get("uri", "")).startswith("https://"):
        return "uri must begin with https://"
    if channel.get("type") == "HTTP":
        scheme = config.get("authScheme") or {}
        return "" if scheme.get("type") == "HEADER" and scheme.get("value") else "authScheme"
    if channel.get("type") == "OAUTH":
        if config.get("authType") == "client_secret_post":
            needed = ("clientId", "clientSecret", "tokenUrl")
        else:
            needed = ("clientId", "hookKeyId", "tokenUrl")
        missing = [k for k in needed if not config.get(k)]
        return f"missing {', '.join(missing)}" if missing else ""
    return "channel type must be HTTP or OAUTH"


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
