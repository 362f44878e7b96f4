"""The function with a policy that reads outside data, through functions-framework's app in
process: a list in the loopback Cloud Storage JSON API, followed on the manual scheduling clock;
the company directory on loopback HTTPS with its token in the loopback Secret Manager: an
employee number that exists and matches the email is allowed with the department copied, a
mismatch is denied, a directory that is down fails closed or open as the rule says."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

import service.app
from service.settings import ConfigError, storage_endpoint
from tests import leak_check
from tests.clock_support import ManualClock
from tests.cloud_storage_support import CloudStorageServer, cloud_storage
from tests.conftest import BASIC_PASSWORD, BASIC_USER, MakeClient, post
from tests.directory_support import DirectoryServer, authority, directory_server
from tests.policy_support import ALLOW, answer, audit_lines, causes, registration
from tests.secret_manager_support import PROJECT, SecretManagerServer, secret_manager

LOCATION = "gs://acme-hook-lists/partner-domains.txt"
PARTNERS = """
[lists.partners]
source = "gs://acme-hook-lists/partner-domains.txt"
kind = "domains"
refresh_seconds = 60

[attributes.email]
type = "email"
required = ["registration"]
normalize = ["trim", "lower"]

[domains]
allowed = { list = "partners" }
"""
NUMBER = leak_check.remember("E-Zq81-7001")
DEPARTMENT = leak_check.remember("Dept-Zq81-Treasury")
TOKEN = leak_check.remember("hr-token-Zq81-Mn4")
EMAIL = "jane.doe@acme.example"
HR = """
[attributes.email]
type = "email"
required = ["registration"]
normalize = ["trim", "lower"]

[domains]
allowed = ["acme.example"]

[attributes.employeeNumber]
type = "string"
required = ["registration"]
normalize = ["trim"]

