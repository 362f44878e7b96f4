"""Section 4: cold start, from process start to the first authenticated 200, and `import main`.

Each run starts `python -m functions_framework` as Cloud Functions does (gunicorn, with a uvicorn
worker for an `aio` function), polls its port, and POSTs the first request as soon as it
accepts; the clock runs from just before the process is spawned to the end of the answer. Two
trivial functions are started the same way in the same rounds: the ASGI one is what any function
on the hook's path pays, the reference of the ratios; the WSGI one is the path the hook left. The
first request's own time is compared with a second, warm one: work left to the first request
would show there.
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
TRIVIAL_WSGI = ROOT / "bench" / "trivial" / "main.py"
TRIVIAL_ASGI = ROOT / "bench" / "trivial" / "aio_main.py"
TARGET = 1.4  # spawn to the first authenticated 200, against the trivial ASGI function's
SECTION = "4 cold start"
# On stderr: the hook's log lines go to stdout, from its writer thread, at any moment.
IMPORT_CODE = (
    "import sys, time; t = time.perf_counter(); import {module}; "
    "sys.stderr.write(f'import seconds {{time.perf_counter() - t}}\\n')"
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
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("import seconds")]
    return float(line.split()[-1])


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
            "wsgi": (TRIVIAL_WSGI, "constant", {}, {**json_headers}),
            "asgi": (TRIVIAL_ASGI, "constant", {}, {**json_headers}),
            "env": (ROOT / "main.py", "registration_hook", env_basic,
                    {**json_headers, "Authorization": basic}),
            "stored": (ROOT / "main.py", "registration_hook", stored,
                       {**json_headers, "Authorization": bearer}),
        }  # fmt: skip
        spawn: dict[str, list[float]] = {name: [] for name in cases}
        first: dict[str, list[float]] = {name: [] for name in cases}
        warm: dict[str, list[float]] = {name: [] for name in cases}
        imports: dict[str, list[float]] = {
            "functions_framework": [], "functions_framework.aio": [], "env": [], "stored": []
        }  # fmt: skip
        for _ in range(rounds):
            for name, (source, target, settings, headers) in cases.items():
                total, own, again = first_answer(source, target, settings, body, headers)
                spawn[name].append(total)
                first[name].append(own)
                warm[name].append(again)
            for module in ("functions_framework", "functions_framework.aio"):
                imports[module].append(import_seconds(module, {}))
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

    def against(name: str, reference: str) -> Spread:
        return Spread.of(ratios(spawn[name], spawn[reference]))

    made = [
        Row(SECTION, "trivial ASGI function: spawn to first 200", "ms", ms(spawn["asgi"]),
            "trivial ASGI", against("asgi", "asgi")),
        Row(SECTION, "trivial WSGI function: spawn to first 200", "ms", ms(spawn["wsgi"]),
            "trivial ASGI", against("wsgi", "asgi")),
    ]  # fmt: skip
    for name, label in (
        ("env", "hook, Basic, secrets in env: spawn to first authenticated 200"),
        ("stored", "hook, Secret Manager + JWKS discovery (Bearer): spawn to first "
         "authenticated 200"),
    ):  # fmt: skip
        ratio = against(name, "asgi")
        made.append(
            Row(SECTION, label, "ms", ms(spawn[name]), "trivial ASGI", ratio,
                f"<= {TARGET}x trivial ASGI", ratio.median <= TARGET,
                f"{against(name, 'wsgi').median:.2f}x trivial WSGI")
        )  # fmt: skip
    for name, label in (
        ("wsgi", "trivial WSGI function"),
        ("asgi", "trivial ASGI function"),
        ("env", "hook, secrets in env"),
        ("stored", "hook, Secret Manager + discovery"),
    ):
        made.append(
            Row(SECTION, f"{label}: first request / a warm one", "ms", ms(first[name]),
                "warm request", Spread.of(ratios(first[name], warm[name])),
                note=f"warm request median {Spread.of(warm[name]).median * 1000:.2f} ms")
        )  # fmt: skip
    reference = imports["functions_framework.aio"]
    for name, label in (
        ("functions_framework.aio", "import functions_framework.aio (what an ASGI function "
         "imports)"),
        ("functions_framework", "import functions_framework (what a WSGI function imports)"),
        ("env", "import main (Basic, secrets in env; includes the cold-start work)"),
        ("stored", "import main (SM + discovery; includes the cold-start work)"),
    ):  # fmt: skip
        made.append(
            Row(SECTION, label, "ms", ms(imports[name]), "import functions_framework.aio",
                Spread.of(ratios(imports[name], reference)))
        )  # fmt: skip
    return made
