"""A bounded load test: the served function under concurrent mixed traffic, every answer checked.

    python -m tests.load --requests 20000 --concurrency 64

Serves the function with functions-framework on loopback, with Basic and Bearer enabled and the
issuer's keys on a loopback key server, sends a mix of valid and invalid credentials (a wrong
password, none, Okta's token, an expired one, one for another audience, one for another client,
a forged one, one with an unknown kid) and of allowed and denied requests, and checks every
answer, the count of audit lines (exactly one per request), the log (no crash, no line beyond
the expected ones) and the worker's memory. Stops by itself; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import contextlib
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
from tests.jwt_support import KeyServer, bearer_env, key_server, mint, okta_claims
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


def bearer_cases(okta: KeyServer) -> list[Case]:
    def headers(token: str) -> dict[str, str]:
        return {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}

    allow = sample("ssr")
    allow["data"]["userProfile"]["employeeNumber"] = "1234"
    deny = sample("ssr")
    deny["data"]["userProfile"]["email"] = "x@evil-example.com"
    now = int(time.time())
    valid = mint(okta_claims(okta.issuer))
    return [
        Case("bearer allow", _json(allow), headers(valid), 200, "ALLOW"),
        Case("bearer deny", _json(deny), headers(valid), 200, "DENY"),
        Case("bearer progressive", _json(sample("progressive")), headers(valid), 200, "ALLOW"),
        Case(
            "bearer expired",
            _json(allow),
            headers(mint(okta_claims(okta.issuer, iat=now - 7200, exp=now - 3600))),
            401,
            None,
        ),
        Case(
            "bearer other audience",
            _json(allow),
            headers(mint(okta_claims(okta.issuer, aud="api://other"))),
            401,
            None,
        ),
        Case(
            "bearer other client",
            _json(allow),
            headers(mint(okta_claims(okta.issuer, cid="0oa-other"))),
            403,
            None,
        ),
        Case(
            "bearer forged",
            _json(allow),
            headers(mint(okta_claims(okta.issuer), key_name="attacker")),
            401,
            None,
        ),
        Case(
            "bearer unknown kid",
            _json(allow),
            headers(mint(okta_claims(okta.issuer), key_name="attacker", kid="kid-unknown")),
            401,
            None,
        ),
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
    # What the server answered, as its audit lines should count it (tools.report reads them).
    statuses: Counter[int] = Counter()
    decisions: Counter[str] = Counter()
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
        decision = decision_of(body) if response.status == 200 else None
        with lock:
            outcomes[case.name] += 1
            statuses[response.status] += 1
            if decision is not None:
                decisions[decision] += 1
            if problem:
                failures.append(f"{case.name}: {problem}")

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, range(requests)))
    elapsed = time.perf_counter() - started
    for conn in opened:
        conn.close()
    return {
        "elapsed": elapsed,
        "failures": failures,
        "outcomes": outcomes,
        "statuses": statuses,
        "decisions": decisions,
    }


def decision_of(body: bytes) -> str | None:
    try:
        commands = json.loads(body)["commands"]
        return next(
            str(c["value"]["registration"])
            for c in commands
            if c["type"] == "com.okta.action.update"
        )
    except (ValueError, KeyError, TypeError, StopIteration):
        return None


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


# Log lines other than audit lines that the mix may cause: cold start, and the refetch an
# unknown kid triggers (at most once every 30 s).
EXPECTED_MESSAGES = (
    re.compile(r"hook ready$"),
    re.compile(r"signing keys of \S+ read (again )?from \S+$"),
    re.compile(r"secret OKTA_HOOK_\w+ read from the environment$"),
    re.compile(r"OKTA_HOOK_CLIENT_IDS is not set"),
)


def unexpected_log_lines(served: Served) -> list[str]:
    unexpected = []
    for line in served.log().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            if line.strip() and "functions_framework" not in line and "gunicorn" not in line:
                unexpected.append(line[:200])
            continue
        message = str(entry.get("message", ""))
        if message.startswith("okta registration hook "):
            if entry.get("status", 0) >= 500:
                unexpected.append(line[:200])
            continue
        if not any(expected.match(message) for expected in EXPECTED_MESSAGES):
            unexpected.append(line[:200])
    return unexpected


def load_test(
    requests: int,
    concurrency: int,
    deadline_s: float = 120.0,
    extra_env: dict[str, str] | None = None,
    extra_cases: Callable[[], list[Case]] | None = None,
    log_dir: Path | None = None,
) -> dict[str, Any]:
    with contextlib.ExitStack() as stack:
        okta = stack.enter_context(key_server())
        env = {
            **bearer_env(okta),
            "OKTA_HOOK_BASIC_CREDENTIALS": f"{BASIC_USER}:{BASIC_PASSWORD}",
            "OKTA_HOOK_POLICY": str(POLICIES / "ssr_and_progressive.toml"),
            **(extra_env or {}),
        }
        cases = basic_cases() + bearer_cases(okta) + (extra_cases() if extra_cases else [])
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        served = stack.enter_context(serve(env, log_dir or Path(tmp)))
        warm = run(served, cases, min(requests // 10, 500), concurrency, deadline_s)
        rss_before = worker_rss_kib(served)
        result = run(served, cases, requests, concurrency, deadline_s)
        rss_after = worker_rss_kib(served)
        time.sleep(0.2)  # the last lines reach the log file
        lines = audit_lines(served)
        unexpected = unexpected_log_lines(served)
        key_fetches = okta.key_fetches()
        log_path = served.log_path
    sent = sum(warm["outcomes"].values()) + sum(result["outcomes"].values())
    return {
        "requests": sum(result["outcomes"].values()),
        "concurrency": concurrency,
        "seconds": round(result["elapsed"], 2),
        "per_second": round(sum(result["outcomes"].values()) / result["elapsed"]),
        "failures": warm["failures"] + result["failures"],
        "audit_lines": lines,
        "answered": sent,
        "unexpected_log_lines": unexpected[:20],
        "key_fetches": key_fetches,
        "rss_kib_before": rss_before,
        "rss_kib_after": rss_after,
        "outcomes": dict(result["outcomes"]),
        # Every answer, the warm-up's included: what the log's audit lines must add up to.
        "statuses": dict(warm["statuses"] + result["statuses"]),
        "decisions": dict(warm["decisions"] + result["decisions"]),
        "log_path": str(log_path),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.load", description=__doc__)
    parser.add_argument("--requests", type=int, default=10000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--deadline", type=float, default=300.0, help="stop sending after this")
    args = parser.parse_args(argv)
    report = load_test(args.requests, args.concurrency, args.deadline)
    print(json.dumps(report, indent=2))
    ok = (
        not report["failures"]
        and not report["unexpected_log_lines"]
        and report["audit_lines"] == report["answered"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
