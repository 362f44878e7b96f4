"""The real `functions-framework` server process on loopback, and the preview command against it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import BASIC_PASSWORD, BASIC_USER, POLICIES, basic, sample
from tests.server_support import Served, raw_post, serve
from tools import preview


def headers(authorization: str | None = None) -> dict[str, str]:
    return {"Content-Type": "application/json", "Authorization": authorization or basic()}


def test_progressive_sample_over_http(served_hook: Served) -> None:
    status, response_headers, body = served_hook.post(
        json.dumps(sample("progressive")).encode(), headers()
    )
    assert status == 200
    assert response_headers["Content-Type"] == "application/json"
    assert json.loads(body)["commands"][1] == {
        "type": "com.okta.user.progressive.profile.update",
        "value": {"employeeNumber": "1234"},
    }


def test_registration_sample_over_http_is_allowed(served_hook: Served) -> None:
    status, _, body = served_hook.post(json.dumps(sample("ssr")).encode(), headers())
    assert status == 200
    assert json.loads(body) == {
        "commands": [{"type": "com.okta.action.update", "value": {"registration": "ALLOW"}}]
    }


def test_registration_over_http_is_denied_for_a_bad_employee_number(served_hook: Served) -> None:
    body = sample("ssr")
    body["data"]["userProfile"]["employeeNumber"] = "12a4"
    status, _, answer = served_hook.post(json.dumps(body).encode(), headers())
    assert status == 200
    assert json.loads(answer)["error"]["errorCauses"][0]["reason"] == "INVALID_EMPLOYEE_NUMBER"


def test_wrong_password_over_http(served_hook: Served) -> None:
    status, response_headers, body = served_hook.post(
        json.dumps(sample("ssr")).encode(), headers(basic(BASIC_USER, "nope"))
    )
    assert status == 401
    assert response_headers["WWW-Authenticate"].startswith("Basic ")
    assert json.loads(body)["error"]["code"] == "unauthenticated"


def test_chunked_body_over_the_limit_is_413(served_hook: Served) -> None:
    chunk = b"2000\r\n" + b"x" * 8192 + b"\r\n"  # 160 KiB in 8 KiB chunks, no Content-Length
    head = {**headers(), "Transfer-Encoding": "chunked"}
    answer = raw_post(served_hook.url, head, [chunk] * 20 + [b"0\r\n\r\n"])
    assert answer.status == 413
    body = answer.text.partition("\r\n\r\n")[2]
    assert json.loads(body)["error"]["code"] == "payload_too_large"


def test_one_audit_line_per_request_on_stdout(served_hook: Served) -> None:
    before = served_hook.log().count('"logger": "okta_hook", "auth"')
    served_hook.post(json.dumps(sample("progressive")).encode(), headers())
    # The line is flushed by the time the answer is read.
    after = served_hook.log().count('"logger": "okta_hook", "auth"')
    assert after == before + 1


def test_preview_command(served_hook: Served, capsys: pytest.CaptureFixture[str]) -> None:
    auth = f"{BASIC_USER}:{BASIC_PASSWORD}"
    argv = ["--url", served_hook.url, "--basic", auth, "--employee-number", "1234"]
    assert preview.main(["registration", *argv]) == 0
    assert capsys.readouterr().out.strip().endswith("decision: ALLOW")

    argv = ["progressive", "--url", served_hook.url, "--basic", auth, "employeeNumber=12a4"]
    assert preview.main(argv) == 0
    out = capsys.readouterr().out
    assert "decision: DENY" in out
    assert "data.userProfile.employeeNumber: INVALID_EMPLOYEE_NUMBER" in out

    argv = ["registration", "--url", served_hook.url, "--basic", "x:y"]
    assert preview.main(argv) == 1
    assert "no decision: HTTP 401" in capsys.readouterr().out


def test_preview_edits_only_the_named_fields() -> None:
    document = preview.edit(preview.sample_request("registration"), "registration", {"a": None})
    expected = sample("ssr")
    expected["data"]["userProfile"]["a"] = None
    assert document == expected


def test_local_example_configuration_is_valid(tmp_path: Path) -> None:
    # `make run` serves with local.env: it must configure a working hook.
    env = {}
    for line in (POLICIES.parent / "local.env").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name] = value
    user, _, password = env["OKTA_HOOK_BASIC_CREDENTIALS"].partition(":")
    with serve(env, tmp_path) as server:
        status, _, body = server.post(
            json.dumps(sample("progressive")).encode(), headers(basic(user, password))
        )
    assert status == 200
    assert json.loads(body)["commands"][0]["value"] == {"registration": "ALLOW"}
