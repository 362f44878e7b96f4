"""The one strict JSON reader: text that reads one way only, or `StrictJsonError` saying why.

Python's json keeps the last of a repeated member while another parser may keep the first, so a
document with a repeated member could mean one thing to its sender and another here: refused.
So are NaN and Infinity, a number out of the double range (1e400 would become infinity), a number
of over 100 characters, and a \\u escape that is not a character (a lone surrogate, which cannot be
written back as UTF-8). Bytes must be UTF-8: json.loads would also guess UTF-16 or UTF-32.
A number with a fraction or an exponent is read as the nearest double; when that double is whole
but the text is not exactly it (17.99999999999999999 is read as 18.0, 1e300 as a double that is
not 10**300), it is an `InexactNumber`, so that no rule takes it for the integer it is not.
A document nested over MAX_DEPTH levels is refused whatever the Python version: how deep the
C parser goes before it gives up changed between 3.11 and 3.12, and nothing we read nests past 10.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any

MAX_NUMBER_CHARS = 100
MAX_DEPTH = 32
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class InexactNumber(float):
    """A whole double read from text whose exact value it is not: a number, never an integer."""

    __slots__ = ()


class StrictJsonError(ValueError):
    """The text is refused; `public` (a predicate: "repeats a key") is safe to show the sender
    and to log. `syntax` is set when the text is not JSON at all, rather than JSON refused."""

    def __init__(self, reason: str, public: str, *, syntax: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason  # a short name of the refusal, for the log
        self.public = public
        self.syntax = syntax


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise StrictJsonError("duplicate key", "repeats a key")
    return result


def _constant(name: str) -> Any:
    raise StrictJsonError("non-standard constant", f"contains {name}")


def _int(text: str) -> int:
    # Python itself refuses to convert over 4300 digits; no value of ours comes near this bound.
    if len(text) > MAX_NUMBER_CHARS:
        raise StrictJsonError("number too long", "has a number too long")
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise StrictJsonError("number too long", "has a number too long")
    value = float(text)
    if not math.isfinite(value):
        raise StrictJsonError("number out of range", "has a number out of range")
    # Only a whole double could be taken for an integer: the exact comparison is made for those.
    if value.is_integer() and Decimal(text) != Decimal(value):
        return InexactNumber(value)
    return value


# Built once: json.loads with hooks would build a decoder on every call.
_DECODER = json.JSONDecoder(
    object_pairs_hook=_unique, parse_constant=_constant, parse_float=_float, parse_int=_int
)


def loads(data: bytes | str) -> Any:
    """The document in `data`, read strictly."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise StrictJsonError("not UTF-8", "is not UTF-8 text", syntax=True) from None
    try:
        document = _DECODER.decode(text)
    except json.JSONDecodeError as e:
        where = f"line {e.lineno}, column {e.colno}"
        raise StrictJsonError(
            "malformed JSON", f"is not valid JSON ({where})", syntax=True
        ) from None
    except RecursionError:
        raise StrictJsonError("JSON too deep", "is nested too deeply") from None
    # Fewer arrays and objects than the bound cannot nest past it: the walk is skipped.
    if text.count("{") + text.count("[") > MAX_DEPTH and _nests_past(document, MAX_DEPTH):
        raise StrictJsonError("JSON too deep", "is nested too deeply")
    if _SURROGATE_ESCAPE.search(text):
        # Only a \uD800-\uDFFF escape can make one: the walk is skipped for every other document.
        _refuse_lone_surrogates(document)
    return document


def _nests_past(document: Any, limit: int) -> bool:
    """Whether arrays and objects in the document go more than `limit` deep, without recursion."""
    pending = [(document, 1)]
    while pending:
        value, level = pending.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            if level > limit:
                return True
            pending.extend((member, level + 1) for member in value)
    return False


def _refuse_lone_surrogates(document: Any) -> None:
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str) and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise StrictJsonError(
                    "unpaired surrogate", "has a \\u escape that is not a character"
                ) from None
