"""Deploy reads the settings with the function's own code: where the shell deploy had rules of
its own (leeway, refresh interval, pinned JWKS), both now accept and refuse the same values."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from auth.basic import CredentialsFormatError, credential_lines
from auth.keys import JwksFormatError, parse_jwks
from service.settings import ConfigError, Settings
from tests.deploy_support import PASSWORD, PROJECT, ROOT
from tests.jwt_support import public_ec_jwk, public_jwk, rsa_key
from tools.deploy.checks import check
from tools.deploy.function_checks import (
    check_basic_credentials,
    check_jwks,
    check_policy,
    check_settings,
)
from tools.deploy.function_env import function_env, stored_secrets
from tools.deploy.options import Options
from tools.deploy.output import Refused
from tools.deploy.secret_inputs import SecretInputs

ISSUER = "https://example.okta.com/oauth2/default"
OAUTH = {
    "auth": "oauth-private-key",
    "issuer": ISSUER,
    "scopes": "hooks.registration",
    "client_id": "0oa1",
}
REFUSED = "cannot be used, and the function would refuse every request"


def deploy_env(jwks: str = "", **options: str) -> dict[str, str]:
    """The environment deploy would give the function, built from these options."""
    checked = check(Options(project=PROJECT, **options))  # type: ignore[arg-type]
    secrets = SecretInputs(basic_credentials=f"okta:{PASSWORD}", jwks=jwks)
    return function_env(checked, stored_secrets(checked, secrets))


def function_error(env: dict[str, str]) -> str | None:
    """What the function says of this environment at its cold start, or None if it takes it."""
    try:
        Settings.from_env(env)
    except ConfigError as e:
        return str(e)
    return None


def deploy_error(env: dict[str, str]) -> str | None:
    try:
        check_settings(env)
    except Refused as e:
        return str(e)
    return None


def test_a_leeway_above_300_is_refused_with_the_functions_message() -> None:
    env = deploy_env(leeway_seconds="301", **OAUTH)
    assert function_error(env) == "OKTA_HOOK_LEEWAY_SECONDS must be between 0 and 300"
    assert deploy_error(env) == f"the settings {REFUSED}: {function_error(env)}"


@pytest.mark.parametrize(
    ("name", "value", "accepted"),
    [
        ("leeway_seconds", "0", True),
        ("leeway_seconds", "300", True),
        ("leeway_seconds", "301", False),  # the shell deploy took any whole number
        ("leeway_seconds", "-1", False),
        ("leeway_seconds", "1.5", False),
        ("secret_refresh_seconds", "0.5", True),  # the shell deploy wanted a whole number
        ("secret_refresh_seconds", "300", True),
        ("secret_refresh_seconds", "0", False),
        ("secret_refresh_seconds", "-5", False),
        ("secret_refresh_seconds", "inf", False),
        ("secret_refresh_seconds", "nan", False),
        ("secret_refresh_seconds", "soon", False),
    ],
)
def test_deploy_and_function_accept_the_same_numbers(name: str, value: str, accepted: bool) -> None:
    env = deploy_env(**{name: value}, **OAUTH)
    assert (function_error(env) is None) is accepted
    assert deploy_error(env) == (
        None if accepted else f"the settings {REFUSED}: {function_error(env)}"
    )


def test_a_fractional_refresh_interval_reaches_the_function_as_given() -> None:
    env = deploy_env(secret_refresh_seconds="0.5")
    assert env["OKTA_HOOK_SECRET_REFRESH_SECONDS"] == "0.5"
    assert deploy_error(env) is None


def test_allowed_domains_that_name_nothing_are_refused_as_the_function_refuses_them() -> None:
    env = deploy_env(allowed_email_domains=" , ,")
    assert function_error(env) == "OKTA_HOOK_ALLOWED_EMAIL_DOMAINS is set but names nothing"
    assert deploy_error(env) == f"the settings {REFUSED}: {function_error(env)}"


def test_the_policy_is_loaded_with_the_allowed_domains_the_function_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)  # as deploy runs: in the checkout, the policy path relative to it
    settings = check_settings(deploy_env(allowed_email_domains="example.com, *.example.org"))
    assert settings.allowed_email_domains == ("example.com", "*.example.org")
    summary = check_policy(settings)
    assert summary[0] == "policies/ssr_and_progressive.toml: valid"
    assert "  email domains: allowed example.com, *.example.org; blocked none" in summary


def test_the_environment_deploy_writes_is_the_one_the_function_reads() -> None:
    env = deploy_env(leeway_seconds="45", audience="api://hooks", **OAUTH)
    settings = Settings.from_env(env)
    assert settings.bearer is not None
    bearer = settings.bearer
    assert (bearer.issuer, bearer.audience, bearer.scopes) == (
        ISSUER,
        "api://hooks",
        ("hooks.registration",),
    )
    assert (bearer.client_ids, bearer.jwks_uri, bearer.leeway_seconds) == (
        ("0oa1",),
        f"{ISSUER}/v1/keys",
        45,
    )
    basic = Settings.from_env(deploy_env())
    assert basic.basic_credentials is not None
    assert basic.bearer is None


# --- a pinned JWKS -----------------------------------------------------------------------------


def _rsa_1024_jwk() -> dict[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(key, as_dict=True)
    return {**jwk, "kid": "weak", "alg": "RS256", "use": "sig"}


def _private_jwk() -> dict[str, Any]:
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(rsa_key("pinned"), as_dict=True)
    return {**jwk, "kid": "private", "alg": "RS256"}


JWKS_CASES = {
    "only a 1024-bit RSA key": {"keys": [_rsa_1024_jwk()]},
    # The shell deploy's test key: a "keys" list, so the shell deploy took it.
    "a made-up modulus": {"keys": [{"kty": "RSA", "kid": "k1", "n": "pinned-n-Zk2", "e": "AQAB"}]},
    "a private key": {"keys": [_private_jwk()]},
    "no keys": {"keys": []},
    "no keys list": {"kty": "RSA"},
    "a 2048-bit RSA key": {"keys": [public_jwk("pinned", "k1")]},
    "a P-256 key": {"keys": [public_ec_jwk("pinned", "k2")]},
    "a usable key beside a weak one": {"keys": [public_jwk("pinned", "k1"), _rsa_1024_jwk()]},
}


@pytest.mark.parametrize("case", JWKS_CASES)
def test_deploy_accepts_a_pinned_jwks_exactly_when_the_function_does(case: str) -> None:
    text = json.dumps(JWKS_CASES[case])
    try:
        parse_jwks(json.loads(text), "OKTA_HOOK_JWKS")
        function_accepts = True
    except JwksFormatError:
        function_accepts = False
    try:
        check_jwks(text)
        deploy_accepts = True
    except Refused:
        deploy_accepts = False
    assert deploy_accepts is function_accepts
    assert function_accepts is case.startswith(("a 2048", "a P-256", "a usable"))


def test_a_jwks_of_a_1024_bit_key_is_refused_with_the_reason() -> None:
    with pytest.raises(Refused) as refused:
        check_jwks(json.dumps({"keys": [_rsa_1024_jwk()]}))
    assert str(refused.value) == (
        "--jwks-file: OKTA_HOOK_JWKS: no usable signing key; JWKS key skipped: The RSA key is "
        "1024 bits long, which is below the minimum recommended size of 2048 bits. "
        "See NIST SP 800-131A."
    )


def test_a_skipped_key_beside_a_usable_one_is_reported() -> None:
    skipped = check_jwks(json.dumps(JWKS_CASES["a usable key beside a weak one"]))
    assert skipped == [
        "JWKS key skipped: The RSA key is 1024 bits long, which is below the minimum "
        "recommended size of 2048 bits. See NIST SP 800-131A."
    ]


def test_a_jwks_that_is_not_json_is_refused_as_the_function_refuses_it() -> None:
    with pytest.raises(Refused, match=r"^--jwks-file: OKTA_HOOK_JWKS: not JSON$"):
        check_jwks('{"keys": [')


# --- Basic credentials ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"okta:{PASSWORD}",
        f"okta:{PASSWORD}\r\nnext:{PASSWORD}:with colons and spaces ",
        f"# rotation\n\nokta:{PASSWORD}\n",
        f"okta:{PASSWORD}\nokta:pa\u2028{PASSWORD}",  # a line separator inside a password
        f"okta:{PASSWORD}\x0bmore",
        f"okta:{PASSWORD}\nno-colon-{PASSWORD}",
        f"  okta:{PASSWORD}",
        f"okta:{PASSWORD}\n:{PASSWORD}",
        "# only a comment",
    ],
)
def test_deploy_accepts_basic_credentials_exactly_when_the_function_does(text: str) -> None:
    try:
        credential_lines(text)
        function_error = None
    except CredentialsFormatError as e:
        function_error = str(e)
    try:
        check_basic_credentials(text)
        deploy_error = None
    except Refused as e:
        deploy_error = str(e)
    assert deploy_error == (
        None if function_error is None else f"--basic-credentials-file: {function_error}"
    )
    assert PASSWORD not in (deploy_error or "")


def test_a_line_separator_in_a_password_is_refused_naming_the_line_only() -> None:
    with pytest.raises(Refused) as refused:
        check_basic_credentials(f"okta:{PASSWORD}\nnext:pa\u2028ss-{PASSWORD}")
    assert str(refused.value) == "--basic-credentials-file: line 2 holds a control character"
