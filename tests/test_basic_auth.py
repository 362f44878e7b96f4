"""HTTP Basic: who may call, and that nothing unauthenticated reaches a handler."""

from __future__ import annotations

import base64

import pytest
from starlette.testclient import TestClient

from auth.basic import CredentialsFormatError, parse_credentials
from tests.conftest import BASIC_PASSWORD, BASIC_USER, MakeClient, basic, post, sample

CHALLENGE = 'Basic realm="okta-registration-hook", charset="UTF-8"'


def assert_refused(response: object, status: int = 401) -> None:
    assert response.status_code == status  # type: ignore[attr-defined]
    assert response.headers["WWW-Authenticate"] == CHALLENGE  # type: ignore[attr-defined]
    assert response.json() == {  # type: ignore[attr-defined]
        "error": {"code": "unauthenticated", "message": "Authentication is required."}
    }


def b64(text: bytes) -> str:
    return base64.b64encode(text).decode("ascii")


def test_right_credentials_reach_the_handler(client: TestClient) -> None:
    assert post(client, sample("progressive")).status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [
        basic(BASIC_USER, "wrong"),
        basic("someone-else", BASIC_PASSWORD),
        basic(BASIC_USER, BASIC_PASSWORD + "x"),
        basic(BASIC_USER, BASIC_PASSWORD.split(":")[0]),  # the password itself contains ':'
        basic(BASIC_USER.upper(), BASIC_PASSWORD),
        "Basic",
        "Basic ",
        "Basic !!!not-base64!!!",
        "Basic " + b64(b"no-colon-here"),
        "Basic " + b64(b"\xff\xfe:\xff"),
        "Basic " + "A" * 5000,
        "Bearer " + b64(f"{BASIC_USER}:{BASIC_PASSWORD}".encode()),
        "Digest username=okta-test",
        b64(f"{BASIC_USER}:{BASIC_PASSWORD}".encode()),
    ],
)
def test_wrong_or_malformed_credentials_are_401(client: TestClient, authorization: str) -> None:
    assert_refused(post(client, sample("progressive"), authorization=authorization))


def test_missing_header_is_401(client: TestClient) -> None:
    response = client.post("/", json=sample("progressive"))
    assert_refused(response)


def test_scheme_name_is_case_insensitive(client: TestClient) -> None:
    for scheme in ("basic", "BASIC", "bAsIc"):
        token = b64(f"{BASIC_USER}:{BASIC_PASSWORD}".encode())
        assert (
            post(client, sample("progressive"), authorization=f"{scheme} {token}").status_code
            == 200
        )


def test_caller_is_authenticated_before_the_body_is_read(client: TestClient) -> None:
    # A malformed body from an unknown caller is a 401, not a 400 that would describe the body.
    response = post(client, b"{not json", authorization=basic(BASIC_USER, "wrong"))
    assert_refused(response)
    response = post(
        client, sample("ssr"), authorization=basic(BASIC_USER, "wrong"), content_type="text/plain"
    )
    assert_refused(response)


def test_every_configured_line_is_accepted_for_rotation(make_client: MakeClient) -> None:
    client = make_client(
        OKTA_HOOK_BASIC_CREDENTIALS="# old and new during a rotation\nokta-old:old-pass\n\nokta-new:new:pass\n"
    )
    assert post(client, sample("progressive"), basic("okta-old", "old-pass")).status_code == 200
    assert post(client, sample("progressive"), basic("okta-new", "new:pass")).status_code == 200
    assert_refused(post(client, sample("progressive"), basic("okta-old", "new:pass")))


def test_unicode_credentials(make_client: MakeClient) -> None:
    client = make_client(OKTA_HOOK_BASIC_CREDENTIALS="okta-ü:pässwörd")
    assert post(client, sample("progressive"), basic("okta-ü", "pässwörd")).status_code == 200


def test_no_authentication_configured_refuses_everything(
    make_client: MakeClient, capsys: pytest.CaptureFixture[str]
) -> None:
    client = make_client()
    response = post(client, sample("progressive"))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert "no authentication is configured" in capsys.readouterr().out


def test_malformed_credentials_setting_is_503_and_never_echoed(
    make_client: MakeClient, capsys: pytest.CaptureFixture[str]
) -> None:
    client = make_client(OKTA_HOOK_BASIC_CREDENTIALS="okta:fine\nsecret-without-colon")
    response = post(client, sample("progressive"), basic("okta", "fine"))
    assert response.status_code == 503
    out = capsys.readouterr().out
    assert "line 2 is not user:password" in out
    assert "secret-without-colon" not in out


@pytest.mark.parametrize("text", ["", "\n# only a comment\n", "user-only", ":password", "user:"])
def test_parse_credentials_refuses(text: str) -> None:
    with pytest.raises(CredentialsFormatError):
        parse_credentials(text)
