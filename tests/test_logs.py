"""The audit line: exactly one per request, in Cloud Logging's format, with no personal data."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest
import time_machine
from starlette.testclient import TestClient

from core import logs
from core.error_report import Location
from tests.conftest import BASIC_PASSWORD, MakeClient, basic, post, sample


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


def test_one_audit_line_per_request(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    body = sample("ssr")
    body["data"]["userProfile"]["employeeNumber"] = "12a4"
    post(client, body)
    [entry] = lines(capsys)
    assert entry["severity"] == "INFO"
    assert entry["eventId"] == "04Dmt8BcT_aEgM"
    assert entry["requestType"] == "self.service.registration"
    assert entry["decision"] == "DENY"
    assert entry["reasons"] == ["INVALID_EMPLOYEE_NUMBER"]
    assert entry["auth"] == "basic"
    assert entry["email_domain"] == "example.com"
    assert entry["status"] == 200
    assert isinstance(entry["latency_ms"], float)


def test_refusals_are_logged_with_their_reason(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    post(client, sample("ssr"), authorization=basic("okta-test", "wrong"))
    post(client, b"{", content_type="application/json")
    refused, malformed = lines(capsys)
    assert (refused["severity"], refused["status"], refused["error"]) == (
        "WARNING",
        401,
        "unauthenticated",
    )
    assert refused["reason"] == "basic: unknown user or wrong password"
    assert (malformed["status"], malformed["reason"]) == (400, "malformed JSON")


def test_trace_context_is_linked(
    make_client: MakeClient, capsys: pytest.CaptureFixture[str]
) -> None:
    client = make_client(
        OKTA_HOOK_BASIC_CREDENTIALS=f"okta-test:{BASIC_PASSWORD}", GOOGLE_CLOUD_PROJECT="acme-hooks"
    )
    capsys.readouterr()
    trace = "105445aa7843bc8bf206b12000100000"
    post(client, sample("progressive"), headers={"X-Cloud-Trace-Context": f"{trace}/1;o=1"})
    post(client, sample("progressive"), headers={"X-Cloud-Trace-Context": "not-a-trace/1;o=1"})
    linked, unlinked = lines(capsys)
    assert linked["logging.googleapis.com/trace"] == f"projects/acme-hooks/traces/{trace}"
    assert "logging.googleapis.com/trace" not in unlinked


def test_no_password_or_full_email_in_any_line(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong_password = "Wr0ng-Passw0rd-Value"
    body = sample("ssr")
    body["data"]["userProfile"]["email"] = "rosario.jones@evil-example.com"
    post(client, body)
    post(client, body, authorization=basic("okta-test", wrong_password))
    post(client, body, authorization="Basic " + base64.b64encode(b"no colon secret").decode())
    post(client, b'{"requestType": "x", "data": {"email": "rosario.jones@example.com"}}')
    out = capsys.readouterr().out
    for needle in (BASIC_PASSWORD, wrong_password, "no colon secret", "rosario.jones", "Basic "):
        assert needle not in out
    assert "evil-example.com" in out  # the domain is logged, the address is not


def test_a_retried_event_gets_the_same_decision_and_is_marked(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    body = sample("progressive")
    first, second = post(client, body), post(client, body)
    other = sample("progressive")
    other["eventId"] = "another-event"
    post(client, other)
    assert first.json() == second.json()
    entries = lines(capsys)
    assert [e.get("retry", False) for e in entries] == [False, True, False]


def test_a_line_written_directly_is_the_one_logging_writes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The audit line skips `logging` when the hook's handler is the only one (as served): the
    line must be the very one `logging` would write."""
    fields = {"eventId": "abc", "status": 503, "reasons": ["MISSING_ATTRIBUTE"], "retry": True}
    where = Location("service/web.py", 12, "read_json_body")
    own = logs._StdoutHandler()
    own.setFormatter(logs.CloudLoggingFormatter())
    other = logging.NullHandler()
    lines = []
    with time_machine.travel(1_700_000_000.25, tick=False):
        for handlers in ([own], [own, other]):
            monkeypatch.setattr(logs.logger, "handlers", handlers)
            capsys.readouterr()
            logs.write(logging.ERROR, "okta registration hook - 503", dict(fields), where)
            lines.append(capsys.readouterr().out)
    assert lines[0] == lines[1]
    entry = json.loads(lines[0])
    assert entry["severity"] == "ERROR"
    assert entry["eventId"] == "abc"
    assert entry["@type"].endswith("ReportedErrorEvent")
