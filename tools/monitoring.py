"""The log-based metrics, alert policies and dashboard of monitoring/, as the gcloud commands that
create each one when it is missing and update it when it differs: run twice, the second run
changes nothing.

    python -m tools.monitoring reads --project P
        the read-only commands whose JSON output `plan` compares with (one argv a line)
    python -m tools.monitoring plan --project P --function F [--notification-channel C ...]
        [--no-requests-hours N] --metrics FILE --policies FILE --dashboards FILE --out DIR
        the commands that make the project match the files (one JSON argv a line); each
        resource is written to DIR and passed to gcloud as a file

Nothing here is secret: the files hold names, filters and thresholds only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MONITORING = Path(__file__).resolve().parent.parent / "monitoring"
CHANNEL = "${NOTIFICATION_CHANNEL}"
PLACEHOLDER = re.compile(r"\$\{([A-Z_]+)\}")
PROJECT_ID = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
FUNCTION_NAME = re.compile(r"[a-z]([a-z0-9-]{0,61}[a-z0-9])?")
NOTIFICATION_CHANNEL = re.compile(r"projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/notificationChannels/\d+")
# A metric-absence condition waits at most 23.5 hours.
MAX_NO_REQUESTS_HOURS = 23
LABEL = "okta-hook"
ALERT_LABEL = "okta-hook-alert"
OPTIONAL_ALERT = "no-requests"

Command = list[str]


class MonitoringInputError(ValueError):
    """An option cannot name a project, a function, a channel or a duration."""


@dataclass(frozen=True)
class Options:
    project: str
    function: str
    notification_channels: tuple[str, ...] = ()
    no_requests_hours: int | None = None

    def __post_init__(self) -> None:
        if not PROJECT_ID.fullmatch(self.project):
            raise MonitoringInputError(f"--project {self.project[:64]!r} is not a project id")
        if not FUNCTION_NAME.fullmatch(self.function):
            raise MonitoringInputError(f"--function {self.function[:64]!r} is not a function name")
        for channel in self.notification_channels:
            if not NOTIFICATION_CHANNEL.fullmatch(channel):
                raise MonitoringInputError(
                    f"--notification-channel {channel[:128]!r} is not "
                    "projects/PROJECT/notificationChannels/ID"
                )
        hours = self.no_requests_hours
        if hours is not None and not 1 <= hours <= MAX_NO_REQUESTS_HOURS:
            raise MonitoringInputError(
                f"--no-requests-hours must be between 1 and {MAX_NO_REQUESTS_HOURS}"
            )

    def values(self) -> dict[str, str]:
        hours = self.no_requests_hours or 0
        return {
            "PROJECT": self.project,
            "FUNCTION": self.function,
            "NO_REQUESTS_HOURS": str(hours),
            "NO_REQUESTS_SECONDS": str(hours * 3600),
        }


@dataclass(frozen=True)
class Resource:
    kind: str  # "metric", "policy" or "dashboard"
    key: str  # the metric's name, the alert's file name, the dashboard's id
    body: dict[str, Any]


def render(document: Any, values: Mapping[str, str], channels: Sequence[str]) -> Any:
    """The document with every `${NAME}` replaced; the list item `${NOTIFICATION_CHANNEL}` becomes
    the channels given (none: the list is left empty). `${metric.label.x}` in a dashboard's legend
    is Monitoring's own and stays."""
    if isinstance(document, dict):
        rendered = {key: render(value, values, channels) for key, value in document.items()}
        return {
            key: value
            for key, value in rendered.items()
            if value != [] or key != "notificationChannels"
        }
    if isinstance(document, list):
        items: list[Any] = []
        for item in document:
            items.extend(channels if item == CHANNEL else [render(item, values, channels)])
        return items
    if isinstance(document, str):
        return PLACEHOLDER.sub(lambda m: _value(m.group(1), values), document)
    return document


def _value(name: str, values: Mapping[str, str]) -> str:
    if name not in values:
        raise MonitoringInputError(f"monitoring file: unknown placeholder ${{{name}}}")
    return values[name]


def resources(options: Options, root: Path = MONITORING) -> list[Resource]:
    """Every resource, rendered for this project and function; the no-requests alert only with
    `no_requests_hours`."""
    values = options.values()
    channels = options.notification_channels

    def load(path: Path) -> dict[str, Any]:
        body: dict[str, Any] = render(json.loads(path.read_text("utf-8")), values, channels)
        return body

    found = [
        Resource("metric", f"{options.function}-{path.stem}", load(path))
        for path in sorted((root / "metrics").glob("*.json"))
    ]
    for path in sorted((root / "alerts").glob("*.json")):
        if path.stem == OPTIONAL_ALERT and options.no_requests_hours is None:
            continue
        found.append(Resource("policy", path.stem, load(path)))
    found.append(Resource("dashboard", options.function, load(root / "dashboard.json")))
    return found


def read_commands(options: Options) -> list[Command]:
    """What `plan` needs to know of the project, each printing JSON."""
    project = ["--project", options.project, "--format=json"]
    return [
        ["gcloud", "logging", "metrics", "list", *project],
        ["gcloud", "monitoring", "policies", "list", *project],
        ["gcloud", "monitoring", "dashboards", "list", *project],
    ]


