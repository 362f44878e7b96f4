"""`NAME_FILE`: a mounted secret file, cached and read again after the refresh interval."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import pytest

from core.errors import Unavailable
from core.refreshing import Refreshing
from secret_sources.values import Secret
from service.settings import secret_source
from tests.clock_support import ManualClock
from tests.fault_support import release_fifo

SETTING = "OKTA_HOOK_JWT_HMAC_SECRET"
VALUE = "first-hmac-key-value"


def source(path: Path, clock: ManualClock, refresh: str = "300") -> Refreshing[str, Secret]:
    env = {f"{SETTING}_FILE": str(path), "OKTA_HOOK_SECRET_REFRESH_SECONDS": refresh}
    built = secret_source(env, SETTING, clock=clock)
    assert built is not None
    return built.reading(Secret)


def test_read_cached_and_read_again_after_the_interval(tmp_path: Path) -> None:
    path, clock = tmp_path / "hmac", ManualClock()
    path.write_text(VALUE + "\n")
    src = source(path, clock, refresh="30")
    first = src.current()
    assert first.reveal() == VALUE
    path.write_text("second-hmac-key-value\n")  # a new version mounted
    clock.advance(29)
    assert src.current() is first
    clock.advance(1)
    second = src.current()
    assert second.reveal() == "second-hmac-key-value"
    clock.advance(30)
    assert src.current() is second  # read again, unchanged: the same object


def test_a_missing_file_is_503_naming_setting_and_path(tmp_path: Path) -> None:
    path = tmp_path / "not-mounted"
    with pytest.raises(Unavailable) as raised:
        source(path, ManualClock()).current()
    assert raised.value.reason == (
        f"{SETTING}: no value read yet ({SETTING}: cannot read file {path}: "
        "No such file or directory)"
    )


def test_a_file_gone_on_refresh_keeps_the_last_value(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path, clock = tmp_path / "hmac", ManualClock()
    path.write_text(VALUE)
    src = source(path, clock, refresh="30")
    good = src.current()
    path.unlink()
    clock.advance(30)
    assert src.current() is good
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.getMessage() == (
        f"secret read failed: {SETTING}: cannot read file {path}: No such file or directory; "
        "serving the last value"
    )
    path.write_text("restored-value")
    clock.advance(1)  # the first retry after a failure comes after 1 s
    assert src.current().reveal() == "restored-value"


@pytest.mark.parametrize(
    ("content", "cause"),
    [
        (b"", "empty"),
        (b" \n", "empty"),
        (b"\xc3\x28-not-utf-8", "not UTF-8 text"),
        (b"x" * (64 * 1024 + 1), "larger than 64 KiB"),
    ],
)
def test_content_that_is_not_a_secret_is_a_failed_read(
    tmp_path: Path, content: bytes, cause: str
) -> None:
    path = tmp_path / "hmac"
    path.write_bytes(content)
    with pytest.raises(Unavailable) as raised:
        source(path, ManualClock()).current()
    assert raised.value.reason.endswith(f"cannot read file {path}: {cause})")


def test_a_directory_is_a_failed_read(tmp_path: Path) -> None:
    with pytest.raises(Unavailable) as raised:
        source(tmp_path, ManualClock()).current()
    assert raised.value.reason.endswith(f"cannot read file {tmp_path}: Is a directory)")


def test_64_kib_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "hmac"
    path.write_bytes(b"k" * (64 * 1024))
    assert len(source(path, ManualClock()).current().reveal()) == 64 * 1024


def test_a_stalled_file_read_is_given_up_on_without_stacking_readers(tmp_path: Path) -> None:
    # A FIFO with no writer blocks the open(), as a mount waiting on Secret Manager would.
    path = tmp_path / "stalled"
    os.mkfifo(path)
    clock = ManualClock()
    src = source(path, clock, refresh="30")
    started = time.perf_counter()
    with pytest.raises(Unavailable) as raised:
        src.current()
    assert time.perf_counter() - started < 3.0
    assert raised.value.reason.endswith(f"cannot read file {path}: no answer within 1 s)")
    clock.advance(1)  # past the backoff: a second attempt, while the first is still blocked
    with pytest.raises(Unavailable) as raised:
        src.current()
    assert raised.value.reason.endswith("an earlier read is still waiting on the file)")
    assert [t.name for t in threading.enumerate()].count(f"read {SETTING}") == 1
    release_fifo(path)
    path.unlink()
    path.write_text(VALUE)
    clock.advance(2)
    assert src.current().reveal() == VALUE
