"""The inline hook body deploy.sh sends or prints, and how it is compared with Okta's."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest

from tools.okta_inline_hook import (
    BASIC_PLACEHOLDER,
    HookInputError,
    HookSpec,
    basic_header,
    error_summary,
    find,
    main,
)

URI = "https://hook-abc-uc.a.run.app"
BASIC = HookSpec(mode="basic", name="hook", uri=URI)
PRIVATE_KEY = HookSpec(
    mode="oauth-private-key",
    name="hook",
    uri=URI,
    client_id="0oa1",
    token_url="https://example.okta.com/oauth2/default/v1/token",
    scope="hooks.registration",
    hook_key_id="HKY1",
)


def as_okta_returns(spec: HookSpec, **changes: Any) -> dict[str, Any]:
    """The hook as Okta lists it: with an id and status, without its secret."""
    hook: dict[str, Any] = {"id": "cal1", "status": "ACTIVE", **spec.body()}
    config = hook["channel"]["config"]
    config.get("authScheme", {}).pop("value", None)
    config.update(changes)
    return hook


def test_basic_header_encodes_the_last_credentials_line() -> None:
    text = "# rotation\nold:pw-1\n\nnew:pw:2  \n# end\n"
    # The password is taken exactly, its trailing spaces too, as the function takes it.
    assert basic_header(text) == "Basic " + base64.b64encode(b"new:pw:2  ").decode()


def test_basic_header_refuses_what_the_function_refuses() -> None:
    with pytest.raises(HookInputError, match="line 2 holds a control character"):
        basic_header("old:pw-1\nnew:pw\u2028evil:pw\n")
    with pytest.raises(HookInputError, match="line 1: the user starts or ends with white space"):
        basic_header("  new:pw:2\n")


def test_basic_header_needs_a_line() -> None:
    with pytest.raises(HookInputError, match="no user:password line"):
        basic_header("# only a comment\n")


def test_body_with_the_secret_holds_the_real_header() -> None:
    config = BASIC.body("okta:pw")["channel"]["config"]
    assert config["authScheme"] == {
        "type": "HEADER",
        "key": "Authorization",
        "value": "Basic " + base64.b64encode(b"okta:pw").decode(),
    }


def test_body_without_the_secret_holds_a_placeholder() -> None:
    assert BASIC.body()["channel"]["config"]["authScheme"]["value"] == BASIC_PLACEHOLDER


def test_client_secret_body_carries_the_client_secret() -> None:
    spec = HookSpec(
        mode="oauth-client-secret", name="h", uri=URI, client_id="c", token_url="t", scope="s"
    )
    config = spec.body("the-client-secret\n")["channel"]["config"]
    assert config["clientSecret"] == "the-client-secret"
    assert "hookKeyId" not in config
    assert "authScheme" not in config


def test_find_reports_a_missing_hook() -> None:
    assert find(BASIC, [{"id": "cal9", "name": "another"}]) == "absent"


def test_find_reports_a_current_hook() -> None:
    assert find(BASIC, [as_okta_returns(BASIC)]) == "cal1 ACTIVE current"


def test_find_reports_a_different_uri() -> None:
    hook = as_okta_returns(BASIC, uri="https://old.example.com")
    assert find(BASIC, [hook]) == "cal1 ACTIVE differs"


def test_find_reports_a_different_scope_or_key() -> None:
    assert find(PRIVATE_KEY, [as_okta_returns(PRIVATE_KEY)]) == "cal1 ACTIVE current"
    assert find(PRIVATE_KEY, [as_okta_returns(PRIVATE_KEY, scope="other")]).endswith("differs")
    assert find(PRIVATE_KEY, [as_okta_returns(PRIVATE_KEY, hookKeyId="HKY2")]).endswith("differs")


def test_find_reports_a_channel_of_another_type() -> None:
    assert find(PRIVATE_KEY, [as_okta_returns(BASIC)]) == "cal1 ACTIVE differs"


def test_find_refuses_two_hooks_of_one_name() -> None:
    with pytest.raises(HookInputError, match="2 inline hooks named 'hook'"):
        find(BASIC, [as_okta_returns(BASIC), as_okta_returns(BASIC)])


def test_find_refuses_an_answer_that_is_not_a_list() -> None:
    with pytest.raises(HookInputError, match="not a JSON array"):
        find(BASIC, {"errorSummary": "x"})


def test_error_summary_lists_the_causes() -> None:
    document = {"errorSummary": "Api validation failed", "errorCauses": [{"errorSummary": "uri"}]}
    assert error_summary(document) == "Api validation failed; uri"
    assert error_summary(None) == "no error details"


def test_the_command_reads_the_secret_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("okta:pw-from-stdin\n"))
    args = ["body", "--mode", "basic", "--name", "n", "--uri", URI, "--secret-from-stdin"]
    assert main(args) == 0
    body = json.loads(capsys.readouterr().out)
    expected = "Basic " + base64.b64encode(b"okta:pw-from-stdin").decode()
    assert body["channel"]["config"]["authScheme"]["value"] == expected


def test_the_command_refuses_an_incomplete_oauth_hook(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["body", "--mode", "oauth-client-secret", "--name", "n", "--uri", URI]) == 2
    assert "needs a client id, a token URL and a scope" in capsys.readouterr().err


def test_a_header_name_in_lower_case_is_the_same_header() -> None:
    # The Admin Console's guide names the field `authorization`: Okta keeps it as typed.
    hook = as_okta_returns(BASIC)
    hook["channel"]["config"]["authScheme"]["key"] = "authorization"
    assert find(BASIC, [hook]) == "cal1 ACTIVE current"
    hook["channel"]["config"]["authScheme"]["key"] = "X-Authorization"
    assert find(BASIC, [hook]) == "cal1 ACTIVE differs"


def test_the_replace_body_has_no_type() -> None:
    body = PRIVATE_KEY.replace_body()
    assert "type" not in body
    assert body == {k: v for k, v in PRIVATE_KEY.body().items() if k != "type"}


def test_error_summary_of_the_token_endpoint() -> None:
    document = {"error": "invalid_client", "error_description": "The client_assertion is invalid."}
    assert error_summary(document) == "invalid_client: The client_assertion is invalid."
