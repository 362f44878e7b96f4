"""Keys given as settings: a pinned JWKS (no network at all) and the HMAC shared-secret mode."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import jwt
import pytest
from starlette.testclient import TestClient

from auth.bearer import BearerVerifier, Expectations
from auth.static_keys import PinnedKeys, parse_jwks_text
from core.errors import Unauthenticated
from core.refreshing import Fetched
from secret_sources.setting import SecretSetting
from secret_sources.values import digest
from tests import leak_check
from tests.conftest import MakeClient, post, sample
from tests.jwt_support import (
    AUDIENCE,
    CLIENT_ID,
    KID,
    NEW_KID,
    SCOPE,
    KeyServer,
    assemble,
    bearer_env,
    ec_key,
    mint,
    okta_claims,
    public_ec_jwk,
    public_jwk,
    signing_input,
)

HMAC_SECRET = leak_check.remember("gateway-client-secret-0123456789abcdefXYZ")  # HS256 only
SHORT_SECRET = leak_check.remember("short-secret-value")


def call(client: TestClient, token: str) -> Any:
    return post(client, sample("progressive"), authorization=f"Bearer {token}")


def jwks(*keys: dict[str, Any]) -> str:
    return json.dumps({"keys": list(keys)})


def test_pinned_jwks_verifies_with_no_network(make_client: MakeClient, okta: KeyServer) -> None:
    client = make_client(**bearer_env(okta, OKTA_HOOK_JWKS=jwks(public_jwk("okta", KID))))
    assert call(client, mint(okta_claims(okta.issuer))).status_code == 200
    assert call(client, mint(okta_claims(okta.issuer), kid="other-kid")).status_code == 401
    assert call(client, mint(okta_claims(okta.issuer), "attacker")).status_code == 401
    assert okta.total_hits() == 0


def test_pinned_ec_key_verifies_es256(make_client: MakeClient, okta: KeyServer) -> None:
    client = make_client(**bearer_env(okta, OKTA_HOOK_JWKS=jwks(public_ec_jwk("gw", "ec-1"))))
    claims = okta_claims(okta.issuer)
    token = jwt.encode(claims, ec_key("gw"), algorithm="ES256", headers={"kid": "ec-1"})
    assert call(client, token).status_code == 200
    # The kid of an EC key names no RSA key, whatever the token says.
    assert call(client, mint(claims, kid="ec-1")).status_code == 401


@pytest.mark.parametrize(
    ("value", "logged"),
    [
        ("{not json", "OKTA_HOOK_JWKS: not JSON"),
        ('{"keys": []}', "OKTA_HOOK_JWKS: no usable signing key"),
        ('{"keys": [{"kty": "oct", "kid": "k", "k": "c2VjcmV0"}]}', "no usable signing key"),
    ],
)
def test_unusable_pinned_jwks_is_503(
    make_client: MakeClient,
    okta: KeyServer,
    capsys: pytest.CaptureFixture[str],
    value: str,
    logged: str,
) -> None:
    client = make_client(**bearer_env(okta, OKTA_HOOK_JWKS=value))
    assert call(client, mint(okta_claims(okta.issuer))).status_code == 503
    out = capsys.readouterr().out
    assert logged in out
    assert "c2VjcmV0" not in out


class SwappableSecret:
    """A secret source whose value changes, as a secret store's does on rotation."""

    name = "OKTA_HOOK_JWKS"
    fields: dict[str, object] = {"setting": name}

    def __init__(self, value: str) -> None:
        self.value = value

    def fetch(self, budget: float, known: object) -> Fetched[str]:
        return Fetched(self.value, "memory", tag=digest(self.value))

    def keys(self) -> PinnedKeys:
        # Read again on every use: the rotation is seen at once.
        setting = SecretSetting(self.name, self, refresh_seconds=1e-9)
        return PinnedKeys(setting.reading(parse_jwks_text(self.name)))


def test_pinned_jwks_is_reread_when_the_secret_changes() -> None:
    issuer = "https://acme.okta.com/oauth2/default"
    source = SwappableSecret(jwks(public_jwk("okta", KID)))
    expect = Expectations(issuer, AUDIENCE, (SCOPE,), (CLIENT_ID,), 30)
    bearer = BearerVerifier(expect, source.keys())
    bearer.load()
    assert bearer.verify(mint(okta_claims(issuer))).subject == CLIENT_ID
    source.value = jwks(public_jwk("okta-next", NEW_KID))
    assert bearer.verify(mint(okta_claims(issuer), "okta-next", NEW_KID)).subject == CLIENT_ID
    with pytest.raises(Unauthenticated, match="no key 'okta-key-1' in OKTA_HOOK_JWKS"):
        bearer.verify(mint(okta_claims(issuer)))


