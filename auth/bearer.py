"""OAuth 2.0 Bearer: Okta's access tokens (JWTs) checked as strictly as a resource server should."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, NoReturn

import jwt
from jwt.exceptions import PyJWTError

from auth import token_form
from auth.caller import Caller
from auth.keys import KeyNotFound, KeyProvider
from auth.loggable import shown
from hook.errors import Forbidden, Unauthenticated

CHALLENGE = 'Bearer realm="okta-registration-hook"'
INVALID_TOKEN = 'Bearer error="invalid_token"'
INVALID = (INVALID_TOKEN,)
MAX_TOKEN_CHARS = 8192
REQUIRED_CLAIMS = ["exp", "iss", "aud"]
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
_LOGGABLE = re.compile(r"[A-Za-z0-9._~:/+=-]{1,64}")


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

    def __init__(self, expect: Expectations, keys: KeyProvider) -> None:
        self._expect = expect
        self._keys = keys

    def __repr__(self) -> str:
        return f"BearerVerifier({self._expect.issuer!r}, {self._keys!r})"

    def load(self) -> None:
        """Fetch or parse the keys now (cold start); raises `Unavailable`."""
        self._keys.load()

    def verify(self, credentials: str) -> Caller:
        token = credentials.strip()
        kid, alg = self._read_header(token)
        try:
            key = self._keys.key_for(kid, alg)
        except KeyNotFound as e:
            _refuse(str(e), token)
        try:
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=[key.algorithm],
                audience=self._expect.audience,
                issuer=self._expect.issuer,
                leeway=self._expect.leeway_seconds,
                options={"require": REQUIRED_CLAIMS, "enforce_minimum_key_length": True},
            )
        except PyJWTError as e:
            _refuse(f"{type(e).__name__}: {str(e)[:200]}", token)
        return self._authorize(claims)

    def _read_header(self, token: str) -> tuple[str | None, str]:
        """Checks done before any key lookup or crypto; the header is read only for kid/alg/crit."""
        if not token:
            _refuse("no token")
        if len(token) > MAX_TOKEN_CHARS:
            _refuse(f"token over {MAX_TOKEN_CHARS} characters")
        segments = token.split(".")
        if len(segments) != 3 or not all(_SEGMENT.fullmatch(s) for s in segments):
            _refuse("not three base64url segments")
        try:
            # Only kid, alg and crit are read; jku, x5u, jwk and x5c are never followed.
            header = jwt.get_unverified_header(token)
        except PyJWTError as e:
            _refuse(f"unreadable header: {str(e)[:200]}")
        alg = header.get("alg")
        if not isinstance(alg, str) or alg.lower() == "none":
            _refuse("alg is missing or none", token)
        if alg not in self._keys.algorithms:
            _refuse(f"alg {shown(alg[:16])} is not accepted with these keys", token)
        if "crit" in header:
            # No extension is understood here, so any critical one rejects the token.
            _refuse("crit header names an extension this hook does not understand", token)
        form_problem = token_form.problem(token)
        if form_problem is not None:
            _refuse(form_problem, token)
        kid = header.get("kid")
        return (kid if isinstance(kid, str) else None), alg

    def _authorize(self, claims: dict[str, Any]) -> Caller:
        ids = _ids(claims)
        client = claims.get("cid", claims.get("client_id"))
        if client is not None and not isinstance(client, str):
            raise Unauthenticated(f"bearer: client id is not a string{ids}", challenges=INVALID)
        granted = _scopes(claims, ids)
        allowed = self._expect.client_ids
        if allowed is not None and client not in allowed:
            raise Forbidden(
                f"bearer: client is not in OKTA_HOOK_CLIENT_IDS{ids}",
                challenges=(self._expect.insufficient_scope,),
            )
        missing = [scope for scope in self._expect.scopes if scope not in granted]
        if missing:
            raise Forbidden(
                f"bearer: missing scope {' '.join(missing)[:200]}{ids}",
                challenges=(self._expect.insufficient_scope,),
            )
        details = {
            name: value[:128]
            for name, value in (("client_id", client), ("jti", claims.get("jti")))
            if isinstance(value, str)
        }
        return Caller(scheme="bearer", subject=client or "unknown", details=details)


def _scopes(claims: dict[str, Any], ids: str) -> frozenset[str]:
    """Okta's `scp` (a JSON array) or RFC 9068's `scope` (a space-separated string)."""
    if "scp" in claims:
        scp = claims["scp"]
        if not isinstance(scp, list) or not all(isinstance(s, str) for s in scp):
            raise Unauthenticated(f"bearer: scp is not a list of strings{ids}", challenges=INVALID)
        return frozenset(scp)
    scope = claims.get("scope", "")
    if not isinstance(scope, str):
        raise Unauthenticated(f"bearer: scope is not a string{ids}", challenges=INVALID)
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
        try:
            # Unverified, and used only to say in the log which token was refused.
            ids = _ids(jwt.decode(token, options={"verify_signature": False}), "unverified ")
        except PyJWTError:
            ids = ""
    raise Unauthenticated(f"bearer: {reason}{ids}", challenges=INVALID)
