"""Okta retries once on a timeout or a 5xx: the same request, answered twice by the real server
process, gets the same answer, and the second audit line says the eventId was seen before."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import BASIC_USER, MakeClient, basic, post, sample
from tests.jwt_support import KeyServer, bearer_env, mint, okta_claims
from tests.server_support import Served


def audit_entries(served: Served, event_id: str) -> list[dict[str, Any]]:
    entries = [json.loads(line) for line in served.log().splitlines() if line.startswith("{")]
    return [e for e in entries if e.get("eventId") == event_id and "status" in e]


def bodies(kind: str) -> dict[str, Any]:
    body = sample("ssr")
    if kind == "allow":
        body["data"]["userProfile"]["employeeNumber"] = "1234"
    else:
        body["data"]["userProfile"]["employeeNumber"] = "12a4"
    return body


@pytest.mark.parametrize("scheme", ["basic", "bearer"])
@pytest.mark.parametrize("kind", ["allow", "deny"])
def test_a_retry_gets_the_same_answer_and_is_marked(
    served_hook: Served, session_okta: KeyServer, scheme: str, kind: str
) -> None:
    body = bodies(kind)
    body["eventId"] = f"retry-{scheme}-{kind}"
    authorization = (
        basic() if scheme == "basic" else "Bearer " + mint(okta_claims(session_okta.issuer))
    )
    headers = {"Content-Type": "application/json", "Authorization": authorization}
    raw = json.dumps(body).encode()
    first = served_hook.post(raw, headers)
    second = served_hook.post(raw, headers)
    assert first[0] == second[0] == 200
    assert first[2] == second[2]  # byte for byte
    decision = json.loads(first[2])["commands"][0]["value"]["registration"]
    assert decision == kind.upper()
    entries = audit_entries(served_hook, body["eventId"])
    assert [e.get("retry", False) for e in entries] == [False, True]
    assert {e["auth"] for e in entries} == {scheme}
    assert {e["decision"] for e in entries} == {kind.upper()}


def test_a_refused_caller_does_not_mark_an_event(served_hook: Served) -> None:
    # Nothing of the body is read before the caller is known, so a stranger cannot use up or
    # probe the memory of eventIds.
    body = bodies("allow")
    body["eventId"] = "retry-after-a-refusal"
    raw = json.dumps(body).encode()
    refused = {"Content-Type": "application/json", "Authorization": basic(BASIC_USER, "wrong")}
    good = {"Content-Type": "application/json", "Authorization": basic()}
    assert served_hook.post(raw, refused)[0] == 401
    assert served_hook.post(raw, good)[0] == 200
    [entry] = audit_entries(served_hook, body["eventId"])
    assert "retry" not in entry


def test_bearer_retry_in_process(
    make_client: MakeClient, okta: KeyServer, capsys: pytest.CaptureFixture[str]
) -> None:
    client = make_client(**bearer_env(okta))
    token = "Bearer " + mint(okta_claims(okta.issuer))
    capsys.readouterr()
    first = post(client, sample("progressive"), authorization=token)
    second = post(client, sample("progressive"), authorization=token)
    assert first.json() == second.json()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert [e.get("retry", False) for e in lines if "status" in e] == [False, True]
