"""The one audit line per request, and the trace field that ties it to Cloud Run's request log."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

from core.logs import logger

_TRACE = re.compile(r"([0-9a-fA-F]{32})(?:/\d+)?(?:;o=[01])?")


def trace_field(header: str | None, project: str | None) -> dict[str, str]:
    """`logging.googleapis.com/trace` from `X-Cloud-Trace-Context`, when both are known."""
    if not header or not project:
        return {}
    match = _TRACE.fullmatch(header.strip())
    if not match:
        return {}
    return {"logging.googleapis.com/trace": f"projects/{project}/traces/{match.group(1)}"}


@dataclass
class Audit:
    """What one request did, written as exactly one log line when it ends."""

    started: float = field(default_factory=time.perf_counter)
    fields: dict[str, Any] = field(default_factory=dict)

    def set(self, **values: Any) -> None:
        self.fields.update({k: _bounded(v) for k, v in values.items() if v is not None})

    def write(self, status: int) -> None:
        severity = (
            logging.ERROR
            if status >= 500
            else logging.WARNING
            if status in (401, 403)
            else logging.INFO
        )
        self.fields["status"] = status
        self.fields["latency_ms"] = round((time.perf_counter() - self.started) * 1000, 3)
        decision = self.fields.get("decision", "none")
        if not logger.isEnabledFor(severity):
            return
        # The record is made directly: logger.log would walk the stack for a caller nobody reads.
        record = logger.makeRecord(
            logger.name,
            severity,
            __file__,
            0,
            "okta registration hook %s %s",
            (self.fields.get("requestType", "-"), decision if status == 200 else status),
            None,
            extra={"fields": dict(self.fields)},
        )
        logger.handle(record)


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
