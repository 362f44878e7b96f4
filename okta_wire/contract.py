"""Okta's registration hook response contract, checked on every answer before it is sent."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, NoReturn

from core.errors import ContractViolation
from okta_wire import debug_context
from okta_wire.models import RequestType
from okta_wire.names import ATTRIBUTE, REASON
from okta_wire.response import ACTION, PROFILE_UPDATE, PROGRESSIVE_UPDATE

# Okta reads at most 256 KB of a response; stay clear of it whichever KB (1000 or 1024) is meant.
MAX_RESPONSE_BYTES = 240 * 1024
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
LOCATION_PREFIX = "data.userProfile."
CAUSE_KEYS = {"errorSummary", "reason", "locationType", "location", "domain"}
COMMANDS = {
    RequestType.REGISTRATION: {ACTION, PROFILE_UPDATE},
    RequestType.PROGRESSIVE: {ACTION, PROGRESSIVE_UPDATE},
}


def checked_body(document: Mapping[str, Any], request_type: RequestType) -> bytes:
    """The response as the bytes to send, or `ContractViolation` naming the rule it breaks."""
    check(document, request_type)
    try:
        body = _ENCODER.encode(document)
    except (TypeError, ValueError, RecursionError) as e:
        _fail("json", f"not serialisable: {e.__class__.__name__}")
    data = body.encode("utf-8")
    if len(data) > MAX_RESPONSE_BYTES:
        _fail("size", f"{len(data)} bytes, over {MAX_RESPONSE_BYTES}")
    return data


def check(document: Mapping[str, Any], request_type: RequestType) -> None:
    _require(isinstance(document, dict), "document", "not an object")
    if not set(document) <= {"commands", "error", "debugContext"}:
        _fail("document", f"keys {sorted(document)}")
    commands = document.get("commands")
    if not isinstance(commands, list) or not commands:
        _fail("commands", "not a non-empty list")
    actions: list[str] = []
    updates = 0
    for command in commands:
        _require(
            isinstance(command, dict) and set(command) == {"type", "value"},
            "command",
            "a command is exactly {type, value}",
        )
        kind, value = command["type"], command["value"]
        if kind not in COMMANDS[request_type]:
            _fail("command type", f"{str(kind)[:64]!r} is not valid for {request_type.value}")
        if kind == ACTION:
            _require(
                isinstance(value, dict) and set(value) == {"registration"}
                and value["registration"] in ("ALLOW", "DENY"),
                "action value",
                'not exactly {"registration": "ALLOW" | "DENY"}',
            )  # fmt: skip
            actions.append(value["registration"])
        else:
            _check_update(value)
            updates += 1
    if len(actions) != 1:
        _fail("action", f"{len(actions)} action commands, not one")
    if "error" in document:
        # Okta executes no command of an answer with an error: anything but a DENY is lost.
        _require(actions == ["DENY"], "error", "an error object goes only with DENY")
        _require(updates == 0, "error", "an error object with an update command drops the update")
        _check_error(document["error"])
    if "debugContext" in document:
        _check_debug_context(document["debugContext"])


def _check_debug_context(context: object) -> None:
    """Okta copies it into its System Log: only the keys the hook writes, each a short string of
    codes and ids, and small; anything else (a message, a nested object, a value) is refused."""
    if not isinstance(context, dict) or not context:
        _fail("debugContext", "not a non-empty object")
    unknown = sorted(str(key)[:64] for key in context if key not in debug_context.KEYS)
    _require(not unknown, "debugContext", f"keys {unknown[:4]} are not written by the hook")
    for key, value in context.items():
        _require(
            isinstance(value, str) and bool(debug_context.VALUE.fullmatch(value)),
            "debugContext",
            f"{key} is not a short string of codes and ids",
        )
    size = len(_ENCODER.encode(context).encode("utf-8"))
    _require(
        size <= debug_context.MAX_BYTES,
        "debugContext",
        f"{size} bytes, over {debug_context.MAX_BYTES}",
    )


def _check_update(value: object) -> None:
    if not isinstance(value, dict) or not value:
        _fail("update value", "not a non-empty object")
    for name, item in value.items():
        if not (isinstance(name, str) and ATTRIBUTE.fullmatch(name)):
            _fail("update value", f"{str(name)[:64]!r} is not an attribute name")
        if not _is_json(item):
            _fail("update value", f"the value of {name} is not a JSON value")


def _check_error(error: object) -> None:
    if not isinstance(error, dict):
        _fail("error", "not an object")
    if not set(error) <= {"errorSummary", "errorCauses"}:
        _fail("error", f"keys {sorted(error)}")
    _require(_text(error.get("errorSummary")), "error", "errorSummary is not a non-empty string")
    causes = error.get("errorCauses", [])
    _require(isinstance(causes, list), "error", "errorCauses is not a list")
    for cause in causes:
        _require(isinstance(cause, dict) and set(cause) == CAUSE_KEYS, "error cause", "wrong keys")
        location = cause["location"]
        _require(
            _text(cause["errorSummary"]), "error cause", "errorSummary is not a non-empty string"
        )
        _require(
            isinstance(cause["reason"], str) and bool(REASON.fullmatch(cause["reason"])),
            "error cause",
            "reason is not a reason code",
        )
        _require(cause["locationType"] == "body", "error cause", "locationType is not body")
        _require(cause["domain"] == "end-user", "error cause", "domain is not end-user")
        _require(
            isinstance(location, str)
            and location.startswith(LOCATION_PREFIX)
            and len(location) > len(LOCATION_PREFIX),
            "error cause",
            f"location is not {LOCATION_PREFIX}<attribute>",
        )


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _is_json(value: object) -> bool:
    # A loop, not recursion: an echoed value may be nested as deeply as the request allowed.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return False
        if isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            if not all(isinstance(key, str) for key in item):
                return False
            pending.extend(item.values())
        elif not (item is None or isinstance(item, (str, bool, int, float))):
            return False
    return True


def _require(condition: bool, rule: str, detail: str) -> None:
    """Only for a fixed `detail`, built before the call: a detail made from the answer is made
    once a check has failed, since every answer sent passes these checks."""
    if not condition:
        _fail(rule, detail)


def _fail(rule: str, detail: str) -> NoReturn:
    raise ContractViolation(f"response contract: {rule}: {detail}")
