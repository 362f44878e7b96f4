"""OKTA_HOOK_DEADLINE_MS: the setting, the per-request bound it gives every wait, and the worker
that lets a wait end at that bound when the call itself cannot be interrupted."""

from __future__ import annotations

import threading
import time

import pytest

from core import deadline
from core.bounded_call import BoundedCall, CallTimedOut, StillStalled
from service.settings import ConfigError, Settings
from tests.conftest import BASIC_PASSWORD, BASIC_USER, MakeClient, post, sample

BASIC = {"OKTA_HOOK_BASIC_CREDENTIALS": f"{BASIC_USER}:{BASIC_PASSWORD}"}


def test_default_is_well_under_okta_s_three_seconds() -> None:
    assert Settings.from_env(BASIC).deadline_ms == 2000


@pytest.mark.parametrize("value", ["100", "750", " 2900 "])
def test_accepted_values(value: str) -> None:
    assert Settings.from_env({**BASIC, "OKTA_HOOK_DEADLINE_MS": value}).deadline_ms == int(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("99", "must be between 100 and 2900"),
        ("2901", "must be between 100 and 2900"),
        ("3000", "must be between 100 and 2900"),
        ("0", "must be between 100 and 2900"),
        ("-5", "must be between 100 and 2900"),
        ("1.5", "is not a whole number of milliseconds"),
        ("2s", "is not a whole number of milliseconds"),
        ("١٠٠٠", "is not a whole number of milliseconds"),  # int() would read 1000
    ],
)
def test_refused_values(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"OKTA_HOOK_DEADLINE_MS {message}"):
        Settings.from_env({**BASIC, "OKTA_HOOK_DEADLINE_MS": value})


def test_a_refused_value_makes_the_hook_refuse_every_request(
    make_client: MakeClient, capsys: pytest.CaptureFixture[str]
) -> None:
    client = make_client(**BASIC, OKTA_HOOK_DEADLINE_MS="5000")
    response = post(client, sample("progressive"))
    assert response.status_code == 503
    assert "OKTA_HOOK_DEADLINE_MS must be between 100 and 2900" in capsys.readouterr().out


def test_time_left_outside_a_request_is_the_cap() -> None:
    assert deadline.time_left(1.5) == 1.5


def test_time_left_is_the_nearer_of_cap_and_deadline() -> None:
    with deadline.within(deadline.Deadline.after(0.5)):
        assert 0.4 < deadline.time_left(10.0) <= 0.5
        assert deadline.time_left(0.1) == 0.1
    with deadline.within(deadline.Deadline.after(-1)):
        assert deadline.time_left(10.0) == 0.0
    assert deadline.time_left(1.5) == 1.5  # the block's end restores "no deadline"


def test_each_thread_sees_only_its_own_request_s_deadline() -> None:
    seen: list[float] = []
    with deadline.within(deadline.Deadline.after(0.2)):
        worker = threading.Thread(target=lambda: seen.append(deadline.time_left(5.0)))
        worker.start()
        worker.join()
    assert seen == [5.0]


def test_a_call_that_ends_in_time_returns_its_value() -> None:
    assert BoundedCall[int]("quick").run(lambda: 7, 1.0) == 7


def test_a_call_that_fails_raises_its_error_in_the_caller() -> None:
    def fail() -> int:
        raise OSError("no such file")

    with pytest.raises(OSError, match="no such file"):
        BoundedCall[int]("failing").run(fail, 1.0)


def test_a_stalled_call_is_given_up_on_and_never_doubled() -> None:
    release = threading.Event()
    calls = BoundedCall[bool]("stalled-call")
    started = time.perf_counter()
    with pytest.raises(CallTimedOut):
        calls.run(lambda: release.wait(5.0), 0.1)
    assert time.perf_counter() - started < 1.0
    with pytest.raises(StillStalled):
        calls.run(lambda: True, 0.1)
    assert [t.name for t in threading.enumerate()].count("stalled-call") == 1
    release.set()
    for thread in threading.enumerate():
        if thread.name == "stalled-call":
            thread.join(2.0)
    assert calls.run(lambda: True, 0.5) is True  # the stalled call ended: calls run again


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://10.255.255.1:9",  # plain http off loopback: a secret read in clear text
        "https://u:pw@secretmanager.example",
        "secretmanager.example:99999",
        "https://:0",
        "[::1",
        "secret\x01manager.example",
        "https://secretmanager.example/v1",
    ],
)
def test_a_secret_manager_endpoint_is_checked_once_at_cold_start(endpoint: str) -> None:
    with pytest.raises(ConfigError, match="OKTA_HOOK_SECRET_MANAGER_ENDPOINT: ") as raised:
        Settings.from_env({**BASIC, "OKTA_HOOK_SECRET_MANAGER_ENDPOINT": endpoint})
    assert "pw" not in str(raised.value)


@pytest.mark.parametrize(
    "endpoint", ["http://127.0.0.1:8085", "http://[::1]:9", "https://secretmanager.example:443"]
)
def test_a_secret_manager_endpoint_on_loopback_or_https_is_taken(endpoint: str) -> None:
    settings = Settings.from_env({**BASIC, "OKTA_HOOK_SECRET_MANAGER_ENDPOINT": endpoint})
    assert settings.secret_manager_endpoint == endpoint


@pytest.mark.parametrize("value", ["\u0663", "nan", "inf", "-1", "0"])
def test_a_secret_refresh_interval_is_a_positive_ascii_number(value: str) -> None:
    with pytest.raises(ConfigError, match="OKTA_HOOK_SECRET_REFRESH_SECONDS must be"):
        Settings.from_env({**BASIC, "OKTA_HOOK_SECRET_REFRESH_SECONDS": value})
