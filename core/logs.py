"""Structured logs on stdout in Cloud Logging's JSON format."""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import queue
import sys
import threading
import time
import traceback
from datetime import UTC, datetime
from typing import Any

from core.error_report import Location, report_fields, valueless_traceback

LOGGER_NAME = "okta_hook"
logger = logging.getLogger(LOGGER_NAME)

# One encoder for every line: json.dumps with options would build a new one each time.
_ENCODER = json.JSONEncoder(default=str, ensure_ascii=False)
# How long the writer thread lets lines gather before it writes them.
LINGER_SECONDS = 0.002


class CloudLoggingFormatter(logging.Formatter):
    """One JSON object per line: `severity`, `message`, `time`, and the record's `fields`.

    A record logged with `extra={"report": True}` (or a `Location`) is written so that Error
    Reporting groups it: `@type` ReportedErrorEvent, `serviceContext`, and where it was reported
    or raised. An exception's traceback is appended to the message with its frames and types
    only: an exception's text may hold a value from the request, so it is never written.
    """

    def format(self, record: logging.LogRecord) -> str:
        report = getattr(record, "report", None)
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            message += "\n" + valueless_traceback(record.exc_info[1])
            where = None  # the traceback says where
        elif isinstance(report, Location):
            where = report
        else:
            where = Location.of_record(record) if report is not None else None
        fields = getattr(record, "fields", {})
        return line(record.levelname, message, record.created, fields, report is not None, where)


def line(
    severity: str,
    message: str,
    created: float,
    fields: dict[str, Any],
    reported: bool = False,
    where: Location | None = None,
) -> str:
    """One log line as Cloud Logging reads it (Error Reporting's fields when `reported`)."""
    entry: dict[str, Any] = {
        "severity": severity,
        "message": message,
        "time": datetime.fromtimestamp(created, UTC).isoformat(),
        "logger": LOGGER_NAME,
    }
    entry.update(fields)
    if reported:
        entry.update(report_fields(where))
    return _ENCODER.encode(entry)


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stdout` is at the time of the record, not at set-up."""

    @property
    def stream(self) -> object:
        return sys.stdout

    @stream.setter
    def stream(self, _: object) -> None:
        pass

    def write_lines(self, lines: list[str]) -> None:
        """Lines already formatted, in one write."""
        self.acquire()
        try:
            sys.stdout.write("\n".join(lines) + "\n")
            sys.stdout.flush()
        except Exception:
            # As logging does with a record it cannot write: say so on stderr, carry on.
            traceback.print_exc(file=sys.stderr)
        finally:
            self.release()


class _Background(logging.Handler):
    """Hands each line to one writer thread, so that the event loop never waits on stdout (a
    pipe whose reader stalls would block a write). The caller formats the line; the writer wakes
    at most every `LINGER_SECONDS` and writes what has gathered in one write: a thread switch
    and a system call for many lines rather than for each (measured in bench/RESULTS.md). At
    most `capacity` lines wait; past that they are counted and dropped, and the count is written
    once the writer catches up."""

    def __init__(self, target: _StdoutHandler, capacity: int = 10_000) -> None:
        super().__init__()
        self._target = target
        self._capacity = capacity
        self._start()
        # gunicorn forks its workers after main.py is imported: a thread does not survive a
        # fork, so each worker starts its own writer.
        os.register_at_fork(after_in_child=self._start)
        atexit.register(self.flush)

    def _start(self) -> None:
        self._queue: queue.Queue[str | threading.Event] = queue.Queue(self._capacity)
        self._dropped = 0
        threading.Thread(target=self._drain, name="log-writer", daemon=True).start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            formatted = self._target.format(record)
        except Exception:
            self.handleError(record)  # logging's own rule: a record never raises
            return
        self.put(formatted)

    def put(self, formatted: str) -> None:
        try:
            self._queue.put_nowait(formatted)
        except queue.Full:
            self._dropped += 1

    def flush(self, timeout: float = 2.0) -> None:
        """Wait until every record handed over so far is written (at most `timeout` seconds)."""
        written = threading.Event()
        try:
            self._queue.put(written, timeout=timeout)
        except queue.Full:
            return
        written.wait(timeout)

    def _drain(self) -> None:
        while True:
            batch = [self._queue.get()]
            time.sleep(LINGER_SECONDS)  # the lines of the requests answered meanwhile gather
            with contextlib.suppress(queue.Empty):
                for _ in range(self._capacity):
                    batch.append(self._queue.get_nowait())
            lines = [item for item in batch if isinstance(item, str)]
            if self._dropped:
                dropped, self._dropped = self._dropped, 0
                lines.insert(0, self._target.format(_dropped_record(dropped)))
            if lines:
                self._target.write_lines(lines)
            for item in batch:
                if isinstance(item, threading.Event):
                    item.set()


def _dropped_record(count: int) -> logging.LogRecord:
    return logger.makeRecord(
        logger.name,
        logging.WARNING,
        __file__,
        0,
        "%d log lines dropped: stdout was not read fast enough",
        (count,),
        None,
        extra={"fields": {"event": "log", "dropped": count}},
    )


def configure(*, background: bool = True) -> None:
    """Send the hook's records to stdout as JSON lines, through a writer thread unless
    `background` is False (tests that read what was written at once); calling it again changes
    nothing."""
    if any(isinstance(h, _StdoutHandler | _Background) for h in logger.handlers):
        return
    handler = _StdoutHandler()
    handler.setFormatter(CloudLoggingFormatter())
    logger.addHandler(_Background(handler) if background else handler)
    logger.setLevel(logging.INFO)


def write(
    severity: int, message: str, fields: dict[str, Any], where: Location | None = None
) -> None:
    """One line that needs nothing of `logging` but its output (the audit line, once a request):
    formatted and handed to the writer directly when the hook's own handler is the logger's only
    one, as served; else through `logging`, so that any other handler (a test's) sees it too.
    The line is the same either way. `where`: reported to Error Reporting from there."""
    if not logger.isEnabledFor(severity):
        return
    handlers = logger.handlers
    if len(handlers) == 1 and not logger.filters:
        handler = handlers[0]
        name = logging.getLevelName(severity)
        formatted = line(name, message, time.time(), fields, where is not None, where)
        if isinstance(handler, _Background):
            handler.put(formatted)
            return
        if isinstance(handler, _StdoutHandler):
            handler.write_lines([formatted])
            return
    # The record is made directly: logger.log would walk the stack for a caller nobody reads.
    record = logger.makeRecord(
        logger.name, severity, __file__, 0, "%s", (message,), None,
        extra={"fields": fields, "report": where},
    )  # fmt: skip
    logger.handle(record)


def flush() -> None:
    """Wait until every record so far is written."""
    for handler in logger.handlers:
        handler.flush()
