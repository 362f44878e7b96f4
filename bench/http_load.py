"""Section 5: over HTTP on loopback, served as Cloud Functions serves it, loaded by wrk.

`python -m functions_framework` runs gunicorn with WORKERS processes of THREADS threads, as a
2nd-gen Cloud Function does. wrk keeps a fixed number of requests in flight (closed loop) and
reports throughput and latency percentiles; a Lua script makes each request a POST with Okta's
body and headers, and counts any answer that is not 2xx. The trivial function is loaded the same
way in the same rounds. wrk runs on the same machine and takes CPU from the server: the ratios
share that handicap, the absolute figures do not show a dedicated instance.
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
from pathlib import Path

from bench.request import PASSWORD, USER, bodies
from bench.stats import Row, Spread, ratios
from tests.jwt_support import bearer_env, key_server, mint, okta_claims
from tests.server_support import free_port

ROOT = Path(__file__).resolve().parent.parent
TRIVIAL = ROOT / "bench" / "trivial" / "main.py"
SECTION = "5 http"
CONCURRENCY = 8  # deploy.sh's default --concurrency
# Trivial functions that also do what the hook must: read the body; and write one log line.
REFERENCES = ("trivial + reads the body", "trivial + reads the body + one log line")
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


def worker_layouts() -> list[tuple[int, int]]:
    """(WORKERS, THREADS): one process as for --cpu 1, and one per CPU as deploy.sh sets it."""
    cpus = os.cpu_count() or 1
    layouts = [(1, CONCURRENCY)]
    if cpus > 1:
        layouts.append((cpus, math.ceil(CONCURRENCY / cpus)))
    return layouts


@contextmanager
def served(source: Path, target: str, settings: Mapping[str, str], workers: int, threads: int
           ) -> Iterator[str]:  # fmt: skip
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OKTA_HOOK_")}
    env.update(settings)
    env.update({"WORKERS": str(workers), "THREADS": str(threads)})
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "functions_framework", "--target", target, "--source",
             str(source), "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}/"
            _wait_for(port, process)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=10)


def _wait_for(port: int, process: subprocess.Popen[bytes]) -> None:
    import socket

    deadline = time.monotonic() + 20
    while True:
        if process.poll() is not None:
            raise RuntimeError("functions-framework exited at start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("functions-framework did not start") from None
            time.sleep(0.02)


def load(url: str, script: Path, seconds: int) -> dict[str, float]:
    command = ["wrk", "-t1", f"-c{CONCURRENCY}", f"-d{seconds}s", "--latency", "-s",
               str(script), url]  # fmt: skip
    shown = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 30
    )
    result: dict[str, float] = json.loads(shown.stdout.strip().splitlines()[-1])
    if result["non2xx"] or result["errors"]:
        raise RuntimeError(f"wrk saw failures against {url}: {result}")
    result["per_second"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def script(directory: Path, name: str, body: bytes, authorization: str | None) -> Path:
    header = f'wrk.headers["Authorization"] = "{authorization}"' if authorization else ""
    path = directory / f"{name}.lua"
    path.write_text(LUA.format(body=body.decode("utf-8"), authorization=header), "utf-8")
    return path


def run(rounds: int, seconds: int) -> tuple[list[Row], str]:
    if shutil.which("wrk") is None:
        return [], "wrk is not installed: section 5 was skipped (`apt-get install wrk`)."
    import base64

    basic = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    body = bodies()["registration"]
    rows: list[Row] = []
    with key_server() as keys, tempfile.TemporaryDirectory() as tmp:
        settings = {**bearer_env(keys), "OKTA_HOOK_BASIC_CREDENTIALS": f"{USER}:{PASSWORD}"}
        bearer = "Bearer " + mint(okta_claims(keys.issuer))
        plain = script(Path(tmp), "trivial", body, None)
        scripts = {
            "trivial": plain,
            REFERENCES[0]: plain,
            REFERENCES[1]: plain,
            "Basic": script(Path(tmp), "basic", body, basic),
            "Bearer": script(Path(tmp), "bearer", body, bearer),
        }
        for workers, threads in worker_layouts():
            with ExitStack() as stack:
                layout = (workers, threads)
                hook = stack.enter_context(
                    served(ROOT / "main.py", "registration_hook", settings, *layout)
                )
                urls = {
                    "trivial": stack.enter_context(served(TRIVIAL, "constant", {}, *layout)),
                    REFERENCES[0]: stack.enter_context(served(TRIVIAL, "reads_body", {}, *layout)),
                    REFERENCES[1]: stack.enter_context(
                        served(TRIVIAL, "reads_and_logs", {}, *layout)
                    ),
                    "Basic": hook,
                    "Bearer": hook,
                }
                for name, url in urls.items():
                    load(url, scripts[name], 1)  # warm-up: first requests, caches, pages
                results: dict[str, list[dict[str, float]]] = {name: [] for name in urls}
                for _ in range(rounds):
                    for name, url in urls.items():
                        results[name].append(load(url, scripts[name], seconds))
            rows.extend(_rows(results, workers, threads))
    return rows, ""


def _rows(results: dict[str, list[dict[str, float]]], workers: int, threads: int) -> list[Row]:
    layout = f"WORKERS={workers} THREADS={threads}, {CONCURRENCY} in flight"
    trivial = [r["per_second"] for r in results["trivial"]]
    alike = [r["per_second"] for r in results[REFERENCES[1]]]
    made = []
    for name, runs in results.items():
        rate = [r["per_second"] for r in runs]
        p50 = Spread.of([r["p50_us"] / 1000 for r in runs]).median
        p99 = Spread.of([r["p99_us"] / 1000 for r in runs])
        note = f"p50 {p50:.2f} ms, p99 {p99.median:.2f} ms ({p99.p10:.2f}–{p99.p90:.2f})"
        hook = name in ("Basic", "Bearer")
        met = None
        if hook:
            met = Spread.of(ratios(rate, trivial)).median >= 0.8 and p99.median < 25
            note += f"; {Spread.of(ratios(rate, alike)).median:.2f}x {REFERENCES[1]}"
        label = f"hook, {name}" if hook else f"{name} function" if name == "trivial" else name
        made.append(
            Row(SECTION, f"{layout}: {label}", "req/s", Spread.of(rate), "trivial",
                Spread.of(ratios(rate, trivial)),
                ">= 0.8x trivial, p99 < 25 ms" if hook else "", met, note)
        )  # fmt: skip
    return made
