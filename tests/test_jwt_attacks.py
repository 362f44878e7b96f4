"""The JWT attacks of RFC 8725 (JWT best current practices), one row each, through the function.

Every row is a request as functions-framework serves it, with keys from a loopback authorization
server (or the pinned JWKS, or the HMAC secret), and asserts the exact status and
`WWW-Authenticate`. Controls (status 200) sit beside the attacks they differ from by one thing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.testclient import TestClient

from auth.keys import MAX_KEYS
from tests.conftest import MakeClient, hook_client, post, sample
from tests.forgery_support import (
    HMAC_SECRET,
    Signer,
    es,
    hs,
    huge_rsa_jwk,
    ps,
    public_der,
    public_jwk_bytes,
    public_pem,
    public_pkcs1_pem,
    raw_token,
    rs,
    self_signed_x5c,
    unsigned,
)
from tests.jwt_support import (
    AUDIENCE,
    CLIENT_ID,
    KID,
    SCOPE,
    KeyServer,
    bearer_env,
    key_server,
    mint,
    okta_claims,
    public_ec_jwk,
    public_jwk,
)

INVALID = 'Bearer error="invalid_token"'
REALM = 'Bearer realm="okta-registration-hook"'
INSUFFICIENT = f'Bearer error="insufficient_scope", scope="{SCOPE}"'
EC_KID = "gateway-ec-1"
CODES = {200: None, 401: "unauthenticated", 403: "forbidden", 503: "unavailable"}

TokenFor = Callable[[str], str]  # the issuer -> a token


@dataclass(frozen=True)
class Row:
    name: str
    token: TokenFor
    status: int
    challenge: str | None
    mode: str = "jwks"  # "jwks": keys from the issuer; "pinned": OKTA_HOOK_JWKS; "hmac"
    # How the log says the first check to refuse it did: each layer of the algorithm checks is
    # seen on its own, although the layers behind it would refuse the token too.
    reason: str | None = None


def head(alg: Any = "RS256", kid: Any = KID, **members: Any) -> dict[str, Any]:
    header: dict[str, Any] = {"alg": alg, "typ": "JWT"}
    if kid is not ...:
        header["kid"] = kid
    header.update(members)
    return header


def claims_text(issuer: str, replace: tuple[str, str] | None = None, **changes: Any) -> str:
    """The claims as JSON text; `replace` rewrites one member's text, for what json cannot
    write (1e999, NaN, a repeated member)."""
    text = json.dumps(okta_claims(issuer, **changes))
    if replace is not None:
        old, new = replace
        assert old in text
        text = text.replace(old, new)
    return text


def signed(header: dict[str, Any] | str, **changes: Any) -> TokenFor:
    return lambda issuer: raw_token(header, okta_claims(issuer, **changes), rs())


def with_text(header: dict[str, Any] | str, replace: tuple[str, str]) -> TokenFor:
    return lambda issuer: raw_token(header, claims_text(issuer, replace), rs())


def now() -> int:
    return int(time.time())


def hmac_with(secret: Callable[[], bytes], bits: str = "256", kid: Any = KID) -> TokenFor:
    return lambda issuer: raw_token(head(f"HS{bits}", kid), okta_claims(issuer), hs(secret(), bits))


def header_signed(header: dict[str, Any], sign: Signer) -> TokenFor:
    return lambda issuer: raw_token(header, okta_claims(issuer), sign)


def okta_jwk() -> dict[str, Any]:
    return public_jwk("okta", KID)


ALGORITHM_CONFUSION = [
    Row("control: RS256 by the issuer's key", signed(head()), 200, None),
    Row("RS->HS256, public key PEM as secret", hmac_with(public_pem), 401, INVALID, reason="alg 'HS256' is not accepted"),
    Row("RS->HS384, public key PEM as secret", hmac_with(public_pem, "384"), 401, INVALID, reason="alg 'HS384' is not accepted"),
    Row("RS->HS512, public key PEM as secret", hmac_with(public_pem, "512"), 401, INVALID, reason="alg 'HS512' is not accepted"),
    Row("RS->HS256, PKCS#1 PEM as secret", hmac_with(public_pkcs1_pem), 401, INVALID, reason="alg 'HS256' is not accepted"),
    Row("RS->HS256, DER as secret", hmac_with(public_der), 401, INVALID, reason="alg 'HS256' is not accepted"),
    Row("RS->HS256, JWK JSON as secret", hmac_with(lambda: public_jwk_bytes(okta_jwk())), 401, INVALID, reason="alg 'HS256' is not accepted"),
    Row("HS256 without kid in JWKS mode", hmac_with(public_pem, kid=...), 401, INVALID),
    Row("HS256 in pinned JWKS mode", hmac_with(public_pem), 401, INVALID, "pinned", "alg 'HS256' is not accepted"),
    Row("control: HS256 with the shared secret", hmac_with(HMAC_SECRET.encode), 200, None, "hmac"),
    Row("HS256 with another secret", hmac_with(lambda: b"x" * 48), 401, INVALID, "hmac"),
    Row("HS256 with the RSA public key", hmac_with(public_pem), 401, INVALID, "hmac"),
    Row("HS512 with a secret too short for it", hmac_with(HMAC_SECRET.encode, "512"), 401, INVALID, "hmac"),
    Row("RS256 in HMAC mode", signed(head()), 401, INVALID, "hmac", "alg 'RS256' is not accepted"),
    Row("control: RS256 with the pinned JWKS", signed(head()), 200, None, "pinned"),
    Row("ES256 by an EC key, under the RSA key's kid",
        lambda iss: raw_token(head("ES256"), okta_claims(iss), es("attacker-ec")), 401, INVALID,
        reason=f"key '{KID}' does not verify ES256"),
    Row("control: ES256 by the issuer's EC key",
        lambda iss: raw_token(head("ES256", EC_KID), okta_claims(iss), es("gateway")), 200, None),
    Row("RS256 under the EC key's kid", signed(head(kid=EC_KID)), 401, INVALID, reason=f"key '{EC_KID}' does not verify RS256"),
    Row("ES384 under the P-256 key's kid",
        lambda iss: raw_token(head("ES384", EC_KID), okta_claims(iss), es("gateway")), 401, INVALID,
        reason=f"key '{EC_KID}' does not verify ES384"),
    Row("PS256 by the RSA key whose JWK says RS256",
        lambda iss: raw_token(head("PS256"), okta_claims(iss), ps()), 401, INVALID,
        reason=f"key '{KID}' does not verify PS256"),
    Row("RS512 by the RSA key whose JWK says RS256",
        lambda iss: raw_token(head("RS512"), okta_claims(iss), rs(bits="512")), 401, INVALID,
        reason=f"key '{KID}' does not verify RS512"),
    Row("EdDSA", lambda iss: raw_token(head("EdDSA"), okta_claims(iss), unsigned(b"s" * 64)), 401, INVALID),
    *(
        Row(f"alg {alg!r}, signature {sig!r}", header_signed(head(alg), unsigned(sig)), 401, INVALID,
            # An empty signature segment is refused before the header is read.
            reason="alg is missing or none" if sig else "not three base64url segments")
        for alg in ("none", "None", "NONE", "nOnE")
        for sig in (b"", b"x")
    ),
    *(
        Row(f"alg {alg!r}", header_signed(head(alg), rs()), 401, INVALID)
        for alg in (None, "", ["RS256"], 256, {"alg": "RS256"}, "rs256", "RS256 ")
    ),
]  # fmt: skip

KID_TRICKS = [
    *(
        Row(f"kid {label}", header_signed(head(kid=kid), rs("attacker")), 401, INVALID)
        for label, kid in (
            ("path traversal", "../../../../../../dev/null"),
            ("file URL", "file:///etc/passwd"),
            ("SQL", "' OR '1'='1' --"),
            ("NUL byte", "okta-key-1\u0000"),
            ("very long", "k" * 5000),
            ("the issuer's kid with a space", KID + " "),
            ("the issuer's kid in upper case", KID.upper()),
        )
    ),
    *(
        Row(f"kid as {label}", header_signed(head(kid=kid), rs()), 401, INVALID)
        for label, kid in (("a number", 1), ("null", None), ("a list", [KID]), ("an object", {"kid": KID}))
    ),
    Row("no kid, signed by the issuer's key", signed(head(kid=...)), 401, INVALID),
    Row("the issuer's kid, signed by another key",
        lambda iss: mint(okta_claims(iss), "attacker", KID), 401, INVALID),
    Row("jwk header with the attacker's key",
        lambda iss: raw_token(head(jwk=public_jwk("attacker", KID)), okta_claims(iss), rs("attacker")), 401, INVALID),
    Row("jwk header alone, no kid",
        lambda iss: raw_token(head(kid=..., jwk=public_jwk("attacker", None)), okta_claims(iss), rs("attacker")), 401, INVALID),
    Row("x5c header with the attacker's certificate",
        lambda iss: raw_token(head(x5c=self_signed_x5c("attacker")), okta_claims(iss), rs("attacker")), 401, INVALID),
    Row("jku header to a key set elsewhere",
        lambda iss: raw_token(head(jku="http://127.0.0.1:9/keys"), okta_claims(iss), rs("attacker")), 401, INVALID),
    Row("x5u header to a certificate elsewhere",
        lambda iss: raw_token(head(x5u="http://127.0.0.1:9/cert"), okta_claims(iss), rs("attacker")), 401, INVALID),
    Row("control: jku/x5u/x5c headers on the issuer's own token",
        lambda iss: raw_token(head(jku="http://127.0.0.1:9/k", x5c=self_signed_x5c("okta")), okta_claims(iss), rs()), 200, None),
]  # fmt: skip

CLAIM_TYPES = [
    Row("aud: a list holding ours", signed(head(), aud=["api://other", AUDIENCE]), 200, None),
    Row("aud: a list without ours", signed(head(), aud=["api://other"]), 401, INVALID),
    Row("aud: an empty list", signed(head(), aud=[]), 401, INVALID),
    Row("aud: a list with a number", signed(head(), aud=[7, AUDIENCE]), 401, INVALID),
    Row("aud: a list holding a list", signed(head(), aud=[[AUDIENCE]]), 401, INVALID),
    Row("aud: a number", signed(head(), aud=7), 401, INVALID),
    Row("aud: an object", signed(head(), aud={"aud": AUDIENCE}), 401, INVALID),
    Row("aud: true", signed(head(), aud=True), 401, INVALID),
    Row("aud: ours with a space", signed(head(), aud=AUDIENCE + " "), 401, INVALID),
    Row("exp: a string", lambda iss: raw_token(head(), okta_claims(iss, exp=str(now() + 3600)), rs()), 401, INVALID),
    Row("exp: a float in the future", lambda iss: raw_token(head(), okta_claims(iss, exp=now() + 3600.5), rs()), 200, None),
    Row("exp: true", signed(head(), exp=True), 401, INVALID),
    Row("exp: a list", lambda iss: raw_token(head(), okta_claims(iss, exp=[now() + 3600]), rs()), 401, INVALID),
    Row("exp: null", lambda iss: raw_token(head(), claims_text(iss, ('"exp": ', '"exp": null, "x": ')), rs()), 401, INVALID),
    Row("exp: 1e999 (infinity)", lambda iss: raw_token(head(), claims_text(iss, ('"exp": ', '"exp": 1e999, "x": ')), rs()), 401, INVALID),
    Row("exp: NaN", lambda iss: raw_token(head(), claims_text(iss, ('"exp": ', '"exp": NaN, "x": ')), rs()), 401, INVALID),
    Row("exp: 400 digits", lambda iss: raw_token(head(), claims_text(iss, ('"exp": ', '"exp": ' + "9" * 400 + ', "x": ')), rs()), 401, INVALID),
    Row("exp: far future, as the issuer signed it", signed(head(), exp=10**12), 200, None),
    Row("exp: in the past", lambda iss: raw_token(head(), okta_claims(iss, exp=now() - 3600), rs()), 401, INVALID),
    Row("nbf: a string", lambda iss: raw_token(head(), okta_claims(iss, nbf=str(now())), rs()), 401, INVALID),
    Row("iat: a string", lambda iss: raw_token(head(), okta_claims(iss, iat=str(now())), rs()), 401, INVALID),
    Row("iat: false", signed(head(), iat=False), 401, INVALID),
    Row("iss: a list holding ours", lambda iss: raw_token(head(), okta_claims(iss, iss=[iss]), rs()), 401, INVALID),
    Row("iss: a number", signed(head(), iss=1), 401, INVALID),
    Row("iss: missing", lambda iss: raw_token(head(), claims_text(iss, ('"iss": ', '"x": ')), rs()), 401, INVALID),
    Row("sub: a number", signed(head(), sub=1), 401, INVALID),
    Row("jti: a list", signed(head(), jti=["AT.1"]), 401, INVALID),
    Row("scp: a string", signed(head(), scp=SCOPE), 401, INVALID),
    Row("scp: a list with a number", signed(head(), scp=[SCOPE, 1]), 401, INVALID),
    Row("scp: an empty list", signed(head(), scp=[]), 403, INSUFFICIENT),
    Row("scp: null, scope holding ours", lambda iss: raw_token(head(), claims_text(iss, ('"scp": ', '"scope": "' + SCOPE + '", "scp": null, "y": ')), rs()), 401, INVALID),
    Row("scope: a list", signed(head(), scp=None, scope=[SCOPE]), 401, INVALID),
    Row("cid: a list holding ours", signed(head(), cid=[CLIENT_ID]), 401, INVALID),
    Row("cid: a number", signed(head(), cid=7), 401, INVALID),
    Row("cid: another client, client_id ours", signed(head(), cid="0oa-other", client_id=CLIENT_ID), 403, INSUFFICIENT),
]  # fmt: skip

NESTED_AND_DUPLICATES = [
    Row("crit naming an unknown extension", signed(head(crit=["urn:x"], **{"urn:x": 1})), 401, INVALID),
    Row("crit naming b64, which PyJWT knows", signed(head(crit=["b64"], b64=True)), 401, INVALID),
    Row("crit naming a registered claim", signed(head(crit=["exp"])), 401, INVALID),
    Row("crit empty", signed(head(crit=[])), 401, INVALID),
    Row("crit not a list", signed(head(crit="b64", b64=True)), 401, INVALID),
    Row("cty JWT (a nested token)", signed(head(cty="JWT")), 401, INVALID),
    Row("the payload is a signed JWT",
        lambda iss: raw_token(head(cty="JWT"), json.dumps(mint(okta_claims(iss))), rs()), 401, INVALID),
    Row("control: typ at+jwt", signed(head(typ="at+jwt")), 200, None),
    Row("b64 false (unencoded payload)", signed(head(b64=False)), 401, INVALID),
    Row("header repeats alg",
        lambda iss: raw_token('{"alg": "HS256", "kid": "' + KID + '", "alg": "RS256"}', okta_claims(iss), rs()), 401, INVALID),
    Row("header repeats kid",
        lambda iss: raw_token('{"alg": "RS256", "kid": "nobody", "kid": "' + KID + '"}', okta_claims(iss), rs()), 401, INVALID),
    Row("control: the same header written by hand",
        lambda iss: raw_token('{"alg": "RS256", "kid": "' + KID + '"}', okta_claims(iss), rs()), 200, None),
    Row("claims repeat aud",
        lambda iss: raw_token(head(), claims_text(iss, ('"aud": ', '"aud": "api://other", "aud": ')), rs()), 401, INVALID),
    Row("claims repeat iss",
        lambda iss: raw_token(head(), claims_text(iss, ('"iss": ', '"iss": "https://evil.test", "iss": ')), rs()), 401, INVALID),
    Row("claims repeat exp",
        lambda iss: raw_token(head(), claims_text(iss, ('"exp": ', '"exp": 1, "exp": ')), rs()), 401, INVALID),
    Row("claims repeat cid",
        lambda iss: raw_token(head(), claims_text(iss, ('"cid": ', '"cid": "0oa-other", "cid": ')), rs()), 401, INVALID),
    Row("a member repeated inside an object claim",
        lambda iss: raw_token(head(), claims_text(iss, ('"ver": 1', '"ver": 1, "ext": {"a": 1, "a": 2}')), rs()), 401, INVALID),
]  # fmt: skip


def _tamper(token: str, how: str) -> str:
    header, body, signature = token.split(".")
    return {
        "empty": f"{header}.{body}.",
        "truncated": f"{header}.{body}.{signature[:-8]}",
        "one byte": f"{header}.{body}.{signature[:2]}",
        "zeros": f"{header}.{body}.{'A' * len(signature)}",
        "padded": f"{header}.{body}.{signature}==",
        "extended": f"{header}.{body}.{signature}AAAA",
        "no third segment": f"{header}.{body}",
        "a fourth segment": f"{header}.{body}.{signature}.{signature}",
    }[how]


def tampered(how: str) -> TokenFor:
    return lambda issuer: _tamper(mint(okta_claims(issuer)), how)


SIGNATURE_STRIPPING = [
    Row(f"signature {how}", tampered(how), 401, INVALID)
    for how in ("empty", "truncated", "one byte", "zeros", "padded", "extended",
                "no third segment", "a fourth segment")
] + [
    Row("the signature of another of the issuer's tokens",
        lambda iss: ".".join(mint(okta_claims(iss, scp=[SCOPE, "x"])).split(".")[:2] + [mint(okta_claims(iss)).split(".")[2]]), 401, INVALID),
    Row("claims changed after signing",
        lambda iss: ".".join([mint(okta_claims(iss)).split(".")[0], mint(okta_claims(iss, cid="0oa-other")).split(".")[1], mint(okta_claims(iss)).split(".")[2]]), 401, INVALID),
]  # fmt: skip

ROWS = ALGORITHM_CONFUSION + KID_TRICKS + CLAIM_TYPES + NESTED_AND_DUPLICATES + SIGNATURE_STRIPPING


@pytest.fixture(scope="module")
def hooks(module_okta: KeyServer) -> dict[str, TestClient]:
    # The issuer lists an RSA key and an EC key (the gateway's).
    module_okta.jwks = [public_jwk("okta", KID), public_ec_jwk("gateway", EC_KID)]
    jwks = json.dumps({"keys": module_okta.jwks})
    return {
        "jwks": hook_client(bearer_env(module_okta)),
        "pinned": hook_client(bearer_env(module_okta, OKTA_HOOK_JWKS=jwks)),
        "hmac": hook_client(bearer_env(module_okta, OKTA_HOOK_JWT_HMAC_SECRET=HMAC_SECRET)),
    }


def assert_answer(response: Any, status: int, challenge: str | None) -> None:
    assert (response.status_code, response.headers.get("WWW-Authenticate")) == (status, challenge)
    document = response.json()
    if status == 200:
        assert document["commands"][0]["value"] == {"registration": "ALLOW"}
    else:
        assert document["error"]["code"] == CODES[status]


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_attack(
    row: Row,
    module_okta: KeyServer,
    hooks: dict[str, TestClient],
    capsys: pytest.CaptureFixture[str],
) -> None:
    token = row.token(module_okta.issuer)
    fetches = module_okta.total_hits()
    capsys.readouterr()
    response = post(hooks[row.mode], sample("progressive"), authorization=f"Bearer {token}")
    assert_answer(response, row.status, row.challenge)
    if row.reason is not None:
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
        [audit] = [line for line in lines if "status" in line]
        assert audit["reason"].startswith(f"bearer: {row.reason}")
    # Only an unknown kid may send the hook to the issuer again (at most once per cooldown).
    assert module_okta.total_hits() - fetches <= 1


def test_key_urls_in_the_header_are_never_fetched(
    module_okta: KeyServer, hooks: dict[str, TestClient]
) -> None:
    with key_server(public_jwk("attacker", "attacker-kid")) as attacker:
        for member in ("jku", "x5u"):
            token = raw_token(
                head(kid="attacker-kid", **{member: attacker.jwks_uri}),
                okta_claims(module_okta.issuer),
                rs("attacker"),
            )
            response = post(hooks["jwks"], sample("progressive"), authorization=f"Bearer {token}")
            assert_answer(response, 401, INVALID)
        assert attacker.total_hits() == 0


# Key sets as the issuer serves them: each row is a cold start against its own key server.


def _junk(count: int) -> list[dict[str, Any]]:
    return [{"kty": "oct", "kid": f"j{n}", "k": "AA"} for n in range(count)]


@dataclass(frozen=True)
class KeySetRow:
    name: str
    jwks: Callable[[], list[dict[str, Any]]]
    token: Callable[[str], str]
    status: int
    challenge: str | None
    logged: str | None = None


BY_OKTA = lambda iss: mint(okta_claims(iss))  # noqa: E731
BY_ATTACKER = lambda iss: mint(okta_claims(iss), "attacker")  # noqa: E731

KEY_SETS = [
    KeySetRow("one kid for two RSA keys: the issuer's token",
              lambda: [public_jwk("attacker", KID), public_jwk("okta", KID)], BY_OKTA, 503, None,
              "JWKS kid names two keys for one algorithm: neither is used"),
    KeySetRow("one kid for two RSA keys, and another key: the attacker's token",
              lambda: [public_jwk("attacker", KID), public_jwk("okta", KID), public_jwk("okta", "k2")],
              BY_ATTACKER, 401, INVALID),
    KeySetRow("one kid for an RSA and an EC key: RS256",
              lambda: [public_jwk("okta", KID), {**public_ec_jwk("gateway", KID)}], BY_OKTA, 200, None),
    KeySetRow("one kid for an RSA and an EC key: ES256",
              lambda: [public_jwk("okta", KID), {**public_ec_jwk("gateway", KID)}],
              lambda iss: raw_token(head("ES256"), okta_claims(iss), es("gateway")), 200, None),
    KeySetRow("a 16384-bit key under the token's kid",
              lambda: [huge_rsa_jwk("big", 16384), public_jwk("okta", KID)],
              lambda iss: mint(okta_claims(iss), "attacker", "big"), 401, INVALID,
              "JWKS key skipped: RSA n missing or over 4096 bits"),
    KeySetRow("a 16384-bit key beside the issuer's",
              lambda: [huge_rsa_jwk("big", 16384), public_jwk("okta", KID)], BY_OKTA, 200, None),
    KeySetRow("a 4097-bit modulus", lambda: [huge_rsa_jwk("big", 4097), public_jwk("okta", KID)],
              lambda iss: mint(okta_claims(iss), "attacker", "big"), 401, INVALID,
              "JWKS key skipped: RSA n is 4097 bits, over 4096"),
    KeySetRow("a 3072-bit key with a 3072-bit exponent",
              lambda: [huge_rsa_jwk("big", 3072, (1 << 3071) + 1), public_jwk("okta", KID)],
              lambda iss: mint(okta_claims(iss), "attacker", "big"), 401, INVALID,
              "JWKS key skipped: RSA e missing or over 256 bits"),
    KeySetRow("only keys that cannot verify",
              lambda: [public_jwk("okta", "enc", use="enc"), {"kty": "oct", "kid": "s", "k": "AA"},
                       {**public_jwk("okta", "priv"), "d": "AQAB"}, huge_rsa_jwk("big", 8192)],
              BY_OKTA, 503, None, "no usable signing key"),
    KeySetRow("no keys at all", lambda: [], BY_OKTA, 503, None, "no usable signing key"),
    KeySetRow(f"the issuer's key after {MAX_KEYS} unusable ones",
              lambda: [*_junk(MAX_KEYS), public_jwk("okta", KID)], BY_OKTA, 503, None,
              "no usable signing key"),
    KeySetRow("the issuer's key before 3000 others",
              lambda: [public_jwk("okta", KID), *_junk(3000)], BY_OKTA, 200, None),
    KeySetRow("3000 keys and the issuer's, over 128 KiB",
              lambda: [public_jwk("okta", KID), *_junk(3000), *[public_jwk("okta", f"x{n}") for n in range(200)]],
              BY_OKTA, 503, None, "over 131072 bytes"),
]  # fmt: skip


@pytest.mark.parametrize("row", KEY_SETS, ids=lambda row: row.name)
def test_key_set(
    row: KeySetRow, make_client: MakeClient, okta: KeyServer, capsys: pytest.CaptureFixture[str]
) -> None:
    okta.jwks = row.jwks()
    client = make_client(**bearer_env(okta))
    started = time.perf_counter()
    response = post(client, sample("progressive"), authorization=f"Bearer {row.token(okta.issuer)}")
    elapsed = time.perf_counter() - started
    assert_answer(response, row.status, row.challenge)
    if row.logged is not None:
        assert row.logged in capsys.readouterr().out
    assert elapsed < 1.0  # no key, however large, makes a request slow
