"""The monitoring files, parsed into Google's own message types with strict field checking."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from google.cloud import monitoring_dashboard_v1, monitoring_v3
from google.cloud.logging_v2.types import LogMetric
from google.protobuf import json_format
from google.protobuf.message import Message

from tools.monitoring import Options, Resource, resources

PROJECT = "hook-project-1"
FUNCTION = "okta-registration-hook"
CHANNEL = f"projects/{PROJECT}/notificationChannels/4242"
OPTIONS = Options(PROJECT, FUNCTION, (CHANNEL,), no_requests_hours=6)

MESSAGES: dict[str, Any] = {
    "metric": LogMetric,
    "policy": monitoring_v3.AlertPolicy,
    "dashboard": monitoring_dashboard_v1.Dashboard,
}


def parsed(resource: Resource) -> Message:
    """The resource as Google's message; an unknown field or a wrong type raises ParseError."""
    message: Message = MESSAGES[resource.kind].pb()()
    json_format.Parse(json.dumps(resource.body), message, ignore_unknown_fields=False)
    return message


def rendered(kind: str, options: Options = OPTIONS) -> dict[str, dict[str, Any]]:
    return {r.key: r.body for r in resources(options) if r.kind == kind}


def metrics(options: Options = OPTIONS) -> dict[str, dict[str, Any]]:
    """Each log-based metric by its short name (`decisions`, ...)."""
    prefix = f"{options.function}-"
    return {key.removeprefix(prefix): body for key, body in rendered("metric", options).items()}


def metric_type(name: str, function: str = FUNCTION) -> str:
    return f"logging.googleapis.com/user/{function}-{name}"


def log_entry(line: dict[str, Any], service: str = FUNCTION) -> dict[str, Any]:
    """A line our function writes on stdout, as Cloud Logging stores it for a Cloud Run
    revision: the special fields lifted out of the payload, the rest in `jsonPayload`."""
    payload = dict(line)
    entry: dict[str, Any] = {
        "resource": {"type": "cloud_run_revision", "labels": {"service_name": service}},
        "logName": "projects/p/logs/run.googleapis.com%2Fstdout",
        "severity": payload.pop("severity", "DEFAULT"),
    }
    if "time" in payload:
        entry["timestamp"] = payload.pop("time")
    for special, field in (
        ("logging.googleapis.com/trace", "trace"),
        ("logging.googleapis.com/spanId", "spanId"),
        ("logging.googleapis.com/trace_sampled", "traceSampled"),
    ):
        if special in payload:
            entry[field] = payload.pop(special)
    entry["jsonPayload"] = payload
    return entry


def served_lines(log: str) -> list[dict[str, Any]]:
    """The JSON lines of a served process's log (functions-framework's own lines left out)."""
    found = []
    for line in log.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("logger") == "okta_hook":
            found.append(entry)
    return found


def root() -> Path:
    return Path(__file__).resolve().parent.parent
