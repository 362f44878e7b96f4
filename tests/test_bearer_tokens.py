"""JWT auth: one valid Okta access token, and every forged or mis-scoped variant of it refused.

Each request goes through the function as functions-framework serves it; the keys come from a
loopback authorization server. Each test changes one thing and asserts the exact answer, and that
the request never reached a handler (its audit line has no requestType or decision).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from starlette.testclient import TestClient

from tests.conftest import MakeClient, basic, post, sample
from tests.jwt_support import (
    AUDIENCE,
    CLIENT_ID,
    KID,
    OTHER_CLIENT_ID,
    SCOPE,
    KeyServer,
    assemble,
    bearer_env,
    key_server,
    mint,
    okta_claims,
    public_jwk,
    rsa_key,
    sign_by_hand,
    signing_input,
)

CHALLENGE = 'Bearer realm="okta-registration-hook"'
INVALID_TOKEN = 'Bearer error="invalid_token"'
INSUFFICIENT_SCOPE = f'Bearer error="insufficient_scope", scope="{SCOPE}"'
UNAUTHENTICATED = {"error": {"code": "unauthenticated", "message": "Authentication is required."}}
FORBIDDEN = {
    "error": {"code": "forbidden", "message": "The caller is not allowed to call this hook."}
}


@pytest.fixture
def hook(make_client: MakeClient, okta: KeyServer) -> TestClient:
    return make_client(**bearer_env(okta))


def call(client: TestClient, token: str, scheme: str = "Bearer") -> Any:
    return post(client, sample("progressive"), authorization=f"{scheme} {token}")


def audit_line(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    [entry] = [line for line in lines if "status" in line]
    assert isinstance(entry, dict)
    return entry


def assert_refused(
    response: Any,
    capsys: pytest.CaptureFixture[str],
    status: int = 401,
    challenge: str = INVALID_TOKEN,
) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["WWW-Authenticate"] == challenge
    assert response.json() == (UNAUTHENTICATED if status == 401 else FORBIDDEN)
    entry = audit_line(capsys)
    assert entry["status"] == status
    assert "requestType" not in entry
    assert "decision" not in entry  # no handler ran
    return entry


def now() -> int:
    return int(time.time())


def test_okta_token_is_accepted(
    hook: TestClient, okta: KeyServer, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    token = mint(okta_claims(okta.issuer))
    response = call(hook, token)
    assert response.status_code == 200
    assert response.json()["commands"][0]["value"] == {"registration": "ALLOW"}
    out = capsys.readouterr().out
    assert token.split(".")[2] not in out
    assert token.split(".")[1] not in out
    [entry] = [json.loads(line) for line in out.splitlines() if '"status"' in line]
    assert (entry["auth"], entry["caller"], entry["client_id"]) == ("bearer", CLIENT_ID, CLIENT_ID)
    assert entry["jti"] == okta_claims(okta.issuer)["jti"]
    assert entry["decision"] == "ALLOW"


def test_scheme_name_is_case_insensitive(hook: TestClient, okta: KeyServer) -> None:
    assert call(hook, mint(okta_claims(okta.issuer)), scheme="bearer").status_code == 200


def test_expired(hook: TestClient, okta: KeyServer, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    token = mint(okta_claims(okta.issuer, iat=now() - 3700, exp=now() - 100))
    entry = assert_refused(call(hook, token), capsys)
    # The log names the token by jti and client id, and says why.
    assert entry["reason"].startswith("bearer: ExpiredSignatureError")
    assert f"client_id={CLIENT_ID}" in entry["reason"]
    assert "jti=AT." in entry["reason"]


def test_expired_within_the_leeway_is_accepted(hook: TestClient, okta: KeyServer) -> None:
    token = mint(okta_claims(okta.issuer, exp=now() - 10))
    assert call(hook, token).status_code == 200


def test_not_yet_valid(
    hook: TestClient, okta: KeyServer, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert_refused(call(hook, mint(okta_claims(okta.issuer, nbf=now() + 120))), capsys)


def test_issued_in_the_future(
    hook: TestClient, okta: KeyServer, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert_refused(call(hook, mint(okta_claims(okta.issuer, iat=now() + 120))), capsys)


def test_wrong_audience(
    hook: TestClient, okta: KeyServer, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    token = mint(okta_claims(okta.issuer, aud="api://other"))
    assert_refused(call(hook, token), capsys)


def test_audience_contained_in_a_list_is_accepted(hook: TestClient, okta: KeyServer) -> None:
    token = mint(okta_claims(okta.issuer, aud=["api://other", AUDIENCE]))
    assert call(hook, token).status_code == 200


@pytest.mark.parametrize("change", ["suffix", "slash", "prefix", "case"])
def test_issuer_that_is_not_exactly_ours(
    hook: TestClient, okta: KeyServer, capsys: pytest.CaptureFixture[str], change: str
) -> None:
    issuer = {
        "suffix": okta.issuer + "2",
        "slash": okta.issuer + "/",
        "prefix": okta.origin + "/oauth2",
        "case": okta.issuer.upper(),
    }[change]
    capsys.readouterr()
    assert_refused(call(hook, mint(okta_claims(okta.issuer, iss=issuer))), capsys)


def test_missing_scope(
    hook: TestClient, okta: KeyServer, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    token = mint(okta_claims(okta.issuer, scp=["openid", "profile"]))
    entry = assert_refused(call(hook, token), capsys, 403, INSUFFICIENT_SCOPE)
    assert entry["reason"].startswith(f"bearer: missing scope {SCOPE}")


def test_no_scope_claim_at_all(
    hook: TestClient, okta: KeyServer, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    token = mint(okta_claims(okta.issuer, scp=None))
    assert_refused(call(hook, token), capsys, 403, INSUFFICIENT_SCOPE)


def test_other_client(
    hook: TestClient, okta: KeyServer, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    token = mint(okta_claims(okta.issuer, cid=OTHER_CLIENT_ID, sub=OTHER_CLIENT_ID))
    entry = assert_refused(call(hook, token), capsys, 403, INSUFFICIENT_SCOPE)
    assert entry["reason"].startswith("bearer: client is not in OKTA_HOOK_CLIENT_IDS")


def test_missing_exp(hook: TestClient, okta: KeyServer, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    entry = assert_refused(call(hook, mint(okta_claims(okta.issuer, exp=None))), capsys)
    assert 'MissingRequiredClaimError: Token is missing the "exp" claim' in entry["reason"]


@pytest.mark.parametrize(
    ("alg", "signature"),
    [("none", b""), ("none", b"sig"), ("None", b"sig"), ("NONE", b"sig")],
)
def test_alg_none(
    hook: TestClient,
    okta: KeyServer,
    capsys: pytest.CaptureFixture[str],
    alg: str,
    signature: bytes,
) -> None:
    capsys.readouterr()
    token = assemble({"alg": alg, "kid": KID, "typ": "JWT"}, okta_claims(okta.issuer), signature)
    assert_refused(call(hook, token), capsys)


def test_hs256_signed_with_the_rsa_public_key(
    hook: TestClient, okta: KeyServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # The classic key confusion: the public key, which anyone can fetch, used as an HMAC secret.
    public_pem = (
        rsa_key("okta")
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    unsigned = assemble({"alg": "HS256", "kid": KID, "typ": "JWT"}, okta_claims(okta.issuer))
    signature = hmac.new(public_pem, signing_input(unsigned), hashlib.sha256).digest()
    token = assemble(
        {"alg": "HS256", "kid": KID, "typ": "JWT"}, okta_claims(okta.issuer), signature
    )
    entry = assert_refused(call(hook, token), capsys)
    assert "alg 'HS256' is not accepted" in entry["reason"]


def test_signed_by_another_key_with_the_right_kid(
    hook: TestClient, okta: KeyServer, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    fetches = okta.key_fetches()
    token = mint(okta_claims(okta.issuer), key_name="attacker", kid=KID)
    entry = assert_refused(call(hook, token), capsys)
    assert entry["reason"].startswith("bearer: InvalidSignatureError")
    assert okta.key_fetches() == fetches  # a known kid never triggers a refetch


def test_other_rsa_algorithm_than_the_key_allows(
    hook: TestClient, okta: KeyServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # Okta's JWK says alg RS256; an RS512 signature by the same key is not accepted.
    capsys.readouterr()
    token = mint(okta_claims(okta.issuer), algorithm="RS512")
    entry = assert_refused(call(hook, token), capsys)
    assert "does not verify RS512" in entry["reason"]


def test_unknown_kid(hook: TestClient, okta: KeyServer, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    fetches = okta.key_fetches()
    token = mint(okta_claims(okta.issuer), kid="kid-nobody-published")
    entry = assert_refused(call(hook, token), capsys)
    assert "no key 'kid-nobody-published'" in entry["reason"]
    assert okta.key_fetches() == fetches + 1  # looked once more at the issuer, then refused


def test_attacker_jwk_in_the_header(
    hook: TestClient, okta: KeyServer, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    embedded = public_jwk("attacker", KID)
    token = mint(okta_claims(okta.issuer), key_name="attacker", kid=KID, jwk=embedded)
    assert_refused(call(hook, token), capsys)


@pytest.mark.parametrize("member", ["jku", "x5u"])
def test_attacker_key_url_in_the_header_is_never_fetched(
    hook: TestClient, okta: KeyServer, capsys: pytest.CaptureFixture[str], member: str
) -> None:
    with key_server(public_jwk("attacker", "attacker-kid")) as attacker:
        capsys.readouterr()
        headers = {member: attacker.jwks_uri}
        token = mint(okta_claims(okta.issuer), key_name="attacker", kid="attacker-kid", **headers)
        assert_refused(call(hook, token), capsys)
        assert attacker.total_hits() == 0


@pytest.mark.parametrize(
    "crit",
    [
        {"crit": ["urn:example:policy"], "urn:example:policy": "strict"},
        {"crit": ["b64"], "b64": True},  # PyJWT itself understands b64; this hook does not
        {"crit": "exp"},
    ],
)
def test_crit_header(
    hook: TestClient, okta: KeyServer, capsys: pytest.CaptureFixture[str], crit: dict[str, Any]
) -> None:
    capsys.readouterr()
    token = sign_by_hand({"alg": "RS256", "kid": KID, **crit}, okta_claims(okta.issuer))
    assert_refused(call(hook, token), capsys)


def test_hand_signed_token_without_crit_is_accepted(hook: TestClient, okta: KeyServer) -> None:
    # The control for the test above: the same construction, minus crit, passes.
    token = sign_by_hand({"alg": "RS256", "kid": KID, "b64": True}, okta_claims(okta.issuer))
    assert call(hook, token).status_code == 200


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-jwt",
        "a.b",
        "a.b.c.d",
        "..",
        "e30.e30.e30",  # {} . {} . {}
        "eyJhbGciOiJSUzI1NiJ9.!!!!.c2ln",
        "eyJhbGciOiJSUzI1NiJ9.e30=.c2ln",  # padding is not base64url
        "bm90IGpzb24.e30.c2ln",  # the header is not JSON
        "WyJSUzI1NiJd.e30.c2ln",  # the header is a JSON array
        "eyJhbGciOiJSUzI1NiIsImtpZCI6MX0.e30.c2ln",  # kid is a number
    ],
)
def test_garbage(hook: TestClient, capsys: pytest.CaptureFixture[str], token: str) -> None:
    capsys.readouterr()
    assert_refused(call(hook, token), capsys)


def test_oversized_token_is_refused_before_any_key_lookup(
    hook: TestClient, okta: KeyServer, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    fetches = okta.key_fetches()
    token = mint(okta_claims(okta.issuer, pad="x" * 6500), kid="kid-nobody-published")
    assert 8192 < len(token) < 16384
    entry = assert_refused(call(hook, token), capsys)
    assert entry["reason"] == "bearer: token over 8192 characters"
    assert okta.key_fetches() == fetches


@pytest.mark.parametrize("scheme", ["Basic", "Token", "DPoP", "JWT"])
def test_wrong_scheme(
    hook: TestClient, okta: KeyServer, capsys: pytest.CaptureFixture[str], scheme: str
) -> None:
    capsys.readouterr()
    token = mint(okta_claims(okta.issuer))
    assert_refused(call(hook, token, scheme=scheme), capsys, challenge=CHALLENGE)


def test_basic_credentials_when_only_bearer_is_enabled(
    hook: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    response = post(hook, sample("progressive"), authorization=basic())
    assert_refused(response, capsys, challenge=CHALLENGE)


def test_token_without_a_scheme(
    hook: TestClient, okta: KeyServer, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    response = post(hook, sample("progressive"), authorization=mint(okta_claims(okta.issuer)))
    assert_refused(response, capsys, challenge=CHALLENGE)


def test_no_authorization_header(hook: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert_refused(hook.post("/", json=sample("progressive")), capsys, challenge=CHALLENGE)


def test_scope_string_instead_of_scp(hook: TestClient, okta: KeyServer) -> None:
    token = mint(okta_claims(okta.issuer, scp=None, scope=f"openid {SCOPE}"))
    assert call(hook, token).status_code == 200


def test_scope_string_without_our_scope(
    hook: TestClient, okta: KeyServer, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    token = mint(okta_claims(okta.issuer, scp=None, scope=f"openid {SCOPE}x"))
    assert_refused(call(hook, token), capsys, 403, INSUFFICIENT_SCOPE)


@pytest.mark.parametrize("scp", [SCOPE, [SCOPE, 7], {"scope": SCOPE}])
def test_malformed_scp(
    hook: TestClient, okta: KeyServer, capsys: pytest.CaptureFixture[str], scp: Any
) -> None:
    # A string where Okta sends an array is malformed, not a scope list of one.
    capsys.readouterr()
    entry = assert_refused(call(hook, mint(okta_claims(okta.issuer, scp=scp))), capsys)
    assert "scp is not a list of strings" in entry["reason"]


def test_client_id_instead_of_cid(hook: TestClient, okta: KeyServer) -> None:
    token = mint(okta_claims(okta.issuer, cid=None, client_id=CLIENT_ID))
    assert call(hook, token).status_code == 200


def test_client_id_claim_of_another_client(
    hook: TestClient, okta: KeyServer, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    token = mint(okta_claims(okta.issuer, cid=None, client_id=OTHER_CLIENT_ID))
    assert_refused(call(hook, token), capsys, 403, INSUFFICIENT_SCOPE)


def test_no_client_claim_when_clients_are_listed(
    hook: TestClient, okta: KeyServer, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    token = mint(okta_claims(okta.issuer, cid=None))
    assert_refused(call(hook, token), capsys, 403, INSUFFICIENT_SCOPE)


def test_every_configured_scope_is_required(
    make_client: MakeClient, okta: KeyServer, capsys: pytest.CaptureFixture[str]
) -> None:
    client = make_client(**bearer_env(okta, OKTA_HOOK_SCOPES=f"{SCOPE} hooks.extra"))
    capsys.readouterr()
    response = call(client, mint(okta_claims(okta.issuer)))
    expected = f'Bearer error="insufficient_scope", scope="{SCOPE} hooks.extra"'
    entry = assert_refused(response, capsys, 403, expected)
    assert entry["reason"].startswith("bearer: missing scope hooks.extra")
    both = mint(okta_claims(okta.issuer, scp=["hooks.extra", SCOPE]))
    assert call(client, both).status_code == 200


def test_refused_tokens_never_reach_the_log(
    hook: TestClient, okta: KeyServer, capsys: pytest.CaptureFixture[str]
) -> None:
    tokens = [
        mint(okta_claims(okta.issuer, exp=now() - 100)),
        mint(okta_claims(okta.issuer), key_name="attacker"),
        mint(okta_claims(okta.issuer, scp=["openid"])),
    ]
    for token in tokens:
        call(hook, token)
    out = capsys.readouterr().out
    for token in tokens:
        assert token.split(".")[1] not in out
        assert token.split(".")[2] not in out
