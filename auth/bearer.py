"""OAuth 2.0 Bearer: Okta's access tokens (JWTs) checked as strictly as a resource server should.

The token's form is read strictly first (`auth/token_form.py`); the signature and the registered
claims are PyJWT's (`jwt.decode` with the key's one algorithm, the issuer, the audience, the
leeway and the required claims); the scopes and the client are checked here; a token that passed
everything is remembered (`auth/token_cache.py`), since Okta sends the same one until it expires.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NoReturn

import jwt
from jwt.exceptions import PyJWTError

from auth import token_form
from auth.caller import Caller
from auth.keys import KeyNotFound, KeyProvider, VerificationKey
from auth.token_cache import DEFAULT_CAPACITY, TokenCache, Verified
from core import loggable
from core.errors import Forbidden, Unauthenticated
from core.loggable import shown

CHALLENGE = 'Bearer realm="okta-registration-hook"'
INVALID_TOKEN = 'Bearer error="invalid_token"'  # noqa: S105  a challenge header, no secret
INVALID = (INVALID_TOKEN,)
MAX_TOKEN_CHARS = 8192
REQUIRED_CLAIMS = ["exp", "iss", "aud"]
# A key too short for its algorithm is an error, never a warning.
_DECODE_OPTIONS: Any = {"require": REQUIRED_CLAIMS, "enforce_minimum_key_length": True}


@dataclass(frozen=True)
class Expectations:
    """What every accepted token must say, fixed at cold start."""

    issuer: str
    audience: str
    scopes: tuple[str, ...]
    client_ids: tuple[str, ...] | None
    leeway_seconds: int

    @property
    def insufficient_scope(self) -> str:
        return f'Bearer error="insufficient_scope", scope="{" ".join(self.scopes)}"'


class BearerVerifier:
    scheme = "Bearer"
    challenge = CHALLENGE

    def __init__(
        self, expect: Expectations, keys: KeyProvider, *, cache_capacity: int = DEFAULT_CAPACITY
    ) -> None:
        self._expect = expect
        self._keys = keys
        self._cache = TokenCache(cache_capacity)

    def __repr__(self) -> str:
        return f"BearerVerifier({self._expect.issuer!r}, {self._keys!r})"

    def load(self) -> None:
        """Fetch or parse the keys now (cold start); raises `Unavailable`."""
        self._keys.load()

    def verify(self, credentials: str) -> Caller:
        token = credentials.strip()
        if len(token) <= MAX_TOKEN_CHARS:
            seen = self._cache.get(token)
            if seen is not None and self._still_signed_by(seen):
                return seen.caller
        kid, alg, claims = self._read(token)
        try:
            key = self._keys.key_for(kid, alg)
        except KeyNotFound as e:
            _refuse(str(e), token)
        verified = self._decode(token, key, claims)
        caller = self._authorize(verified)
        self._remember(token, verified, caller, kid, alg, key.key)
        return caller

    def _decode(self, token: str, key: VerificationKey, claims: dict[str, Any]) -> dict[str, Any]:
        """PyJWT's signature and claim checks, with the key's one algorithm."""
        try:
            verified: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm],
                audience=self._expect.audience,
                issuer=self._expect.issuer,
                leeway=self._expect.leeway_seconds,
                options=_DECODE_OPTIONS,
            )
        except PyJWTError as e:
            _refuse(f"{type(e).__name__}: {str(e)[:200]}", token)
        if verified != claims:  # pragma: no cover - the strict reading read the same bytes
            _refuse("the claims read two ways", token)
        return verified

    def _still_signed_by(self, seen: Verified) -> bool:
        """The key that verified a cached token is still the provider's key for it."""
        try:
            return self._keys.key_for(seen.kid, seen.alg).key is seen.key
        except KeyNotFound:
            return False

    def _remember(
        self,
        token: str,
        claims: dict[str, Any],
        caller: Caller,
        kid: str | None,
        alg: str,
        key: object,
    ) -> None:
        """Cache a token that passed every check, for as long as the full check would pass it:
        from `nbf`/`iat` less the leeway until its `exp` (PyJWT compares whole seconds)."""
        starts = [int(claims[name]) for name in ("nbf", "iat") if name in claims]
        not_before = max(starts) - self._expect.leeway_seconds if starts else -math.inf
        expires = int(claims["exp"])
        self._cache.put(token, Verified(caller, kid, alg, key, not_before, expires))

    def _read(self, token: str) -> tuple[str | None, str, dict[str, Any]]:
        """Checks before any key lookup or crypto: the size, the form, the header (kid, alg,
        crit), the claims read strictly."""
        if not token:
            _refuse("no token")
        if len(token) > MAX_TOKEN_CHARS:
            _refuse(f"token over {MAX_TOKEN_CHARS} characters")
        segments = token_form.split(token)
        if segments is None:
            _refuse("not three base64url segments")
        try:
            # Only kid, alg and crit are used; jku, x5u, jwk and x5c are never followed.
            header = token_form.header_of(segments)
        except token_form.TokenFormError as e:
            _refuse(f"unreadable header: {e}", token)
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            _refuse("unreadable header: Key ID header parameter must be a string")
        alg = header.get("alg")
        if not isinstance(alg, str) or alg.lower() == "none":
            _refuse("alg is missing or none", token)
        if alg not in self._keys.algorithms:
            _refuse(f"alg {shown(alg)} is not accepted with these keys", token)
        if "crit" in header:
            # No extension is understood here, so any critical one rejects the token.
            _refuse("crit header names an extension this hook does not understand", token)
        try:
            claims = token_form.claims_of(segments)
        except token_form.TokenFormError as e:
            _refuse(str(e), token)
        return kid, alg, claims

    def _authorize(self, claims: dict[str, Any]) -> Caller:
        client = claims.get("cid", claims.get("client_id"))
        if client is not None and not isinstance(client, str):
            raise Unauthenticated(
                f"bearer: client id is not a string{_ids(claims)}", challenges=INVALID
            )
        granted = _scopes(claims)
        allowed = self._expect.client_ids
        if allowed is not None and client not in allowed:
            raise Forbidden(
                f"bearer: client is not in OKTA_HOOK_CLIENT_IDS{_ids(claims)}",
                challenges=(self._expect.insufficient_scope,),
            )
        missing = [scope for scope in self._expect.scopes if scope not in granted]
        if missing:
            raise Forbidden(
                f"bearer: missing scope {' '.join(missing)[:200]}{_ids(claims)}",
                challenges=(self._expect.insufficient_scope,),
            )
        # Logged only in a plain shape, like every value that comes with a request.
        details = {
            name: loggable.field(value)
            for name, value in (("client_id", client), ("jti", claims.get("jti")))
            if isinstance(value, str)
        }
        return Caller(scheme="bearer", subject=details.get("client_id", "unknown"), details=details)


