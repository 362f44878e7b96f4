"""Section 5: over HTTP on loopback, served as Cloud Functions serves it, loaded by wrk.

`python -m functions_framework` runs gunicorn with WORKERS processes: for an `aio` function (the
hook, the trivial ASGI functions) each is a uvicorn worker running one event loop; for a WSGI
function (the trivial WSGI functions, the path the hook left) each runs THREADS threads. wrk
keeps a fixed number of requests in flight (closed loop) and reports throughput and latency
percentiles; a Lua script makes each request a POST with Okta's body and headers, and counts any
answer that is not 2xx. Every server is started first and stays up; each round loads every case
in turn, so that a ratio compares figures taken seconds apart. wrk runs on the same machine and
takes CPU from the server: the ratios share that handicap, the absolute figures do not show a
dedicated instance. After the rounds, each worker's peak RSS (VmHWM) is read from /proc; then
the hook with one worker per CPU is loaded with more requests in flight. uvicorn serves with
h11 and the uvloop event loop that requirements.txt ships (not httptools: requirements.txt says
why); the trivial ASGI function and the hook are also served without uvloop (asyncio,
bench/pure_python), to tell what it brings.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bench.request import PASSWORD, USER, basic_header, bodies
from bench.stats import Row, Spread, ratios
from tests.jwt_support import bearer_env, key_server, mint, okta_claims
from tests.server_support import free_port

ROOT = Path(__file__).resolve().parent.parent
HOOK = ROOT / "main.py"
WSGI = ROOT / "bench" / "trivial" / "main.py"
ASGI = ROOT / "bench" / "trivial" / "aio_main.py"
SECTION = "5 http"
CONCURRENCY = 8  # requests in flight in the comparisons (deploy.sh allows 80 an instance)
IN_FLIGHT = (8, 32, 80)  # the hook with one worker per CPU, for the choice of --concurrency
# Targets, as ratios of the same round.
ONE_WORKER_VS_WSGI = 1.5
ONE_WORKER_VS_ASGI = 0.6
ONE_WORKER_P99_MS = 6.0
PER_CPU_VS_WSGI = 2.8
# A worker that did more than this share of the work had (nearly) every connection.
LOPSIDED = 0.9
# On a server's PYTHONPATH, it hides uvicorn's optional HTTP parser and event loop.
PURE_PYTHON = ROOT / "bench" / "pure_python"
SHIPPED_EXTRAS = "uvloop"
LUA = """
wrk.method = "POST"
wrk.body = [==[{body}]==]
wrk.headers["Content-Type"] = "application/json"
{authorization}
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"non2xx":%d,"errors":%d}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""
Result = dict[str, float]


@dataclass(frozen=True)
class Server:
    source: Path
    target: str
    workers: int
    threads: int | None = None  # WSGI only: the threads of each worker
    pure_python: bool = False  # uvicorn without uvloop: asyncio

    @property
    def settings(self) -> dict[str, str]:
        layout = {"WORKERS": str(self.workers)}
        if self.threads is not None:
            layout["THREADS"] = str(self.threads)
        if self.pure_python:
            layout["PYTHONPATH"] = str(PURE_PYTHON)
        return layout


@dataclass(frozen=True)
class Case:
    name: str  # e.g. "trivial WSGI function", "hook, Basic"
    server: Server
    script: str  # "plain", "Basic" or "Bearer"


def layouts() -> tuple[int, ...]:
    """WORKERS: one process as for --cpu 1, and one per CPU as deploy.sh sets it."""
    cpus = os.cpu_count() or 1
    return (1, cpus) if cpus > 1 else (1,)


