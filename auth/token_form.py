"""A token's header and claims as JSON: one reading only, checked before any key lookup or crypto.

PyJWT parses with Python's json module, where a repeated member silently keeps its last value.
The issuer's library may keep the first, so a token with a repeated member could mean one thing
to whoever signed it and another here: such a token is refused, as are numbers that parse to
infinity and dates that are not numbers (`"exp": "9999999999"` would otherwise pass `int()`).
"""

from __future__ import annotations

import binascii
import json
import math
from typing import Any

from jwt.utils import base64url_decode

NUMERIC_DATES = ("exp", "nbf", "iat")
MAX_NUMBER_CHARS = 100


class _Refused(Exception):
    pass


def problem(token: str) -> str | None:
    """Why the token's JSON is refused (a reason safe to log), or None. `token` has three
    base64url segments."""
    header_segment, claims_segment, _ = token.split(".")
    try:
        header = _object(header_segment, "header")
        claims = _object(claims_segment, "claims")
    except _Refused as e:
        return str(e)
    if "cty" in header:
        # RFC 8725 §2.8: a nested token is never what this hook is sent.
        return "cty header: nested or typed content is not accepted"
    if header.get("b64", True) is not True:
        # RFC 7797 unencoded payloads: the claims would be read differently from what was signed.
        return "b64 header other than true"
    for name in NUMERIC_DATES:
        value = claims.get(name)
        if name in claims and (isinstance(value, bool) or not isinstance(value, int | float)):
            return f"{name} is not a number"
    return None


def _object(segment: str, part: str) -> dict[str, Any]:
    try:
        text = base64url_decode(segment).decode("utf-8")
        document = json.loads(
            text,
            object_pairs_hook=lambda pairs: _unique(pairs, part),
            parse_constant=lambda name: _refuse(f"{part} holds {name}"),
            parse_float=lambda text: _finite(text, part),
            parse_int=lambda text: _int(text, part),
        )
    except (binascii.Error, UnicodeDecodeError, ValueError, RecursionError):
        raise _Refused(f"{part} is not base64url of JSON") from None
    if not isinstance(document, dict):
        raise _Refused(f"{part} is not a JSON object")
    return document


def _unique(pairs: list[tuple[str, Any]], part: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise _Refused(f"{part} repeats the member {name[:32]!r}")
        result[name] = value
    return result


def _finite(text: str, part: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"{part} holds a number out of range")
    return value


def _int(text: str, part: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(f"{part} holds a number out of range")
    return int(text)


def _refuse(reason: str) -> Any:
    raise _Refused(reason)
