"""Like the Admin Console's Preview: send Okta's sample request, edited, and show the answer.

python -m tools.preview registration --email someone@example.com --employee-number 1234
python -m tools.preview progressive --employee-number 12a4 nickName=Ro
python -m tools.preview registration 'employeeNumber:=null'     # a JSON value after :=
python -m tools.preview registration locale=fr_FR --accept-language 'fr-CH, fr;q=0.9'
python -m tools.preview --local-oauth registration              # a hook run with AUTH=oauth

It sends Basic with the first line of OKTA_HOOK_BASIC_CREDENTIALS (the environment's, else
local.env's, as `make run` reads it), unless --basic, --bearer or --local-oauth says otherwise;
to http://127.0.0.1:$PORT (8080 when PORT is unset). Each request gets a fresh eventId (Okta
never repeats one but in a retry), unless --event-id gives one.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any

from auth.basic import CredentialsFormatError, credential_lines
from tools import local_oauth
from tools.local_env import LOCAL_ENV, local_settings
from tools.okta_cases import SAMPLE_FILES, fresh_event_id, sample

BASIC = "OKTA_HOOK_BASIC_CREDENTIALS"


def sample_request(kind: str) -> dict[str, Any]:
    return sample(kind)


def edit(document: dict[str, Any], kind: str, edits: dict[str, Any]) -> dict[str, Any]:
    """Set each attribute in the object Okta fills for this request type."""
    key = "userProfile" if kind == "registration" else "userProfileUpdate"
    submitted = document["data"].setdefault(key, {})
    submitted.update(edits)
    return document


def parse_edits(args: argparse.Namespace) -> dict[str, Any]:
    edits: dict[str, Any] = {}
    if args.email is not None:
        edits["email"] = args.email
        if args.kind == "registration":
            edits["login"] = args.email
    if args.employee_number is not None:
        edits["employeeNumber"] = args.employee_number
    for item in args.attributes:
        if ":=" in item:
            name, _, raw = item.partition(":=")
            edits[name] = json.loads(raw)
        elif "=" in item:
            name, _, value = item.partition("=")
            edits[name] = value
        else:
            raise SystemExit(f"not attr=value or attr:=json: {item!r}")
    return edits


def authorization(args: argparse.Namespace) -> tuple[str | None, str]:
    """The Authorization header to send, and what it is, to say when the hook refuses it."""
    if args.local_oauth:
        return f"Bearer {local_oauth.token()}", "a token signed with the local key (AUTH=oauth)"
    if args.bearer:
        return f"Bearer {args.bearer}", "the token given with --bearer"
    if args.basic:
        return _basic(args.basic), "the user:password given with --basic"
    settings = local_settings(os.environ)
    basic = _first_line(settings.get(BASIC, ""))
    where = "the environment" if os.environ.get(BASIC) else LOCAL_ENV.name
    if basic:
        user = basic.split(":", 1)[0]
        return _basic(basic), f"Basic for {user}, the first line of {BASIC} in {where}"
    return None, f"nothing: no --basic, --bearer or --local-oauth, and no {BASIC}"


def _basic(user_password: str) -> str:
    return "Basic " + base64.b64encode(user_password.encode("utf-8")).decode("ascii")


def _first_line(text: str) -> str:
    """The first `user:password` of the credentials setting, read as the function reads it."""
    try:
        user, password = credential_lines(text)[0]
    except CredentialsFormatError:
        return ""
    return f"{user}:{password}"


def send(
    url: str, body: bytes, auth: str | None, timeout: float, accept_language: str | None = None
) -> tuple[int, str]:
    # S310: main refuses a --url that is not http:// or https://.
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310
    request.add_header("Content-Type", "application/json")
    if auth:
        request.add_header("Authorization", auth)
    if accept_language:
        request.add_header("Accept-Language", accept_language)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def describe(status: int, text: str) -> str:
    if status != 200:
        return f"no decision: HTTP {status}"
    try:
        document = json.loads(text)
        commands = document.get("commands", [])
        actions = [
            c["value"]["registration"]
            for c in commands
            if c.get("type") == "com.okta.action.update"
        ]
        causes = document.get("error", {}).get("errorCauses", [])
        updates = [
            (name, value)
            for c in commands
            if c.get("type") != "com.okta.action.update"
            for name, value in c["value"].items()
        ]
    except (ValueError, AttributeError, KeyError, TypeError):
        return "no decision: the answer is not Okta's format"
    lines = [f"decision: {actions[-1] if actions else 'none'}"]
    lines += [f"  {c.get('location')}: {c.get('reason')}: {c.get('errorSummary')}" for c in causes]
    lines += [f"  sets {name} = {json.dumps(value, ensure_ascii=False)}" for name, value in updates]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.preview",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("kind", choices=sorted(SAMPLE_FILES), nargs="?", default="registration")
    parser.add_argument("attributes", nargs="*", metavar="attr=value", help="set an attribute")
    parser.add_argument("--url", default=f"http://127.0.0.1:{os.environ.get('PORT') or 8080}")
    parser.add_argument("--email")
    parser.add_argument("--employee-number")
    parser.add_argument(
        "--basic", help="user:password (default: the first line of OKTA_HOOK_BASIC_CREDENTIALS)"
    )
    parser.add_argument("--bearer", help="an access token to send as Bearer")
    parser.add_argument(
        "--local-oauth",
        action="store_true",
        help="send a token signed with the local key set (a hook run with make run AUTH=oauth)",
    )
    parser.add_argument("--event-id", help="the eventId to send (default: a fresh one)")
    parser.add_argument("--accept-language", help="an Accept-Language header to send")
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--show-request", action="store_true")
    args = parser.parse_intermixed_args(argv)
    if not args.url.startswith(("http://", "https://")):
        parser.error("--url must be an http:// or https:// URL")

    document = edit(sample_request(args.kind), args.kind, parse_edits(args))
    document["eventId"] = args.event_id or fresh_event_id()
    body = json.dumps(document).encode("utf-8")
    if args.show_request:
        print(json.dumps(document, indent=2))
    header, sent = authorization(args)
    try:
        status, text = send(args.url, body, header, args.timeout, args.accept_language)
    except (urllib.error.URLError, OSError) as e:
        print(
            f"cannot reach {args.url}: {e}. Is the hook running? Start it with make run "
            "(PORT=... for another port), or give --url.",
            file=sys.stderr,
        )
        return 2
    print(f"HTTP {status}")
    try:
        print(json.dumps(json.loads(text), indent=2, ensure_ascii=False))
    except ValueError:
        print(text)
    print(describe(status, text))
    if status == 401:
        print(
            f"the hook refused the credentials (sent: {sent}). A hook started with make run takes "
            "Basic with a line of the OKTA_HOOK_BASIC_CREDENTIALS it started with (--basic "
            "user:password); one started with make run AUTH=oauth takes only --local-oauth "
            "(make preview AUTH=oauth).",
            file=sys.stderr,
        )
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
