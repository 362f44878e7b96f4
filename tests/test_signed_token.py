"""The token check beside PyJWT's `jwt.decode`: it never accepts a token PyJWT would refuse."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest
from jwt import PyJWK
from jwt.exceptions import PyJWTError

from auth import signed_token
from auth.keys import VerificationKey
from auth.signed_token import ClaimRules
from tests.jwt_support import (
    AUDIENCE,
    KID,
    assemble,
    b64url,
    mint,
    okta_claims,
    public_jwk,
    rsa_key,
    sign_by_hand,
)

ISSUER = "https://example.okta.com/oauth2/default"
RULES = ClaimRules(ISSUER, AUDIENCE, 30)
KEY = VerificationKey(PyJWK(public_jwk("okta", KID), algorithm="RS256"), "RS256")


def ours(token: str) -> dict[str, Any]:
    segments = signed_token.split(token)
    if segments is None:
        raise PyJWTError("not three segments")
    header = signed_token.json_object(signed_token.decode_segment(segments.header, "h"), "h")
    signed_token.verify_signature(segments, header.get("alg", ""), KEY)
    claims = signed_token.json_object(signed_token.decode_segment(segments.payload, "p"), "p")
    signed_token.check_claims(claims, RULES)
    return claims


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
        expected: dict[str, Any] | None = pyjwt(token)
    except PyJWTError:
        expected = None
    try:
        found: dict[str, Any] | None = ours(token)
    except PyJWTError:
        found = None
    assert found == expected


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
    with pytest.raises(PyJWTError):
        ours(STRICTER[name]())


def _padded(token: str) -> str:
    header, payload, signature = token.split(".")
    return f"{header}.{payload}{'=' * (-len(payload) % 4) or '=='}.{signature}"


def _signed_raw(payload: bytes) -> str:
    from jwt.algorithms import RSAAlgorithm

    head = b64url(json.dumps({"alg": "RS256", "kid": KID}).encode())
    unsigned = f"{head}.{b64url(payload)}"
    signature = RSAAlgorithm(RSAAlgorithm.SHA256).sign(unsigned.encode(), rsa_key("okta"))
    return f"{unsigned}.{b64url(signature)}"
