"""The HTTP contract: methods, media type, size, malformed bodies, crashes; all answered in JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from okta_wire.models import RequestType
from service import app as hook_app
from service.web import MAX_BODY_BYTES
from tests.conftest import basic, post, sample


def error_code(response: Any) -> str:
    assert response.headers["content-type"] == "application/json"
    assert "Traceback" not in response.text
    code: str = response.json()["error"]["code"]
    return code


def test_valid_sample_is_decided(client: TestClient) -> None:
    body = sample("ssr")
    body["data"]["userProfile"]["employeeNumber"] = "1234"
    response = post(client, body)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "commands": [{"type": "com.okta.action.update", "value": {"registration": "ALLOW"}}]
    }


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_only_post(client: TestClient, method: str) -> None:
    response = client.request(method, "/", headers={"Authorization": basic()})
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert error_code(response) == "method_not_allowed"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_content_type_must_be_json(client: TestClient, content_type: str) -> None:
    response = post(client, sample("ssr"), content_type=content_type)
    assert response.status_code == 415
    assert error_code(response) == "unsupported_media_type"


def test_json_with_charset_is_accepted(client: TestClient) -> None:
    response = post(client, sample("progressive"), content_type="application/json; charset=utf-8")
    assert response.status_code == 200


def test_body_over_64_kib(client: TestClient) -> None:
    body = sample("ssr")
    body["data"]["userProfile"]["padding"] = "x" * MAX_BODY_BYTES
    response = post(client, body)
    assert response.status_code == 413
    assert error_code(response) == "payload_too_large"


def test_body_just_under_the_limit_is_read(client: TestClient) -> None:
    body = sample("progressive")
    body["data"]["context"]["padding"] = ""
    size = len(json.dumps(body).encode())
    body["data"]["context"]["padding"] = "x" * (MAX_BODY_BYTES - size)
    assert len(json.dumps(body).encode()) == MAX_BODY_BYTES
    assert post(client, body).status_code == 200


@pytest.mark.parametrize(
    ("body", "message_part"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[]", "must be a JSON object"),
        (b'"self.service.registration"', "must be a JSON object"),
        (b'{"data": {}}', "no requestType"),
        (b'{"requestType": "self.service.registration"}', "no data"),
        (b'{"requestType": "self.service.registration", "data": null}', "no data"),
        (b'{"requestType": "self.service.registration", "data": []}', "data must be"),
        (b'{"requestType": "password.import", "data": {}}', "requestType must be"),
        (b'{"requestType": 7, "data": {}}', "requestType must be"),
        (b'{"requestType": "self.service.registration", "data": {"userProfile": "x"}}', "data.userProfile must be"),
        (b'{"requestType": "progressive.profile", "data": {"userProfileUpdate": []}}', "data.userProfileUpdate must be"),
        (b'{"requestType": "progressive.profile", "data": {"context": {"user": 1}}}', "data.context.user must be"),
        (b'{"requestType": "progressive.profile", "requestType": "self.service.registration", "data": {}}', "repeats a key"),
        (b'{"requestType": "progressive.profile", "data": {"userProfileUpdate": {"a": NaN}}}', "contains NaN"),
        (b"[" * 5000 + b"]" * 5000, "nested too deeply"),
    ],
)  # fmt: skip
def test_malformed_bodies_are_400(client: TestClient, body: bytes, message_part: str) -> None:
    response = post(client, body)
    assert response.status_code == 400
    assert error_code(response) == "bad_request"
    assert message_part in response.json()["error"]["message"]


def test_reference_sample_without_update_is_decided_not_rejected(client: TestClient) -> None:
    # Okta's reference sample is a progressive request with no userProfileUpdate: read as empty.
    response = post(client, sample("reference"))
    assert response.status_code == 200
    causes = response.json()["error"]["errorCauses"]
    assert [(c["location"], c["reason"]) for c in causes] == [
        ("data.userProfile.employeeNumber", "MISSING_ATTRIBUTE")
    ]


def test_unexpected_failure_is_a_json_500_with_traceback_in_log_only(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    detail = "handler" + " bug"  # built, so that the source line the traceback shows lacks it

    def broken(*_: object) -> None:
        raise RuntimeError(detail)

    monkeypatch.setitem(hook_app.HANDLERS, RequestType.PROGRESSIVE, broken)
    response = post(client, sample("progressive"))
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal", "message": "The hook failed unexpectedly."}
    }
    assert "handler bug" not in response.text
    log = capsys.readouterr().out
    # The traceback is logged, with its frames and type; the exception's text, which may hold a
    # value from the request, is not.
    assert "Traceback" in log
    assert "RuntimeError" in log
    assert "handler bug" not in log


def test_responses_are_not_cached(client: TestClient) -> None:
    assert post(client, sample("progressive")).headers["Cache-Control"] == "no-store"
