"""The policy language's cost: one whole request in process (auth, body, parse, every rule,
response JSON, audit line) under tests/policies/every_rule.toml, which uses every rule type,
against the RSA-2048 verify floor of the same rounds. Target: at most 6x the floor.

`main.registration_hook` is awaited on one event loop with Starlette requests built beforehand,
each with its own body; the audit line goes to stdout, sent to /dev/null. The default policy
(policies/ssr_and_progressive.toml) is measured the same way for reference.

python -m bench.policy [--rounds 15] [--per-round 200]   # prints the rows
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import copy
import gc
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from typing import Any

from starlette.requests import Request

from bench.stats import Row, Spread, per_op_seconds, ratios
from core import logs

ROOT = Path(__file__).resolve().parent.parent
EVERY_RULE = ROOT / "tests" / "policies" / "every_rule.toml"
DEFAULT = ROOT / "policies" / "ssr_and_progressive.toml"
SAMPLES = ROOT / "tests" / "samples"
SECTION = "3 policy"
TARGET = 6.0
USER, PASSWORD = "okta-bench", "bench-password-only"
# main.registration_hook: a coroutine function of a Starlette request.
Hook = Callable[[Request], Any]

# A registration every rule of every_rule.toml judges and lets through.
ALLOWED_PROFILE = {
    "email": " Rosario.Jones@Example.COM",
    "consent": True,
    "age": 34,
    "height": 1.72,
    "countryCode": "US",
    "employeeNumber": "1234",
    "nickname": "rosa",
    "groups": ["eng", " Staff"],
    "scores": [3, 5, 8],
    "weights": [0.5, 1.5],
}
# The same form with every attribute failing one of its rules.
DENIED_PROFILE = {
    "email": "rosario@yopmail.com",
    "consent": False,
    "age": 20,
    "height": 3,
    "countryCode": "GB",
    "employeeNumber": "12",
    "nickname": "a-very-long-nickname",
    "groups": ["ops"],
    "scores": [1, 1],
    "weights": [2],
}


def body(profile: dict[str, Any], ip: str = "192.0.2.10") -> bytes:
    document = json.loads((SAMPLES / "okta_ssr_request.json").read_text("utf-8"))
    document = copy.deepcopy(document)
    document["data"]["userProfile"].update(profile)
    document["data"]["context"]["request"]["ipAddress"] = ip
    return json.dumps(document).encode()


def _receiver(payload: bytes) -> Callable[[], Any]:
    """The ASGI receive of one request: its body once, then a disconnect."""
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": payload, "more_body": False},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if len(messages) > 1 else messages[0]

    return receive


def made(payload: bytes, count: int) -> list[Request]:
    """Starlette requests as the ASGI server would hand them over, each with its own body."""
    authorization = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    headers = [
        (b"authorization", authorization.encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    found = []
    for _ in range(count):
        receive = _receiver(payload)
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/",
            "raw_path": b"/",
            "query_string": b"",
            "headers": headers,
            "scheme": "http",
            "server": ("127.0.0.1", 8080),
            "client": ("127.0.0.1", 40000),
        }
        found.append(Request(scope, receive))
    return found


@contextmanager
def quiet_stdout() -> Iterator[None]:
    with open(os.devnull, "w") as sink, redirect_stdout(sink):
        yield


@contextmanager
def hook_on(policy: Path) -> Iterator[Hook]:
    """`main.registration_hook` after a cold start with this policy and Basic credentials."""
    env = {"OKTA_HOOK_BASIC_CREDENTIALS": f"{USER}:{PASSWORD}", "OKTA_HOOK_POLICY": str(policy)}
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("OKTA_HOOK_")}
    os.environ.update(env)
    sys.modules.pop("main", None)
    try:
        with quiet_stdout():
            import main

            yield main.registration_hook
    finally:
        sys.modules.pop("main", None)
        for name in env:
            os.environ.pop(name, None)
        os.environ.update(saved)


def per_request_seconds(
    loop: asyncio.AbstractEventLoop,
    hook: Hook,
    requests: list[Request],
) -> float:
    async def batch() -> float:
        started = time.perf_counter()
        statuses = [(await hook(request)).status_code for request in requests]
        elapsed = time.perf_counter() - started
        if set(statuses) != {200}:
            raise RuntimeError(f"answers other than 200: {sorted(set(statuses))}")
        return elapsed

    gc.collect()  # as bench.stats.per_op_seconds does before each batch
    return loop.run_until_complete(batch()) / len(requests)


def check(
    loop: asyncio.AbstractEventLoop,
    hook: Hook,
    payload: bytes,
    allowed: bool,
) -> None:
    """The answer is the one meant: the timings are of real decisions."""
    response = loop.run_until_complete(hook(made(payload, 1)[0]))
    decision = json.loads(response.body)["commands"][0]["value"]["registration"]
    if response.status_code != 200 or decision != ("ALLOW" if allowed else "DENY"):
        raise RuntimeError(f"unexpected answer: {response.status_code} {response.body[:200]!r}")


def run(floors: list[float], per_round: int) -> list[Row]:
    cases = {
        "every rule type, allowed (every rule judged)": (EVERY_RULE, body(ALLOWED_PROFILE), True),
        "every rule type, denied (every attribute failing)": (
            EVERY_RULE,
            body(DENIED_PROFILE),
            False,
        ),
        "default policy, allowed (reference)": (
            DEFAULT,
            body({"email": "rosario.jones@example.com", "employeeNumber": "1234"}),
            True,
        ),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    loop = asyncio.new_event_loop()
    try:
        for name, (policy, payload, allowed) in cases.items():
            with hook_on(policy) as hook, quiet_stdout():
                check(loop, hook, payload, allowed)
                per_request_seconds(loop, hook, made(payload, per_round))  # warm-up
                for _ in floors:
                    times[name].append(per_request_seconds(loop, hook, made(payload, per_round)))
                logs.flush()  # the writer thread's lines go to /dev/null too
    finally:
        loop.close()
    rows = []
    for name, values in times.items():
        ratio = Spread.of(ratios(values, floors))
        targeted = name.startswith("every rule type")
        rows.append(
            Row(
                SECTION, name, "µs", Spread.of([v * 1e6 for v in values]), "floor", ratio,
                f"<= {TARGET:g}x floor" if targeted else "",
                (ratio.median <= TARGET) if targeted else None,
            )
        )  # fmt: skip
    return rows


def floors(rounds: int, per_round: int) -> list[float]:
    """The RSA-2048 verify floor, one figure per round, as section 1 measures it."""
    from bench.verification import floor_op, token

    op = floor_op(token("AT.bench.policy"))
    return [per_op_seconds(op, [None] * per_round) for _ in range(rounds)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.policy", description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--per-round", type=int, default=200)
    args = parser.parse_args(argv)
    floor = floors(args.rounds, args.per_round)
    print(f"floor: RSA-2048 verify {Spread.of([f * 1e6 for f in floor]).median:.1f} µs")
    for row in run(floor, args.per_round):
        assert row.ratio is not None
        met = {True: "met", False: "MISSED", None: ""}[row.met]
        print(
            f"{row.case}: {row.absolute.median:.1f} µs ({row.absolute.p10:.1f}-"
            f"{row.absolute.p90:.1f}), {row.ratio.median:.2f}x floor "
            f"({row.ratio.p10:.2f}-{row.ratio.p90:.2f}) {row.target} {met}".rstrip()
        )


if __name__ == "__main__":
    main()