def cases() -> list[Case]:
    made = []
    for workers in layouts():
        wsgi_threads = math.ceil(CONCURRENCY / workers)
        made += [
            Case("trivial WSGI function", Server(WSGI, "constant", workers, wsgi_threads), "plain"),
            Case("trivial ASGI function", Server(ASGI, "constant", workers), "plain"),
        ]
        if workers == 1:
            # What any real hook must do beyond the trivial function: read the body; log a line.
            for label, source, threads in (("WSGI", WSGI, wsgi_threads), ("ASGI", ASGI, None)):
                made += [
                    Case(f"trivial {label} + reads the body",
                         Server(source, "reads_body", workers, threads), "plain"),
                    Case(f"trivial {label} + reads the body + one log line",
                         Server(source, "reads_and_logs", workers, threads), "plain"),
                ]  # fmt: skip
        hook = Server(HOOK, "registration_hook", workers)
        made += [Case("hook, Basic", hook, "Basic"), Case("hook, Bearer", hook, "Bearer")]
        if workers == 1:
            plain = Server(ASGI, "constant", 1, pure_python=True)
            hook_plain = Server(HOOK, "registration_hook", 1, pure_python=True)
            made += [
                Case("trivial ASGI function", plain, "plain"),
                Case("hook, Basic", hook_plain, "Basic"),
            ]
    return made


@contextmanager
def served(server: Server, settings: Mapping[str, str]) -> Iterator[tuple[str, int]]:
    """The server's URL and the pid of its gunicorn master."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OKTA_HOOK_")}
    env.pop("THREADS", None)
    env.update(settings)
    env.update(server.settings)
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "functions_framework", "--target", server.target,
             "--source", str(server.source), "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            _wait_for(port, process, log)
            yield f"http://127.0.0.1:{port}/", process.pid
        finally:
            process.terminate()
            process.wait(timeout=10)


def _wait_for(port: int, process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    import socket

    deadline = time.monotonic() + 30
    while True:
        failed = "exited at start" if process.poll() is not None else None
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                failed = "did not start"
        if failed:
            log.seek(0)
            raise RuntimeError(f"functions-framework {failed}: {log.read()[-2000:]!r}")
        time.sleep(0.02)


def load(
    url: str, script: Path, seconds: int, connections: int = CONCURRENCY, master: int | None = None
) -> Result:
    """One wrk run. With the server's master pid, the share of the CPU time its busiest worker
    spent: each worker accepts connections as it wakes, so wrk's, all opened at once, may all go
    to one of them."""
    before = worker_cpu(master) if master is not None else []
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s",
               str(script), url]  # fmt: skip
    shown = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 30
    )
    result: Result = json.loads(shown.stdout.strip().splitlines()[-1])
    if result["non2xx"] or result["errors"]:
        raise RuntimeError(f"wrk saw failures against {url}: {result}")
    result["per_second"] = result["requests"] / (result["duration_us"] / 1e6)
    if len(before) > 1 and master is not None:
        spent = [after - start for after, start in zip(worker_cpu(master), before, strict=True)]
        result["busiest_share"] = max(spent) / max(sum(spent), 1)
    return result


def script(directory: Path, name: str, body: bytes, authorization: str | None) -> Path:
    header = f'wrk.headers["Authorization"] = "{authorization}"' if authorization else ""
    path = directory / f"{name}.lua"
    path.write_text(LUA.format(body=body.decode("utf-8"), authorization=header), "utf-8")
    return path


def workers_of(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def worker_cpu(master: int) -> list[int]:
    """Each worker's CPU time so far (user and system, in clock ticks)."""
    ticks = []
    for pid in workers_of(master):
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        ticks.append(int(fields[11]) + int(fields[12]))
    return ticks


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for {pid}")


