"""Config refusals, 503s and crashes are written as errors Error Reporting groups, with no value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.error_report import REPORTED_ERROR_EVENT, valueless_traceback
from okta_wire.models import RequestType
from service import app as hook_app
from tests.conftest import BASIC_PASSWORD, MakeClient, post, sample
from tests.test_logs import lines

REVISION = {"K_SERVICE": "okta-hook-test", "K_REVISION": "okta-hook-test-00007-abc"}
SERVICE_CONTEXT = {"service": "okta-hook-test", "version": "okta-hook-test-00007-abc"}


def reported(entry: dict[str, Any]) -> bool:
    return entry.get("@type") == REPORTED_ERROR_EVENT


# A value from a request, as a bug might put it in an exception's text; the traceback's source
# lines show the variable, never the value.
VALUE = "rosario.jones" + "@example.com"


def _raise_chained() -> None:
    empty: dict[str, str] = {}
    try:
        empty[VALUE]
    except KeyError as e:
        raise ValueError("bad value " + VALUE) from e


def test_a_traceback_keeps_frames_and_types_and_drops_every_text() -> None:
    with pytest.raises(ValueError, match="bad value") as caught:
        _raise_chained()
    text = valueless_traceback(caught.value)
    assert text.startswith("Traceback (most recent call last):\n")
    assert "rosario" not in text
    assert "\nKeyError\n" in text
    assert "direct cause of the following exception" in text
    assert text.endswith("\nValueError")
    assert "in _raise_chained" in text


def test_a_context_that_is_suppressed_is_left_out() -> None:
    try:
        try:
            raise KeyError("secret-ish")
        except KeyError:
            raise RuntimeError("outer") from None
    except RuntimeError as e:
        text = valueless_traceback(e)
    assert "KeyError" not in text
    assert "secret-ish" not in text
    assert text.endswith("\nRuntimeError")


def test_a_config_refusal_and_its_503s_are_reported_under_the_revision(
    make_client: MakeClient, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[attributes.x]\npatern = '[0-9]'\n", "utf-8")
    capsys.readouterr()
    client = make_client(
        OKTA_HOOK_BASIC_CREDENTIALS=f"okta-test:{BASIC_PASSWORD}",
        OKTA_HOOK_POLICY=str(broken),
        **REVISION,
    )
    assert post(client, sample("ssr")).status_code == 503
    refusal, answer = lines(capsys)
    assert refusal["message"].startswith(f"hook refuses every request: {broken}:2: ")
    assert reported(refusal)
    assert refusal["serviceContext"] == SERVICE_CONTEXT
    assert (refusal["event"], refusal["refusal"], refusal["severity"]) == ("config", True, "ERROR")
    assert refusal["context"]["reportLocation"]["filePath"] == "service/app.py"
    assert refusal["context"]["reportLocation"]["functionName"] == "load_app"
    assert answer["status"] == 503
    assert answer["error"] == "unavailable"
    assert reported(answer)
    assert answer["serviceContext"] == SERVICE_CONTEXT
    # Where the 503 was raised: the refusing app's readiness check.
    assert answer["context"]["reportLocation"]["filePath"] == "service/app.py"
    assert answer["context"]["reportLocation"]["functionName"] == "ready"


def test_a_crash_is_reported_with_its_traceback(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    client = make_client(OKTA_HOOK_BASIC_CREDENTIALS=f"okta-test:{BASIC_PASSWORD}", **REVISION)

    def broken(*_: object) -> None:
        raise KeyError(VALUE)

    monkeypatch.setitem(hook_app.HANDLERS, RequestType.PROGRESSIVE, broken)
    capsys.readouterr()
    assert post(client, sample("progressive")).status_code == 500
    crash, answer = lines(capsys)
    assert reported(crash)
    assert crash["serviceContext"] == SERVICE_CONTEXT
    assert crash["message"].startswith("unexpected failure\nTraceback (most recent call last):\n")
    assert crash["message"].endswith("\nKeyError")
    assert VALUE not in crash["message"]
    assert "context" not in crash  # the traceback says where
    # The crash is reported once: its audit line is not.
    assert answer["status"] == 500
    assert not reported(answer)


def test_ordinary_lines_are_not_reported(
    make_client: MakeClient, capsys: pytest.CaptureFixture[str]
) -> None:
    client = make_client(OKTA_HOOK_BASIC_CREDENTIALS=f"okta-test:{BASIC_PASSWORD}", **REVISION)
    capsys.readouterr()
    post(client, sample("ssr"))
    post(client, sample("ssr"), authorization="Basic bm8=")
    post(client, b"{")
    assert [reported(entry) for entry in lines(capsys)] == [False, False, False]
