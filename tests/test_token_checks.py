"""The Bearer check beside PyJWT's `jwt.decode` alone: it never accepts a token PyJWT would
refuse, and it refuses, before PyJWT sees them, tokens PyJWT would read more loosely."""

from __future__ import annotations

import json
import math
import time
from typing import Any

import jwt
import pytest
from jwt.exceptions import PyJWTError

from auth.bearer import BearerVerifier, Expectations
from auth.static_keys import PinnedKeys, parse_jwks_text
from core.errors import Unauthenticated
from secret_sources.environment import EnvironmentValue
from secret_sources.setting import SecretSetting
from tests.jwt_support import (
    AUDIENCE,
    CLIENT_ID,
    KID,
    SCOPE,
    assemble,
    b64url,
    mint,
    okta_claims,
    public_jwk,
    rsa_key,
    sign_by_hand,
)

ISSUER = "https://example.okta.com/oauth2/default"


def verifier() -> BearerVerifier:
    text = json.dumps({"keys": [public_jwk("okta", KID)]})
    setting = SecretSetting("OKTA_HOOK_JWKS", EnvironmentValue("OKTA_HOOK_JWKS", text), math.inf)
    keys = PinnedKeys(setting.reading(parse_jwks_text(setting.name)))
    return BearerVerifier(Expectations(ISSUER, AUDIENCE, (SCOPE,), (CLIENT_ID,), 30), keys)


def ours(token: str) -> bool:
    try:
        verifier().verify(token)
    except Unauthenticated:
        return False
    return True


def pyjwt(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        token,
        rsa_key("okta").public_key(),
        algorithms=["RS256"],
        audience=AUDIENCE,
        issuer=ISSUER,
        leeway=30,
        options={"require": ["exp", "iss", "aud"]},
    )
    return claims


def now() -> int:
    return int(time.time())


TOKENS = {
    "valid": lambda: mint(okta_claims(ISSUER)),
    "aud in a list": lambda: mint(okta_claims(ISSUER, aud=["other", AUDIENCE])),
    "other aud": lambda: mint(okta_claims(ISSUER, aud="api://other")),
    "aud not strings": lambda: mint(okta_claims(ISSUER, aud=[AUDIENCE, 1])),
    "empty aud": lambda: mint(okta_claims(ISSUER, aud=[])),
    "other iss": lambda: mint(okta_claims(ISSUER + "/")),
    "iss a list": lambda: sign_by_hand(
        {"alg": "RS256", "kid": KID}, okta_claims(ISSUER, iss=[ISSUER])
    ),
    "no exp": lambda: mint(okta_claims(ISSUER, exp=None)),
    "no iss": lambda: mint(okta_claims(ISSUER, iss=None)),
    "expired": lambda: mint(okta_claims(ISSUER, exp=now() - 31)),
    "expired in leeway": lambda: mint(okta_claims(ISSUER, exp=now() - 20)),
    "nbf ahead": lambda: mint(okta_claims(ISSUER, nbf=now() + 60)),
    "nbf in leeway": lambda: mint(okta_claims(ISSUER, nbf=now() + 20)),
    "iat ahead": lambda: mint(okta_claims(ISSUER, iat=now() + 60)),
    "float exp": lambda: mint(okta_claims(ISSUER, exp=now() + 60.5)),
    "sub a number": lambda: mint(okta_claims(ISSUER, sub=5)),
    "jti a number": lambda: mint(okta_claims(ISSUER, jti=5)),
    "other key": lambda: mint(okta_claims(ISSUER), key_name="attacker"),
    "RS512": lambda: mint(okta_claims(ISSUER), algorithm="RS512"),
    "payload a list": lambda: sign_by_hand({"alg": "RS256", "kid": KID}, [1, 2]),  # type: ignore[arg-type]
    "cut signature": lambda: mint(okta_claims(ISSUER))[:-4],
    "no signature": lambda: assemble({"alg": "RS256", "kid": KID}, okta_claims(ISSUER)),
}


@pytest.mark.parametrize("name", sorted(TOKENS))
def test_never_accepts_what_pyjwt_refuses(name: str) -> None:
    token = TOKENS[name]()
    try:
        pyjwt(token)
        expected = True
    except PyJWTError:
        expected = False
    assert ours(token) is expected


STRICTER = {
    # PyJWT takes int() of these; a JSON number is required here.
    "exp as a string": lambda: mint(okta_claims(ISSUER, exp=str(now() + 600))),
    "exp as true": lambda: mint(okta_claims(ISSUER, exp=True, iat=None)),
    # PyJWT accepts trailing "=" padding on a segment.
    "padded payload": lambda: _padded(mint(okta_claims(ISSUER))),
    # PyJWT would guess UTF-16 from the bytes.
    "UTF-16 payload": lambda: _signed_raw(json.dumps(okta_claims(ISSUER)).encode("utf-16")),
}


@pytest.mark.parametrize("name", sorted(STRICTER))
def test_refuses_where_it_is_stricter_than_pyjwt(name: str) -> None:
    assert ours(STRICTER[name]()) is False


def _padded(token: str) -> str:
    header, payload, signature = token.split(".")
    return f"{header}.{payload}{'=' * (-len(payload) % 4) or '=='}.{signature}"


def _signed_raw(payload: bytes) -> str:
    from jwt.algorithms import RSAAlgorithm

    head = b64url(json.dumps({"alg": "RS256", "kid": KID}).encode())
    unsigned = f"{head}.{b64url(payload)}"
    signature = RSAAlgorithm(RSAAlgorithm.SHA256).sign(unsigned.encode(), rsa_key("okta"))
    return f"{unsigned}.{b64url(signature)}"
