"""OAuth 2.0 settings: defaults, combinations refused by name, and Basic beside Bearer."""

from __future__ import annotations

import json

import pytest

from service.settings import ConfigError, Settings
from tests.conftest import BASIC_PASSWORD, BASIC_USER, MakeClient, basic, post, sample
from tests.jwt_support import (
    CLIENT_ID,
    OTHER_CLIENT_ID,
    SCOPE,
    KeyServer,
    bearer_env,
    mint,
    okta_claims,
)

ISSUER = "https://acme.okta.com/oauth2/default"


def test_defaults() -> None:
    bearer = Settings.from_env({"OKTA_HOOK_ISSUER": ISSUER, "OKTA_HOOK_SCOPES": SCOPE}).bearer
    assert bearer is not None
    assert (bearer.issuer, bearer.audience, bearer.scopes) == (ISSUER, "api://default", (SCOPE,))
    assert (bearer.client_ids, bearer.leeway_seconds, bearer.jwks_uri) == (None, 30, None)
    assert bearer.pinned_jwks is None
    assert bearer.hmac_secret is None


def test_every_setting_is_read() -> None:
    env = {
        "OKTA_HOOK_ISSUER": ISSUER,
        "OKTA_HOOK_AUDIENCE": "api://hooks",
        "OKTA_HOOK_SCOPES": " hooks.registration  hooks.progressive ",
        "OKTA_HOOK_CLIENT_IDS": f"{CLIENT_ID}, {OTHER_CLIENT_ID}",
        "OKTA_HOOK_JWKS_URI": ISSUER + "/v1/keys",
        "OKTA_HOOK_LEEWAY_SECONDS": "0",
    }
    bearer = Settings.from_env(env).bearer
    assert bearer is not None
    assert bearer.audience == "api://hooks"
    assert bearer.scopes == ("hooks.registration", "hooks.progressive")
    assert bearer.client_ids == (CLIENT_ID, OTHER_CLIENT_ID)
    assert (bearer.jwks_uri, bearer.leeway_seconds) == (ISSUER + "/v1/keys", 0)


