"""What the hook decided, from its audit lines: what an identity engineer reads before turning a
shadowed rule on.

    python -m tools.report FILE          # the function's log: one JSON line per entry
    gcloud logging read 'resource.labels.service_name="okta-registration-hook"
        AND jsonPayload.event="request"' --format=json --freshness=7d | python -m tools.report -

Reads JSON lines as the function writes them, or the JSON array `gcloud logging read
--format=json` prints (each entry's fields under `jsonPayload`); other lines are skipped. Prints
decisions by hour (UTC), the top reason codes, what shadow-mode rules would have denied, rule by
rule, latency percentiles and Okta's retries. Values never reach the audit line, so they never
reach this report.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.strict_json import loads

AUDIT_MESSAGE = "okta registration hook "
PERCENTILES = (50, 90, 95, 99)
# RFC 3339 with a zone, as the function writes `time` (+00:00) and Cloud Logging `timestamp` (Z).
_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})"
)


@dataclass(frozen=True)
class Line:
    timestamp: str | None  # None, or a timestamp `moment` reads
    fields: Mapping[str, Any]


@dataclass
class Summary:
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    decisions: Counter[tuple[str, str]] = field(default_factory=Counter)  # (requestType, decision)
    by_hour: dict[str, Counter[str]] = field(default_factory=dict)
    reasons: Counter[str] = field(default_factory=Counter)
    shadow: Counter[str] = field(default_factory=Counter)  # "attribute:REASON"
    shadow_unlisted: int = 0
    shadow_requests: int = 0
    latencies: list[float] = field(default_factory=list)
    retries: Counter[str] = field(default_factory=Counter)  # by decision, or by HTTP status
    first: str | None = None
    last: str | None = None
    first_moment: datetime | None = None
    last_moment: datetime | None = None

    def decision_totals(self) -> Counter[str]:
        totals: Counter[str] = Counter()
        for (_, decision), count in self.decisions.items():
            totals[decision] += count
        return totals


def read_lines(text: str) -> Iterator[Line]:
    """Every JSON object of the input, as (timestamp, payload). A line that is not strict JSON
    (core.strict_json: nested too deeply, say), or whose timestamp is not one `moment` reads, is
    skipped."""
    items: list[Any] = []
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            document = loads(stripped)
            items = document if isinstance(document, list) else []
        except ValueError:
            # A log whose first line is the server's `[time] [pid] ...`, or a broken array.
            items = [_json(line) for line in text.splitlines()]
            if not any(isinstance(item, dict) for item in items):
                raise
    else:
        items = [_json(line) for line in text.splitlines()]
    for item in items:
        if not isinstance(item, dict):
            continue
        payload = item.get("jsonPayload")
        if isinstance(payload, dict):
            timestamp, fields = item.get("timestamp") or payload.get("time"), payload
        else:
            timestamp, fields = item.get("time") or item.get("timestamp"), item
        if timestamp is None or moment(timestamp) is not None:
            yield Line(timestamp, fields)


def _json(line: str) -> Any:
    try:
        return loads(line)
    except ValueError:
        return None


def moment(timestamp: object) -> datetime | None:
    """The instant of an RFC 3339 timestamp with a zone, in UTC; None for anything else."""
    if not isinstance(timestamp, str) or not _TIMESTAMP.fullmatch(timestamp):
        return None
    try:
        return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).astimezone(UTC)
    except (ValueError, OverflowError):  # 2024-02-30, or a zone moving year 1 out of range
        return None


def is_audit(line: Line) -> bool:
    if line.fields.get("event") == "request":
        return True
    return str(line.fields.get("message", "")).startswith(AUDIT_MESSAGE) and "status" in line.fields


def summarize(lines: Iterable[Line]) -> Summary:
    summary = Summary()
    for line in lines:
        if not is_audit(line):
            continue
        fields = line.fields
        summary.requests += 1
        status = _int(fields.get("status"))
        summary.statuses[status] += 1
        decision = fields.get("decision")
        outcome = str(decision) if decision in ("ALLOW", "DENY") else f"HTTP {status}"
        if decision in ("ALLOW", "DENY"):
            summary.decisions[(str(fields.get("requestType", "-")), str(decision))] += 1
        at = moment(line.timestamp)
        if at is not None:
            hour = at.isoformat()[:13]
            summary.by_hour.setdefault(hour, Counter())[outcome] += 1
            if summary.first_moment is None or at < summary.first_moment:
                summary.first, summary.first_moment = line.timestamp, at
            if summary.last_moment is None or at > summary.last_moment:
                summary.last, summary.last_moment = line.timestamp, at
        for reason in _list(fields.get("reasons")):
            summary.reasons[str(reason)] += 1
        shadowed = _list(fields.get("shadow_reasons"))
        if shadowed:
            summary.shadow_requests += 1
        for item in shadowed:
            if isinstance(item, dict):
                summary.shadow[f"{item.get('attribute')}:{item.get('reason')}"] += 1
        summary.shadow_unlisted += _int(fields.get("shadow_reasons_unlisted"))
        latency = fields.get("latency_ms")
        if (
            isinstance(latency, int | float)
            and not isinstance(latency, bool)
            and math.isfinite(latency)
        ):
            summary.latencies.append(float(latency))
        if fields.get("retry") is True:
            summary.retries[outcome] += 1
    return summary


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return value


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def render(summary: Summary, top: int = 10) -> str:
    out: list[str] = []
    span = f", {summary.first} to {summary.last}" if summary.first else ""
    out.append(f"audit lines: {summary.requests}{span}")
    if not summary.requests:
        return "\n".join(out)
    out.append(
        "answers: " + ", ".join(f"HTTP {s}: {n}" for s, n in sorted(summary.statuses.items()))
    )
    totals = summary.decision_totals()
    out.append(f"decisions: ALLOW {totals['ALLOW']}, DENY {totals['DENY']}")
    for (request_type, decision), count in sorted(summary.decisions.items()):
        out.append(f"  {request_type:<28} {decision:<5} {count}")

    out.append("\ndecisions by hour (UTC):")
    columns = [
        "ALLOW",
        "DENY",
        *sorted({k for c in summary.by_hour.values() for k in c} - {"ALLOW", "DENY"}),
    ]
    out.append("  " + f"{'hour':<18}" + "".join(f"{c:>10}" for c in columns))
    for hour in sorted(summary.by_hour):
        counts = summary.by_hour[hour]
        out.append(
            "  "
            + f"{hour.replace('T', ' ') + ':00':<18}"
            + "".join(f"{counts[c]:>10}" for c in columns)
        )

    out.append(f"\ntop reasons (codes of the causes of DENY answers, top {top}):")
    out.extend(f"  {reason:<40} {count}" for reason, count in summary.reasons.most_common(top))
    if not summary.reasons:
        out.append("  none")

    out.append("\nshadow mode: would-be denials per rule (attribute:REASON):")
    out.extend(f"  {rule:<40} {count}" for rule, count in summary.shadow.most_common())
    if summary.shadow:
        out.append(
            f"  in {summary.shadow_requests} requests; not listed: {summary.shadow_unlisted}"
        )
    else:
        out.append("  none")

    values = summary.latencies
    if values:
        marks = ", ".join(f"p{p} {percentile(values, p):.1f}" for p in PERCENTILES)
        out.append(f"\nlatency (ms, {len(values)} answers): {marks}, max {max(values):.1f}")
    retried = sum(summary.retries.values())
    detail = ", ".join(f"{k} {n}" for k, n in sorted(summary.retries.items()))
    out.append(
        f"\nretries (an eventId the same instance had answered before): {retried}"
        + (f" ({detail})" if detail else "")
    )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.report",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", nargs="?", default="-", metavar="FILE|-")
    parser.add_argument("--top", type=_positive, default=10, help="how many reasons to list")
    args = parser.parse_args(argv)
    try:
        if args.file == "-":
            text = sys.stdin.read()
        else:
            with open(args.file, encoding="utf-8", errors="replace") as f:
                text = f.read()
        summary = summarize(read_lines(text))
    except (OSError, ValueError) as e:
        print(f"tools.report: {e.__class__.__name__}: {e}", file=sys.stderr)
        return 1
    print(render(summary, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