[directory.hr]
url = "{url}/people/{{employeeNumber}}"
on = ["registration"]
match = [{{ path = "work.email", attribute = "email", ignore_case = true }}]
copy = {{ department = "work.department" }}
bearer_secret = "projects/{project}/secrets/hr-token/versions/latest"
ca_bundle = "{ca}"
attribute = "employeeNumber"
timeout_seconds = 1.0
failures_to_open = 2
"""


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    made = ManualClock()
    monkeypatch.setattr(service.app, "SCHEDULING_CLOCK", made)
    return made


@pytest.fixture(scope="module")
def storage() -> Iterator[CloudStorageServer]:
    with cloud_storage() as server:
        yield server


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    folder = tmp_path_factory.mktemp("hr-tls")
    ca = authority(folder, "acme")
    cert, key = ca.issue(folder, "hr", ["localhost", "127.0.0.1"])
    return ca.cert_path, cert, key


@pytest.fixture(scope="module")
def hr(tls: tuple[Path, Path, Path]) -> Iterator[DirectoryServer]:
    with directory_server(tls[1], tls[2]) as server:
        server.token = TOKEN
        yield server


@pytest.fixture(scope="module")
def secrets() -> Iterator[SecretManagerServer]:
    with secret_manager() as server:
        server.add_version("hr-token", TOKEN)
        yield server


def hook(make_client: MakeClient, policy: Path, **env: str) -> TestClient:
    return make_client(
        OKTA_HOOK_BASIC_CREDENTIALS=f"{BASIC_USER}:{BASIC_PASSWORD}",
        OKTA_HOOK_POLICY=str(policy),
        **env,
    )


def partners_hook(
    make_client: MakeClient, tmp_path: Path, storage: CloudStorageServer
) -> TestClient:
    policy = tmp_path / "partners.toml"
    policy.write_text(PARTNERS, "utf-8")
    return hook(make_client, policy, OKTA_HOOK_STORAGE_ENDPOINT=storage.endpoint)


def hr_hook(
    make_client: MakeClient,
    tmp_path: Path,
    tls: tuple[Path, Path, Path],
    hr: DirectoryServer,
    secrets: SecretManagerServer,
    extra: str = "",
) -> TestClient:
    policy = tmp_path / "hr.toml"
    text = HR.format(url=hr.url(), project=PROJECT, ca=tls[0]) + extra
    policy.write_text(text, "utf-8")
    return hook(make_client, policy, OKTA_HOOK_SECRET_MANAGER_ENDPOINT=secrets.endpoint)


def post_raw(client: TestClient, body: dict[str, Any]) -> Any:
    return post(client, body)


def read_in_background() -> None:
    """Wait for the list reads the last request started, in the app made last (functions-
    framework loads main.py as the module `main`)."""
    outside = sys.modules["main"].APP.outside
    assert outside is not None
    assert outside.idle(10)


# --- a list in Cloud Storage ---------------------------------------------------------------------


def test_the_hook_follows_the_bucket_within_the_refresh_interval(
    make_client: MakeClient,
    tmp_path: Path,
    storage: CloudStorageServer,
    clock: ManualClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    storage.put(LOCATION, "partner-one.example\n")
    client = partners_hook(make_client, tmp_path, storage)
    assert answer(client, registration(email="sam@partner-one.example")) == {"commands": [ALLOW]}
    newcomer = registration(email="ana@partner-two.example")
    assert causes(answer(client, newcomer))[0][:2] == ("email", "INVALID_EMAIL_DOMAIN")
    storage.put(LOCATION, "partner-one.example\npartner-two.example\n")
    clock.advance(30)
    assert causes(answer(client, newcomer))[0][:2] == ("email", "INVALID_EMAIL_DOMAIN")
    clock.advance(31)  # the refresh interval has passed: a request starts the background read
    answer(client, newcomer)
    read_in_background()
    assert answer(client, newcomer) == {"commands": [ALLOW]}
    audit = audit_lines(capsys)
    assert "outside_codes" not in audit[-1]


def test_a_list_never_read_is_a_503_until_it_is(
    make_client: MakeClient, tmp_path: Path, storage: CloudStorageServer, clock: ManualClock
) -> None:
    storage.delete(LOCATION)
    client = partners_hook(make_client, tmp_path, storage)
    refused = post_raw(client, registration(email="sam@partner-one.example"))
    assert refused.status_code == 503
    assert refused.json() == {
        "error": {"code": "unavailable", "message": "The hook is not available."}
    }
    storage.put(LOCATION, "partner-one.example\n")
    clock.advance(5)  # the first retry after a failed read
    post_raw(client, registration(email="sam@partner-one.example"))
    read_in_background()
    assert answer(client, registration(email="sam@partner-one.example")) == {"commands": [ALLOW]}


def test_a_list_that_fails_open_allows_and_says_so(
    make_client: MakeClient,
    tmp_path: Path,
    storage: CloudStorageServer,
    clock: ManualClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    storage.delete(LOCATION)
    policy = tmp_path / "open.toml"
    policy.write_text(PARTNERS.replace('kind = "domains"', 'kind = "domains"\nfail_open = true'))
    client = hook(make_client, policy, OKTA_HOOK_STORAGE_ENDPOINT=storage.endpoint)
    capsys.readouterr()
    assert answer(client, registration(email="sam@anyone.example")) == {"commands": [ALLOW]}
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [warning] = [line for line in lines if line.get("fail") == "open"]
    assert warning["rule"] == "domains.allowed"
    assert warning["list"] == "partners"
    assert lines[-1]["outside_codes"] == "lists.partners:fail_open"


# --- the company directory -----------------------------------------------------------------------


@pytest.fixture
def directory(hr: DirectoryServer) -> DirectoryServer:
    hr.records = {
        NUMBER: {"work": {"email": "Jane.Doe@ACME.example", "department": DEPARTMENT}},
        "E-0002": {"work": {"email": "someone.else@acme.example", "department": "Sales"}},
    }
    hr.calls.clear()
    hr.fault = None
    return hr


def test_an_employee_whose_number_matches_is_allowed_with_the_department_copied(
    make_client: MakeClient,
    tmp_path: Path,
    tls: tuple[Path, Path, Path],
    directory: DirectoryServer,
    secrets: SecretManagerServer,
    clock: ManualClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = hr_hook(make_client, tmp_path, tls, directory, secrets)
    body = registration(email=EMAIL, employeeNumber=NUMBER)
    result = answer(client, body)
    assert result == {
        "commands": [
            ALLOW,
            {"type": "com.okta.user.profile.update", "value": {"department": DEPARTMENT}},
        ]
    }
    assert directory.tokens_seen[-1] == f"Bearer {TOKEN}"
    # The same lookup again: answered from the cache, on the event loop, with no call.
    assert answer(client, body) == result
    assert directory.calls == {f"/people/{NUMBER}": 1}
    audit = audit_lines(capsys)
    assert [line["outside_codes"] for line in audit] == ["directory.hr:directory_found"] * 2
    assert all(DEPARTMENT not in json.dumps(line) for line in audit)


def test_an_employee_number_of_someone_else_is_denied(
    make_client: MakeClient,
    tmp_path: Path,
    tls: tuple[Path, Path, Path],
    directory: DirectoryServer,
    secrets: SecretManagerServer,
    clock: ManualClock,
) -> None:
    client = hr_hook(make_client, tmp_path, tls, directory, secrets)
    result = answer(client, registration(email=EMAIL, employeeNumber="E-0002"))
    assert causes(result) == [
        ("employeeNumber", "DIRECTORY_MISMATCH", "These details do not match our records.")
    ]
    result = answer(client, registration(email=EMAIL, employeeNumber="E-9999"))
    assert causes(result)[0][1] == "DIRECTORY_NOT_FOUND"


def test_a_directory_that_is_down_fails_closed_then_denies_until_it_is_back(
    make_client: MakeClient,
    tmp_path: Path,
    tls: tuple[Path, Path, Path],
    directory: DirectoryServer,
    secrets: SecretManagerServer,
    clock: ManualClock,
) -> None:
    client = hr_hook(make_client, tmp_path, tls, directory, secrets)
    directory.fault = "500"
    body = registration(email=EMAIL, employeeNumber=NUMBER)
    # A failed call may be a blip: 503, and Okta's one retry calls again.
    assert [post_raw(client, body).status_code for _ in range(2)] == [503, 503]
    # Two failures in a row open the circuit: no call, a DENY the person can act on.
    calls = directory.total()
    result = answer(client, body)
    assert causes(result)[0][1] == "DIRECTORY_UNAVAILABLE"
    assert "try again in a few minutes" in causes(result)[0][2]
    assert directory.total() == calls
    directory.fault = None
    clock.advance(31)  # the circuit's cooldown: one probe, which closes it
    assert answer(client, body)["commands"][0] == ALLOW


def test_a_directory_that_is_down_lets_a_fail_open_rule_allow(
    make_client: MakeClient,
    tmp_path: Path,
    tls: tuple[Path, Path, Path],
    directory: DirectoryServer,
    secrets: SecretManagerServer,
    clock: ManualClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = hr_hook(make_client, tmp_path, tls, directory, secrets, "fail_open = true\n")
    directory.fault = "500"
    capsys.readouterr()
    result = answer(client, registration(email=EMAIL, employeeNumber=NUMBER))
    assert result == {"commands": [ALLOW]}  # allowed, and nothing copied
    [line] = audit_lines(capsys)
    assert line["outside_codes"] == "directory.hr:directory_unavailable"


def test_a_timeout_past_the_requests_deadline_refuses_every_request(
    make_client: MakeClient,
    tmp_path: Path,
    tls: tuple[Path, Path, Path],
    directory: DirectoryServer,
    secrets: SecretManagerServer,
) -> None:
    policy = tmp_path / "slow.toml"
    policy.write_text(HR.format(url=directory.url(), project=PROJECT, ca=tls[0]))
    client = hook(
        make_client,
        policy,
        OKTA_HOOK_SECRET_MANAGER_ENDPOINT=secrets.endpoint,
        OKTA_HOOK_DEADLINE_MS="800",
    )
    refused = post_raw(client, registration(email=EMAIL, employeeNumber=NUMBER))
    assert refused.status_code == 503


def test_the_storage_endpoint_is_https_or_plain_http_to_loopback() -> None:
    assert storage_endpoint({}) is None
    assert storage_endpoint({"OKTA_HOOK_STORAGE_ENDPOINT": "http://127.0.0.1:9000/"}) == (
        "http://127.0.0.1:9000"
    )
    assert storage_endpoint({"OKTA_HOOK_STORAGE_ENDPOINT": "https://storage.example"}) == (
        "https://storage.example"
    )
    with pytest.raises(ConfigError, match="OKTA_HOOK_STORAGE_ENDPOINT must be an https:// URL"):
        storage_endpoint({"OKTA_HOOK_STORAGE_ENDPOINT": "http://storage.example"})
