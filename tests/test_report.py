"""tools.report: the audit lines, local or from `gcloud logging read --format=json`, summed up."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.monitoring_support import log_entry
from tools import report

T0 = "2024-06-01T10:15:00.000001+00:00"
T1 = "2024-06-01T11:02:00.5+00:00"


def audit(**fields: Any) -> dict[str, Any]:
    line = {
        "severity": "INFO",
        "message": f"okta registration hook {fields.get('requestType', '-')} x",
        "time": T0,
        "logger": "okta_hook",
        "requestType": "self.service.registration",
        "status": 200,
        "latency_ms": 1.0,
        "event": "request",
    }
    line.update(fields)
    return {k: v for k, v in line.items() if v is not None}


LINES = [
    audit(decision="ALLOW", latency_ms=1.0),
    audit(decision="DENY", reasons=["INVALID_EMAIL_DOMAIN", "INVALID_NAME"], latency_ms=2.0),
    audit(decision="DENY", reasons=["INVALID_EMAIL_DOMAIN"], latency_ms=3.0, time=T1, retry=True),
    audit(
        decision="ALLOW",
        shadow_reasons=[{"attribute": "firstName", "reason": "INVALID_NAME"}],
        latency_ms=4.0,
        time=T1,
    ),
    audit(
        decision="ALLOW",
        requestType="progressive.profile",
        shadow_reasons=[
            {"attribute": "firstName", "reason": "INVALID_NAME"},
            {"attribute": "nickName", "reason": "TOO_LONG"},
        ],
        shadow_reasons_unlisted=2,
        latency_ms=5.0,
        time=T1,
    ),
    audit(status=401, error="unauthenticated", requestType=None, latency_ms=100.0, time=T1),
    # Not audit lines: a startup line and a line from the server.
    {"severity": "INFO", "message": "hook ready", "logger": "okta_hook", "event": "config"},
]


def check(summary: report.Summary) -> None:
    assert summary.requests == 6
    assert summary.statuses == {200: 5, 401: 1}
    assert summary.decisions == {
        ("self.service.registration", "ALLOW"): 2,
        ("self.service.registration", "DENY"): 2,
        ("progressive.profile", "ALLOW"): 1,
    }
    assert summary.by_hour == {
        "2024-06-01T10": {"ALLOW": 1, "DENY": 1},
        "2024-06-01T11": {"DENY": 1, "ALLOW": 2, "HTTP 401": 1},
    }
    assert summary.reasons == {"INVALID_EMAIL_DOMAIN": 2, "INVALID_NAME": 1}
    assert summary.shadow == {"firstName:INVALID_NAME": 2, "nickName:TOO_LONG": 1}
    assert (summary.shadow_requests, summary.shadow_unlisted) == (2, 2)
    assert sorted(summary.latencies) == [1.0, 2.0, 3.0, 4.0, 5.0, 100.0]
    assert summary.retries == {"DENY": 1}


def test_local_json_lines_with_other_lines_between() -> None:
    text = "[2024-06-01 10:00:00 +0000] [1] [INFO] Starting gunicorn\n"
    text += "\n".join(json.dumps(line) for line in LINES) + "\nnot json\n"
    check(report.summarize(report.read_lines(text)))


def test_gcloud_logging_read_output() -> None:
    # gcloud prints a JSON array of entries, newest first, the fields under jsonPayload.
    entries = [log_entry(line) for line in reversed(LINES)]
    check(report.summarize(report.read_lines(json.dumps(entries, indent=2))))


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert [report.percentile(values, p) for p in (50, 90, 99, 100)] == [50, 90, 99, 100]
    assert report.percentile([7.0], 99) == 7.0


def test_what_it_prints(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in LINES))
    assert report.main([str(path)]) == 0
    out = capsys.readouterr().out
    assert f"audit lines: 6, {T0} to {T1}" in out
    assert "answers: HTTP 200: 5, HTTP 401: 1" in out
    assert "decisions: ALLOW 3, DENY 2" in out
    assert "2024-06-01 11:00" in out
    assert "INVALID_EMAIL_DOMAIN" in out.split("top reasons")[1]
    shadow = out.split("shadow mode")[1]
    assert shadow.index("firstName:INVALID_NAME") < shadow.index("nickName:TOO_LONG")
    assert "in 2 requests; not listed: 2" in shadow
    assert "p50 3.0, p90 100.0, p95 100.0, p99 100.0, max 100.0" in out
    assert "retries (an eventId the same instance had answered before): 1 (DENY 1)" in out


def test_standard_input_and_errors(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps([log_entry(LINES[0])])))
    assert report.main(["-"]) == 0
    assert "audit lines: 1," in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert report.main([]) == 0
    assert capsys.readouterr().out.strip() == "audit lines: 0"
    assert report.main([str(tmp_path / "missing.json")]) == 1
    bad = tmp_path / "bad.json"
    bad.write_text("[{")
    assert report.main([str(bad)]) == 1


def test_a_time_that_is_not_a_timestamp_is_skipped_never_compared(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    odd: list[Any] = [
        123,
        12.5,
        True,
        ["2026-01-01T00:00:00Z"],
        {"at": "2026-01-01T00:00:00Z"},
        "yesterday",
        "2026-01-01",
        "2026-01-01T00:00:00",  # no zone
        "2026-02-30T00:00:00Z",
        "0001-01-01T00:30:00+01:00",  # before year 1 in UTC
        "２０２６-01-01T00:00:00Z",  # digits, but not ASCII ones
    ]
    good = "2026-01-01T00:00:00Z"
    lines = [{"event": "request", "time": t} for t in [*odd, good]]
    summary = report.summarize(report.read_lines("\n".join(json.dumps(x) for x in lines)))
    assert (summary.requests, summary.first, summary.last) == (1, good, good)
    entries = [{"timestamp": t, "jsonPayload": {"event": "request"}} for t in [123, good]]
    summary = report.summarize(report.read_lines(json.dumps(entries)))
    assert (summary.requests, summary.first, summary.last) == (1, good, good)

    path = tmp_path / "log.jsonl"
    path.write_text(f'{{"event":"request","time":123}}\n{{"event":"request","time":"{good}"}}\n')
    assert report.main([str(path)]) == 0
    assert f"audit lines: 1, {good} to {good}" in capsys.readouterr().out


def test_first_last_and_hours_are_by_instant_in_utc() -> None:
    times = ["2024-06-01T10:00:00.5Z", "2024-06-01T10:00:00Z", "2024-06-01T09:30:00-02:00"]
    text = "\n".join(json.dumps(audit(decision="ALLOW", time=t)) for t in times)
    summary = report.summarize(report.read_lines(text))
    assert (summary.first, summary.last) == ("2024-06-01T10:00:00Z", "2024-06-01T09:30:00-02:00")
    assert summary.by_hour == {"2024-06-01T10": {"ALLOW": 2}, "2024-06-01T11": {"ALLOW": 1}}


def test_a_line_nested_too_deeply_is_unreadable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = "[" * 100_000
    good = [json.dumps(line) for line in LINES]
    for text in ("\n".join([*good, deep]), "\n".join([deep, *good])):
        check(report.summarize(report.read_lines(text)))
    path = tmp_path / "deep.jsonl"
    path.write_text("\n".join([*good[:3], deep, *good[3:]]))
    assert report.main([str(path)]) == 0
    assert "audit lines: 6," in capsys.readouterr().out
    # Only the deep line: read as a broken array, which is an error, told in one line.
    path.write_text(deep)
    assert report.main([str(path)]) == 1
    out, err = capsys.readouterr()
    assert (out, err) == ("", "tools.report: StrictJsonError: JSON too deep\n")


def test_fields_of_the_wrong_type_are_ignored() -> None:
    lines = [
        audit(decision="DENY", reasons=5, shadow_reasons=7, latency_ms=True),
        audit(decision="DENY", reasons="CODE", shadow_reasons={"a": 1}, latency_ms="2"),
    ]
    summary = report.summarize(report.read_lines("\n".join(json.dumps(x) for x in lines)))
    assert summary.requests == 2
    assert (summary.reasons, summary.shadow, summary.latencies) == ({}, {}, [])


@pytest.mark.parametrize("top", ["0", "-1", "x", "1.5"])
def test_top_is_a_positive_integer(
    top: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in LINES))
    assert report.main([str(path), "--top", "1"]) == 0
    reasons = capsys.readouterr().out.split("top reasons")[1].split("shadow mode")[0]
    assert "INVALID_EMAIL_DOMAIN" in reasons
    assert "INVALID_NAME" not in reasons
    with pytest.raises(SystemExit) as exit_info:
        report.main([str(path), "--top", top])
    assert exit_info.value.code == 2
    assert "argument --top: must be a positive integer" in capsys.readouterr().err
