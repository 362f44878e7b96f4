"""Dependency faults against the real functions-framework server process, over loopback HTTP:
the deadline holds there too, at its default of 2000 ms and at a setting of 500 ms."""

from __future__ import annotations

import json
import time
from email.message import Message
from pathlib import Path

import pytest

from tests.conftest import BASIC_PASSWORD, BASIC_USER, basic, sample
from tests.fault_support import FaultProxy
from tests.jwt_support import (
    AUTH_SERVER_PATH,
    KeyServer,
    bearer_env,
    mint,
    okta_claims,
)
from tests.secret_manager_support import SecretManagerServer
from tests.server_support import Served, serve

MARGIN_SECONDS = 0.6  # HTTP and a busy machine, on top of the deadline
BODY = json.dumps(sample("progressive")).encode()


def timed_post(served: Served, authorization: str) -> tuple[int, Message, float]:
    headers = {"Content-Type": "application/json", "Authorization": authorization}
    started = time.perf_counter()
    status, response_headers, _ = served.post(BODY, headers, timeout=10)
    elapsed = time.perf_counter() - started
    print(f"\n  served: {status} in {elapsed:.3f} s")
    return status, response_headers, elapsed


@pytest.mark.parametrize("deadline_ms", [None, 500])
@pytest.mark.parametrize("fault", ["hang", "trickle-headers"])
def test_unknown_kid_while_the_keys_endpoint_stalls(
    okta: KeyServer, keys_proxy: FaultProxy, tmp_path: Path, deadline_ms: int | None, fault: str
) -> None:
    env = bearer_env(okta, OKTA_HOOK_JWKS_URI=keys_proxy.origin + AUTH_SERVER_PATH + "/v1/keys")
    if deadline_ms is not None:
        env["OKTA_HOOK_DEADLINE_MS"] = str(deadline_ms)
    bound = (deadline_ms or 2000) / 1000 + MARGIN_SECONDS
    with serve(env, tmp_path) as served:
        keys_proxy.set(fault)
        status, _, elapsed = timed_post(served, "Bearer " + mint(okta_claims(okta.issuer)))
        assert status == 200
        assert elapsed < bound  # cached keys, no wait
        token = mint(okta_claims(okta.issuer), key_name="okta-next", kid="okta-key-2")
        status, headers, elapsed = timed_post(served, f"Bearer {token}")
        assert (status, headers["WWW-Authenticate"]) == (401, 'Bearer error="invalid_token"')
        assert elapsed < bound
        if deadline_ms is not None:
            # The fetch's own bound (0.75 s) would have been waited out without the deadline.
            assert elapsed < 0.75


def test_secret_manager_dripping_at_cold_start_then_back(
    store: SecretManagerServer, secrets_proxy: FaultProxy, tmp_path: Path
) -> None:
    version = store.add_version("basic", f"{BASIC_USER}:{BASIC_PASSWORD}")
    env = {
        "OKTA_HOOK_BASIC_CREDENTIALS_SECRET": version,
        "OKTA_HOOK_SECRET_MANAGER_ENDPOINT": secrets_proxy.origin,
        "OKTA_HOOK_SECRET_REFRESH_SECONDS": "0.5",
    }
    secrets_proxy.set("trickle-body")
    with serve(env, tmp_path) as served:
        time.sleep(0.6)  # past the backoff: the request reads again, under the fault
        status, _, elapsed = timed_post(served, basic())
        assert status == 503
        assert elapsed < 2.0 + MARGIN_SECONDS
        secrets_proxy.set(None)
        deadline = time.monotonic() + 10
        while (status := timed_post(served, basic())[0]) != 200:
            assert status == 503
            assert time.monotonic() < deadline
            time.sleep(0.2)
        log = served.log()
    assert "no answer within" in log or "an earlier read is still waiting" in log
