"""The trace a request belongs to, from `traceparent` or `X-Cloud-Trace-Context`, as the special
fields by which Cloud Logging ties a line to its trace and to Cloud Run's own request log."""

from __future__ import annotations

import re

TRACE = "logging.googleapis.com/trace"
SPAN_ID = "logging.googleapis.com/spanId"
TRACE_SAMPLED = "logging.googleapis.com/trace_sampled"

# W3C Trace Context: version-traceid-parentid-flags, lowercase hex. Version ff is invalid; a later
# version may append fields after a dash, version 00 may not.
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")
# Google's own header: TRACE_ID/SPAN_ID;o=OPTIONS, the span id in decimal; only the trace id is
# required.
_CLOUD_TRACE = re.compile(r"([0-9a-fA-F]{32})(?:/(\d{1,20}))?(?:;o=([01]))?")
_MAX_SPAN = 2**64 - 1


def trace_fields(
    traceparent: str | None, cloud_trace: str | None, project: str | None
) -> dict[str, str | bool]:
    """The trace, span and sampling fields for a log line: from the first of the two headers that
    is well formed (`traceparent` first, as Google's client libraries read them), and only when
    the project is known. A malformed header gives nothing, never a guess."""
    if not project:
        return {}
    parsed = _traceparent(traceparent) or _cloud_trace(cloud_trace)
    if parsed is None:
        return {}
    trace_id, span_id, sampled = parsed
    fields: dict[str, str | bool] = {TRACE: f"projects/{project}/traces/{trace_id}"}
    if span_id is not None:
        fields[SPAN_ID] = span_id
    if sampled is not None:
        fields[TRACE_SAMPLED] = sampled
    return fields


Parsed = tuple[str, str | None, bool | None]


def _traceparent(header: str | None) -> Parsed | None:
    if not header:
        return None
    match = _TRACEPARENT.fullmatch(header.strip())
    if not match:
        return None
    version, trace_id, span_id, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest is not None):
        return None
    if trace_id == "0" * 32 or span_id == "0" * 16:
        return None
    return trace_id, span_id, bool(int(flags, 16) & 1)


def _cloud_trace(header: str | None) -> Parsed | None:
    if not header:
        return None
    match = _CLOUD_TRACE.fullmatch(header.strip())
    if not match:
        return None
    trace_id, span, option = match.groups()
    if trace_id == "0" * 32:
        return None
    span_id = None
    if span is not None and 0 < int(span) <= _MAX_SPAN:
        # Cloud Logging wants the span id as 16 hexadecimal digits.
        span_id = f"{int(span):016x}"
    sampled = None if option is None else option == "1"
    return trace_id.lower(), span_id, sampled
