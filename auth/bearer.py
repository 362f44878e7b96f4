"""OAuth 2.0 Bearer: Okta's access tokens (JWTs) checked as strictly as a resource server should."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from jwt.exceptions import PyJWTError

from auth import signed_token, token_form
from auth.caller import Caller
from auth.keys import KeyNotFound, KeyProvider
from auth.signed_token import ClaimRules, Segments
from auth.token_cache import DEFAULT_CAPACITY, TokenCache, Verified
from core.errors import Forbidden, Unauthenticated
from core.loggable import shown

CHALLENGE = 'Bearer realm="okta-registration-hook"'
INVALID_TOKEN = 'Bearer error="invalid_token"'
INVALID = (INVALID_TOKEN,)
MAX_TOKEN_CHARS = 8192
REQUIRED_CLAIMS = ("exp", "iss", "aud")
_LOGGABLE = re.compile(r"[A-Za-z0-9._~:/+=-]{1,64}")  # no "@": never an address


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
        self,
        expect: Expectations,
        keys: KeyProvider,
        *,
        cache_capacity: int = DEFAULT_CAPACITY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`clock` is the wall clock the claims and the cache are judged by (tests move it)."""
        self._expect = expect
        self._keys = keys
        self._rules = ClaimRules(
            expect.issuer, expect.audience, expect.leeway_seconds, REQUIRED_CLAIMS
        )
        self._clock = clock
        self._cache = TokenCache(cache_capacity, clock)

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
        segments, kid, alg, claims = self._read_header(token)
        try:
            key = self._keys.key_for(kid, alg)
        except KeyNotFound as e:
            _refuse(str(e), token)
        try:
            signed_token.verify_signature(segments, alg, key)
            # The claims were read strictly before any crypto; the signature covers their bytes.
            signed_token.check_claims(claims, self._rules, self._clock)
        except PyJWTError as e:
            _refuse(f"{type(e).__name__}: {str(e)[:200]}", token)
        caller = self._authorize(claims)
        self._remember(token, claims, caller, kid, alg, key.key)
        return caller

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
        """Cache a token that passed every check, for as long as the full check would pass it."""
        expires = signed_token.time_claim(claims, "exp")
        starts = [signed_token.time_claim(claims, name) for name in ("nbf", "iat")]
        known = [start for start in starts if start is not None]
        not_before = max(known) - self._expect.leeway_seconds if known else -math.inf
        if expires is not None:
            self._cache.put(token, Verified(caller, kid, alg, key, not_before, expires))

    def _read_header(self, token: str) -> tuple[Segments, str | None, str, dict[str, Any]]:
        """Checks before any key lookup or crypto: the form, the header (kid, alg, crit), the claims
        read strictly (no repeated member, numeric dates)."""
        if not token:
            _refuse("no token")
        if len(token) > MAX_TOKEN_CHARS:
            _refuse(f"token over {MAX_TOKEN_CHARS} characters")
        segments = signed_token.split(token)
        if segments is None:
            _refuse("not three base64url segments")
        try:
            # Only kid, alg, crit, cty and b64 are read; jku, x5u, jwk and x5c are never followed.
            header = token_form.header_of(segments)
        except token_form.TokenFormError as e:
            _refuse(f"unreadable header: {e}", token)
        if "kid" in header and not isinstance(header["kid"], str):
            _refuse("unreadable header: Key ID header parameter must be a string")
        alg = header.get("alg")
        if not isinstance(alg, str) or alg.lower() == "none":
            _refuse("alg is missing or none", token)
        if alg not in self._keys.algorithms:
            _refuse(f"alg {shown(alg[:16])} is not accepted with these keys", token)
        if "crit" in header:
            # No extension is understood here, so any critical one rejects the token.
            _refuse("crit header names an extension this hook does not understand", token)
        try:
            form_problem = token_form.header_problem(header)
            if form_problem is not None:
                _refuse(form_problem, token)
            claims = token_form.claims_of(segments)
        except token_form.TokenFormError as e:
            _refuse(str(e), token)
        kid = header.get("kid")
        return segments, kid, alg, claims

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
        details = {
            name: value[:128]
            for name, value in (("client_id", client), ("jti", claims.get("jti")))
            if isinstance(value, str)
        }
        return Caller(scheme="bearer", subject=client or "unknown", details=details)


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
        if isinstance(value, str) and _LOGGABLE.fullmatch(value):
            parts.append(f"{label}={value}")
    return f" ({qualifier}{', '.join(parts)})" if parts else ""


def _refuse(reason: str, token: str | None = None) -> NoReturn:
    """401 invalid_token; the log names the token by its jti and client id, never by itself."""
    ids = ""
    if token is not None:
        segments = signed_token.split(token)
        try:
            # Unverified, and used only to say in the log which token was refused.
            if segments is not None:
                payload = signed_token.decode_segment(segments.payload, "payload")
                ids = _ids(signed_token.json_object(payload, "payload"), "unverified ")
        except PyJWTError:
            ids = ""
    raise Unauthenticated(f"bearer: {reason}{ids}", challenges=INVALID)
