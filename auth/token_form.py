"""A token's form, read strictly before any key lookup or crypto: three canonical base64url
segments, and a header and claims that are JSON objects reading one way only.

PyJWT verifies the signature and the registered claims afterwards (`auth/bearer.py`); what is
read here is what it lacks. A repeated member could mean one thing to whoever signed the token
and another here (Python keeps the last, the issuer's library may keep the first); `exp`, `nbf`
and `iat` must be JSON numbers (PyJWT takes int() of "9999999999" or true); a segment has one
spelling only (PyJWT accepts "=" padding and set unused bits); `cty` (a nested token) and a `b64`
other than true are refused.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass
from typing import Any

from core import strict_json

NUMERIC_DATES = ("exp", "nbf", "iat")
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


class TokenFormError(Exception):
    """The token is refused for its form; the message is safe to log."""


@dataclass(frozen=True)
class Segments:
    """The three parts of a compact JWS whose alphabet has been checked."""

    header: str
    payload: str
    signature: str


def split(token: str) -> Segments | None:
    """The three base64url segments (no padding), or None when the token is not of that form."""
    parts = token.split(".")
    if len(parts) != 3 or not all(_SEGMENT.fullmatch(part) for part in parts):
        return None
    return Segments(*parts)


def decode_segment(segment: str, part: str) -> bytes:
    """The bytes of a segment from `split`, refused unless it is their one canonical encoding."""
    if len(segment) % 4 == 1:
        raise TokenFormError(f"{part} is not canonical base64url")
    standard = segment.encode("ascii").translate(_TO_STANDARD) + b"=" * (-len(segment) % 4)
    try:
        data = binascii.a2b_base64(standard, strict_mode=True)
    except (binascii.Error, ValueError):
        raise TokenFormError(f"{part} is not canonical base64url") from None
    if binascii.b2a_base64(data, newline=False) != standard:
        # Unused low bits set: another string for the same bytes.
        raise TokenFormError(f"{part} is not canonical base64url")
    return data


def header_of(segments: Segments) -> dict[str, Any]:
    """The header, read strictly, with the members this hook never accepts refused."""
    header = _object(segments.header, "header")
    if "cty" in header:
        # RFC 8725 §2.8: a nested token is never what this hook is sent.
        raise TokenFormError("cty header: nested or typed content is not accepted")
    if header.get("b64", True) is not True:
        # RFC 7797 unencoded payloads: the claims would be read differently from what was signed.
        raise TokenFormError("b64 header other than true")
    return header


def claims_of(segments: Segments) -> dict[str, Any]:
    """The claims, read strictly and with numeric dates."""
    claims = _object(segments.payload, "claims")
    for name in NUMERIC_DATES:
        value = claims.get(name)
        if name in claims and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise TokenFormError(f"{name} is not a number")
    return claims


def unverified_claims(token: str) -> dict[str, Any] | None:
    """The claims of a refused token, for naming it in the log only; None when unreadable."""
    segments = split(token)
    try:
        return _object(segments.payload, "claims") if segments is not None else None
    except TokenFormError:
        return None


def _object(segment: str, part: str) -> dict[str, Any]:
    try:
        document = strict_json.loads(decode_segment(segment, part))
    except strict_json.StrictJsonError as e:
        reason = f"{part} is not base64url of JSON" if e.syntax else f"{part} {e.public}"
        raise TokenFormError(reason) from None
    if not isinstance(document, dict):
        raise TokenFormError(f"{part} is not a JSON object")
    return document