def run(rounds: int, seconds: int) -> tuple[list[Row], str]:
    if shutil.which("wrk") is None:
        return [], "wrk is not installed: section 5 was skipped (`apt-get install wrk`)."
    if not Path("/proc/self/status").exists():
        return [], "no /proc: section 5 was skipped (it reads each worker's peak RSS there)."
    body = bodies()["registration"]
    planned = cases()
    with key_server() as keys, tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        settings = {**bearer_env(keys), "OKTA_HOOK_BASIC_CREDENTIALS": f"{USER}:{PASSWORD}"}
        bearer = "Bearer " + mint(okta_claims(keys.issuer))
        scripts = {
            "plain": script(Path(tmp), "plain", body, None),
            "Basic": script(Path(tmp), "basic", body, basic_header()),
            "Bearer": script(Path(tmp), "bearer", body, bearer),
        }
        servers: dict[Server, tuple[str, int]] = {}
        for case in planned:
            if case.server not in servers:
                hook_settings = settings if case.server.source == HOOK else {}
                servers[case.server] = stack.enter_context(served(case.server, hook_settings))
        for case in planned:
            load(servers[case.server][0], scripts[case.script], 1)  # warm-up
        results: dict[Case, list[Result]] = {case: [] for case in planned}
        for _ in range(rounds):
            for case in planned:
                url, master = servers[case.server]
                results[case].append(load(url, scripts[case.script], seconds, master=master))
        rss = {
            server: [peak_rss_mib(pid) for pid in workers_of(master)]
            for server, (_, master) in servers.items()
        }
        per_cpu = Server(HOOK, "registration_hook", layouts()[-1])
        sweep: dict[int, list[Result]] = {n: [] for n in IN_FLIGHT}
        for _ in range(rounds):
            for in_flight in IN_FLIGHT:
                url, master = servers[per_cpu]
                sweep[in_flight].append(load(url, scripts["Basic"], seconds, in_flight, master))
        swept_rss = [peak_rss_mib(pid) for pid in workers_of(servers[per_cpu][1])]
    rows = _rows(results)
    rows += _sweep_rows(sweep, per_cpu.workers)
    rows += _rss_rows(rss, swept_rss, per_cpu)
    return rows, ""


def rate(runs: list[Result]) -> list[float]:
    return [r["per_second"] for r in runs]


def latency_note(runs: list[Result]) -> str:
    p50 = Spread.of([r["p50_us"] / 1000 for r in runs]).median
    p99 = Spread.of([r["p99_us"] / 1000 for r in runs])
    note = f"p50 {p50:.2f} ms, p99 {p99.median:.2f} ms ({p99.p10:.2f}–{p99.p90:.2f})"
    shares = [r["busiest_share"] for r in runs if "busiest_share" in r]
    if shares:
        lopsided = sum(share > LOPSIDED for share in shares)
        note += (
            f"; busiest worker {Spread.of(shares).median:.0%} of the CPU time (median), over "
            f"{LOPSIDED:.0%} in {lopsided} of {len(shares)} runs"
        )
        both = shared_rate(runs)
        if both is not None and lopsided:
            note += f"; the runs with both workers at work: {both:.0f} req/s (median)"
    return note


def shared_rate(runs: list[Result]) -> float | None:
    """The median throughput of the runs in which no worker did more than LOPSIDED of the work."""
    shared = [r["per_second"] for r in runs if r.get("busiest_share", 1.0) <= LOPSIDED]
    return Spread.of(shared).median if shared else None