def test_no_issuer_means_no_bearer() -> None:
    assert Settings.from_env({}).bearer is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"OKTA_HOOK_AUDIENCE": "api://x"},
            "OKTA_HOOK_AUDIENCE is set but OKTA_HOOK_ISSUER is not",
        ),
        ({"OKTA_HOOK_SCOPES": SCOPE}, "OKTA_HOOK_SCOPES is set but OKTA_HOOK_ISSUER is not"),
        ({"OKTA_HOOK_JWKS": "{}"}, "OKTA_HOOK_JWKS is set but OKTA_HOOK_ISSUER is not"),
        (
            {"OKTA_HOOK_JWKS_FILE": "/etc/secrets/jwks"},
            "OKTA_HOOK_JWKS_FILE is set but OKTA_HOOK_ISSUER is not",
        ),
        (
            {"OKTA_HOOK_JWT_HMAC_SECRET_SECRET": "projects/p/secrets/s/versions/latest"},
            "OKTA_HOOK_JWT_HMAC_SECRET_SECRET is set but",
        ),
        ({"OKTA_HOOK_ISSUER": ISSUER}, "OKTA_HOOK_SCOPES must name"),
        ({"OKTA_HOOK_ISSUER": ISSUER, "OKTA_HOOK_SCOPES": "  "}, "OKTA_HOOK_SCOPES must name"),
        (
            {
                "OKTA_HOOK_ISSUER": "https://acme.okta.com/oauth2/ default",
                "OKTA_HOOK_SCOPES": SCOPE,
            },
            "OKTA_HOOK_ISSUER contains white space",
        ),
        (
            {"OKTA_HOOK_ISSUER": ISSUER, "OKTA_HOOK_SCOPES": 'a"b'},
            "OKTA_HOOK_SCOPES contains a quote",
        ),
        (
            {"OKTA_HOOK_ISSUER": "http://acme.okta.com/oauth2/default", "OKTA_HOOK_SCOPES": SCOPE},
            "OKTA_HOOK_ISSUER must be an https:// URL",
        ),
        (
            {"OKTA_HOOK_ISSUER": "acme", "OKTA_HOOK_SCOPES": SCOPE},
            "OKTA_HOOK_ISSUER must be an https:// URL",
        ),
        (
            {
                "OKTA_HOOK_ISSUER": ISSUER,
                "OKTA_HOOK_SCOPES": SCOPE,
                "OKTA_HOOK_JWKS_URI": "http://acme.okta.com/keys",
            },
            "OKTA_HOOK_JWKS_URI must be an https:// URL",
        ),
        (
            {
                "OKTA_HOOK_ISSUER": ISSUER,
                "OKTA_HOOK_SCOPES": SCOPE,
                "OKTA_HOOK_JWKS_URI": ISSUER + "/v1/keys",
                "OKTA_HOOK_JWKS": "{}",
            },
            "set OKTA_HOOK_JWKS_URI or OKTA_HOOK_JWKS, not both",
        ),
        (
            {
                "OKTA_HOOK_ISSUER": ISSUER,
                "OKTA_HOOK_SCOPES": SCOPE,
                "OKTA_HOOK_JWKS": "{}",
                "OKTA_HOOK_JWT_HMAC_SECRET": "s" * 40,
            },
            "OKTA_HOOK_JWT_HMAC_SECRET cannot be combined",
        ),
        (
            {
                "OKTA_HOOK_ISSUER": ISSUER,
                "OKTA_HOOK_SCOPES": SCOPE,
                "OKTA_HOOK_JWKS_URI": ISSUER + "/v1/keys",
                "OKTA_HOOK_JWT_HMAC_SECRET": "s" * 40,
            },
            "OKTA_HOOK_JWT_HMAC_SECRET cannot be combined",
        ),
        (
            {"OKTA_HOOK_ISSUER": ISSUER, "OKTA_HOOK_SCOPES": SCOPE, "OKTA_HOOK_CLIENT_IDS": " , "},
            "OKTA_HOOK_CLIENT_IDS is set but names nothing",
        ),
        (
            {
                "OKTA_HOOK_ISSUER": ISSUER,
                "OKTA_HOOK_SCOPES": SCOPE,
                "OKTA_HOOK_LEEWAY_SECONDS": "thirty",
            },
            "OKTA_HOOK_LEEWAY_SECONDS is not a whole number",
        ),
        (
            {
                "OKTA_HOOK_ISSUER": ISSUER,
                "OKTA_HOOK_SCOPES": SCOPE,
                "OKTA_HOOK_LEEWAY_SECONDS": "-1",
            },
            "OKTA_HOOK_LEEWAY_SECONDS must be between 0 and 300",
        ),
        (
            {
                "OKTA_HOOK_ISSUER": ISSUER,
                "OKTA_HOOK_SCOPES": SCOPE,
                "OKTA_HOOK_LEEWAY_SECONDS": "301",
            },
            "OKTA_HOOK_LEEWAY_SECONDS must be between 0 and 300",
        ),
    ],
)
def test_bad_combinations_name_the_setting(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_issuer_need_not_be_a_url_when_keys_are_given() -> None:
    for keys in ({"OKTA_HOOK_JWKS": "{}"}, {"OKTA_HOOK_JWT_HMAC_SECRET": "s" * 40}):
        env = {"OKTA_HOOK_ISSUER": "urn:gateway:hooks", "OKTA_HOOK_SCOPES": SCOPE, **keys}
        bearer = Settings.from_env(env).bearer
        assert bearer is not None
        assert bearer.issuer == "urn:gateway:hooks"


def test_a_bad_combination_refuses_every_request(
    make_client: MakeClient, okta: KeyServer, capsys: pytest.CaptureFixture[str]
) -> None:
    client = make_client(**bearer_env(okta, OKTA_HOOK_LEEWAY_SECONDS="3600"))
    response = post(client, sample("progressive"), f"Bearer {mint(okta_claims(okta.issuer))}")
    assert response.status_code == 503
    assert "OKTA_HOOK_LEEWAY_SECONDS must be between 0 and 300" in capsys.readouterr().out


def test_no_authentication_names_both_ways_to_configure_it(
    make_client: MakeClient, capsys: pytest.CaptureFixture[str]
) -> None:
    assert post(make_client(), sample("progressive")).status_code == 503
    out = capsys.readouterr().out
    assert "OKTA_HOOK_BASIC_CREDENTIALS" in out
    assert "OKTA_HOOK_ISSUER and OKTA_HOOK_SCOPES" in out


def test_basic_and_bearer_together(make_client: MakeClient, okta: KeyServer) -> None:
    env = bearer_env(okta, OKTA_HOOK_BASIC_CREDENTIALS=f"{BASIC_USER}:{BASIC_PASSWORD}")
    client = make_client(**env)
    token = mint(okta_claims(okta.issuer))
    assert post(client, sample("progressive"), basic()).status_code == 200
    assert post(client, sample("progressive"), f"Bearer {token}").status_code == 200
    assert post(client, sample("progressive"), basic(BASIC_USER, "wrong")).status_code == 401
    bad = post(client, sample("progressive"), f"Bearer {mint(okta_claims(okta.issuer), 'x')}")
    assert bad.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    missing = client.post("/", json=sample("progressive"))
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == (
        'Basic realm="okta-registration-hook", charset="UTF-8", '
        'Bearer realm="okta-registration-hook"'
    )


def test_unlisted_clients_are_accepted_with_a_warning_at_cold_start(
    make_client: MakeClient, okta: KeyServer, capsys: pytest.CaptureFixture[str]
) -> None:
    env = bearer_env(okta)
    del env["OKTA_HOOK_CLIENT_IDS"]
    client = make_client(**env)
    token = mint(okta_claims(okta.issuer, cid=OTHER_CLIENT_ID))
    for _ in range(3):
        assert post(client, sample("progressive"), f"Bearer {token}").status_code == 200
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    warnings = [line for line in lines if "OKTA_HOOK_CLIENT_IDS is not set" in line["message"]]
    assert len(warnings) == 1
    assert warnings[0]["severity"] == "WARNING"
