"""The load test in its short form: thousands of mixed concurrent requests, Basic and Bearer,
every answer right."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.load import load_test
from tools.report import main as report_main
from tools.report import read_lines, summarize


def test_short_load(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = load_test(requests=3000, concurrency=32, log_dir=tmp_path)
    print(report)
    assert report["failures"] == []
    assert report["requests"] == 3000
    assert report["audit_lines"] == report["answered"]
    assert report["unexpected_log_lines"] == []
    # Every case of the mix was answered, Bearer ones included.
    assert len(report["outcomes"]) == 15
    assert min(report["outcomes"].values()) >= 100
    # The cold start, then at most one refetch for the unknown kid every 30 s.
    assert report["key_fetches"] <= 1 + 1 + int(report["seconds"] // 30)
    # Flat memory: the worker does not grow with the number of requests served.
    assert report["rss_kib_after"] - report["rss_kib_before"] < 8 * 1024

    # tools.report, on the load test's own log, counts what the load test tallied itself.
    summary = summarize(read_lines(Path(report["log_path"]).read_text("utf-8")))
    assert summary.requests == report["answered"]
    assert dict(summary.statuses) == report["statuses"]
    assert dict(summary.decision_totals()) == report["decisions"]
    assert len(summary.latencies) == report["answered"]
    capsys.readouterr()
    assert report_main([report["log_path"]]) == 0
    printed = capsys.readouterr().out
    assert f"audit lines: {report['answered']}," in printed
    assert (
        f"decisions: ALLOW {report['decisions']['ALLOW']}, DENY {report['decisions']['DENY']}"
        in printed
    )
    for status, count in report["statuses"].items():
        assert f"HTTP {status}: {count}" in printed
