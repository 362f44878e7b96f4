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
import http.client
import json
import math
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, NoReturn

from auth.basic import CredentialsFormatError, credential_lines
from core.strict_json import StrictJsonError, loads
from tools import local_oauth
from tools.local_env import LOCAL_ENV, local_settings
from tools.okta_cases import SAMPLE_FILES, fresh_event_id, sample

BASIC = "OKTA_HOOK_BASIC_CREDENTIALS"
MAX_TIMEOUT = 30.0
# What http.client refuses in a URL, and what a header value may hold (visible ASCII, space, tab).
_URL_REFUSED = re.compile(r"[\x00-\x20\x7f]")
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")


class UsageError(ValueError):
    """An argument refused before anything is sent; the message never quotes a credential."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line on stderr, exit status 2, as argparse's own, without the usage block."""
        self.exit(2, f"{self.prog}: error: {message} (--help shows the usage)\n")


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
            try:
                edits[name] = loads(raw)
            except StrictJsonError as e:
                raise UsageError(
                    f"attribute {_short(name)}: the value after := {e.public}; "
                    "for text give attr=value"
                ) from None
        elif "=" in item:
            name, _, value = item.partition("=")
            edits[name] = value
        else:
            raise UsageError(f"not attr=value or attr:=json: {_short(item)}")
    return edits


def _short(text: str, limit: int = 40) -> str:
    """A name to quote in a message: repr (no control character reaches the terminal), cut."""
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 4] + "...'"


def timeout(text: str) -> float:
    """--timeout: seconds, a finite number above 0 and at most MAX_TIMEOUT."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= MAX_TIMEOUT):
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds above 0 and at most {MAX_TIMEOUT:g}"
        )
    return value


def check_url(url: str) -> None:
    """Refuse, before anything is sent, a --url urllib would choke on or that holds credentials.
    No message quotes the URL: its userinfo could be a password."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError as e:
        raise UsageError(f"--url is not a URL ({e})") from None
    if "@" in parts.netloc:
        raise UsageError("the --url holds a user or password: give credentials with --basic")
    if not url.startswith(("http://", "https://")):
        raise UsageError("--url must be an http:// or https:// URL")
    if _URL_REFUSED.search(url):
        raise UsageError("the --url holds a space or a control character")
    try:
        port_zero = parts.port == 0
    except ValueError:  # not quoted: without a host, `u:password` reads as host and port
        port_zero = True
    if port_zero:
        raise UsageError("the --url's port is not a number from 1 to 65535")
    if not parts.hostname:
        raise UsageError("the --url has no host")


def check_header(option: str, value: str | None) -> None:
    """A header value http.client would refuse (a line break, say) or could not encode."""
    if value is not None and not _HEADER_VALUE.fullmatch(value):
        raise UsageError(f"{option} must be printable ASCII (no line break or control character)")


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
    try:
        encoded = user_password.encode("utf-8")
    except UnicodeEncodeError:  # bytes of the command line that were not UTF-8
        raise UsageError("the Basic user:password is not UTF-8 text") from None
    return "Basic " + base64.b64encode(encoded).decode("ascii")


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
        document = loads(text)
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
        lines = [f"decision: {actions[-1] if actions else 'none'}"]
        lines += [
            f"  {c.get('location')}: {c.get('reason')}: {c.get('errorSummary')}" for c in causes
        ]
        lines += [
            f"  sets {name} = {json.dumps(value, ensure_ascii=False)}" for name, value in updates
        ]
    except (ValueError, AttributeError, KeyError, TypeError):
        return "no decision: the answer is not Okta's format"
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(
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
    parser.add_argument(
        "--timeout", type=timeout, default=5.0, help=f"seconds, at most {MAX_TIMEOUT:g}"
    )
    parser.add_argument("--show-request", action="store_true")
    args = parser.parse_intermixed_args(argv)
    try:
        check_url(args.url)
        check_header("--accept-language", args.accept_language)
        check_header("--bearer", args.bearer)
        edits = parse_edits(args)
        header, sent = authorization(args)
    except UsageError as e:
        parser.error(str(e))

    document = edit(sample_request(args.kind), args.kind, edits)
    document["eventId"] = args.event_id or fresh_event_id()
    body = json.dumps(document).encode("utf-8")
    if args.show_request:
        print(json.dumps(document, indent=2))
    try:
        status, text = send(args.url, body, header, args.timeout, args.accept_language)
    # ValueError: a host the idna codec refuses (a..b); HTTPException: a garbled answer.
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as e:
        print(
            f"cannot reach {args.url}: {e}. Is the hook running? Start it with make run "
            "(PORT=... for another port), or give --url.",
            file=sys.stderr,
        )
        return 2
    print(f"HTTP {status}")
    try:
        print(json.dumps(loads(text), indent=2, ensure_ascii=False))
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
