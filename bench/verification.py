"""Sections 1 and 2: the RSA floor, the hook's Bearer check, PyJWT's and okta-jwt-verifier's.

Every token is RS256 with a 2048-bit key, as Okta signs. The issuer is an https:// URL, as
okta-jwt-verifier insists; its keys are served over loopback HTTP, and each verifier is pointed
at them: the hook and PyJWT through the keys URL, okta-jwt-verifier through its own request
executor hook, which fetches the same document from the loopback server in place of the https
host (it then keeps the document in its own cache, as it would in production).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from auth.bearer import REQUIRED_CLAIMS, BearerVerifier, Expectations
from auth.jwks import RemoteKeys
from bench.stats import Row, Spread, per_op_seconds, ratios
from core.errors import Unauthenticated
from tests.jwt_support import (
    AUDIENCE,
    CLIENT_ID,
    KID,
    SCOPE,
    KeyServer,
    key_server,
    mint,
    okta_claims,
    rsa_key,
)

HTTPS_ISSUER = "https://okta.bench.invalid/oauth2/default"
LEEWAY = 30
SECTION_FLOOR = "1 floor"
SECTION_BEARER = "2 bearer"


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def floor_op(token: str) -> Callable[[object], object]:
    """One RSA-2048 PKCS#1 v1.5 SHA-256 check of this token's signature, with `cryptography`."""
    public = rsa_key("okta").public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    signing_input, _, signature = token.rpartition(".")
    message, raw = signing_input.encode("ascii"), b64url_decode(signature)
    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
    public.verify(raw, message, pkcs1, sha256)  # raises when wrong: the op below is a real check
    return lambda _: public.verify(raw, message, pkcs1, sha256)


def okta_verifier(keys: KeyServer) -> Any:
    """okta-jwt-verifier's AccessTokenVerifier, its keys fetched from the loopback server."""
    from okta_jwt_verifier import AccessTokenVerifier
    from okta_jwt_verifier.request_executor import RequestExecutor

    class LoopbackExecutor(RequestExecutor):  # type: ignore[misc]
        def fire_request_sync(self, uri: str, **params: Any) -> Any:
            return super().fire_request_sync(uri.replace(HTTPS_ISSUER, keys.issuer), **params)

    return AccessTokenVerifier(
        issuer=HTTPS_ISSUER, audience=AUDIENCE, request_executor=LoopbackExecutor, leeway=LEEWAY
    )


@contextmanager
def verifiers() -> Iterator[tuple[KeyServer, BearerVerifier, Callable[[str], object], Any]]:
    logging.getLogger("okta_hook").disabled = True
    try:
        with key_server() as keys:
            ours = BearerVerifier(
                Expectations(HTTPS_ISSUER, AUDIENCE, (SCOPE,), (CLIENT_ID,), LEEWAY),
                RemoteKeys(HTTPS_ISSUER, keys.jwks_uri),
            )
            ours.load()
            public = rsa_key("okta").public_key()

            def plain_pyjwt(token: str) -> object:
                return jwt.decode(
                    token,
                    public,
                    algorithms=["RS256"],
                    audience=AUDIENCE,
                    issuer=HTTPS_ISSUER,
                    leeway=LEEWAY,
                    options={"require": list(REQUIRED_CLAIMS)},
                )

            yield keys, ours, plain_pyjwt, okta_verifier(keys)
    finally:
        logging.getLogger("okta_hook").disabled = False


def refused(ours: BearerVerifier) -> Callable[[str], object]:
    def attempt(forged: str) -> object:
        try:
            ours.verify(forged)
        except Unauthenticated:
            return None
        raise AssertionError("a forged token was accepted")

    return attempt


def token(jti: str) -> str:
    return mint(okta_claims(HTTPS_ISSUER, jti=jti), kid=KID)


def run(rounds: int, per_round: int) -> tuple[list[Row], list[float]]:
    """The rows of sections 1 and 2, and the floor of each round (for the other sections)."""
    fresh = [[token(f"AT.bench.{r}.{i}") for i in range(per_round)] for r in range(rounds)]
    seen = token("AT.bench.seen")
    forged = mint(okta_claims(HTTPS_ISSUER, jti="AT.bench.forged"), key_name="attacker", kid=KID)
    with verifiers() as (_, ours, plain_pyjwt, okta):
        floor = floor_op(seen)
        cases: dict[str, Callable[[int], float]] = {
            "floor": lambda r: per_op_seconds(floor, [None] * per_round),
            "first": lambda r: per_op_seconds(ours.verify, fresh[r]),
            "seen": lambda r: per_op_seconds(ours.verify, [seen] * per_round),
            "pyjwt": lambda r: per_op_seconds(plain_pyjwt, fresh[r]),
            "okta": lambda r: per_op_seconds(okta.verify_sync, fresh[r]),
            "forged": lambda r: per_op_seconds(refused(ours), [forged] * per_round),
        }
        # Every verifier must accept these tokens, or the timings would be of refusals.
        for check in (ours.verify, plain_pyjwt, okta.verify_sync):
            check(seen)
        cases["first"](0)  # warm-up round: its tokens are now cached, so it is not reported
        fresh[0] = [token(f"AT.bench.w.{i}") for i in range(per_round)]
        times: dict[str, list[float]] = {name: [] for name in cases}
        for r in range(rounds):
            for name, case in cases.items():
                times[name].append(case(r))
    floors = times["floor"]

    def row(name: str, case: str, target: str = "", limit: float | None = None) -> Row:
        micro = [t * 1e6 for t in times[name]]
        ratio = Spread.of(ratios(times[name], floors))
        met = None if limit is None else ratio.median <= limit
        return Row(SECTION_BEARER, case, "µs", Spread.of(micro), "floor", ratio, target, met)

    rows = [
        Row(SECTION_FLOOR, "RSA-2048 PKCS#1 v1.5 SHA-256 verify (cryptography)", "µs",
            Spread.of([t * 1e6 for t in floors]), "floor", Spread.of([1.0] * rounds)),
        row("first", "hook: first-seen token (distinct jti)", "<= 4x floor", 4.0),
        row("seen", "hook: seen-before token (the same token again)", "<= 0.3x floor", 0.3),
        row("pyjwt", "PyJWT jwt.decode, key cached (distinct tokens)"),
        row("okta", "okta-jwt-verifier verify_sync, JWKS cached (distinct tokens)"),
        row("forged", "hook: forged signature, right kid (refused, 401)"),
    ]  # fmt: skip
    return rows, floors
