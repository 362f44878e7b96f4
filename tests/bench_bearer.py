"""Timings of Bearer verification, printed: `.venv/bin/python -m tests.bench_bearer`."""

from __future__ import annotations

import json
import logging
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import functions_framework

from auth.bearer import BearerVerifier, Expectations
from auth.jwks import RemoteKeys
from hook.errors import HookError
from tests.jwt_support import AUDIENCE, CLIENT_ID, SCOPE, bearer_env, key_server, mint, okta_claims

ROOT = Path(__file__).resolve().parent.parent


def timed(label: str, runs: int, action: Callable[[], object]) -> None:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        try:
            action()
        except HookError:
            pass
        samples.append((time.perf_counter() - started) * 1e6)
    samples.sort()
    p99 = samples[int(len(samples) * 0.99) - 1]
    print(
        f"{label:<48} median {statistics.median(samples):9.1f} µs   p99 {p99:9.1f} µs  (n={runs})"
    )


def main() -> None:
    logging.getLogger("okta_hook").disabled = True
    with key_server() as okta:
        expect = Expectations(okta.issuer, AUDIENCE, (SCOPE,), (CLIENT_ID,), 30)
        timed(
            "cold start: discovery + keys over loopback", 50, lambda: RemoteKeys(okta.issuer).load()
        )
        bearer = BearerVerifier(expect, RemoteKeys(okta.issuer))
        bearer.load()
        valid = mint(okta_claims(okta.issuer))
        forged = mint(okta_claims(okta.issuer), key_name="attacker")
        timed("verify: valid RS256 token", 2000, lambda: bearer.verify(valid))
        timed("verify: forged signature (refused)", 2000, lambda: bearer.verify(forged))
        timed("verify: garbage (refused before crypto)", 2000, lambda: bearer.verify("x.y"))

        for name, value in bearer_env(okta).items():
            os.environ[name] = value
        app = functions_framework.create_app(  # type: ignore[no-untyped-call]
            target="registration_hook", source=str(ROOT / "main.py")
        )
        client = app.test_client()
        body = json.loads((ROOT / "tests/samples/okta_progressive_request.json").read_text())
        headers = {"Authorization": f"Bearer {valid}"}
        timed(
            "request through functions-framework (ALLOW)",
            500,
            lambda: client.post("/", json=body, headers=headers),
        )


if __name__ == "__main__":
    main()
