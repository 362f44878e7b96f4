"""From request body bytes to a typed `HookRequest`, or a `BadRequest` that says what is wrong."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core import strict_json
from core.errors import BadRequest
from okta_wire.models import HookRequest, RequestType

# The longest text form of an address (an IPv6 address with an IPv4 tail) is 45 characters.


def _loads(body: bytes) -> Any:
    try:
        return strict_json.loads(body)
    except strict_json.StrictJsonError as e:
        # "The body is not valid JSON (...)"; "The JSON body repeats a key."
        subject = "The body" if e.syntax else "The JSON body"
        reason = "body not UTF-8" if e.reason == "not UTF-8" else e.reason
        raise BadRequest(reason, public_message=f"{subject} {e.public}.") from None


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
    # Both request types carry the caller's address in the same place.
    context = _object_at(data, "context", "data.context") or {}
    call = _object_at(context, "request", "data.context.request") or {}
    ip_text = call.get("ipAddress")

    if request_type is RequestType.REGISTRATION:
        # A missing profile is read as empty: every required field then gets its own cause.
        submitted = _attributes(
            _object_at(data, "userProfile", "data.userProfile"), "data.userProfile"
        )
        return HookRequest(
            request_type,
            event_id,
            submitted,
            accept_language=accept_language,
            ip_text=ip_text,
        )

    path = "data.userProfileUpdate"
    submitted = _attributes(_object_at(data, "userProfileUpdate", path), path)
    user = _object_at(context, "user", "data.context.user") or {}
    current = _object_at(user, "profile", "data.context.user.profile") or {}
    return HookRequest(request_type, event_id, submitted, current, accept_language, ip_text)
