"""Section 3: one whole request in process (auth, parse, policy, response JSON, audit line).

`main.registration_hook` is called with a `flask.Request` built beforehand, each with its own
body stream, so the framework's routing and the request object's construction are left out. The
same requests through functions-framework's test client are reported for reference. The audit
line is written to stdout as in production, with stdout sent to /dev/null.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import io
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask
from werkzeug.test import EnvironBuilder

from bench.stats import Row, Spread, per_op_seconds, ratios
from tests.jwt_support import bearer_env, key_server, mint, okta_claims

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "samples"
SECTION = "3 request"
USER, PASSWORD = "okta-bench", "bench-password-only"


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


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        yield


def environ(body: bytes, authorization: str) -> dict[str, Any]:
    built = EnvironBuilder(
        method="POST",
        path="/",
        data=body,
        headers=[("Authorization", authorization), ("Content-Type", "application/json")],
    )
    return dict(built.get_environ())


def requests(template: dict[str, Any], body: bytes, count: int) -> list[flask.Request]:
    made = []
    for _ in range(count):
        env = dict(template)
        env["wsgi.input"] = io.BytesIO(body)
        made.append(flask.Request(env))
    return made


def run(floors: list[float], per_round: int) -> list[Row]:
    rounds = len(floors)
    basic = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    with key_server() as keys:
        env = {**bearer_env(keys), "OKTA_HOOK_BASIC_CREDENTIALS": f"{USER}:{PASSWORD}"}
        saved = {k: v for k, v in os.environ.items() if k.startswith("OKTA_HOOK_")}
        for name in saved:
            del os.environ[name]
        os.environ.update(env)
        try:
            with quiet_stdout():
                rows = _measure(keys.issuer, basic, rounds, per_round, floors)
        finally:
            for name in env:
                os.environ.pop(name, None)
            os.environ.update(saved)
    return rows


def _measure(
    issuer: str, basic: str, rounds: int, per_round: int, floors: list[float]
) -> list[Row]:
    import functions_framework

    import main

    client = functions_framework.create_app(  # type: ignore[no-untyped-call]
        target="registration_hook", source=str(ROOT / "main.py")
    ).test_client()
    seen = "Bearer " + mint(okta_claims(issuer))
    cases: dict[str, tuple[str, str]] = {}
    for kind in ("registration", "progressive"):
        cases[f"{kind}, Basic"] = (kind, basic)
        cases[f"{kind}, Bearer seen-before"] = (kind, seen)
    payload = bodies()
    fresh = {
        kind: [
            "Bearer " + mint(okta_claims(issuer, jti=f"AT.req.{kind}.{r}.{i}"))
            for r in range(rounds + 1)
            for i in range(per_round)
        ]
        for kind in ("registration",)
    }
    templates = {case: environ(payload[kind], auth) for case, (kind, auth) in cases.items()}
    for case, (kind, _) in cases.items():
        answer = main.registration_hook(requests(templates[case], payload[kind], 1)[0])
        if not isinstance(answer, flask.Response) or answer.status_code != 200:
            raise RuntimeError(f"{case}: not a 200 answer: {answer!r}")

    def first_seen(r: int) -> float:
        tokens = fresh["registration"][r * per_round : (r + 1) * per_round]
        made = [
            requests(environ(payload["registration"], token), payload["registration"], 1)[0]
            for token in tokens
        ]
        return per_op_seconds(main.registration_hook, made)

    def through_client(kind: str, auth: str) -> float:
        headers = {"Authorization": auth, "Content-Type": "application/json"}
        return per_op_seconds(
            lambda _: client.post("/", data=payload[kind], headers=headers), [None] * per_round
        )

    times: dict[str, list[float]] = {name: [] for name in cases}
    times["registration, Bearer first-seen"] = []
    times["client: registration, Basic"] = []
    times["client: registration, Bearer seen-before"] = []
    first_seen(rounds)  # warm-up
    for r in range(rounds):
        for case, (kind, _) in cases.items():
            made = requests(templates[case], payload[kind], per_round)
            times[case].append(per_op_seconds(main.registration_hook, made))
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
