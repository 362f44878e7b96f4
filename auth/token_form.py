"""A token's header and claims as JSON: one strict reading, checked before any key lookup or crypto.

Python's json module keeps the last of a repeated member; the issuer's library may keep the
first, so a token with a repeated member could mean one thing to whoever signed it and another
here: such a token is refused, as are numbers that parse to infinity and dates that are not
numbers (`"exp": "9999999999"` would otherwise pass `int()`). The claims read here are the ones
checked once the signature over the same bytes has been verified.
"""

from __future__ import annotations

import json
import math
from typing import Any

from jwt.exceptions import PyJWTError

from auth.signed_token import Segments, decode_segment
from core.loggable import shown

NUMERIC_DATES = ("exp", "nbf", "iat")
MAX_NUMBER_CHARS = 100


class TokenFormError(Exception):
    """The token's JSON is refused; the message is safe to log."""


def header_of(segments: Segments) -> dict[str, Any]:
    """The header, read strictly, else `TokenFormError`."""
    return _object(segments.header, "header")


def header_problem(header: dict[str, Any]) -> str | None:
    """Why a header this hook never accepts is refused, or None."""
    if "cty" in header:
        # RFC 8725 §2.8: a nested token is never what this hook is sent.
        return "cty header: nested or typed content is not accepted"
    if header.get("b64", True) is not True:
        # RFC 7797 unencoded payloads: the claims would be read differently from what was signed.
        return "b64 header other than true"
    return None


def claims_of(segments: Segments) -> dict[str, Any]:
    """The claims, read strictly and with numeric dates, else `TokenFormError`."""
    claims = _object(segments.payload, "claims")
    for name in NUMERIC_DATES:
        value = claims.get(name)
        if name in claims and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise TokenFormError(f"{name} is not a number")
    return claims


def _object(segment: str, part: str) -> dict[str, Any]:
    try:
        text = decode_segment(segment, part).decode("utf-8")
        document = _DECODERS[part].decode(text)
    except (PyJWTError, UnicodeDecodeError, ValueError, RecursionError):
        raise TokenFormError(f"{part} is not base64url of JSON") from None
    if not isinstance(document, dict):
        raise TokenFormError(f"{part} is not a JSON object")
    return document


def _decoder(part: str) -> json.JSONDecoder:
    # Built once per part: json.loads with hooks would build a decoder on every call.
    return json.JSONDecoder(
        object_pairs_hook=lambda pairs: _unique(pairs, part),
        parse_constant=lambda name: _refuse(f"{part} holds {name}"),
        parse_float=lambda text: _finite(text, part),
        parse_int=lambda text: _int(text, part),
    )


def _unique(pairs: list[tuple[str, Any]], part: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise TokenFormError(f"{part} repeats the member {shown(name)}")
        result[name] = value
    return result


def _finite(text: str, part: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise TokenFormError(f"{part} holds a number out of range")
    return value


def _int(text: str, part: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise TokenFormError(f"{part} holds a number out of range")
    return int(text)


def _refuse(reason: str) -> Any:
    raise TokenFormError(reason)


_DECODERS = {part: _decoder(part) for part in ("header", "claims")}
