"""The three forms of a secret-valued setting, and what the environment may not say."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from secret_sources.environment import EnvironmentValue
from secret_sources.files import SecretFile
from secret_sources.secret_manager import SecretManagerVersion
from secret_sources.values import Secret
from service.settings import SECRET_SETTINGS, ConfigError, Settings, secret_source
from tests.conftest import ROOT

VERSION = "projects/hook-project/secrets/basic/versions/latest"
VALUE = "okta:never-echoed-password"


def config_error(env: dict[str, str], name: str = "OKTA_HOOK_BASIC_CREDENTIALS") -> str:
    with pytest.raises(ConfigError) as raised:
        secret_source(env, name)
    return str(raised.value)


def test_the_known_secret_settings() -> None:
    assert SECRET_SETTINGS == (
        "OKTA_HOOK_BASIC_CREDENTIALS",
        "OKTA_HOOK_JWKS",
        "OKTA_HOOK_JWT_HMAC_SECRET",
    )


@pytest.mark.parametrize("name", [*SECRET_SETTINGS, "OKTA_HOOK_MADE_UP_KEY"])
def test_every_setting_has_the_three_forms(name: str, tmp_path: Path) -> None:
    assert secret_source({}, name) is None
    plain = secret_source({name: VALUE}, name)
    assert plain is not None
    assert isinstance(plain.source, EnvironmentValue)
    assert plain.reading(Secret).current().reveal() == VALUE
    assert math.isinf(plain.refresh_seconds)  # read once: the environment does not change
    stored = secret_source({f"{name}_SECRET": VERSION}, name)
    assert stored is not None
    assert isinstance(stored.source, SecretManagerVersion)
    assert repr(stored.source) == f"SecretManagerVersion({name!r}, {VERSION!r})"
    (tmp_path / "value").write_text(VALUE + "\n")
    mounted = secret_source({f"{name}_FILE": str(tmp_path / "value")}, name)
    assert mounted is not None
    assert isinstance(mounted.source, SecretFile)
    assert mounted.reading(Secret).current().reveal() == VALUE
    for setting in (plain, stored, mounted):
        assert setting.name == name
        assert setting.source.name == name


@pytest.mark.parametrize("blank", ["", "  ", "\n"])
def test_a_blank_form_counts_as_unset(blank: str) -> None:
    name = "OKTA_HOOK_BASIC_CREDENTIALS"
    env = {name: blank, f"{name}_SECRET": VERSION, f"{name}_FILE": blank}
    found = secret_source(env, name)
    assert found is not None
    assert isinstance(found.source, SecretManagerVersion)


@pytest.mark.parametrize(
    "forms",
    [("", "_SECRET"), ("", "_FILE"), ("_SECRET", "_FILE"), ("", "_SECRET", "_FILE")],
)
def test_more_than_one_form_is_refused_naming_them(forms: tuple[str, ...]) -> None:
    name = "OKTA_HOOK_JWKS"
    values = {"": VALUE, "_SECRET": VERSION, "_FILE": "/run/secrets/jwks"}
    env = {name + form: values[form] for form in forms}
    message = config_error(env, name)
    listed = ", ".join(name + form for form in forms)
    assert message == f"{name} is given {len(forms)} ways ({listed}); set one"


@pytest.mark.parametrize(
    "version",
    [
        "projects/123456789/secrets/basic/versions/3",
        "projects/hook-project/secrets/Basic_Credentials-2/versions/latest",
        " projects/hook-project/secrets/basic/versions/12 ",
    ],
)
def test_secret_version_names_accepted(version: str) -> None:
    env = {"OKTA_HOOK_BASIC_CREDENTIALS_SECRET": version}
    found = secret_source(env, "OKTA_HOOK_BASIC_CREDENTIALS")
    assert found is not None
    assert isinstance(found.source, SecretManagerVersion)


@pytest.mark.parametrize(
    "version",
    [
        VALUE,  # the value itself, put in the wrong variable: refused and not echoed
        "projects/hook-project/secrets/basic",
        "projects/hook-project/secrets/basic/versions/",
        "projects/hook-project/secrets/basic/versions/0",
        "projects/hook-project/secrets/basic/versions/-1",
        "projects/hook-project/secrets/basic/versions/newest",
        "projects/hook-project/secrets/basic/versions/latest:access",
        "projects/hook-project/secrets/basic/versions/1/extra",
        "projects/p/secrets/basic/versions/1",
        "projects/hook-project/secrets/bad.name/versions/1",
        "https://secretmanager.googleapis.com/v1/projects/hook-project/secrets/basic/versions/1",
        "secrets/basic/versions/1",
    ],
)
def test_malformed_secret_version_names_are_refused(version: str) -> None:
    message = config_error({"OKTA_HOOK_BASIC_CREDENTIALS_SECRET": version})
    assert message == (
        "OKTA_HOOK_BASIC_CREDENTIALS_SECRET: not a secret version name; expected "
        "projects/PROJECT/secrets/SECRET/versions/VERSION (VERSION: latest or a number)"
    )


def test_a_file_path_must_be_absolute() -> None:
    message = config_error({"OKTA_HOOK_BASIC_CREDENTIALS_FILE": VALUE})
    assert message == "OKTA_HOOK_BASIC_CREDENTIALS_FILE: the path must be absolute"


@pytest.mark.parametrize("seconds", ["0", "-5", "soon", "nan", "inf", "5m"])
def test_refresh_seconds_must_be_a_positive_number(seconds: str) -> None:
    env = {"OKTA_HOOK_SECRET_REFRESH_SECONDS": seconds, "OKTA_HOOK_BASIC_CREDENTIALS": VALUE}
    assert config_error(env) == (
        f"OKTA_HOOK_SECRET_REFRESH_SECONDS must be a number of seconds above 0, not {seconds!r}"
    )


@pytest.mark.parametrize("endpoint", ["ftp://127.0.0.1:1", "127.0.0.1 8085", "grpc://host"])
def test_a_malformed_endpoint_is_refused(endpoint: str) -> None:
    env = {"OKTA_HOOK_SECRET_MANAGER_ENDPOINT": endpoint}
    assert config_error(env).startswith("OKTA_HOOK_SECRET_MANAGER_ENDPOINT: ")


def test_settings_take_the_basic_credentials_in_any_form(tmp_path: Path) -> None:
    (tmp_path / "basic").write_text(VALUE)
    for env in (
        {"OKTA_HOOK_BASIC_CREDENTIALS": VALUE},
        {"OKTA_HOOK_BASIC_CREDENTIALS_SECRET": VERSION},
        {"OKTA_HOOK_BASIC_CREDENTIALS_FILE": str(tmp_path / "basic")},
    ):
        source = Settings.from_env(env).basic_credentials
        assert source is not None
        assert source.name == "OKTA_HOOK_BASIC_CREDENTIALS"


def test_the_docs_document_every_form_of_every_secret_setting() -> None:
    readme = (ROOT / "docs" / "settings.md").read_text("utf-8")
    section = readme.split("\n## Secrets\n", 1)[1].split("\n## ", 1)[0]
    for name in SECRET_SETTINGS:
        assert f"`{name}`" in section
    for documented in ("`<NAME>_SECRET`", "`<NAME>_FILE`", "`OKTA_HOOK_SECRET_REFRESH_SECONDS`"):
        assert documented in section
    settings_table = re.findall(r"^\| `([A-Z_<>]+)` \|", readme, flags=re.MULTILINE)
    for name in ("OKTA_HOOK_SECRET_MANAGER_ENDPOINT", "OKTA_HOOK_SECRET_REFRESH_SECONDS"):
        assert name in settings_table