def plan(
    options: Options,
    metrics: Sequence[Mapping[str, Any]],
    policies: Sequence[Mapping[str, Any]],
    dashboards: Sequence[Mapping[str, Any]],
    out: Path,
    root: Path = MONITORING,
) -> list[Command]:
    """The commands that create what is missing and update what differs, given what the read
    commands printed; each resource they name is written to `out` first."""
    commands: list[Command] = []
    for resource in resources(options, root):
        path = out / f"{resource.kind}-{resource.key}.json"
        if resource.kind == "metric":
            command = _metric(options, resource, metrics, path)
        elif resource.kind == "policy":
            command = _policy(options, resource, policies, path)
        else:
            command = _dashboard(options, resource, dashboards, path)
        if command is not None:
            commands.append(command)
    return commands


def _metric(
    options: Options, metric: Resource, existing: Sequence[Mapping[str, Any]], path: Path
) -> Command | None:
    have = next((m for m in existing if _last(m.get("name")) == metric.key), None)
    if have is not None and same(metric.body, have):
        return None
    _write(path, metric.body)
    verb = "create" if have is None else "update"
    return ["gcloud", "logging", "metrics", verb, metric.key, "--project", options.project,
            f"--config-from-file={path}"]  # fmt: skip


def _policy(
    options: Options, policy: Resource, existing: Sequence[Mapping[str, Any]], path: Path
) -> Command | None:
    # A policy's id is Google's: it is found again by the labels the file gives it.
    wanted = (options.function, policy.key)
    have = next((p for p in existing if _labels(p) == wanted), None)
    if have is not None and same(policy.body, have):
        return None
    _write(path, policy.body)
    verb = ["create"] if have is None else ["update", str(have["name"])]
    return ["gcloud", "monitoring", "policies", *verb, "--project", options.project,
            f"--policy-from-file={path}"]  # fmt: skip


def _dashboard(
    options: Options, dashboard: Resource, existing: Sequence[Mapping[str, Any]], path: Path
) -> Command | None:
    # Created with its id in `name` (projects/P/dashboards/FUNCTION), read back with the
    # project's number in it: compared without it.
    have = next((d for d in existing if _last(d.get("name")) == dashboard.key), None)
    body = {key: value for key, value in dashboard.body.items() if key != "name"}
    if have is not None and same(body, have):
        return None
    if have is None:
        _write(path, dashboard.body)
        verb = ["create"]
    else:
        # With the etag read, an update fails rather than overwrite an edit made since.
        _write(path, {**dashboard.body, "etag": have.get("etag", "")})
        verb = ["update", dashboard.key]
    return ["gcloud", "monitoring", "dashboards", *verb, "--project", options.project,
            f"--config-from-file={path}"]  # fmt: skip


def same(want: Any, have: Any) -> bool:
    """Whether a resource read back from Google has every field the file sets, to the same
    value. Google adds fields (names, records, etags) and leaves out a field at its default."""
    if isinstance(want, dict):
        have = have if isinstance(have, dict) else {}
        return all(same(value, have.get(key)) for key, value in want.items())
    if isinstance(want, list):
        have = have if isinstance(have, list) else []
        return len(want) == len(have) and all(map(same, want, have))
    if have is None:
        return want in (None, "", 0, False, "0s")  # "0s": a zero duration, left out too
    if isinstance(want, bool) or isinstance(have, bool):
        return want is have
    if isinstance(want, int | float):
        try:
            return float(have) == float(want)
        except (TypeError, ValueError):
            return False
    return bool(want == have)


def _last(name: object) -> str:
    return str(name or "").rsplit("/", 1)[-1]


def _labels(policy: Mapping[str, Any]) -> tuple[str, str]:
    labels = policy.get("userLabels") or {}
    return str(labels.get(LABEL, "")), str(labels.get(ALERT_LABEL, ""))


def _write(path: Path, body: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(body, indent=2) + "\n", "utf-8")


def _read_list(path: Path) -> list[dict[str, Any]]:
    text = path.read_text("utf-8").strip()
    found = json.loads(text) if text else []
    if not isinstance(found, list):
        raise MonitoringInputError(f"{path}: not the JSON list gcloud prints")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.monitoring",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=("reads", "plan"))
    parser.add_argument("--project", required=True)
    parser.add_argument("--function", default="okta-registration-hook")
    parser.add_argument("--notification-channel", action="append", default=[], metavar="NAME")
    parser.add_argument("--no-requests-hours", type=int, metavar="N")
    parser.add_argument("--metrics", type=Path, help="what `gcloud logging metrics list` printed")
    parser.add_argument(
        "--policies", type=Path, help="what `gcloud monitoring policies list` printed"
    )
    parser.add_argument(
        "--dashboards", type=Path, help="what `gcloud monitoring dashboards list` printed"
    )
    parser.add_argument("--out", type=Path, help="where the resources are written")
    args = parser.parse_args(argv)
    try:
        options = Options(
            args.project, args.function, tuple(args.notification_channel), args.no_requests_hours
        )
        if args.action == "reads":
            commands = read_commands(options)
        else:
            if not (args.metrics and args.policies and args.dashboards and args.out):
                raise MonitoringInputError("plan needs --metrics, --policies, --dashboards, --out")
            commands = plan(
                options,
                _read_list(args.metrics),
                _read_list(args.policies),
                _read_list(args.dashboards),
                args.out,
            )
    except (MonitoringInputError, OSError, ValueError) as e:
        print(f"tools.monitoring: {e}", file=sys.stderr)
        return 2
    for command in commands:
        print(json.dumps(command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
