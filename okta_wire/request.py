"""From request body bytes to a typed `HookRequest`, or a `BadRequest` that says what is wrong."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from core.errors import BadRequest
from okta_wire.models import HookRequest, RequestType


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        # Two values for one key could be read differently by two parsers: refuse both.
        raise BadRequest("duplicate key", public_message="The JSON body repeats a key.")
    return result


def _no_constants(name: str) -> Any:
    raise BadRequest("non-standard constant", public_message=f"The JSON body contains {name}.")


MAX_NUMBER_CHARS = 100


def _bounded_int(text: str) -> int:
    # Python refuses to convert over 4300 digits with a ValueError of its own; no Okta value
    # comes near this bound.
    if len(text) > MAX_NUMBER_CHARS:
        raise BadRequest("number too long", public_message="The JSON body has a number too long.")
    return int(text)


def _finite_float(text: str) -> float:
    # 1e400 would parse to infinity, which JSON cannot carry back: refused like NaN.
    if len(text) > MAX_NUMBER_CHARS:
        raise BadRequest("number too long", public_message="The JSON body has a number too long.")
    value = float(text)
    if not math.isfinite(value):
        raise BadRequest(
            "number out of range", public_message="The JSON body has a number out of range."
        )
    return value


def _refuse_lone_surrogates(document: Any) -> None:
    """A `\\ud800` escape parses into text that cannot be written back as UTF-8: refused here,
    rather than fail when the answer or the log line is written."""
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
                raise BadRequest(
                    "unpaired surrogate",
                    public_message="The JSON body has a \\u escape that is not a character.",
                ) from None


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")

# Built once: json.loads with hooks would build a decoder for every request.
_DECODER = json.JSONDecoder(
    object_pairs_hook=_no_duplicates,
    parse_constant=_no_constants,
    parse_float=_finite_float,
    parse_int=_bounded_int,
)


def _loads(body: bytes) -> Any:
    try:
        # Okta sends UTF-8; json.loads would also guess UTF-16 or UTF-32 from bytes.
        text = body.decode("utf-8")
        document = _DECODER.decode(text)
    except UnicodeDecodeError:
        raise BadRequest("body not UTF-8", public_message="The body is not UTF-8 text.") from None
    except json.JSONDecodeError as e:
        raise BadRequest(
            "malformed JSON",
            public_message=f"The body is not valid JSON (line {e.lineno}, column {e.colno}).",
        ) from None
    except RecursionError:
        raise BadRequest(
            "JSON too deep", public_message="The JSON body is nested too deeply."
        ) from None
    if _SURROGATE_ESCAPE.search(text):
        # Only a \uD800-\uDFFF escape can make one: the walk is skipped for every other body.
        _refuse_lone_surrogates(document)
    return document


def _object_at(parent: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any] | None:
    """The object at `key`; None when missing or null; `BadRequest` for any other type."""
    value = parent.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadRequest("wrong type", public_message=f"{path} must be a JSON object.")
    return value


def _attributes(values: Mapping[str, Any] | None, path: str) -> Mapping[str, Any]:
    """A profile object whose every key can name an attribute (and so an error's location)."""
    for key in values or {}:
        if not key.strip():
            raise BadRequest("blank attribute name", public_message=f"{path} has a blank key.")
    return values or {}


def parse_hook_request(body: bytes, accept_language: str | None = None) -> HookRequest:
    document = _loads(body)
    if not isinstance(document, dict):
        raise BadRequest("not an object", public_message="The body must be a JSON object.")
    if "requestType" not in document:
        raise BadRequest("no requestType", public_message="The body has no requestType.")
    raw_type = document["requestType"]
    try:
        request_type = RequestType(raw_type) if isinstance(raw_type, str) else None
    except ValueError:
        request_type = None
    if request_type is None:
        raise BadRequest(
            "unknown requestType",
            public_message=(
                "requestType must be 'self.service.registration' or 'progressive.profile'."
            ),
        )
    data = _object_at(document, "data", "data")
    if data is None:
        raise BadRequest("no data", public_message="The body has no data object.")
    event_id = document.get("eventId")
    event_id = event_id[:128] if isinstance(event_id, str) else None

    if request_type is RequestType.REGISTRATION:
        # A missing profile is read as empty: every required field then gets its own cause.
        submitted = _attributes(
            _object_at(data, "userProfile", "data.userProfile"), "data.userProfile"
        )
        return HookRequest(request_type, event_id, submitted, accept_language=accept_language)

    path = "data.userProfileUpdate"
    submitted = _attributes(_object_at(data, "userProfileUpdate", path), path)
    context = _object_at(data, "context", "data.context") or {}
    user = _object_at(context, "user", "data.context.user") or {}
    current = _object_at(user, "profile", "data.context.user.profile") or {}
    return HookRequest(request_type, event_id, submitted, current, accept_language)
