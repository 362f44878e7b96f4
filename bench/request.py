"""Section 3: one whole request in process (auth, parse, policy, response, audit line).

`main.registration_hook` is awaited on one event loop with a `starlette.requests.Request` made
beforehand from an ASGI scope, each with its own `receive` that hands over the whole body in one
message: the server, the framework's routing and middleware are left out. The same requests
through Starlette's TestClient over the app functions-framework builds are reported for
reference. The audit line goes through the writer thread as served, to stdout sent to
/dev/null, and each batch waits until its lines are written: the writer's work is counted.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import gc
import json
import os
import sys
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from pathlib import Path
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope

from bench.stats import Row, Spread, per_op_seconds, ratios
from tests.jwt_support import bearer_env, key_server, mint, okta_claims

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "samples"
SECTION = "3 request"
USER, PASSWORD = "okta-bench", "bench-password-only"
# What `main.registration_hook` is: functions-framework's decorator keeps the coroutine function.
Hook = Callable[[Request], Coroutine[Any, Any, Response]]


def bodies() -> dict[str, bytes]:
    """An allowed registration and an allowed progressive update, from Okta's samples."""
    registration = json.loads((SAMPLES / "okta_ssr_request.json").read_text("utf-8"))
    registration = copy.deepcopy(registration)
    registration["data"]["userProfile"]["employeeNumber"] = "1234"
    progressive = json.loads((SAMPLES / "okta_progressive_request.json").read_text("utf-8"))
    return {
        "registration": json.dumps(registration).encode(),
        "progressive": json.dumps(progressive).encode(),
    }


def basic_header() -> str:
    return "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        yield


def scope(body: bytes, authorization: str) -> Scope:
    """What uvicorn hands the app for Okta's POST."""
    headers = [
        (b"host", b"127.0.0.1:8080"),
        (b"content-type", b"application/json"),
        (b"authorization", authorization.encode("latin-1")),
        (b"content-length", str(len(body)).encode()),
    ]
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1", "method": "POST", "scheme": "http", "path": "/",
        "raw_path": b"/", "root_path": "", "query_string": b"", "headers": headers,
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8080),
    }  # fmt: skip


def requests(template: Scope, body: bytes, count: int) -> list[Request]:
    """`count` requests, each with its own scope (the hook marks it) and the body in one message."""
    message: Message = {"type": "http.request", "body": body, "more_body": False}

    async def receive() -> Message:
        return message

    made: Receive = receive
    return [Request(dict(template), made) for _ in range(count)]


def awaited_per_op(runner: asyncio.Runner, hook: Hook, made: Sequence[Request]) -> float:
    """Seconds per request, awaited one after another on the runner's loop, including the wait
    for the writer thread to write their audit lines."""
    from core import logs

    async def batch() -> float:
        started = time.perf_counter()
        for request in made:
            await hook(request)
        logs.flush()
        return (time.perf_counter() - started) / len(made)

    gc.collect()
    return runner.run(batch())


def run(floors: list[float], per_round: int) -> list[Row]:
    rounds = len(floors)
    with key_server() as keys:
        env = {**bearer_env(keys), "OKTA_HOOK_BASIC_CREDENTIALS": f"{USER}:{PASSWORD}"}
        saved = {k: v for k, v in os.environ.items() if k.startswith("OKTA_HOOK_")}
        for name in saved:
            del os.environ[name]
        os.environ.update(env)
        try:
            with quiet_stdout():
                rows = _measure(keys.issuer, rounds, per_round, floors)
        finally:
            for name in env:
                os.environ.pop(name, None)
            os.environ.update(saved)
    return rows


def _measure(issuer: str, rounds: int, per_round: int, floors: list[float]) -> list[Row]:
    import functions_framework
    from starlette.testclient import TestClient

    import main

    hook = cast(Hook, main.registration_hook)
    app = functions_framework.create_app(  # type: ignore[no-untyped-call]
        target="registration_hook", source=str(ROOT / "main.py")
    )
    seen = "Bearer " + mint(okta_claims(issuer))
    basic = basic_header()
    cases: dict[str, tuple[str, str]] = {}
    for kind in ("registration", "progressive"):
        cases[f"{kind}, Basic"] = (kind, basic)
        cases[f"{kind}, Bearer seen-before"] = (kind, seen)
    payload = bodies()
    fresh = [
        "Bearer " + mint(okta_claims(issuer, jti=f"AT.req.{r}.{i}"))
        for r in range(rounds + 1)
        for i in range(per_round)
    ]
    templates = {case: scope(payload[kind], auth) for case, (kind, auth) in cases.items()}
    with asyncio.Runner() as runner, TestClient(app) as client:
        for case, (kind, _) in cases.items():
            answer = runner.run(hook(requests(templates[case], payload[kind], 1)[0]))
            if answer.status_code != 200:
                raise RuntimeError(f"{case}: not a 200 answer: {answer.status_code}")

        def first_seen(r: int) -> float:
            tokens = fresh[r * per_round : (r + 1) * per_round]
            body = payload["registration"]
            made = [requests(scope(body, token), body, 1)[0] for token in tokens]
            return awaited_per_op(runner, hook, made)

        def through_client(kind: str, auth: str) -> float:
            headers = {"Authorization": auth, "Content-Type": "application/json"}

            def post(_: object) -> None:
                if client.post("/", content=payload[kind], headers=headers).status_code != 200:
                    raise RuntimeError("the test client's answer is not a 200")

            return per_op_seconds(post, [None] * per_round)

        times: dict[str, list[float]] = {name: [] for name in cases}
        times["registration, Bearer first-seen"] = []
        times["client: registration, Basic"] = []
        times["client: registration, Bearer seen-before"] = []
        first_seen(rounds)  # warm-up
        for r in range(rounds):
            for case, (kind, _) in cases.items():
                made = requests(templates[case], payload[kind], per_round)
                times[case].append(awaited_per_op(runner, hook, made))
            times["registration, Bearer first-seen"].append(first_seen(r))
            times["client: registration, Basic"].append(through_client("registration", basic))
            times["client: registration, Bearer seen-before"].append(
                through_client("registration", seen)
            )
    rows = []
    for case, values in times.items():
        ratio = Spread.of(ratios(values, floors))
        bearer_target = case in (
            "registration, Bearer seen-before",
            "progressive, Bearer seen-before",
        )
        rows.append(
            Row(
                SECTION, case, "µs", Spread.of([v * 1e6 for v in values]), "floor", ratio,
                "<= 5x floor" if bearer_target else "",
                (ratio.median <= 5.0) if bearer_target else None,
            )
        )  # fmt: skip
    sys.modules.pop("main", None)
    return rows
