"""Okta retries once on a timeout or a 5xx: the same request, answered twice by the real server
process, gets the same answer, and the second audit line says the eventId was seen before."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import BASIC_PASSWORD, BASIC_USER, MakeClient, basic, post, sample
from tests.jwt_support import KeyServer, bearer_env, mint, okta_claims
from tests.server_support import Served, serve


@pytest.fixture(scope="module")
def served(module_okta: KeyServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    env = {
        **bearer_env(module_okta),
        "OKTA_HOOK_BASIC_CREDENTIALS": f"{BASIC_USER}:{BASIC_PASSWORD}",
    }
    with serve(env, tmp_path_factory.mktemp("served-retries")) as server:
        yield server


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
    served: Served, module_okta: KeyServer, scheme: str, kind: str
) -> None:
    body = bodies(kind)
    body["eventId"] = f"retry-{scheme}-{kind}"
    authorization = (
        basic() if scheme == "basic" else "Bearer " + mint(okta_claims(module_okta.issuer))
    )
    headers = {"Content-Type": "application/json", "Authorization": authorization}
    raw = json.dumps(body).encode()
    first = served.post(raw, headers)
    second = served.post(raw, headers)
    assert first[0] == second[0] == 200
    assert first[2] == second[2]  # byte for byte
    decision = json.loads(first[2])["commands"][0]["value"]["registration"]
    assert decision == kind.upper()
    entries = audit_entries(served, body["eventId"])
    assert [e.get("retry", False) for e in entries] == [False, True]
    assert {e["auth"] for e in entries} == {scheme}
    assert {e["decision"] for e in entries} == {kind.upper()}


def test_a_refused_caller_does_not_mark_an_event(served: Served, module_okta: KeyServer) -> None:
    # Nothing of the body is read before the caller is known, so a stranger cannot use up or
    # probe the memory of eventIds.
    body = bodies("allow")
    body["eventId"] = "retry-after-a-refusal"
    raw = json.dumps(body).encode()
    refused = {"Content-Type": "application/json", "Authorization": basic(BASIC_USER, "wrong")}
    good = {"Content-Type": "application/json", "Authorization": basic()}
    assert served.post(raw, refused)[0] == 401
    assert served.post(raw, good)[0] == 200
    [entry] = audit_entries(served, body["eventId"])
    assert "retry" not in entry


def test_bearer_retry_in_process(
    make_client: MakeClient, module_okta: KeyServer, capsys: pytest.CaptureFixture[str]
) -> None:
    client = make_client(**bearer_env(module_okta))
    token = "Bearer " + mint(okta_claims(module_okta.issuer))
    capsys.readouterr()
    first = post(client, sample("progressive"), authorization=token)
    second = post(client, sample("progressive"), authorization=token)
    assert first.json() == second.json()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert [e.get("retry", False) for e in lines if "status" in e] == [False, True]
