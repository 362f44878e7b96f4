"""Okta registration inline hook: the Cloud Functions entry point."""

from __future__ import annotations

import os

import functions_framework.aio
from starlette.requests import Request
from starlette.responses import Response

from core import deadline, logs
from core.errors import HookError
from okta_wire.request import parse_hook_request
from service import web
from service.app import load_app
from service.audit import Audit

# Cold start: everything below runs once per instance, never per request.
logs.configure()
APP = load_app(os.environ)


@functions_framework.aio.http
async def registration_hook(request: Request) -> Response:
    """Verify the caller, parse Okta's request, decide by requestType, answer in Okta's format."""
    audit = Audit.start(request.headers, APP.trace_project)
    # Every wait on a key or secret store, and on the body, ends by this deadline.
    request_deadline = deadline.Deadline.after(APP.deadline_seconds)
    try:
        web.require_post(request)
        gate, _ = APP.ready()
        web.refuse_declared_oversize(request)
        with deadline.within(request_deadline):
            caller = await web.authenticate(
                gate, request.headers.get("Authorization"), request_deadline
            )
        audit.caller(caller)
        body = await web.read_json_body(request, request_deadline)
        hook_request = parse_hook_request(
            body, accept_language=request.headers.get("Accept-Language")
        )
        audit.request(hook_request, retry=APP.recent_events.seen_before(hook_request.event_id))
        with deadline.within(request_deadline):
            decision = await web.decide(APP.decide, hook_request, request_deadline)
        audit.decision(decision, APP.policy_digest, APP.policy_version)
        debug = APP.debug_context(hook_request, decision, audit.elapsed_ms())
        response = web.decision_response(decision, debug)
    except HookError as error:
        audit.error(error)
        response = web.error_response(request, error)
    except Exception:
        # Reported to Error Reporting with its traceback: frames and types, never a value.
        logs.logger.exception(
            "unexpected failure", extra={"fields": {"event": "crash"}, "report": True}
        )
        response = web.internal_error_response(request)
    audit.write(response.status_code)
    return response
