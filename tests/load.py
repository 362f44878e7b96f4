"""A bounded load test: the served function under concurrent mixed traffic, every answer checked.

    python -m tests.load --requests 20000 --concurrency 64

Serves the function with functions-framework on loopback, sends a mix of valid and invalid
credentials and of allowed and denied requests, and checks every answer, the count of audit
lines (exactly one per request) and the worker's memory. Stops by itself; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import BASIC_PASSWORD, BASIC_USER, POLICIES, basic, sample
from tests.server_support import Served, serve


@dataclass(frozen=True)
class Case:
    name: str
    body: bytes
    headers: dict[str, str]
    status: int
    decision: str | None  # "ALLOW" / "DENY" for a 200


def _json(document: Any) -> bytes:
    return json.dumps(document).encode("utf-8")


def basic_cases() -> list[Case]:
    headers = {"Content-Type": "application/json", "Authorization": basic()}
    wrong = {"Content-Type": "application/json", "Authorization": basic(BASIC_USER, "wrong")}
    allow = sample("ssr")
    allow["data"]["userProfile"]["employeeNumber"] = "1234"
    deny = sample("ssr")
    deny["data"]["userProfile"].update(email="x@evil-example.com", employeeNumber="12a4")
    bad_number = sample("progressive")
    bad_number["data"]["userProfileUpdate"]["employeeNumber"] = "١٢٣٤"
    return [
        Case("registration allow", _json(allow), headers, 200, "ALLOW"),
        Case("registration deny", _json(deny), headers, 200, "DENY"),
        Case("progressive allow", _json(sample("progressive")), headers, 200, "ALLOW"),
        Case("progressive deny", _json(bad_number), headers, 200, "DENY"),
        Case("wrong password", _json(allow), wrong, 401, None),
        Case("no credentials", _json(allow), {"Content-Type": "application/json"}, 401, None),
        Case("malformed body", b"{", headers, 400, None),
    ]


def worker_rss_kib(served: Served) -> int:
    """Resident memory of the server's worker processes (gunicorn forks them)."""
    total = 0
    pids = [served.process.pid]
    seen = set()
    while pids:
        pid = pids.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        if match and pid != served.process.pid:
            total += int(match.group(1))
        pids.extend(int(c) for c in children)
    return total


def run(
    served: Served,
    cases: list[Case],
    requests: int,
    concurrency: int,
    deadline_s: float,
) -> dict[str, Any]:
    host, port = served.url.split("//")[1].rstrip("/").split(":")
    local = threading.local()
    failures: list[str] = []
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    stop_at = time.monotonic() + deadline_s
    opened: list[http.client.HTTPConnection] = []

    def connection() -> http.client.HTTPConnection:
        if getattr(local, "conn", None) is None:
            local.conn = http.client.HTTPConnection(host, int(port), timeout=10)
            with lock:
                opened.append(local.conn)
        conn: http.client.HTTPConnection = local.conn
        return conn

    def one(index: int) -> None:
        if time.monotonic() > stop_at:
            with lock:
                outcomes["not sent (time bound)"] += 1
            return
        case = cases[index % len(cases)]
        try:
            conn = connection()
            conn.request("POST", "/", body=case.body, headers=case.headers)
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as e:
            local.conn.close()
            local.conn = None
            with lock:
                failures.append(f"{case.name}: {e.__class__.__name__}")
            return
        problem = check(case, response.status, response.getheader("Content-Type"), body)
        with lock:
            outcomes[case.name] += 1
            if problem:
                failures.append(f"{case.name}: {problem}")

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, range(requests)))
    elapsed = time.perf_counter() - started
    for conn in opened:
        conn.close()
    return {"elapsed": elapsed, "failures": failures, "outcomes": outcomes}


def check(case: Case, status: int, content_type: str | None, body: bytes) -> str | None:
    if status != case.status:
        return f"status {status}, expected {case.status}"
    if content_type != "application/json":
        return f"Content-Type {content_type}"
    try:
        document = json.loads(body)
    except ValueError:
        return "body is not JSON"
    if case.decision is not None:
        actions = [
            c["value"]["registration"]
            for c in document["commands"]
            if c["type"] == "com.okta.action.update"
        ]
        if actions != [case.decision]:
            return f"decision {actions}, expected {case.decision}"
    return None


def audit_lines(served: Served) -> int:
    return sum(
        1 for line in served.log().splitlines() if '"message": "okta registration hook ' in line
    )


def load_test(
    requests: int,
    concurrency: int,
    deadline_s: float = 120.0,
    extra_env: dict[str, str] | None = None,
    extra_cases: Callable[[], list[Case]] | None = None,
    log_dir: Path | None = None,
) -> dict[str, Any]:
    env = {
        "OKTA_HOOK_BASIC_CREDENTIALS": f"{BASIC_USER}:{BASIC_PASSWORD}",
        "OKTA_HOOK_POLICY": str(POLICIES / "ssr_and_progressive.toml"),
        "THREADS": str(min(concurrency, 16)),
        **(extra_env or {}),
    }
    cases = basic_cases() + (extra_cases() if extra_cases else [])
    with tempfile.TemporaryDirectory() as tmp, serve(env, log_dir or Path(tmp)) as served:
        warm = run(served, cases, min(requests // 10, 500), concurrency, deadline_s)
        rss_before = worker_rss_kib(served)
        result = run(served, cases, requests, concurrency, deadline_s)
        rss_after = worker_rss_kib(served)
        time.sleep(0.2)  # the last lines reach the log file
        lines = audit_lines(served)
    sent = sum(warm["outcomes"].values()) + sum(result["outcomes"].values())
    return {
        "requests": sum(result["outcomes"].values()),
        "concurrency": concurrency,
        "seconds": round(result["elapsed"], 2),
        "per_second": round(sum(result["outcomes"].values()) / result["elapsed"]),
        "failures": warm["failures"] + result["failures"],
        "audit_lines": lines,
        "answered": sent,
        "rss_kib_before": rss_before,
        "rss_kib_after": rss_after,
        "outcomes": dict(result["outcomes"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.load", description=__doc__)
    parser.add_argument("--requests", type=int, default=10000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--deadline", type=float, default=300.0, help="stop sending after this")
    args = parser.parse_args(argv)
    report = load_test(args.requests, args.concurrency, args.deadline)
    print(json.dumps(report, indent=2))
    ok = not report["failures"] and report["audit_lines"] == report["answered"]
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
