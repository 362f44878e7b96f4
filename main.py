"""Okta registration inline hook: the Cloud Functions entry point."""

from __future__ import annotations

import os

import flask
import functions_framework

from core import deadline, loggable, logs
from core.errors import HookError
from okta_wire.request import parse_hook_request
from service import audit as audit_line
from service import web
from service.app import load_app

# Cold start: everything below runs once per instance, never per request.
logs.configure()
APP = load_app(os.environ)


@functions_framework.http
def registration_hook(request: flask.Request) -> flask.Response:
    """Verify the caller, parse Okta's request, decide by requestType, answer in Okta's format."""
    audit = audit_line.Audit()
    # Authentication is where a request can wait on a key or secret store: never past this.
    request_deadline = deadline.Deadline.after(APP.deadline_seconds)
    trace_project = APP.settings.trace_project if APP.settings else None
    audit.set(**audit_line.trace_field(request.headers.get("X-Cloud-Trace-Context"), trace_project))
    try:
        web.require_post(request)
        gate, _ = APP.ready()
        web.refuse_declared_oversize(request)
        with deadline.within(request_deadline):
            caller = gate.authenticate(request.headers.get("Authorization"))
        audit.set(auth=caller.scheme, caller=caller.subject, **caller.details)
        hook_request = parse_hook_request(
            web.read_json_body(request), accept_language=request.headers.get("Accept-Language")
        )
        # Body values reach the log only in Okta's shape; anything else is a marker.
        event_id = hook_request.event_id
        audit.set(
            eventId=loggable.field(event_id) if event_id is not None else None,
            requestType=hook_request.request_type.value,
        )
        if APP.recent_events.seen_before(hook_request.event_id):
            audit.set(retry=True)  # decided again, the same way: decisions hold no state
        decision = APP.decide(hook_request)
        audit.set(
            decision="ALLOW" if decision.allowed else "DENY",
            reasons=[cause.reason for cause in decision.causes] or None,
            email_domain=decision.email_domain,
            locale=decision.locale,
            # What shadow-mode rules would have denied: attribute names and codes, never values.
            shadow_reasons=[
                {"attribute": loggable.field(cause.attribute), "reason": cause.reason}
                for cause in decision.shadowed
            ]
            or None,
            shadow_reasons_unlisted=decision.shadowed_unlisted or None,
        )
        response = web.decision_response(decision)
    except HookError as error:
        audit.set(error=error.code, reason=error.reason)
        response = web.error_response(error)
    except Exception:
        logs.logger.exception("unexpected failure", extra={"fields": {"event": "crash"}})
        response = web.internal_error_response()
    audit.write(response.status_code)
    return response
