"""The HTTP edges: what a request must be before it is read, and how answers are written."""

from __future__ import annotations

import json
from typing import Any

import flask

from core.errors import HookError, MethodNotAllowed, PayloadTooLarge, UnsupportedMediaType
from core.loggable import shown
from okta_wire.contract import checked_body
from okta_wire.models import Decision
from okta_wire.response import okta_response

MAX_BODY_BYTES = 64 * 1024
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def require_post(request: flask.Request) -> None:
    if request.method != "POST":
        raise MethodNotAllowed(f"method {shown(request.method)}")


def refuse_declared_oversize(request: flask.Request) -> None:
    """Checks Content-Length only: nothing of the body is read before the caller is known."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"Content-Length {request.content_length}")


def read_json_body(request: flask.Request) -> bytes:
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(f"Content-Type {shown(request.mimetype)}")
    refuse_declared_oversize(request)
    # Read one byte past the limit: enough to know a chunked body is too large, never more.
    body = request.stream.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge("chunked body over the limit")
    return body


def json_response(
    status: int, body: dict[str, Any] | bytes, headers: dict[str, str] | None = None
) -> flask.Response:
    if not isinstance(body, bytes):
        body = _ENCODER.encode(body).encode("utf-8")
    return flask.Response(
        body,
        status=status,
        headers={"Cache-Control": "no-store", **(headers or {})},
        content_type="application/json",
    )


def decision_response(decision: Decision) -> flask.Response:
    """Okta's answer, sent only once it passes the response contract (else `ContractViolation`)."""
    return json_response(200, checked_body(okta_response(decision), decision.request_type))


def error_response(error: HookError) -> flask.Response:
    body = {"error": {"code": error.code, "message": error.public_message}}
    return json_response(error.status, body, error.headers())


def internal_error_response() -> flask.Response:
    body = {"error": {"code": "internal", "message": "The hook failed unexpectedly."}}
    return json_response(500, body)
