"""Okta's management API through curl: the credential in a config on standard input, a body on
file descriptor 3; neither is ever an argument, a line of output or a log entry.

The credential is an API token (`Authorization: SSWS`), or an access token that an OAuth 2.0
service app gets with a client assertion signed by its private key (`Authorization: Bearer`),
asked for once a run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.deploy import okta_token
from tools.deploy.okta_access import OktaAccess
from tools.deploy.output import Refused, say
from tools.deploy.runner import BODY_FD, NOT_RUN, Runner
from tools.okta_inline_hook import error_summary

CURL_SECONDS = 60.0  # curl gives up by itself after --max-time 30
PLANNED = str(NOT_RUN)


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
        if answer is None:
            raise RuntimeError("a read is run even in a dry run")
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
            if made is None:
                raise RuntimeError("a captured change returns its result")
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
        if self._key is None:
            raise RuntimeError("an OAuth service app needs its private key")
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
