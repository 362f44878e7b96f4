"""Like the Admin Console's Preview: send Okta's sample request, edited, and show the answer.

python -m tools.preview registration --email someone@example.com --employee-number 1234
python -m tools.preview progressive --employee-number 12a4 nickName=Ro
python -m tools.preview registration 'employeeNumber:=null'     # a JSON value after :=
python -m tools.preview registration locale=fr_FR --accept-language 'fr-CH, fr;q=0.9'
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
from service.settings import PROJECT_ROOT

SAMPLES = PROJECT_ROOT / "tests" / "samples"
SAMPLE_FILES = {
    "registration": SAMPLES / "okta_ssr_request.json",
    "progressive": SAMPLES / "okta_progressive_request.json",
}


def sample_request(kind: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SAMPLE_FILES[kind].read_text(encoding="utf-8"))
    return document


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


def authorization(args: argparse.Namespace) -> str | None:
    if args.bearer:
        return f"Bearer {args.bearer}"
    basic = args.basic or _first_line(os.environ.get("OKTA_HOOK_BASIC_CREDENTIALS", ""))
    if basic:
        return "Basic " + base64.b64encode(basic.encode("utf-8")).decode("ascii")
    return None


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
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    if auth:
        request.add_header("Authorization", auth)
    if accept_language:
        request.add_header("Accept-Language", accept_language)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
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
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--email")
    parser.add_argument("--employee-number")
    parser.add_argument(
        "--basic", help="user:password (default: the first line of OKTA_HOOK_BASIC_CREDENTIALS)"
    )
    parser.add_argument("--bearer", help="an access token to send as Bearer")
    parser.add_argument("--accept-language", help="an Accept-Language header to send")
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--show-request", action="store_true")
    args = parser.parse_intermixed_args(argv)

    document = edit(sample_request(args.kind), args.kind, parse_edits(args))
    body = json.dumps(document).encode("utf-8")
    if args.show_request:
        print(json.dumps(document, indent=2))
    try:
        status, text = send(args.url, body, authorization(args), args.timeout, args.accept_language)
    except (urllib.error.URLError, OSError) as e:
        print(f"cannot reach {args.url}: {e}", file=sys.stderr)
        return 2
    print(f"HTTP {status}")
    try:
        print(json.dumps(json.loads(text), indent=2, ensure_ascii=False))
    except ValueError:
        print(text)
    print(describe(status, text))
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
