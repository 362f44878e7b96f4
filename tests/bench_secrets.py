"""Timings of secret reads, printed: `.venv/bin/python -m tests.bench_secrets`."""

from __future__ import annotations

import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import functions_framework

from hook.secret_cache import RefreshingSecret
from hook.secret_manager import SecretManagerVersion
from tests.conftest import BASIC_PASSWORD, BASIC_USER, ROOT, basic, sample
from tests.secret_manager_support import SecretManagerServer, secret_manager
from tests.server_support import serve

CREDENTIALS = f"{BASIC_USER}:{BASIC_PASSWORD}"
IMPORT_CODE = """
import time
import hook.app, main  # what every cold start imports anyway
started = time.perf_counter()
import google_crc32c
from google.api_core import retry
from google.auth.credentials import AnonymousCredentials
from google.cloud import secretmanager_v1
print(time.perf_counter() - started)
"""


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def client_import() -> None:
    runs = []
    for _ in range(5):
        result = subprocess.run(
            [sys.executable, "-c", IMPORT_CODE],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            env={k: v for k, v in os.environ.items() if not k.startswith("OKTA_HOOK_")},
        )
        runs.append(float(result.stdout.split()[-1]))
    print(f"client library import, on top of the hook's own: median {ms(statistics.median(runs))}")


def loopback_reads(server: SecretManagerServer) -> None:
    name = server.add_version("bench", CREDENTIALS)
    reader = SecretManagerVersion("OKTA_HOOK_BENCH", name, server.endpoint)
    started = time.perf_counter()
    reader.read()
    first = time.perf_counter() - started
    times = []
    for _ in range(200):
        started = time.perf_counter()
        reader.read()
        times.append(time.perf_counter() - started)
    times.sort()
    print(
        f"read over loopback: first (library import + client set-up) {ms(first)}; then median "
        f"{ms(statistics.median(times))}, p95 {ms(times[189])}, max {ms(times[-1])}"
    )
    source = RefreshingSecret(reader, refresh_seconds=300)
    source.current()
    started = time.perf_counter()
    for _ in range(100_000):
        source.current()
    each = (time.perf_counter() - started) / 100_000
    print(f"cached value, per request: {each * 1e6:.2f} µs")


def cold_start_503(server: SecretManagerServer, fault: str) -> None:
    name = server.add_version("bench", CREDENTIALS).rsplit("/", 1)[0] + "/latest"
    for key in [k for k in os.environ if k.startswith("OKTA_HOOK_")]:
        del os.environ[key]
    os.environ["OKTA_HOOK_BASIC_CREDENTIALS_SECRET"] = name
    os.environ["OKTA_HOOK_SECRET_MANAGER_ENDPOINT"] = server.endpoint
    if fault == "refusing connections":
        server.stop()
    else:
        server.fault = {"hanging": "hang", "answering 503": "error-503"}[fault]
    with contextlib.redirect_stdout(io.StringIO()):  # the hook's own log lines
        started = time.perf_counter()
        app = functions_framework.create_app(  # type: ignore[no-untyped-call]
            target="registration_hook", source=str(ROOT / "main.py")
        )
        response = app.test_client().post(
            "/", json=sample("ssr"), headers={"Authorization": basic()}
        )
        elapsed = time.perf_counter() - started
    print(
        f"cold start in process, Secret Manager {fault}: {response.status_code} in {elapsed:.3f} s"
    )


def served_503(server: SecretManagerServer) -> None:
    name = server.add_version("bench", CREDENTIALS)
    env = {
        "OKTA_HOOK_BASIC_CREDENTIALS_SECRET": name,
        "OKTA_HOOK_SECRET_MANAGER_ENDPOINT": server.endpoint,
    }
    body = json.dumps(sample("ssr")).encode()
    headers = {"Content-Type": "application/json", "Authorization": basic()}
    with tempfile.TemporaryDirectory() as logs:
        for fault in (None, "hang"):
            server.fault = fault
            started = time.perf_counter()
            with serve(env, Path(logs)) as served:
                status, _, _ = served.post(body, headers)
                elapsed = time.perf_counter() - started
            state = "up" if fault is None else fault
            print(
                f"served process, spawn to first answer, Secret Manager {state}: "
                f"{status} in {elapsed:.3f} s"
            )
    server.fault = None


def main() -> None:
    client_import()
    with secret_manager() as server:
        loopback_reads(server)
    for fault in ("refusing connections", "hanging", "answering 503"):
        with secret_manager() as server:
            cold_start_503(server, fault)
    with secret_manager() as server:
        served_503(server)


if __name__ == "__main__":
    main()
