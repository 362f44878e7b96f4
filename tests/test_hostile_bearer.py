"""Hostile Authorization values for Bearer, generated: garbage, and tokens with any header and
claims, signed by the issuer's key, by another key, or with the public key as an HMAC secret.

Every answer is well formed, and its status is the one an independent statement of the checks
(`expected` below, written from RFC 7519, RFC 8725 and Okta's token format, sharing no code with
auth/) gives: 200 only for an authentic, current token for this audience, client and scope.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.conftest import BASIC_PASSWORD, BASIC_USER, basic, hook_client, post, sample
from tests.forgery_support import hs, public_pem, raw_token, rs
from tests.hostile_support import allowed, well_formed
from tests.jwt_support import (
    AUDIENCE,
    CLIENT_ID,
    KID,
    SCOPE,
    KeyServer,
    b64url,
    bearer_env,
    okta_claims,
)

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
INVALID = 'Bearer error="invalid_token"'
REALM = 'Bearer realm="okta-registration-hook"'
INSUFFICIENT = f'Bearer error="insufficient_scope", scope="{SCOPE}"'
BASIC_REALM = 'Basic realm="okta-registration-hook", charset="UTF-8"'
LEEWAY = 30
MAX_TOKEN = 8192


@pytest.fixture(scope="module")
def hook(module_okta: KeyServer) -> TestClient:
    return hook_client(bearer_env(module_okta))


@pytest.fixture(scope="module")
def both(module_okta: KeyServer) -> TestClient:
    """Basic and Bearer both enabled."""
    return hook_client(
        {**bearer_env(module_okta), "OKTA_HOOK_BASIC_CREDENTIALS": f"{BASIC_USER}:{BASIC_PASSWORD}"}
    )


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
segments = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", max_size=40
)


@SETTINGS
@given(
    credentials=st.one_of(
        st.text(max_size=300),
        st.lists(segments, min_size=1, max_size=5).map(".".join),
        st.binary(max_size=200).map(lambda b: b64url(b)),
        st.builds(
            lambda h, c, s: (
                f"{b64url(json.dumps(h).encode())}.{b64url(json.dumps(c).encode())}.{s}"
            ),
            json_values,
            json_values,
            segments,
        ),
    ),
    scheme=st.sampled_from(["Bearer", "bearer", "BEARER", "Bearer  ", "Basic", "JWT", ""]),
)
def test_garbage_never_passes(hook: TestClient, credentials: str, scheme: str) -> None:
    authorization = f"{scheme} {credentials}"
    if any(c in authorization for c in "\r\n\x00"):
        authorization = authorization.replace("\r", "").replace("\n", "").replace("\x00", "")
    try:
        authorization.encode("latin-1")
    except UnicodeEncodeError:
        authorization = authorization.encode("utf-8").decode("latin-1")  # as a client would send
    response = post(hook, sample("progressive"), authorization=authorization)
    document = well_formed(response)
    assert response.status_code == 401, document
    assert response.headers["WWW-Authenticate"] in (INVALID, REALM)


# Tokens with any header and claims, signed three ways.

HEADER_MEMBERS = ["typ", "cty", "crit", "b64", "jku", "x5u", "jwk", "x5c", "zip", "enc", "x", "y"]
CLAIM_NAMES = ["iss", "aud", "exp", "nbf", "iat", "sub", "jti", "cid", "client_id", "scp", "scope"]


def now() -> int:
    return int(time.time())


@st.composite
def tokens(draw: st.DrawFn, issuer: str) -> tuple[str, dict[str, Any], dict[str, Any], str]:
    header: dict[str, Any] = {"alg": "RS256", "kid": KID}
    for name in draw(st.lists(st.sampled_from(HEADER_MEMBERS), max_size=2, unique=True)):
        header[name] = draw(json_values)
    if draw(st.integers(0, 9)) == 0:
        header["alg"] = draw(st.sampled_from(["HS256", "none", "RS512", "ES256", "PS256", "rs256"]))
    if draw(st.integers(0, 9)) == 0:
        header["kid"] = draw(json_values)
    claims = okta_claims(issuer)
    for name in draw(st.lists(st.sampled_from(CLAIM_NAMES), max_size=2, unique=True)):
        choice = draw(st.integers(0, 4))
        if choice == 0:
            claims.pop(name, None)
        elif name in ("exp", "nbf", "iat") and choice < 3:
            claims[name] = now() + draw(st.sampled_from([-7200, -60, 3600, 86400]))
        elif name == "aud" and choice < 3:
            claims[name] = draw(st.lists(st.sampled_from([AUDIENCE, "api://other", 1]), max_size=3))
        elif name in ("scp", "scope") and choice < 3:
            scopes = draw(st.lists(st.sampled_from([SCOPE, "openid", SCOPE + "x"]), max_size=3))
            claims[name] = scopes if name == "scp" else " ".join(scopes)
        elif name in ("cid", "client_id") and choice < 3:
            claims[name] = draw(st.sampled_from([CLIENT_ID, "0oa-other", CLIENT_ID.upper()]))
        else:
            claims[name] = draw(json_values)
    # Mostly the issuer's key, so that the claims, not the signature, decide most examples.
    signer = draw(st.sampled_from(["issuer"] * 4 + ["attacker", "hmac-with-public-key"]))
    sign = {"issuer": rs(), "attacker": rs("attacker"), "hmac-with-public-key": hs(public_pem())}
    return raw_token(header, claims, sign[signer]), header, claims, signer


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def expected(
    token: str, header: dict[str, Any], claims: dict[str, Any], signer: str, issuer: str
) -> int:
    """The status the checks must give, derived from the standards, not from auth/."""
    authentic = (
        len(token) <= MAX_TOKEN
        and signer == "issuer"
        and header.get("alg") == "RS256"
        and header.get("kid") == KID
        and "crit" not in header
        and "cty" not in header  # a nested token is never accepted
        and header.get("b64", True) is True
    )
    if not authentic:
        return 401
    moment = now()
    dates_ok = (
        all(name not in claims or _number(claims[name]) for name in ("exp", "nbf", "iat"))
        and "exp" in claims
    )
    if not dates_ok:
        return 401
    if int(claims["exp"]) <= moment - LEEWAY:
        return 401
    for name in ("nbf", "iat"):
        if name in claims and int(claims[name]) > moment + LEEWAY:
            return 401
    audience = claims.get("aud")
    audience_ok = audience == AUDIENCE or (
        isinstance(audience, list)
        and all(isinstance(a, str) for a in audience)
        and AUDIENCE in audience
    )
    if claims.get("iss") != issuer or not audience_ok:
        return 401
    if any(name in claims and not isinstance(claims[name], str) for name in ("sub", "jti")):
        return 401
    client = claims["cid"] if "cid" in claims else claims.get("client_id")
    if client is not None and not isinstance(client, str):
        return 401
    if "scp" in claims:
        scp = claims["scp"]
        if not isinstance(scp, list) or not all(isinstance(s, str) for s in scp):
            return 401
        granted = set(scp)
    else:
        scope = claims.get("scope", "")
        if not isinstance(scope, str):
            return 401
        granted = set(scope.split())
    if client != CLIENT_ID or SCOPE not in granted:
        return 403
    return 200


@settings(SETTINGS, max_examples=300)
@given(data=st.data())
def test_any_header_and_claims(
    hook: TestClient, module_okta: KeyServer, data: st.DataObject
) -> None:
    token, header, claims, signer = data.draw(tokens(module_okta.issuer))
    status = expected(token, header, claims, signer, module_okta.issuer)
    event(f"expected {status}")
    response = post(hook, sample("progressive"), authorization=f"Bearer {token}")
    document = well_formed(response)
    assert response.status_code == status, (header, claims, signer, document)
    challenge = {200: None, 401: INVALID, 403: INSUFFICIENT}[status]
    assert response.headers.get("WWW-Authenticate") == challenge
    assert allowed(document) == (status == 200)


@SETTINGS
@given(
    authorization=st.one_of(
        st.sampled_from(["basic-right", "basic-wrong", "bearer-right", "bearer-forged"]),
        st.text(max_size=60),
    )
)
def test_both_schemes_enabled(both: TestClient, module_okta: KeyServer, authorization: str) -> None:
    from tests.jwt_support import mint

    value = {
        "basic-right": basic(),
        "basic-wrong": basic(BASIC_USER, "wrong"),
        "bearer-right": "Bearer " + mint(okta_claims(module_okta.issuer)),
        "bearer-forged": "Bearer " + mint(okta_claims(module_okta.issuer), key_name="attacker"),
    }.get(authorization, authorization)
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        value = value.encode("utf-8").decode("latin-1")
    value = value.replace("\r", "").replace("\n", "").replace("\x00", "")
    response = post(both, sample("progressive"), authorization=value)
    well_formed(response)
    if authorization in ("basic-right", "bearer-right"):
        assert response.status_code == 200
    else:
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] in (
            INVALID,
            f"{BASIC_REALM}, {REALM}",
            BASIC_REALM,
        )
