"""Section 4: cold start, from process start to the first authenticated 200, and `import main`.

Each run starts `python -m functions_framework` as Cloud Functions does (gunicorn), polls its
port, and POSTs the first request as soon as it accepts; the clock runs from just before the
process is spawned to the end of the answer. The trivial function is started the same way in the
same rounds: it is what any function pays, the reference of the ratios. The first request's own
time is compared with a second, warm one: work left to the first request would show there.
"""

from __future__ import annotations

import base64
import http.client
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from bench.request import PASSWORD, USER, bodies
from bench.stats import Row, Spread, ratios
from tests.jwt_support import bearer_env, key_server, mint, okta_claims
from tests.secret_manager_support import secret_manager
from tests.server_support import free_port

ROOT = Path(__file__).resolve().parent.parent
TRIVIAL = ROOT / "bench" / "trivial" / "main.py"
SECTION = "4 cold start"
IMPORT_CODE = (
    "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
)


def child_env(settings: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OKTA_HOOK_")}
    env.update(settings)
    env.update({"WORKERS": "1", "THREADS": "8", "PYTHONDONTWRITEBYTECODE": "1"})
    return env


def first_answer(
    source: Path, target: str, settings: Mapping[str, str], body: bytes, headers: dict[str, str]
) -> tuple[float, float, float]:
    """Seconds from spawn to the first 200, the first request's own time, and a warm one's."""
    port = free_port()
    command = [sys.executable, "-m", "functions_framework", "--target", target,
               "--source", str(source), "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=ROOT, env=child_env(settings), stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = started + 20
            while True:
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    connection.connect()
                    break
                except OSError:
                    if time.perf_counter() > deadline or process.poll() is not None:
                        log.seek(0)
                        failed = f"{target} did not start: {log.read()[-2000:]!r}"
                        raise RuntimeError(failed) from None
                    time.sleep(0.002)
            request_started = time.perf_counter()
            status = post(connection, body, headers)
            answered = time.perf_counter()
            warm_started = time.perf_counter()
            post(connection, body, headers)
            warm = time.perf_counter() - warm_started
            connection.close()
            if status != 200:
                log.seek(0)
                raise RuntimeError(f"{target}: first answer {status}: {log.read()[-2000:]!r}")
            return answered - started, answered - request_started, warm
        finally:
            process.terminate()
            process.wait(timeout=10)


def post(connection: http.client.HTTPConnection, body: bytes, headers: dict[str, str]) -> int:
    connection.request("POST", "/", body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    return response.status


def import_seconds(module: str, settings: Mapping[str, str]) -> float:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_CODE.format(module=module)],
        cwd=ROOT, env=child_env(settings), capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(result.stdout.split()[-1])


def run(rounds: int) -> list[Row]:
    basic = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    body = bodies()["registration"]
    with key_server() as keys, secret_manager() as store:
        version = store.add_version("hook-basic", f"{USER}:{PASSWORD}")
        env_basic = {"OKTA_HOOK_BASIC_CREDENTIALS": f"{USER}:{PASSWORD}"}
        stored = {
            **bearer_env(keys),
            "OKTA_HOOK_BASIC_CREDENTIALS_SECRET": version,
            "OKTA_HOOK_SECRET_MANAGER_ENDPOINT": store.endpoint,
        }
        bearer = "Bearer " + mint(okta_claims(keys.issuer))
        json_headers = {"Content-Type": "application/json"}
        cases = {
            "trivial": (TRIVIAL, "constant", {}, {**json_headers}),
            "env": (ROOT / "main.py", "registration_hook", env_basic,
                    {**json_headers, "Authorization": basic}),
            "stored": (ROOT / "main.py", "registration_hook", stored,
                       {**json_headers, "Authorization": bearer}),
        }  # fmt: skip
        spawn: dict[str, list[float]] = {name: [] for name in cases}
        first: dict[str, list[float]] = {name: [] for name in cases}
        warm: dict[str, list[float]] = {name: [] for name in cases}
        imports: dict[str, list[float]] = {"functions_framework": [], "env": [], "stored": []}
        for _ in range(rounds):
            for name, (source, target, settings, headers) in cases.items():
                total, own, again = first_answer(source, target, settings, body, headers)
                spawn[name].append(total)
                first[name].append(own)
                warm[name].append(again)
            imports["functions_framework"].append(import_seconds("functions_framework", {}))
            imports["env"].append(import_seconds("main", env_basic))
            imports["stored"].append(import_seconds("main", stored))
    return rows(spawn, first, warm, imports)


def rows(
    spawn: dict[str, list[float]],
    first: dict[str, list[float]],
    warm: dict[str, list[float]],
    imports: dict[str, list[float]],
) -> list[Row]:
    def ms(values: list[float]) -> Spread:
        return Spread.of([v * 1000 for v in values])

    env_ok = Spread.of(spawn["env"]).median < 0.6
    stored_ok = Spread.of(spawn["stored"]).median < 1.0
    made = [
        Row(SECTION, "trivial function: spawn to first 200", "ms", ms(spawn["trivial"]),
            "trivial", Spread.of(ratios(spawn["trivial"], spawn["trivial"]))),
        Row(SECTION, "hook, Basic, secrets in env: spawn to first 200", "ms", ms(spawn["env"]),
            "trivial", Spread.of(ratios(spawn["env"], spawn["trivial"])), "< 600 ms", env_ok),
        Row(SECTION, "hook, Secret Manager + JWKS discovery (Bearer): spawn to first 200", "ms",
            ms(spawn["stored"]), "trivial", Spread.of(ratios(spawn["stored"], spawn["trivial"])),
            "< 1000 ms", stored_ok),
    ]  # fmt: skip
    for name, label in (
        ("trivial", "trivial function"),
        ("env", "hook, secrets in env"),
        ("stored", "hook, Secret Manager + discovery"),
    ):
        made.append(
            Row(SECTION, f"{label}: first request / a warm one", "ms", ms(first[name]),
                "warm request", Spread.of(ratios(first[name], warm[name])),
                note=f"warm request median {Spread.of(warm[name]).median * 1000:.2f} ms")
        )  # fmt: skip
    made.append(
        Row(SECTION, "import functions_framework (what any function imports)", "ms",
            ms(imports["functions_framework"]), "import functions_framework",
            Spread.of(ratios(imports["functions_framework"], imports["functions_framework"])))
    )  # fmt: skip
    for name, label in (("env", "Basic, secrets in env"), ("stored", "SM + discovery")):
        made.append(
            Row(SECTION, f"import main ({label}; includes the cold-start work)", "ms",
                ms(imports[name]), "import functions_framework",
                Spread.of(ratios(imports[name], imports["functions_framework"])))
        )  # fmt: skip
    return made