def test_malformed_new_pinned_jwks_keeps_the_previous_keys(
    capsys: pytest.CaptureFixture[str],
) -> None:
    issuer = "https://acme.okta.com/oauth2/default"
    source = SwappableSecret(jwks(public_jwk("okta", KID)))
    expect = Expectations(issuer, AUDIENCE, (SCOPE,), (CLIENT_ID,), 30)
    bearer = BearerVerifier(expect, source.keys())
    bearer.load()
    source.value = '{"keys": [{"kty": "RSA", "kid": "typo"}]}'
    for _ in range(3):
        assert bearer.verify(mint(okta_claims(issuer))).subject == CLIENT_ID
    refused = [line for line in capsys.readouterr().out.splitlines() if "new value refused" in line]
    assert len(refused) == 1
    assert "OKTA_HOOK_JWKS: no usable signing key" in refused[0]


def test_pinned_jwks_from_a_mounted_file(
    make_client: MakeClient, okta: KeyServer, tmp_path: Path
) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(jwks(public_jwk("okta", KID)) + "\n")
    client = make_client(**bearer_env(okta, OKTA_HOOK_JWKS_FILE=str(path)))
    assert call(client, mint(okta_claims(okta.issuer))).status_code == 200
    assert okta.total_hits() == 0


def hs(claims: dict[str, Any], secret: str = HMAC_SECRET, algorithm: str = "HS256") -> str:
    """Signed by hand: PyJWT rightly warns when asked to sign with a key this short."""
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[algorithm]
    unsigned = assemble({"alg": algorithm, "typ": "JWT"}, claims)
    signature = hmac.new(secret.encode(), signing_input(unsigned), digest).digest()
    return assemble({"alg": algorithm, "typ": "JWT"}, claims, signature)


def test_hmac_mode_accepts_tokens_signed_with_the_secret(
    make_client: MakeClient, okta: KeyServer
) -> None:
    client = make_client(**bearer_env(okta, OKTA_HOOK_JWT_HMAC_SECRET=HMAC_SECRET))
    assert call(client, hs(okta_claims(okta.issuer))).status_code == 200
    assert okta.total_hits() == 0


@pytest.mark.parametrize(
    ("token_of", "reason"),
    [
        (lambda c: hs(c, secret=HMAC_SECRET + "x"), "InvalidSignatureError"),
        (lambda c: hs(c, algorithm="HS512"), "too short for HS512"),
        (lambda c: mint(c), "alg 'RS256' is not accepted"),
        (lambda c: hs(dict(c, iss=c["iss"] + "x")), "InvalidIssuerError"),
    ],
)
def test_hmac_mode_refuses(
    make_client: MakeClient,
    okta: KeyServer,
    capsys: pytest.CaptureFixture[str],
    token_of: Any,
    reason: str,
) -> None:
    client = make_client(**bearer_env(okta, OKTA_HOOK_JWT_HMAC_SECRET=HMAC_SECRET))
    capsys.readouterr()
    response = call(client, token_of(okta_claims(okta.issuer)))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert reason in capsys.readouterr().out


def test_hmac_is_never_accepted_with_keys(make_client: MakeClient, okta: KeyServer) -> None:
    client = make_client(**bearer_env(okta))
    assert call(client, hs(okta_claims(okta.issuer))).status_code == 401


def test_short_hmac_secret_is_503_and_never_echoed(
    make_client: MakeClient, okta: KeyServer, capsys: pytest.CaptureFixture[str]
) -> None:
    client = make_client(**bearer_env(okta, OKTA_HOOK_JWT_HMAC_SECRET=SHORT_SECRET))
    assert call(client, hs(okta_claims(okta.issuer), SHORT_SECRET)).status_code == 503
    out = capsys.readouterr().out
    assert "OKTA_HOOK_JWT_HMAC_SECRET: shorter than 32 bytes" in out
    assert SHORT_SECRET not in out
