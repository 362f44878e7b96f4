"""The suite-wide leak check itself: what it recognises, and that it reads the served processes'
logs as well as the in-process ones. A check that could not fail would prove nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import leak_check
from tests.conftest import BASIC_PASSWORD, MakeClient, basic, hook_client, post, sample
from tests.forgery_support import HMAC_SECRET, raw_token, rs
from tests.hostile_support import basic_env
from tests.jwt_support import KeyServer, bearer_env, mint, okta_claims
from tests.server_support import serve

ISSUER = "https://acme.okta.com/oauth2/default"


@pytest.mark.parametrize(
    "token",
    [
        mint(okta_claims(ISSUER)),
        mint(okta_claims(ISSUER), key_name="attacker", kid=None),
        raw_token({"alg": "RS256"}, {"a": 1}, rs()),
        raw_token({"alg": "none"}, "{}", lambda data: b""),
    ],
)
def test_tokens_the_tests_mint_are_recognised(token: str) -> None:
    line = json.dumps({"message": f"refused {token}"})
    [finding] = leak_check.findings([line])
    assert finding.startswith("a JWT: ")
    # The claims and signature without the header are still a token (claims are JSON: eyJ).
    claims_and_signature = token.split(".", 1)[1]
    if len(claims_and_signature.split(".")[0]) > 4:
        [finding] = leak_check.findings([f"x {claims_and_signature} y"])
        assert finding.startswith("a JWT: ")


@pytest.mark.parametrize(
    ("text", "what"),
    [
        (basic().split(" ", 1)[1], None),  # the base64 alone: only as a configured secret
        (basic(), "a Basic credential"),
        ("rosario.jones@example.com", "a full email address"),
        (BASIC_PASSWORD, "a configured secret"),
        (HMAC_SECRET, "a configured secret"),
    ],
)
def test_credentials_addresses_and_secrets_are_recognised(text: str, what: str | None) -> None:
    found = leak_check.findings([json.dumps({"message": f"x {text} y"})])
    if what is None:
        assert found == [] or all("configured secret" in f for f in found)
    else:
        assert any(f.startswith(f"{what}: ") for f in found)


def test_ordinary_lines_are_not_findings() -> None:
    lines = [
        json.dumps({"message": "okta registration hook self.service.registration ALLOW"}),
        json.dumps({"email_domain": "example.com", "jti": "AT.5xZbXvP9Q2rAn0d3kR7sLmT1uWcYeH4iJg"}),
        json.dumps({"reason": "bearer: no key 'okta-key-2' at the issuer"}),
    ]
    assert leak_check.findings(lines) == []


def test_a_served_process_log_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # serve() registers its log file; a leak written there is found at the end of the run.
    monkeypatch.setattr(leak_check, "SERVER_LOGS", [])
    with serve(basic_env(Path("policies/ssr.toml").resolve()), tmp_path) as served:
        assert leak_check.SERVER_LOGS == [served.log_path]
    assert leak_check.findings([]) == []
    with served.log_path.open("a") as log:
        log.write(json.dumps({"message": "leaked " + mint(okta_claims(ISSUER))}) + "\n")
    [finding] = leak_check.findings([])
    assert finding.startswith("a JWT: ")


def test_unknown_first_words_of_authorization_are_not_logged(
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = hook_client(basic_env(Path("policies/ssr.toml").resolve()))
    capsys.readouterr()
    for authorization in ("rosario.jones@example.com:hunter2", "hunter2", "Token abc", "SSWS x"):
        assert post(client, sample("ssr"), authorization=authorization).status_code == 401
    reasons = [
        json.loads(line)["reason"] for line in capsys.readouterr().out.splitlines() if line.strip()
    ]
    assert reasons == [
        "scheme (not a known scheme) is not enabled",
        "scheme (not a known scheme) is not enabled",
        "scheme 'Token' is not enabled",
        "scheme 'SSWS' is not enabled",
    ]


def test_token_values_that_look_like_addresses_are_not_logged(
    make_client: MakeClient, okta: KeyServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # kid, alg, jti and client id of a refused token are the caller's words: one that looks like
    # an address is left out of the log line, which still says why the token was refused.
    client = make_client(**bearer_env(okta))
    capsys.readouterr()
    claims = okta_claims(okta.issuer, jti="rosario.jones@example.com", cid="a@b.example")
    for token in (
        mint(claims, key_name="attacker"),
        mint(okta_claims(okta.issuer), kid="rosario.jones@example.com"),
        raw_token({"alg": "x@example.com", "kid": "k"}, okta_claims(okta.issuer), rs()),
    ):
        assert post(client, sample("ssr"), authorization=f"Bearer {token}").status_code == 401
    out = capsys.readouterr().out
    assert leak_check.findings(out.splitlines()) == []
    reasons = [json.loads(line).get("reason", "") for line in out.splitlines() if line.strip()]
    assert "bearer: InvalidSignatureError: Signature verification failed" in reasons
    assert any(r.startswith("bearer: no key (not shown) at the issuer (") for r in reasons)
    assert any(r.startswith("bearer: alg (not shown) is not accepted with") for r in reasons)
