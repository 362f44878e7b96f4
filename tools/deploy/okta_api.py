"""Okta's management API through curl: the credential in a config on standard input, a body on
file descriptor 3; neither is ever an argument, a line of output or a log entry.

The credential is an API token (`Authorization: SSWS`), or an access token that an OAuth 2.0
service app gets with a client assertion signed by its private key (`Authorization: Bearer`).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.deploy import okta_token
from tools.deploy.checks import https_url
from tools.deploy.options import Options
from tools.deploy.output import Refused, say
from tools.deploy.runner import BODY_FD, NOT_RUN, Runner
from tools.okta_inline_hook import error_summary

API_TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]+")
CLIENT_ID = re.compile(r"[A-Za-z0-9._~-]+")
CURL_SECONDS = 60.0  # curl gives up by itself after --max-time 30
# A plan runs without an org: its calls are printed against this.
PLAN_ORG = "https://<your-org>.okta.com"
PLANNED = str(NOT_RUN)


@dataclass(frozen=True)
class OktaAccess:
    """Where Okta's API is, and how deploy signs in to it: the API token (OKTA_API_TOKEN only),
    or a service app's client id (its private key is read from a file, with the secrets)."""

    org_url: str
    api_token: str = field(default="", repr=False)
    client_id: str = ""
    key_id: str = ""

    @property
    def how(self) -> str:
        if self.client_id:
            return f"OAuth 2.0 service app {self.client_id} (private_key_jwt)"
        return "API token (OKTA_API_TOKEN)" if self.api_token else "no credentials (plan)"


def okta_access(o: Options, env: Mapping[str, str]) -> OktaAccess | None:
    """For --create-okta-hook: the org and the credential, checked; raises `Refused`. A plan
    needs neither: it prints the calls against the org given, or a placeholder."""
    if not o.create_okta_hook:
        for name, flag in (
            ("okta_client_secret_file", "--okta-client-secret-file is only sent to Okta"),
            ("force_okta_update", "--force-okta-update goes"),
            ("okta_policy", "--okta-policy goes"),
            ("skip_okta_verify", "--skip-okta-verify goes"),
            ("okta_api_client_id", "--okta-api-client-id goes"),
            ("okta_api_private_key_file", "--okta-api-private-key-file goes"),
        ):
            if getattr(o, name):
                raise Refused(f"{flag} with --create-okta-hook")
        return None
    org_url = env.get("OKTA_ORG_URL", "")
    if not org_url and not o.plan:
        raise Refused("--create-okta-hook needs OKTA_ORG_URL (https://example.okta.com)")
    if org_url:
        https_url("OKTA_ORG_URL", org_url)
    token = env.get("OKTA_API_TOKEN", "")
    if o.okta_api_client_id or o.okta_api_private_key_file:
        if token:
            raise Refused("give OKTA_API_TOKEN or --okta-api-client-id, not both")
        if not (o.okta_api_client_id and o.okta_api_private_key_file):
            raise Refused("--okta-api-client-id and --okta-api-private-key-file go together")
        if not CLIENT_ID.fullmatch(o.okta_api_client_id):
            raise Refused(f"--okta-api-client-id {o.okta_api_client_id} is not a client id")
    elif token:
        if not API_TOKEN.fullmatch(token):
            raise Refused("OKTA_API_TOKEN has characters a token cannot have")
    elif not o.plan:
        raise Refused(
            "--create-okta-hook needs OKTA_API_TOKEN (an Okta API token), or an OAuth 2.0 "
            "service app: --okta-api-client-id and --okta-api-private-key-file"
        )
    missing = ""
    if o.auth == "oauth-client-secret" and not o.okta_client_secret_file:
        missing = "--okta-client-secret-file"
    if o.auth == "oauth-private-key" and not o.hook_key_id:
        missing = "--hook-key-id"
    if missing and not o.plan:
        raise Refused(f"--create-okta-hook with --auth {o.auth} needs {missing}")
    if not o.plan and shutil.which("curl") is None:
        raise Refused("curl is needed for --create-okta-hook")
    return OktaAccess(
        (org_url or PLAN_ORG).removesuffix("/"),
        token,
        o.okta_api_client_id,
        o.okta_api_key_id,
    )


@dataclass(frozen=True)
class Answer:
    status: str  # as curl's %{http_code} writes it: "000" when nothing came back
    document: Any

    @property
    def planned(self) -> bool:
        """A call of a plan: never made."""
        return self.status == PLANNED

    def failure(self, what: str) -> Refused:
        summary = error_summary(self.document)
        return Refused(f"Okta answered HTTP {self.status} to {what}: {summary}")


