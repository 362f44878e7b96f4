"""tools.preview on bad arguments and odd answers: one line on stderr, never a traceback, and
never a credential of the --url in a message; nothing is sent for a refused argument."""

from __future__ import annotations

import http.client
import json
import urllib.request
from typing import Any

import pytest

from tools import preview

VALID = ["registration", "--url", "http://127.0.0.1:1", "--basic", "u:p"]


class Sent:
    """preview.send, replaced: what it was given, and the answer it gives."""

    def __init__(self, answer: tuple[int, str] = (200, '{"commands": []}')) -> None:
        self.calls: list[dict[str, Any]] = []
        self.answer = answer

    def __call__(
        self, url: str, body: bytes, auth: str | None, timeout: float, accept_language: Any = None
    ) -> tuple[int, str]:
        self.calls.append(
            {"url": url, "body": json.loads(body), "timeout": timeout, "lang": accept_language}
        )
        return self.answer


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Sent:
    fake = Sent()
    monkeypatch.setattr(preview, "send", fake)
    return fake


def refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run the preview, expect a usage error, and return its one line."""
    with pytest.raises(SystemExit) as exit_info:
        preview.main(argv)
    assert exit_info.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("python -m tools.preview: error: ")
    return lines[0]


def test_the_valid_invocation_is_sent(sent: Sent, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [*VALID, "a:=null", 'b:="word"', "c=x", "--timeout", "30"]
    assert preview.main([*argv, "--accept-language", "fr-CH, fr;q=0.9"]) == 0
    (call,) = sent.calls
    profile = call["body"]["data"]["userProfile"]
    assert (profile["a"], profile["b"], profile["c"]) == (None, "word", "x")
    assert (call["timeout"], call["lang"]) == (30.0, "fr-CH, fr;q=0.9")
    assert "decision: none" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (["--url", "http://[::1"], "--url is not a URL (Invalid IPv6 URL)"),
        (["--url", "http://a\x01b"], "--url holds a space or a control character"),
        (["--url", "http://127.0.0.1:1/a b"], "--url holds a space or a control character"),
        (["--url", "http://127.0.0.1:1/\x7f"], "--url holds a space or a control character"),
        (["--url", "http://:1/"], "--url has no host"),
        (["--url", "http://127.0.0.1:0/"], "port is not a number from 1 to 65535"),
        (["--url", "http://127.0.0.1:99999/"], "port is not a number from 1 to 65535"),
        (["--url", "http://127.0.0.1:x/"], "port is not a number from 1 to 65535"),
        (["--url", "ftp://127.0.0.1:1"], "--url must be an http:// or https:// URL"),
        (["--timeout", "-1"], "argument --timeout: must be a number of seconds above 0"),
        (["--timeout", "0"], "argument --timeout: must be a number of seconds above 0"),
        (["--timeout", "nan"], "argument --timeout: must be a number of seconds above 0"),
        (["--timeout", "inf"], "argument --timeout: must be a number of seconds above 0"),
        (["--timeout", "1e309"], "argument --timeout: must be a number of seconds above 0"),
        (["--timeout", "30.5"], "argument --timeout: must be a number of seconds above 0"),
        (["--timeout", "soon"], "argument --timeout: must be a number of seconds above 0"),
        (["a:="], "attribute 'a': the value after := is not valid JSON"),
        (["a:={"], "attribute 'a': the value after := is not valid JSON"),
        (["a:=word"], "attribute 'a': the value after := is not valid JSON"),
        (["a:=" + "[" * 100_000], "attribute 'a': the value after := is nested too deeply"),
        (["a:=NaN"], "attribute 'a': the value after := contains NaN"),
        (["a:=" + "9" * 5000], "attribute 'a': the value after := has a number too long"),
        (["a"], "not attr=value or attr:=json: 'a'"),
        (["--accept-language", "a\nb"], "--accept-language must be printable ASCII"),
        (["--accept-language", "a\rb"], "--accept-language must be printable ASCII"),
        (["--accept-language", "fr\x00"], "--accept-language must be printable ASCII"),
        (["--bearer", "t\r\nX-Other: 1"], "--bearer must be printable ASCII"),
        (["--basic", "\udcff:p"], "the Basic user:password is not UTF-8 text"),
    ],
)
def test_a_bad_argument_is_one_line_and_nothing_is_sent(
    change: list[str], said: str, sent: Sent, capsys: pytest.CaptureFixture[str]
) -> None:
    line = refused([*VALID, *change], capsys)
    assert said in line
    assert len(line) < 200
    assert sent.calls == []


def test_a_value_is_not_quoted_when_it_is_not_json(
    sent: Sent, capsys: pytest.CaptureFixture[str]
) -> None:
    line = refused([*VALID, "pin:=s3cr3t-value"], capsys)
    assert "s3cr3t" not in line
    assert "'pin'" in line


@pytest.mark.parametrize(
    "url",
    [
        "http://u:SUPERSECRET@127.0.0.1:1",
        "http://SUPERSECRET@127.0.0.1:1/",
        "https://:SUPERSECRET@127.0.0.1:1/",
        "http://u:SUPERSECRET@127.0.0.1:1\\@example.com/",
        "http://u:SUPERSECRET\n@127.0.0.1:1/",
        "http://u:SUPERSECRET@[::1",
        "http://u:SUPERSECRET@127.0.0.1:x/",
        "http://u:SUPERSECRET/",  # no host: the password reads as the port
    ],
)
def test_credentials_in_the_url_are_refused_unquoted(
    url: str, sent: Sent, capsys: pytest.CaptureFixture[str]
) -> None:
    line = refused([*VALID, "--url", url], capsys)
    assert "SUPERSECRET" not in line
    assert sent.calls == []


def test_userinfo_is_refused_and_told_where_credentials_go(
    sent: Sent, capsys: pytest.CaptureFixture[str]
) -> None:
    line = refused([*VALID, "--url", "http://u:SUPERSECRET@127.0.0.1:1"], capsys)
    assert "the --url holds a user or password: give credentials with --basic" in line


@pytest.mark.parametrize(
    "failure",
    [
        http.client.InvalidURL("URL can't contain control characters"),
        http.client.RemoteDisconnected("Remote end closed connection without response"),
        http.client.IncompleteRead(b"{"),
        http.client.BadStatusLine("garbage"),
        UnicodeError("encoding with 'idna' codec failed (UnicodeError: label empty or too long)"),
        TimeoutError("timed out"),
    ],
)
def test_a_failure_while_sending_is_one_line(
    failure: Exception, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def urlopen(*args: Any, **kwargs: Any) -> Any:
        raise failure

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    assert preview.main(VALID) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("cannot reach http://127.0.0.1:1: ")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(
    "answer",
    [
        '{"commands": [], "error": {"errorCauses": ["not an object"]}}',
        '{"commands": [], "error": {"errorCauses": 5}}',
        "[" * 100_000,
        '{"commands": [{"type": "com.okta.action.update", "value": {}}]}',
    ],
)
def test_an_odd_answer_is_not_a_traceback(
    answer: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(preview, "send", Sent((200, answer)))
    assert preview.main(VALID) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("no decision: the answer is not Okta's format")
