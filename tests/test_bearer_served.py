"""Okta's access token accepted by the real `functions-framework` server process on loopback."""

from __future__ import annotations

import json
from email.message import Message

from tests.conftest import sample
from tests.jwt_support import KeyServer, mint, okta_claims
from tests.server_support import Served


def send(served: Served, token: str) -> tuple[int, Message, bytes]:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    return served.post(json.dumps(sample("progressive")).encode(), headers)


def test_okta_token_over_http(served_hook: Served, session_okta: KeyServer) -> None:
    status, _, body = send(served_hook, mint(okta_claims(session_okta.issuer)))
    assert status == 200
    assert json.loads(body)["commands"][0]["value"] == {"registration": "ALLOW"}
    assert session_okta.key_fetches() == 1  # at the server's cold start, not per request


def test_forged_token_over_http(served_hook: Served, session_okta: KeyServer) -> None:
    status, headers, body = send(
        served_hook, mint(okta_claims(session_okta.issuer), key_name="attacker")
    )
    assert status == 401
    assert headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert json.loads(body)["error"]["code"] == "unauthenticated"
    assert "InvalidSignatureError" in served_hook.log()
