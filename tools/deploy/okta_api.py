"""Okta's inline hooks API through curl: the API token in a config on standard input, a body on
file descriptor 3; neither is ever an argument."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.deploy.checks import https_url
from tools.deploy.options import Options
from tools.deploy.output import Refused
from tools.deploy.runner import BODY_FD, Runner
from tools.okta_inline_hook import error_summary

API_TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]+")
CURL_SECONDS = 60.0  # curl gives up by itself after --max-time 30


@dataclass(frozen=True)
class OktaAccess:
    """Where Okta's API is, and the API token (from OKTA_API_TOKEN only)."""

    org_url: str
    api_token: str = field(repr=False)


def okta_access(o: Options, env: Mapping[str, str]) -> OktaAccess | None:
    """For --create-okta-hook: the org and the token, checked; raises `Refused`."""
    access = None
    if o.create_okta_hook:
        org_url = env.get("OKTA_ORG_URL", "")
        if not org_url:
            raise Refused("--create-okta-hook needs OKTA_ORG_URL (https://example.okta.com)")
        https_url("OKTA_ORG_URL", org_url)
        token = env.get("OKTA_API_TOKEN", "")
        if not token:
            raise Refused("--create-okta-hook needs OKTA_API_TOKEN (an Okta API token)")
        if not API_TOKEN.fullmatch(token):
            raise Refused("OKTA_API_TOKEN has characters a token cannot have")
        missing = ""
        if o.auth == "oauth-client-secret" and not o.okta_client_secret_file:
            missing = "--okta-client-secret-file"
        if o.auth == "oauth-private-key" and not o.hook_key_id:
            missing = "--hook-key-id"
        if missing:
            raise Refused(f"--create-okta-hook with --auth {o.auth} needs {missing}")
        if shutil.which("curl") is None:
            raise Refused("curl is needed for --create-okta-hook")
        access = OktaAccess(org_url.removesuffix("/"), token)
    elif o.okta_client_secret_file:
        raise Refused("--okta-client-secret-file is only sent to Okta, with --create-okta-hook")
    if o.force_okta_update and not o.create_okta_hook:
        raise Refused("--force-okta-update goes with --create-okta-hook")
    return access


@dataclass(frozen=True)
class Answer:
    status: str  # as curl's %{http_code} writes it: "000" when nothing came back
    document: Any

    def failure(self, what: str) -> Refused:
        summary = error_summary(self.document)
        return Refused(f"Okta answered HTTP {self.status} to {what}: {summary}")


class OktaApi:
    def __init__(self, access: OktaAccess, runner: Runner, work: Path) -> None:
        self._access = access
        self._runner = runner
        self._answer = work / "okta.json"

    def read(self, path: str) -> Answer:
        """A GET, run in a dry run too."""
        self._answer.write_bytes(b"")
        done = self._runner.check(
            self._argv("GET", path), stdin=self._config(), timeout=CURL_SECONDS
        )
        return self._answer_of(done.ok, done.text())

    def send(self, method: str, path: str, body: Callable[[], bytes]) -> Answer | None:
        """A POST or PUT of a JSON body; only printed in a dry run (None), where the body, which
        may hold a secret, is not even made."""
        argv = self._argv(method, path)
        if self._runner.dry_run:
            self._runner.change(argv)
            return None
        data = body()
        self._answer.write_bytes(b"")
        done = self._runner.change(
            argv, stdin=self._config(), body=data, capture=True, must=False, timeout=CURL_SECONDS
        )
        assert done is not None
        return self._answer_of(done.ok, done.text())

    def _argv(self, method: str, path: str) -> list[str]:
        body = []
        if method != "GET":
            body = ["--header", "Content-Type: application/json"]
            body += ["--data-binary", f"@/dev/fd/{BODY_FD}"]
        return [
            "curl", "--silent", "--show-error", "--connect-timeout", "10", "--max-time", "30",
            "--request", method, "--header", "Accept: application/json", *body,
            "--output", str(self._answer), "--write-out", "%{http_code}", "--config", "-",
            self._access.org_url + path,
        ]  # fmt: skip

    def _config(self) -> bytes:
        return f'header = "Authorization: SSWS {self._access.api_token}"\n'.encode()

    def _answer_of(self, ran: bool, status: str) -> Answer:
        if not ran:
            raise Refused(f"cannot reach Okta at {self._access.org_url}")
        try:
            document = json.loads(self._answer.read_text("utf-8"))
        except (OSError, ValueError):
            document = None
        return Answer(status, document)
