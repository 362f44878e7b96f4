"""Structured logs on stdout in Cloud Logging's JSON format, and the one audit line per request."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

LOGGER_NAME = "okta_hook"
logger = logging.getLogger(LOGGER_NAME)

_TRACE = re.compile(r"([0-9a-fA-F]{32})(?:/\d+)?(?:;o=[01])?")
# One encoder for every line: json.dumps with options would build a new one each time.
_ENCODER = json.JSONEncoder(default=str, ensure_ascii=False)


class CloudLoggingFormatter(logging.Formatter):
    """One JSON object per line: `severity`, `message`, `time`, and the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": record.levelname,
            "message": record.getMessage(),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "logger": record.name,
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            # Error Reporting picks a traceback up from the message.
            entry["message"] += "\n" + self.formatException(record.exc_info)
        return _ENCODER.encode(entry)


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stdout` is at the time of the record, not at set-up."""

    @property
    def stream(self) -> object:
        return sys.stdout

    @stream.setter
    def stream(self, _: object) -> None:
        pass


def configure() -> None:
    """Send the hook's records to stdout as JSON lines; calling it again changes nothing."""
    if any(isinstance(h, _StdoutHandler) for h in logger.handlers):
        return
    handler = _StdoutHandler()
    handler.setFormatter(CloudLoggingFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


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
        self.fields.update({k: v for k, v in values.items() if v is not None})

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
