"""A JWS compact token read strictly, its signature and registered claims checked as PyJWT does.

`jwt.decode` checks the alphabet of every segment one character at a time in Python, twice per
token with `get_unverified_header`: that loop cost more than the RSA check itself. Here a
segment's alphabet is checked once by a regular expression, decoding must be canonical, the
signature goes through PyJWT's own algorithm objects, and the claims get PyJWT's checks with its
error types and messages. Where this differs from PyJWT it is stricter: no `=` padding, and
`exp`, `nbf`, `iat` must be JSON numbers.
"""

from __future__ import annotations

import binascii
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jwt import PyJWK
from jwt.algorithms import Algorithm, get_default_algorithms
from jwt.exceptions import (
    DecodeError,
    ExpiredSignatureError,
    ImmatureSignatureError,
    InvalidAlgorithmError,
    InvalidAudienceError,
    InvalidIssuedAtError,
    InvalidIssuerError,
    InvalidJTIError,
    InvalidKeyError,
    InvalidSignatureError,
    InvalidSubjectError,
    InvalidTokenError,
    MissingRequiredClaimError,
)

from auth.keys import VerificationKey

SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_ALGORITHMS: dict[str, Algorithm] = get_default_algorithms()


@dataclass(frozen=True)
class Segments:
    """The three parts of a compact JWS whose alphabet has been checked."""

    header: str
    payload: str
    signature: str

    @property
    def signing_input(self) -> bytes:
        return f"{self.header}.{self.payload}".encode("ascii")


def split(token: str) -> Segments | None:
    """The three base64url segments (no padding), or None when the token is not of that form."""
    parts = token.split(".")
    if len(parts) != 3 or not all(SEGMENT.fullmatch(part) for part in parts):
        return None
    return Segments(*parts)


def decode_segment(segment: str, name: str) -> bytes:
    """The bytes of a segment from `split`, refused unless it is their one canonical encoding."""
    if len(segment) % 4 == 1:
        raise DecodeError(f"Invalid {name} padding")
    try:
        standard = segment.encode("ascii").translate(_TO_STANDARD) + b"=" * (-len(segment) % 4)
        data = binascii.a2b_base64(standard, strict_mode=True)
    except (binascii.Error, ValueError) as e:
        raise DecodeError(f"Invalid {name} padding") from e
    if binascii.b2a_base64(data, newline=False) != standard:
        # Unused low bits set: another string for the same bytes, as PyJWT refuses.
        raise DecodeError(f"Invalid {name} padding")
    return data


def json_object(data: bytes, name: str) -> dict[str, Any]:
    try:
        # UTF-8 only, where json.loads would also guess UTF-16 or UTF-32 from bytes.
        value = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as e:
        raise DecodeError(f"Invalid {name} string: {e}") from e
    if not isinstance(value, dict):
        raise DecodeError(f"Invalid {name} string: must be a json object")
    return value


def verify_signature(segments: Segments, alg: str, key: VerificationKey) -> None:
    """The signature over the first two segments, by `key` with its one algorithm."""
    if alg != key.algorithm:
        raise InvalidAlgorithmError("The specified alg value is not allowed")
    if isinstance(key.key, PyJWK):
        if alg != key.key.algorithm_name:
            raise InvalidAlgorithmError(f"Token algorithm {alg!r} does not match the key's")
        algorithm: Algorithm = key.key.Algorithm
        prepared = algorithm.prepare_key(key.key.key)
    else:
        algorithm = _ALGORITHMS[alg]
        prepared = algorithm.prepare_key(key.key)
    weakness = algorithm.check_key_length(prepared)
    if weakness:
        raise InvalidKeyError(weakness)
    signature = decode_segment(segments.signature, "crypto")
    if not algorithm.verify(segments.signing_input, prepared, signature):
        raise InvalidSignatureError("Signature verification failed")


@dataclass(frozen=True)
class ClaimRules:
    """What `jwt.decode(..., audience=, issuer=, leeway=, options={"require": ...})` checks."""

    issuer: str
    audience: str
    leeway_seconds: float
    required: tuple[str, ...] = ("exp", "iss", "aud")


def check_claims(
    claims: dict[str, Any], rules: ClaimRules, clock: Callable[[], float] = time.time
) -> None:
    """PyJWT's claim checks, in its order, with its exception types."""
    for name in rules.required:
        if claims.get(name) is None:
            raise MissingRequiredClaimError(name)
    now = clock()
    leeway = rules.leeway_seconds
    if "iat" in claims:
        iat = _time(claims["iat"], InvalidIssuedAtError, "Issued At claim (iat)")
        if iat > now + leeway:
            raise ImmatureSignatureError("The token is not yet valid (iat)")
    if "nbf" in claims:
        nbf = _time(claims["nbf"], DecodeError, "Not Before claim (nbf)")
        if nbf > now + leeway:
            raise ImmatureSignatureError("The token is not yet valid (nbf)")
    if "exp" in claims:
        exp = _time(claims["exp"], DecodeError, "Expiration Time claim (exp)")
        if exp <= now - leeway:
            raise ExpiredSignatureError("Signature has expired")
    _check_issuer(claims, rules.issuer)
    _check_audience(claims, rules.audience)
    if "sub" in claims and not isinstance(claims["sub"], str):
        raise InvalidSubjectError("Subject must be a string")
    if "jti" in claims and not isinstance(claims["jti"], str):
        raise InvalidJTIError("JWT ID must be a string")


def time_claim(claims: dict[str, Any], name: str) -> int | None:
    """A checked `exp`, `nbf` or `iat` as PyJWT compares it (whole seconds), None when absent."""
    if name not in claims:
        return None
    return _time(claims[name], DecodeError, name)


def _time(value: Any, error: type[InvalidTokenError], claim: str) -> int:
    # PyJWT takes int(value), which also accepts "123" or true; a JSON number is required here.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise error(f"{claim} must be an integer.")
    try:
        return int(value)
    except (ValueError, OverflowError):
        raise error(f"{claim} must be an integer.") from None


def _check_issuer(claims: dict[str, Any], issuer: str) -> None:
    if "iss" not in claims:
        raise MissingRequiredClaimError("iss")
    if not isinstance(claims["iss"], str):
        raise InvalidIssuerError("Payload Issuer (iss) must be a string")
    if claims["iss"] != issuer:
        raise InvalidIssuerError("Invalid issuer")


def _check_audience(claims: dict[str, Any], audience: str) -> None:
    if not claims.get("aud"):
        raise MissingRequiredClaimError("aud")
    found = claims["aud"]
    if isinstance(found, str):
        found = [found]
    if not isinstance(found, list) or not all(isinstance(item, str) for item in found):
        raise InvalidAudienceError("Invalid claim format in token")
    if audience not in found:
        raise InvalidAudienceError("Audience doesn't match")
