"""The response self-check: Okta's contract enforced on every answer before it is sent."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from core.errors import ContractViolation, HookError
from okta_wire.contract import MAX_RESPONSE_BYTES, check, checked_body
from okta_wire.models import Cause, Decision, RequestType
from okta_wire.response import okta_response
from tests.conftest import POLICIES, MakeClient, post, sample
from tests.policy_support import ALLOW, DENY, audit_lines, hook_on, registration, write_policy

REG = RequestType.REGISTRATION
PROG = RequestType.PROGRESSIVE
PROFILE = "com.okta.user.profile.update"
PROGRESSIVE = "com.okta.user.progressive.profile.update"
CAUSE = {
    "errorSummary": "Enter an employee number with 4 digits.",
    "reason": "INVALID_EMPLOYEE_NUMBER",
    "locationType": "body",
    "location": "data.userProfile.employeeNumber",
    "domain": "end-user",
}
DENIED: dict[str, Any] = {
    "commands": [DENY],
    "error": {"errorSummary": "Denied.", "errorCauses": [CAUSE]},
}


def with_cause(**changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(DENIED)
    document["error"]["errorCauses"][0].update(changes)
    for key, value in changes.items():
        if value is ...:
            del document["error"]["errorCauses"][0][key]
    return document


@pytest.mark.parametrize(
    ("document", "request_type"),
    [
        ({"commands": [ALLOW]}, REG),
        ({"commands": [ALLOW]}, PROG),
        ({"commands": [ALLOW, {"type": PROFILE, "value": {"login": "a@example.com"}}]}, REG),
        ({"commands": [ALLOW, {"type": PROGRESSIVE, "value": {"employeeNumber": "1234"}}]}, PROG),
        ({"commands": [ALLOW, {"type": PROFILE, "value": {"a": None, "b": [1, {"c": True}], "d": 1.5}}]}, REG),
        ({"commands": [DENY]}, REG),
        (DENIED, REG),
        (DENIED, PROG),
        ({"commands": [DENY], "error": {"errorSummary": "Denied."}}, PROG),
    ],
)  # fmt: skip
def test_valid_answers_pass(document: dict[str, Any], request_type: RequestType) -> None:
    check(document, request_type)
    assert json.loads(checked_body(document, request_type)) == document


@pytest.mark.parametrize(
    ("document", "request_type", "rule"),
    [
        ([], REG, "document"),
        ({"commands": [ALLOW], "debug": {"reasons": "X"}}, REG, "document"),
        ({"commands": [ALLOW], "debugContext": {}}, REG, "debugContext"),
        ({"commands": [ALLOW], "debugContext": "reasons"}, REG, "debugContext"),
        ({"commands": [ALLOW], "debugContext": {"note": "x"}}, REG, "debugContext"),
        ({"commands": [ALLOW], "debugContext": {"reasons": ["INVALID_EMAIL"]}}, REG, "debugContext"),
        ({"commands": [ALLOW], "debugContext": {"latencyMs": 3.2}}, REG, "debugContext"),
        ({"commands": [ALLOW], "debugContext": {"eventId": {"id": "x"}}}, REG, "debugContext"),
        ({"commands": [ALLOW], "debugContext": {"reasons": "Enter a valid email"}}, REG, "debugContext"),
        ({"commands": [ALLOW], "debugContext": {"eventId": "rosario@example.com"}}, REG, "debugContext"),
        ({"commands": [ALLOW], "debugContext": {"reasons": ""}}, REG, "debugContext"),
        ({"commands": [ALLOW], "debugContext": {"reasons": "A" * 513}}, REG, "debugContext"),
        ({"commands": [ALLOW], "debugContext": {k: "A" * 512 for k in ("reasons", "shadowReasons", "eventId", "policyVersion")}}, REG, "debugContext"),
        ({}, REG, "commands"),
        ({"commands": []}, REG, "commands"),
        ({"commands": {"type": "x"}}, REG, "commands"),
        ({"commands": [ALLOW, {"type": PROFILE, "value": {"a": "b"}}]}, PROG, "command type"),
        ({"commands": [ALLOW, {"type": PROGRESSIVE, "value": {"a": "b"}}]}, REG, "command type"),
        ({"commands": [{"type": "com.okta.identity.patch", "value": {}}]}, REG, "command type"),
        ({"commands": [{"type": ALLOW["type"]}]}, REG, "command"),
        ({"commands": [{**ALLOW, "extra": 1}]}, REG, "command"),
        ({"commands": ["ALLOW"]}, REG, "command"),
        ({"commands": [{"type": ALLOW["type"], "value": {"registration": "MAYBE"}}]}, REG, "action value"),
        ({"commands": [{"type": ALLOW["type"], "value": {"registration": "allow"}}]}, REG, "action value"),
        ({"commands": [{"type": ALLOW["type"], "value": {"action": "ALLOW"}}]}, REG, "action value"),
        ({"commands": [{"type": ALLOW["type"], "value": {"registration": "ALLOW", "x": 1}}]}, REG, "action value"),
        ({"commands": [{"type": ALLOW["type"], "value": "ALLOW"}]}, REG, "action value"),
        ({"commands": [ALLOW, DENY]}, REG, "action"),
        ({"commands": [{"type": PROFILE, "value": {"a": "b"}}]}, REG, "action"),
        ({"commands": [ALLOW, {"type": PROFILE, "value": {}}]}, REG, "update value"),
        ({"commands": [ALLOW, {"type": PROFILE, "value": [["a", "b"]]}]}, REG, "update value"),
        ({"commands": [ALLOW, {"type": PROFILE, "value": {"bad name": "b"}}]}, REG, "update value"),
        ({"commands": [ALLOW, {"type": PROFILE, "value": {"": "b"}}]}, REG, "update value"),
        ({"commands": [ALLOW, {"type": PROFILE, "value": {"a": float("nan")}}]}, REG, "update value"),
        ({"commands": [ALLOW, {"type": PROFILE, "value": {"a": [float("inf")]}}]}, REG, "update value"),
        ({"commands": [ALLOW, {"type": PROFILE, "value": {"a": {1: "b"}}}]}, REG, "update value"),
        ({"commands": [ALLOW, {"type": PROFILE, "value": {"a": object()}}]}, REG, "update value"),
        ({"commands": [ALLOW], "error": DENIED["error"]}, REG, "error"),
        ({"commands": [DENY, {"type": PROFILE, "value": {"a": "b"}}], "error": DENIED["error"]}, REG, "error"),
        ({"commands": [DENY], "error": "Denied."}, REG, "error"),
        ({"commands": [DENY], "error": {"errorSummary": ""}}, REG, "error"),
        ({"commands": [DENY], "error": {"errorCauses": [CAUSE]}}, REG, "error"),
        ({"commands": [DENY], "error": {"errorSummary": "x", "errorCauses": CAUSE}}, REG, "error"),
        ({"commands": [DENY], "error": {"errorSummary": "x", "errorId": "1"}}, REG, "error"),
        (with_cause(location="userProfile.employeeNumber"), REG, "error cause"),
        (with_cause(location="data.userProfileUpdate.employeeNumber"), PROG, "error cause"),
        (with_cause(location="data.userProfile."), REG, "error cause"),
        (with_cause(location=None), REG, "error cause"),
        (with_cause(locationType="query"), REG, "error cause"),
        (with_cause(domain="admin"), REG, "error cause"),
        (with_cause(reason="not a code"), REG, "error cause"),
        (with_cause(errorSummary=" "), REG, "error cause"),
        (with_cause(domain=...), REG, "error cause"),
        (with_cause(extra="x"), REG, "error cause"),
    ],
)  # fmt: skip
def test_each_contract_rule_is_enforced(
    document: Any, request_type: RequestType, rule: str
) -> None:
    with pytest.raises(ContractViolation) as raised:
        checked_body(document, request_type)
    assert raised.value.reason.startswith(f"response contract: {rule}: ")


def test_size_limit_is_on_the_bytes_sent() -> None:
    def document(size: int) -> dict[str, Any]:
        return {"commands": [ALLOW, {"type": PROFILE, "value": {"a": "é" * size}}]}

    overhead = len(checked_body(document(0), REG))
    fits = (MAX_RESPONSE_BYTES - overhead) // 2  # "é" is two bytes in UTF-8
    assert len(checked_body(document(fits), REG)) <= MAX_RESPONSE_BYTES
    with pytest.raises(ContractViolation) as raised:
        checked_body(document(fits + 1), REG)
    assert raised.value.reason.startswith("response contract: size: ")
    assert MAX_RESPONSE_BYTES < 256_000  # under Okta's 256 KB whichever KB is meant


def test_violation_is_an_internal_hook_error() -> None:
    error = ContractViolation("response contract: x: y")
    assert isinstance(error, HookError)
    assert (error.status, error.code, error.public_message) == (
        500,
        "internal",
        "The hook failed unexpectedly.",
    )


@pytest.mark.parametrize("request_type", list(RequestType))
def test_every_decision_shape_the_handlers_make_passes(request_type: RequestType) -> None:
    cause = Cause("employeeNumber", "INVALID_EMPLOYEE_NUMBER", "Four digits.")
    decisions = [
        Decision(request_type, allowed=True),
        Decision(request_type, allowed=True, updates={"employeeNumber": "1234"}),
        Decision(request_type, allowed=False, causes=(cause,), summary="Denied."),
    ]
    for decision in decisions:
        checked_body(okta_response(decision), request_type)


# --- through the HTTP stack: a valid policy whose answer would break the contract -----------

# Nothing bounds `nickName`, and four attributes copy it: a long enough value makes an answer
# over Okta's limit from a request well under the hook's own 64 KiB.
FAN_OUT = "".join(
    f"[derive.{target}]\nfrom = 'nickName'\non = ['registration']\n"
    for target in ("displayName", "title", "profileUrl", "honorificPrefix")
)


def test_an_answer_over_the_size_limit_is_a_logged_500_never_sent(
    make_client: MakeClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = hook_on(make_client, write_policy(tmp_path, FAN_OUT))
    capsys.readouterr()
    assert post(client, registration(nickName="R" * 1000)).status_code == 200
    response = post(client, registration(nickName="R" * 63_000))
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal", "message": "The hook failed unexpectedly."}
    }
    assert "RRRR" not in response.text
    ok, failed = audit_lines(capsys)
    assert ok["status"] == 200
    assert failed["status"] == 500
    assert failed["severity"] == "ERROR"
    assert failed["error"] == "internal"
    assert failed["reason"].startswith("response contract: size: ")
    assert "RRRR" not in json.dumps(failed)


def test_a_violation_is_not_retried_into_a_different_answer(
    make_client: MakeClient, tmp_path: Path
) -> None:
    # Okta retries a 5xx once: the same request meets the same check.
    client = hook_on(make_client, write_policy(tmp_path, FAN_OUT))
    body = registration(nickName="R" * 63_000)
    assert [post(client, body).status_code for _ in range(2)] == [500, 500]


def test_blank_attribute_name_is_a_400_not_a_malformed_cause(make_client: MakeClient) -> None:
    # Its cause would point at "data.userProfile." alone: refused before any decision.
    client = hook_on(make_client, POLICIES / "progressive.toml")
    body = sample("progressive")
    body["data"]["userProfileUpdate"][" "] = "x"
    response = post(client, body)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "data.userProfileUpdate has a blank key."