class OktaApi:
    def __init__(
        self,
        access: OktaAccess,
        runner: Runner,
        work: Path,
        key: okta_token.SigningKey | None = None,
        scopes: tuple[str, ...] = okta_token.HOOK_SCOPES,
    ) -> None:
        self.access = access
        self._runner = runner
        self._answer = work / "okta.json"
        self._key = key
        self._scopes = scopes
        self._bearer = ""

    def read(self, path: str) -> Answer:
        """A GET, run in a dry run too; only printed in a plan."""
        answer = self._call("GET", path, None, change=False)
        assert answer is not None
        return answer

    def send(self, method: str, path: str, body: Callable[[], bytes] | None) -> Answer | None:
        """A call that changes something (a POST or PUT of a JSON body, or none); only printed in
        a dry run (None), where the body, which may hold a secret, is not even made."""
        return self._call(method, path, body, change=True)

    def probe(self, path: str, body: bytes) -> Answer | None:
        """A POST that changes nothing in Okta but reaches the hook (execute): run only in a real
        run, and not counted as a change."""
        return self._call("POST", path, lambda: body, change=True, count=False)

    def _call(
        self,
        method: str,
        path: str,
        body: Callable[[], bytes] | None,
        *,
        change: bool,
        count: bool = True,
    ) -> Answer | None:
        argv = self._argv(method, self.access.org_url + path, body is not None)
        if self._runner.dry_run and (change or self._runner.plan):
            if change:
                self._runner.change(argv, count=count)
                return None
            self._runner.check(argv)
            return Answer(PLANNED, None)
        config = self._config()
        self._answer.write_bytes(b"")
        if not change:
            done = self._runner.check(argv, stdin=config, timeout=CURL_SECONDS)
        else:
            data = body() if body is not None else None
            made = self._runner.change(
                argv, stdin=config, body=data, capture=True, must=False, timeout=CURL_SECONDS,
                count=count,
            )  # fmt: skip
            assert made is not None
            done = made
        return self._answer_of(done.ok, done.text())

    def _argv(self, method: str, url: str, has_body: bool, form: bool = False) -> list[str]:
        data = []
        if has_body:
            kind = "application/x-www-form-urlencoded" if form else "application/json"
            data = ["--header", f"Content-Type: {kind}", "--data-binary", f"@/dev/fd/{BODY_FD}"]
        config = [] if form else ["--config", "-"]
        return [
            "curl", "--silent", "--show-error", "--connect-timeout", "10", "--max-time", "30",
            "--request", method, "--header", "Accept: application/json", *data,
            "--output", str(self._answer), "--write-out", "%{http_code}", *config, url,
        ]  # fmt: skip

    def _config(self) -> bytes:
        if self.access.client_id:
            credential = f"Bearer {self._access_token()}"
        else:
            credential = f"SSWS {self.access.api_token}"
        return f'header = "Authorization: {credential}"\n'.encode()

    def _access_token(self) -> str:
        """The service app's access token, asked for once a run (it lasts an hour)."""
        if self._bearer:
            return self._bearer
        assert self._key is not None
        url = okta_token.token_url(self.access.org_url)
        argv = self._argv("POST", url, True, form=True)
        form = okta_token.token_request(self.access.client_id, url, self._key, self._scopes)
        self._answer.write_bytes(b"")
        # It changes nothing in Okta: a dry run asks for a token too, to make its reads.
        done = self._runner.check(argv, body=form, timeout=CURL_SECONDS)
        answer = self._answer_of(done.ok, done.text())
        self._bearer = okta_token.access_token(
            answer.status, answer.document, self.access.client_id
        )
        return self._bearer

    def plan_token_request(self) -> None:
        """In a plan: the token request a real run would make first."""
        if self.access.client_id:
            url = okta_token.token_url(self.access.org_url)
            self._runner.check(self._argv("POST", url, True, form=True))
            for line in okta_token.describe_request(self.access.client_id, url, self._scopes):
                say(line)

    def _answer_of(self, ran: bool, status: str) -> Answer:
        if not ran:
            raise Refused(f"cannot reach Okta at {self.access.org_url}")
        try:
            document = json.loads(self._answer.read_text("utf-8"))
        except (OSError, ValueError):
            document = None
        return Answer(status, document)