def _scopes(claims: dict[str, Any]) -> frozenset[str]:
    """Okta's `scp` (a JSON array) or RFC 9068's `scope` (a space-separated string)."""
    if "scp" in claims:
        scp = claims["scp"]
        if not isinstance(scp, list) or not all(isinstance(s, str) for s in scp):
            raise Unauthenticated(
                f"bearer: scp is not a list of strings{_ids(claims)}", challenges=INVALID
            )
        return frozenset(scp)
    scope = claims.get("scope", "")
    if not isinstance(scope, str):
        raise Unauthenticated(f"bearer: scope is not a string{_ids(claims)}", challenges=INVALID)
    return frozenset(scope.split())


def _ids(claims: dict[str, Any], qualifier: str = "") -> str:
    """` (jti=..., client_id=...)` for the log, with values that are safe to print."""
    parts = []
    for label, value in (
        ("jti", claims.get("jti")),
        ("client_id", claims.get("cid", claims.get("client_id"))),
    ):
        if loggable.plain(value) is not None:
            parts.append(f"{label}={value}")
    return f" ({qualifier}{', '.join(parts)})" if parts else ""


def _refuse(reason: str, token: str | None = None) -> NoReturn:
    """401 invalid_token; the log names the token by its jti and client id, never by itself."""
    # Unverified, and used only to say in the log which token was refused.
    claims = token_form.unverified_claims(token) if token is not None else None
    ids = _ids(claims, "unverified ") if claims is not None else ""
    raise Unauthenticated(f"bearer: {reason}{ids}", challenges=INVALID)
