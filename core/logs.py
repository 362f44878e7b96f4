"""Structured logs on stdout in Cloud Logging's JSON format."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

LOGGER_NAME = "okta_hook"
logger = logging.getLogger(LOGGER_NAME)

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
