"""`NAME_SECRET`: the real Secret Manager client over loopback HTTP, cached and refreshed."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time

import pytest

from core.errors import Unavailable
from core.refreshing import Refreshing
from secret_sources.values import Secret
from service.settings import secret_source
from tests.clock_support import ManualClock
from tests.conftest import ROOT
from tests.secret_manager_support import SecretManagerServer

SETTING = "OKTA_HOOK_MADE_UP_KEY"  # any name gets the three forms, not only the known ones
VALUE = "okta:first-password"
BOUND_SECONDS = 3.0  # Okta's budget; a read that fails must fail well inside it


def source(
    store: SecretManagerServer, name: str, clock: ManualClock, refresh: str = "300"
) -> Refreshing[str, Secret]:
    env = {
        f"{SETTING}_SECRET": name,
        "OKTA_HOOK_SECRET_MANAGER_ENDPOINT": store.endpoint,
        "OKTA_HOOK_SECRET_REFRESH_SECONDS": refresh,
    }
    built = secret_source(env, SETTING, clock=clock)
    assert built is not None
    return built.reading(Secret)


def latest(name: str) -> str:
    return name.rsplit("/", 2)[0] + "/versions/latest"


def unavailable_reason(src: Refreshing[str, Secret]) -> str:
    with pytest.raises(Unavailable) as raised:
        src.current()
    return raised.value.reason


def test_reads_the_value_through_the_client(store: SecretManagerServer, clock: ManualClock) -> None:
    name = latest(store.add_version("basic", VALUE))
    src = source(store, name, clock)
    assert src.source.name == SETTING
    assert src.current().reveal() == VALUE
    assert store.reads == {name: 1}


def test_a_trailing_line_break_is_not_part_of_the_value(
    store: SecretManagerServer, clock: ManualClock
) -> None:
    name = latest(store.add_version("basic", VALUE + "\r\n"))
    assert source(store, name, clock).current().reveal() == VALUE


def test_cached_without_a_read_per_call_until_the_interval(
    store: SecretManagerServer, clock: ManualClock
) -> None:
    name = latest(store.add_version("basic", VALUE))
    src = source(store, name, clock, refresh="300")
    first = src.current()
    for _ in range(50):
        assert src.current() is first
    clock.advance(299.9)
    assert src.current() is first
    assert store.reads[name] == 1
    clock.advance(0.2)
    assert src.current() is first  # read again; the value did not change, so the same object
    assert store.reads[name] == 2


def test_rotation_the_latest_version_is_picked_up_after_the_interval(
    store: SecretManagerServer, clock: ManualClock
) -> None:
    name = latest(store.add_version("basic", VALUE))
    src = source(store, name, clock, refresh="60")
    old = src.current()
    store.add_version("basic", "okta:second-password")
    assert src.current() is old
    clock.advance(60)
    new = src.current()
    assert new is not old
    assert new.reveal() == "okta:second-password"
    assert src.current() is new


def test_a_pinned_version_stays_pinned(store: SecretManagerServer, clock: ManualClock) -> None:
    pinned = store.add_version("basic", VALUE)
    store.add_version("basic", "okta:second-password")
    src = source(store, pinned, clock, refresh="60")
    assert pinned.endswith("/versions/1")
    assert src.current().reveal() == VALUE
    clock.advance(60)
    assert src.current().reveal() == VALUE
    assert store.reads[pinned] == 2


def test_missing_secret_is_404_and_503_naming_setting_and_secret(
    store: SecretManagerServer, clock: ManualClock
) -> None:
    name = "projects/hook-project/secrets/nothing-here/versions/latest"
    reason = unavailable_reason(source(store, name, clock))
    assert reason.startswith(f"{SETTING}: no value read yet ({SETTING}: cannot read {name}: 404 ")
    assert "not found or has no versions" in reason
    assert store.reads[name] == 1  # a 404 is not retried


def test_missing_pinned_version_is_404(store: SecretManagerServer, clock: ManualClock) -> None:
    store.add_version("basic", VALUE)
    name = "projects/hook-project/secrets/basic/versions/7"
    assert f"cannot read {name}: 404 " in unavailable_reason(source(store, name, clock))


@pytest.mark.parametrize(
    ("fault", "cause"),
    [
        ("bad-crc", "the payload's CRC32C checksum does not match"),
        ("no-crc", "the response carries no CRC32C checksum"),
    ],
)
def test_a_checksum_that_does_not_match_is_a_failed_read(
    store: SecretManagerServer, clock: ManualClock, fault: str, cause: str
) -> None:
    name = latest(store.add_version("basic", VALUE))
    store.fault = fault
    assert unavailable_reason(source(store, name, clock)).endswith(f"{name}: {cause})")


def test_a_checksum_mismatch_on_refresh_keeps_the_last_good_value(
    store: SecretManagerServer, clock: ManualClock
) -> None:
    name = latest(store.add_version("basic", VALUE))
    src = source(store, name, clock, refresh="60")
    good = src.current()
    store.add_version("basic", "okta:corrupted-in-transit")
    store.fault = "bad-crc"
    clock.advance(60)
    assert src.current() is good


@pytest.mark.parametrize("payload", [b"\xff\xfe-not-utf-8", b"", b"\n"])
def test_a_payload_that_is_not_text_is_a_failed_read(
    store: SecretManagerServer, clock: ManualClock, payload: bytes
) -> None:
    name = latest(store.add_version("basic", payload))
    reason = unavailable_reason(source(store, name, clock))
    assert reason.endswith(("not UTF-8 text)", "empty)"))


def test_refresh_failure_keeps_the_last_value_logs_it_and_backs_off(
    store: SecretManagerServer, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    name = latest(store.add_version("basic", VALUE))
    src = source(store, name, clock, refresh="300")
    good = src.current()
    store.fault = "error-500"
    clock.advance(300)
    caplog.clear()
    assert src.current() is good
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    fields = record.fields  # type: ignore[attr-defined]
    assert (fields["event"], fields["setting"], fields["source"]) == ("secret", SETTING, name)
    assert fields["error"].startswith(f"{SETTING}: cannot read {name}: gave up retrying")
    assert record.getMessage().endswith("serving the last value")
    assert VALUE not in record.getMessage()
    assert VALUE not in str(fields)
    # Retried after 1 s, then 2 s, then 4 s: not on every request.
    reads = store.reads[name]
    for wait, more in [(0.9, 0), (0.2, 1), (1.9, 0), (0.2, 1), (4.0, 1)]:
        clock.advance(wait)
        assert src.current() is good
        assert store.reads[name] > reads if more else store.reads[name] == reads
        reads = store.reads[name]
    store.fault = None
    clock.advance(8.0)
    assert src.current() is good
    clock.advance(299)
    src.current()
    assert store.reads[name] == reads + 1  # healthy again: back to one read per interval


def test_transient_errors_are_retried_within_the_bound(
    store: SecretManagerServer, clock: ManualClock
) -> None:
    name = latest(store.add_version("basic", VALUE))
    store.fault = "error-503"
    started = time.perf_counter()
    reason = unavailable_reason(source(store, name, clock))
    elapsed = time.perf_counter() - started
    assert "gave up retrying" in reason
    assert "last error: 503 injected failure" in reason
    assert store.reads[name] > 1
    assert elapsed < BOUND_SECONDS


def test_a_hanging_server_is_given_up_on_within_the_bound(
    store: SecretManagerServer, clock: ManualClock
) -> None:
    name = latest(store.add_version("basic", VALUE))
    store.fault = "hang"
    started = time.perf_counter()
    reason = unavailable_reason(source(store, name, clock))
    assert time.perf_counter() - started < BOUND_SECONDS
    assert "ReadTimeout" in reason


def test_a_refused_connection_is_given_up_on_within_the_bound(
    store: SecretManagerServer, clock: ManualClock
) -> None:
    name = latest(store.add_version("basic", VALUE))
    store.stop()
    started = time.perf_counter()
    reason = unavailable_reason(source(store, name, clock))
    assert time.perf_counter() - started < BOUND_SECONDS
    assert "ConnectionError" in reason


def test_one_request_refreshes_while_the_others_keep_the_cached_value(
    store: SecretManagerServer, clock: ManualClock
) -> None:
    name = latest(store.add_version("basic", VALUE))
    src = source(store, name, clock, refresh="60")
    good = src.current()
    store.fault = "hang"
    clock.advance(60)
    results: list[Secret] = []
    refresher = threading.Thread(target=lambda: results.append(src.current()))
    refresher.start()
    assert store.wait_for_reads(name, 2, BOUND_SECONDS)
    assert store.reads[name] == 2  # the refresher is now waiting on the server
    for _ in range(20):
        assert src.current() is good
    assert refresher.is_alive()
    assert store.reads[name] == 2  # the others did not start reads of their own
    refresher.join(BOUND_SECONDS)
    assert results == [good]


def loaded_modules(env: dict[str, str]) -> set[str]:
    """The modules a fresh process has after a cold start with exactly these settings."""
    code = (
        "import os, sys; from service.app import load_app; load_app(os.environ); "
        "print(' '.join(sorted(sys.modules)))"
    )
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("OKTA_HOOK_")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**child_env, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return set(result.stdout.split())


def test_the_client_library_is_imported_only_for_a_secret_manager_setting(
    store: SecretManagerServer,
) -> None:
    client_module = "google.cloud.secretmanager_v1"
    assert client_module not in loaded_modules({"OKTA_HOOK_BASIC_CREDENTIALS": VALUE})
    name = latest(store.add_version("basic", VALUE))
    env = {
        "OKTA_HOOK_BASIC_CREDENTIALS_SECRET": name,
        "OKTA_HOOK_SECRET_MANAGER_ENDPOINT": store.endpoint,
    }
    assert client_module in loaded_modules(env)
    assert store.reads[name] == 1  # the cold start read it, once
