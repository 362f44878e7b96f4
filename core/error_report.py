"""What makes a log line an error that Error Reporting groups, and never with a value in it.

Error Reporting reads a JSON line whose `@type` is ReportedErrorEvent: `message`, the
`serviceContext` (the function and its revision) and, for an error without a stack trace,
`context.reportLocation` (the file, line and function where it was raised or reported).
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPORTED_ERROR_EVENT = (
    "type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent"
)
DEFAULT_SERVICE = "okta-registration-hook"
_ROOT = Path(__file__).resolve().parent.parent
_service_context: dict[str, str] = {"service": DEFAULT_SERVICE}
# How Python's own traceback joins a chain of exceptions.
_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def set_service_context(service: str, version: str | None) -> None:
    """The service and version every reported error names (K_SERVICE and K_REVISION)."""
    global _service_context
    _service_context = {"service": service, **({"version": version} if version else {})}


def service_context() -> dict[str, str]:
    return dict(_service_context)


@dataclass(frozen=True)
class Location:
    """A place in our source: the path relative to the checkout, the line and the function."""

    file_path: str
    line: int
    function: str

    @classmethod
    def of_record(cls, record: logging.LogRecord) -> Location:
        return cls(_relative(record.pathname), record.lineno, record.funcName or "")

    @classmethod
    def of_error(cls, error: BaseException) -> Location | None:
        """Where `error` was raised: the last frame of its traceback."""
        frames = traceback.extract_tb(error.__traceback__) if error.__traceback__ else []
        if not frames:
            return None
        last = frames[-1]
        return cls(_relative(last.filename), last.lineno or 0, last.name)


def report_fields(where: Location | None) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "@type": REPORTED_ERROR_EVENT,
        "serviceContext": service_context(),
    }
    if where is not None:
        fields["context"] = {
            "reportLocation": {
                "filePath": where.file_path,
                "lineNumber": where.line,
                "functionName": where.function,
            }
        }
    return fields


def valueless_traceback(error: BaseException) -> str:
    """`traceback.format_exception(error)` with every exception's text left out: the frames and
    source lines (our code) and the exception types, chained causes included, as Error Reporting
    parses a Python traceback; `KeyError: 'rosario@example.com'` becomes `KeyError`."""
    chain: list[BaseException] = []
    links: list[str] = []
    current: BaseException | None = error
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        if current.__cause__ is not None:
            links.append(_CAUSE)
            current = current.__cause__
        elif current.__context__ is not None and not current.__suppress_context__:
            links.append(_CONTEXT)
            current = current.__context__
        else:
            current = None
    parts: list[str] = []
    for index in range(len(chain) - 1, -1, -1):
        parts.extend(_block(chain[index]))
        if index:
            parts.append(links[index - 1])
    return "".join(parts).rstrip("\n")


def _block(error: BaseException) -> list[str]:
    lines = []
    if error.__traceback__ is not None:
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_list(traceback.extract_tb(error.__traceback__)))
    kind = type(error)
    module = kind.__module__
    name = (
        kind.__qualname__ if module in ("builtins", "__main__") else f"{module}.{kind.__qualname__}"
    )
    lines.append(name + "\n")
    return lines


def _relative(path: str) -> str:
    try:
        return Path(path).resolve().relative_to(_ROOT).as_posix()
    except ValueError:
        return Path(path).name