def _rows(results: dict[Case, list[Result]]) -> list[Row]:
    def find(name: str, workers: int, pure_python: bool = False) -> list[float]:
        (runs,) = [
            r
            for c, r in results.items()
            if c.name == name
            and c.server.workers == workers
            and c.server.pure_python == pure_python
        ]
        return rate(runs)

    wsgi_one = find("trivial WSGI function", 1)
    asgi_one = find("trivial ASGI function", 1)
    made = []
    for case, runs in results.items():
        workers = case.server.workers
        layout = f"WORKERS={workers}, {CONCURRENCY} in flight"
        asgi_same = find("trivial ASGI function", workers)
        note = latency_note(runs)
        p99_ms = Spread.of([r["p99_us"] / 1000 for r in runs]).median
        latency = {"p50_ms": Spread.of([r["p50_us"] / 1000 for r in runs]).median, "p99_ms": p99_ms}
        mine = rate(runs)
        versus_wsgi = Spread.of(ratios(mine, wsgi_one))
        versus_asgi = Spread.of(ratios(mine, asgi_same))
        if case.server.pure_python:
            layout = f"WORKERS=1 without {SHIPPED_EXTRAS}, {CONCURRENCY} in flight"
            twin = find(case.name, 1)
            note += f"; as shipped, with {SHIPPED_EXTRAS}: "
            note += f"{Spread.of(ratios(twin, mine)).median:.2f}x as many"
            if case.name.startswith("hook"):
                slow = find("trivial ASGI function", 1, pure_python=True)
                note += f"; {Spread.of(ratios(mine, slow)).median:.2f}x the trivial ASGI without"
            made.append(
                Row(SECTION, f"{layout}: {case.name}", "req/s", Spread.of(mine),
                    "trivial WSGI, WORKERS=1", versus_wsgi, note=note, extra=latency)
            )  # fmt: skip
            continue
        if not case.name.startswith("hook"):
            # Each path against its own trivial function with one worker.
            path = "WSGI" if "WSGI" in case.name else "ASGI"
            reference = wsgi_one if path == "WSGI" else asgi_one
            made.append(
                Row(SECTION, f"{layout}: {case.name}", "req/s", Spread.of(mine),
                    f"trivial {path}, WORKERS=1", Spread.of(ratios(mine, reference)), note=note,
                    extra=latency)
            )  # fmt: skip
            continue
        alike = find("trivial ASGI + reads the body + one log line", 1) if workers == 1 else None
        if workers == 1:
            met = versus_wsgi.median >= ONE_WORKER_VS_WSGI and p99_ms <= ONE_WORKER_P99_MS
            made.append(
                Row(SECTION, f"{layout}: {case.name}", "req/s", Spread.of(mine),
                    "trivial WSGI, WORKERS=1", versus_wsgi,
                    f">= {ONE_WORKER_VS_WSGI}x trivial WSGI, p99 <= {ONE_WORKER_P99_MS:g} ms",
                    met, note, latency)
            )  # fmt: skip
            assert alike is not None
            made.append(
                Row(SECTION, f"{layout}: {case.name}, against the ASGI path", "req/s",
                    Spread.of(mine), "trivial ASGI, WORKERS=1", versus_asgi,
                    f">= {ONE_WORKER_VS_ASGI}x trivial ASGI",
                    versus_asgi.median >= ONE_WORKER_VS_ASGI,
                    f"{Spread.of(ratios(mine, alike)).median:.2f}x trivial ASGI + reads the "
                    "body + one log line", latency)
            )  # fmt: skip
        else:
            made.append(
                Row(SECTION, f"{layout}: {case.name}", "req/s", Spread.of(mine),
                    "trivial WSGI, WORKERS=1", versus_wsgi,
                    f">= {PER_CPU_VS_WSGI}x trivial WSGI with WORKERS=1",
                    versus_wsgi.median >= PER_CPU_VS_WSGI,
                    f"{note}; {versus_asgi.median:.2f}x trivial ASGI, WORKERS={workers}", latency)
            )  # fmt: skip
    return made


def _sweep_rows(sweep: dict[int, list[Result]], workers: int) -> list[Row]:
    base = rate(sweep[IN_FLIGHT[0]])
    return [
        Row(SECTION, f"WORKERS={workers}, hook, Basic: {in_flight} in flight (--concurrency)",
            "req/s", Spread.of(rate(runs)), f"{IN_FLIGHT[0]} in flight, same rounds",
            Spread.of(ratios(rate(runs), base)), note=latency_note(runs),
            extra={"in_flight": in_flight, "shared": shared_rate(runs)})
        for in_flight, runs in sweep.items()
    ]  # fmt: skip


def _rss_rows(rss: dict[Server, list[float]], swept: list[float], per_cpu: Server) -> list[Row]:
    made = []
    for workers in layouts():
        found = {
            server.source: values
            for server, values in rss.items()
            if server.workers == workers
            and server.target in ("constant", "registration_hook")
            and not server.pure_python
        }
        reference = max(found[ASGI])
        for source, label in ((WSGI, "trivial WSGI function"), (ASGI, "trivial ASGI function"),
                              (HOOK, "hook (Basic and Bearer)")):  # fmt: skip
            values = found[source]
            note = ", ".join(f"{v:.1f}" for v in values) + " MiB"
            if source == HOOK and workers == per_cpu.workers:
                note += (
                    f"; after {IN_FLIGHT[-1]} in flight: "
                    + ", ".join(f"{v:.1f}" for v in swept)
                    + " MiB"
                )
            made.append(
                Row(SECTION, f"WORKERS={workers}: peak RSS per worker, {label}", "MiB",
                    Spread.of([max(values)]), f"trivial ASGI, WORKERS={workers}",
                    Spread.of([max(values) / reference]), note=f"each worker: {note}")
            )  # fmt: skip
    return made
