"""The HTTP edge on the event loop: what a request must be before it is read, the caller checked
without waiting on the loop, the body read as a bounded stream, and how answers are written."""

from __future__ import annotations

import asyncio
import contextvars
import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from auth.caller import Caller
from auth.gate import Gate
from core.deadline import Deadline
from core.errors import (
    BadRequest,
    HookError,
    MethodNotAllowed,
    PayloadTooLarge,
    RequestTimeout,
    Unavailable,
    UnsupportedMediaType,
)
from core.loggable import shown
from core.refreshing import WouldBlock, no_waiting
from okta_wire.contract import checked_body
from okta_wire.models import Decision, HookRequest
from okta_wire.response import okta_response

A = TypeVar("A")
R = TypeVar("R")

MAX_BODY_BYTES = 64 * 1024
THREAD_GRACE_SECONDS = 0.25
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
# Set once the body has been read to its end: an answer given before that closes the connection,
# so that the server reads nothing more of it.
_BODY_READ = "okta_hook_body_read"


def require_post(request: Request) -> None:
    if request.method != "POST":
        raise MethodNotAllowed(f"method {shown(request.method)}")


def declared_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    return int(raw) if raw is not None and raw.isascii() and raw.isdigit() else None


def refuse_declared_oversize(request: Request) -> None:
    """Checks Content-Length only: nothing of the body is read before the caller is known."""
    length = declared_length(request)
    if length is not None and length > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"Content-Length {length}")


# The threads requests wait in (a key set or a secret read, a directory answer). The default
# executor has CPUs + 4 threads: with 80 requests in flight, a burst of directory lookups would
# queue behind each other past their deadline. These threads only wait on the network.
WAITING_THREADS = 64
_executor: ThreadPoolExecutor | None = None
_executor_pid = 0


def _waits() -> ThreadPoolExecutor:
    """The pool of this process (gunicorn forks its workers after the cold start)."""
    global _executor, _executor_pid
    if _executor is None or _executor_pid != os.getpid():
        _executor = ThreadPoolExecutor(WAITING_THREADS, thread_name_prefix="wait")
        _executor_pid = os.getpid()
    return _executor


async def without_waiting(call: Callable[[A], R], argument: A, deadline: Deadline, what: str) -> R:
    """`call(argument)` on the loop while everything it needs is at hand (cached keys, secrets,
    directory answers); when something must be fetched (or waited for) it raises WouldBlock,
    and the call runs again in a thread, bounded by the deadline, while the loop goes on
    serving other requests. `what` names what was waited for in a 503 past the deadline."""
    try:
        with no_waiting():
            return call(argument)
    except WouldBlock:
        pass
    context = contextvars.copy_context()  # the request's deadline goes with it
    waiting = asyncio.get_running_loop().run_in_executor(_waits(), context.run, call, argument)
    try:
        # Every wait in the thread ends by the deadline already; this only guards against one
        # that would not, and gives the thread's own answer (a 401, say) time to arrive.
        return await asyncio.wait_for(waiting, deadline.remaining() + THREAD_GRACE_SECONDS)
    except TimeoutError:
        raise Unavailable(f"{what} not read within the request's deadline") from None


async def authenticate(gate: Gate, authorization: str | None, deadline: Deadline) -> Caller:
    """The caller, checked without waiting on the loop (`without_waiting`)."""
    return await without_waiting(gate.authenticate, authorization, deadline, "keys or credentials")


async def decide(
    decide: Callable[[HookRequest], Decision], request: HookRequest, deadline: Deadline
) -> Decision:
    """The policy's decision, made without waiting on the loop (`without_waiting`): a directory
    answer that is not cached is fetched in a thread."""
    return await without_waiting(decide, request, deadline, "the directory's answer")


def _mimetype(request: Request) -> str:
    return request.headers.get("content-type", "").partition(";")[0].strip().lower()


async def read_json_body(request: Request, deadline: Deadline) -> bytes:
    """The body, read as it arrives and refused one byte past the limit, or once the request's
    deadline has passed: neither a large body nor one that never comes is held."""
    mimetype = _mimetype(request)
    if mimetype != "application/json":
        raise UnsupportedMediaType(f"Content-Type {shown(mimetype)}")
    refuse_declared_oversize(request)
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(deadline.remaining()):
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise PayloadTooLarge("chunked body over the limit")
                chunks.append(chunk)
    except TimeoutError:
        raise RequestTimeout(f"{size} bytes of the body by the deadline") from None
    except ClientDisconnect:
        raise BadRequest("the caller went away before sending the whole body") from None
    request.scope[_BODY_READ] = True
    return b"".join(chunks)


def json_response(
    status: int, body: dict[str, Any] | bytes, headers: dict[str, str] | None = None
) -> Response:
    if not isinstance(body, bytes):
        body = _ENCODER.encode(body).encode("utf-8")
    return Response(
        body,
        status_code=status,
        headers={"Cache-Control": "no-store", **(headers or {})},
        media_type="application/json",
    )


def decision_response(decision: Decision, debug: dict[str, str] | None = None) -> Response:
    """Okta's answer, sent only once it passes the response contract (else `ContractViolation`);
    with `debug`, its debugContext for Okta's System Log."""
    document = okta_response(decision)
    if debug:
        document["debugContext"] = debug
    return json_response(200, checked_body(document, decision.request_type))


def error_response(request: Request, error: HookError) -> Response:
    body = {"error": {"code": error.code, "message": error.public_message}}
    return json_response(error.status, body, {**error.headers(), **_closing(request)})


def internal_error_response(request: Request) -> Response:
    body = {"error": {"code": "internal", "message": "The hook failed unexpectedly."}}
    return json_response(500, body, _closing(request))


def _closing(request: Request) -> dict[str, str]:
    """`Connection: close` when a body may still be on its way: the server then stops reading."""
    if request.scope.get(_BODY_READ):
        return {}
    if "transfer-encoding" in request.headers or (declared_length(request) or 0) > 0:
        return {"Connection": "close"}
    return {}
