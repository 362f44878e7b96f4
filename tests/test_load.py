"""The load test in its short form: thousands of mixed concurrent requests, Basic and Bearer,
every answer right."""

from __future__ import annotations

from pathlib import Path

from tests.load import load_test


def test_short_load(tmp_path: Path) -> None:
    report = load_test(requests=3000, concurrency=32, log_dir=tmp_path)
    print(report)
    assert report["failures"] == []
    assert report["requests"] == 3000
    assert report["audit_lines"] == report["answered"]
    assert report["unexpected_log_lines"] == []
    # Every case of the mix was answered, Bearer ones included.
    assert len(report["outcomes"]) == 15 and min(report["outcomes"].values()) >= 100
    # The cold start, then at most one refetch for the unknown kid every 30 s.
    assert report["key_fetches"] <= 1 + 1 + int(report["seconds"] // 30)
    # Flat memory: the worker does not grow with the number of requests served.
    assert report["rss_kib_after"] - report["rss_kib_before"] < 8 * 1024
