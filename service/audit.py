"""The one audit line per request, and the trace field that ties it to Cloud Run's request log."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from auth.caller import Caller
from core import loggable, logs
from core.error_report import Location
from core.errors import HookError
from core.trace_context import trace_fields
from okta_wire.models import Decision, HookRequest


@dataclass
class Audit:
    """What one request did, written as exactly one log line when it ends. Values from the
    request reach it only through the methods below, each of which says what may be shown."""

    started: float = field(default_factory=time.perf_counter)
    fields: dict[str, Any] = field(default_factory=dict)
    # Where a 5xx error was raised: the line is then reported to Error Reporting.
    reported: Location | None = None

    @classmethod
    def start(cls, headers: Mapping[str, str], trace_project: str | None) -> Audit:
        audit = cls()
        trace = trace_fields(
            headers.get("traceparent"), headers.get("X-Cloud-Trace-Context"), trace_project
        )
        audit.set(**trace)
        return audit

    def set(self, **values: Any) -> None:
        self.fields.update({k: _bounded(v) for k, v in values.items() if v is not None})

    def caller(self, caller: Caller) -> None:
        self.set(auth=caller.scheme, caller=caller.subject, **caller.details)

    def request(self, request: HookRequest, *, retry: bool) -> None:
        # Body values reach the log only in Okta's shape; anything else is a marker.
        event_id = request.event_id
        self.set(
            eventId=loggable.field(event_id) if event_id is not None else None,
            requestType=request.request_type.value,
            retry=retry or None,  # decided again, the same way: decisions hold no state
        )

    def decision(
        self, decision: Decision, policy_digest: str | None, policy_version: str | None
    ) -> None:
        reasons = [cause.reason for cause in decision.causes]
        shadowed = [(loggable.field(c.attribute), c.reason) for c in decision.shadowed]
        self.set(
            decision="ALLOW" if decision.allowed else "DENY",
            reasons=reasons or None,
            # The lists again as one string each, sorted: a log-based metric's label can hold
            # a string, not a list.
            reason_codes=",".join(sorted(set(reasons))) or None,
            shadow_codes=",".join(sorted({f"{a}:{r}" for a, r in shadowed})) or None,
            policy_digest=policy_digest,
            policy_version=policy_version,
            email_domain=decision.email_domain,
            locale=decision.locale,
            # What shadow-mode rules would have denied: attribute names and codes, never values.
            shadow_reasons=[{"attribute": a, "reason": r} for a, r in shadowed] or None,
            shadow_reasons_unlisted=decision.shadowed_unlisted or None,
            # What the list and directory rules did (`directory.hr:directory_found`,
            # `lists.partners:fail_open`): the policy's names and outcome codes, never a value.
            outside_codes=",".join(sorted(f"{r}:{c}" for r, c in decision.outcomes)) or None,
        )

    def error(self, error: HookError) -> None:
        self.set(error=error.code, reason=error.reason)
        if error.status >= 500:
            self.reported = Location.of_error(error) or Location("main.py", 0, "registration_hook")

    def elapsed_ms(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 3)

    def write(self, status: int) -> None:
        severity = (
            logging.ERROR
            if status >= 500
            else logging.WARNING
            if status in (401, 403)
            else logging.INFO
        )
        self.fields["status"] = status
        self.fields["latency_ms"] = self.elapsed_ms()
        # What log-based metrics select audit lines by.
        self.fields["event"] = "request"
        decision = self.fields.get("decision", "none") if status == 200 else status
        message = f"okta registration hook {self.fields.get('requestType', '-')} {decision}"
        logs.write(severity, message, dict(self.fields), self.reported)


# However a request is made, its line stays small: the handlers bound their lists already, and
# this is the last guard for any field.
MAX_FIELD_CHARS = 512
MAX_FIELD_ITEMS = 20


def _bounded(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
        return value[:MAX_FIELD_CHARS] + "…"
    if isinstance(value, list) and len(value) > MAX_FIELD_ITEMS:
        return value[:MAX_FIELD_ITEMS]
    return value
