"""Issue 15's "done when", through the real functions-framework server process (gunicorn's master
reads the list at cold start, its worker is forked with it and refreshes it on its own): allowed
partner domains kept in a Cloud Storage object, changed, and followed by the hook within the
refresh interval, with no redeploy."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cloud_storage_support import CloudStorageServer, cloud_storage
from tests.conftest import BASIC_PASSWORD, BASIC_USER, basic
from tests.policy_support import registration
from tests.server_support import Served, serve

LOCATION = "gs://acme-hook-lists/partner-domains.txt"
POLICY = f"""
[lists.partners]
source = "{LOCATION}"
kind = "domains"
refresh_seconds = 1

[attributes.email]
type = "email"
required = ["registration"]
normalize = ["trim", "lower"]

[domains]
allowed = {{ list = "partners" }}
"""
# The refresh interval, a read, and room for a busy machine.
FOLLOW_SECONDS = 10.0


@pytest.fixture(scope="module")
def storage() -> Iterator[CloudStorageServer]:
    with cloud_storage() as server:
        yield server


@pytest.fixture(scope="module")
def served(
    storage: CloudStorageServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("partners")
    policy = folder / "partners.toml"
    policy.write_text(POLICY, "utf-8")
    storage.put(LOCATION, "partner-one.example\n")
    env = {
        "OKTA_HOOK_BASIC_CREDENTIALS": f"{BASIC_USER}:{BASIC_PASSWORD}",
        "OKTA_HOOK_POLICY": str(policy),
        "OKTA_HOOK_STORAGE_ENDPOINT": storage.endpoint,
    }
    with serve(env, folder) as running:
        yield running


def decision(served: Served, email: str) -> str:
    status, _, body = served.post(
        json.dumps(registration(email=email)).encode(),
        {"Authorization": basic(), "Content-Type": "application/json"},
    )
    assert status == 200, body
    answer = json.loads(body)
    return str(answer["commands"][0]["value"]["registration"])


def test_the_hook_follows_the_bucket_without_a_redeploy(
    served: Served, storage: CloudStorageServer, tmp_path: Path
) -> None:
    # Read at cold start: the first request is answered from it.
    assert decision(served, "sam@partner-one.example") == "ALLOW"
    assert decision(served, "ana@partner-two.example") == "DENY"
    changed = time.monotonic()
    storage.put(LOCATION, "partner-one.example\npartner-two.example\n")
    while decision(served, "ana@partner-two.example") != "ALLOW":
        assert time.monotonic() - changed < FOLLOW_SECONDS, served.log()
        time.sleep(0.2)
    # A partner removed is followed the same way (the guard allows a shrink of half).
    storage.put(LOCATION, "partner-two.example\n")
    changed = time.monotonic()
    while decision(served, "sam@partner-one.example") != "DENY":
        assert time.monotonic() - changed < FOLLOW_SECONDS, served.log()
        time.sleep(0.2)
    log = served.log()
    assert '"message": "list partners read from gs://acme-hook-lists/partner-domains.txt#' in log
    assert "list partners read again from" in log


def test_a_bad_version_never_replaces_the_good_list(
    served: Served, storage: CloudStorageServer
) -> None:
    storage.put(LOCATION, "partner-one.example\npartner-two.example\n")
    started = time.monotonic()
    while decision(served, "sam@partner-one.example") != "ALLOW":
        assert time.monotonic() - started < FOLLOW_SECONDS
        time.sleep(0.2)
    storage.put(LOCATION, "partner-one.example\nnot a domain\n")
    refused = time.monotonic()
    # A refresh is started by a request that finds the list due.
    while decision(served, "ana@partner-two.example") == "ALLOW" and (
        "new value refused, the previous one stays" not in served.log()
    ):
        assert time.monotonic() - refused < FOLLOW_SECONDS, served.log()
        time.sleep(0.2)
    assert decision(served, "ana@partner-two.example") == "ALLOW"
    assert "line 2: not a valid domain name" in served.log()
