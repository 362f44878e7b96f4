"""Decisions of the three shipped policies on Okta's sample requests, one change at a time."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import POLICIES, MakeClient, post, sample
from tests.policy_support import ALLOW, DENY, hook_on, registration


def hook(make_client: MakeClient, policy: str, **env: str) -> TestClient:
    return hook_on(make_client, POLICIES / policy, **env)


def decide(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = post(client, body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    result: dict[str, Any] = response.json()
    return result


def causes(result: dict[str, Any]) -> list[tuple[str, str]]:
    assert result["commands"] == [DENY]
    entries = result["error"]["errorCauses"]
    for entry in entries:
        assert entry["locationType"] == "body"
        assert entry["domain"] == "end-user"
        assert entry["errorSummary"]
    assert result["error"]["errorSummary"]
    return [(e["location"], e["reason"]) for e in entries]


def progressive(update: Any = ..., current: dict[str, Any] | None = None) -> dict[str, Any]:
    body = sample("progressive")
    if update is not ...:
        body["data"]["userProfileUpdate"] = update
    if current is not None:
        body["data"]["context"]["user"]["profile"].update(current)
    return body


# --- ssr.toml: registration needs an example.com address -----------------------------------


@pytest.fixture
def ssr(make_client: MakeClient) -> TestClient:
    return hook(make_client, "ssr.toml")


def test_ssr_sample_is_allowed(ssr: TestClient) -> None:
    assert decide(ssr, sample("ssr")) == {"commands": [ALLOW]}


@pytest.mark.parametrize(
    "email",
    ["rosario.jones@EXAMPLE.com", "Rosario.Jones@Example.Com", "a+tag@example.com"],
)
def test_ssr_domain_case_does_not_matter(ssr: TestClient, email: str) -> None:
    assert decide(ssr, registration(email=email)) == {"commands": [ALLOW]}


@pytest.mark.parametrize(
    "email",
    [
        "someone@evil-example.com",
        "someone@example.com.attacker.io",
        "someone@mail.example.com",
        "someone@notexample.com",
        "someone@example.co",
        "someone@okta.com",
    ],
)
def test_ssr_other_domains_are_denied(ssr: TestClient, email: str) -> None:
    result = decide(ssr, registration(email=email))
    assert causes(result) == [("data.userProfile.email", "INVALID_EMAIL_DOMAIN")]
    assert (
        result["error"]["errorCauses"][0]["errorSummary"] == "Only example.com emails can register."
    )


@pytest.mark.parametrize(
    "email",
    [
        "a@b@example.com",
        "example.com",
        "@example.com",
        "someone@",
        "some one@example.com",
        "someone@example.com ",
        "someone@example.com.",
        "someone@exa_mple.com",
        "someone@-example.com",
        "someone@localhost",
        "someone@еxample.com",  # Cyrillic е
        "someone@ｅｘａｍｐｌｅ.com",  # fullwidth
        "someone@example.com\n",
    ],
)
def test_ssr_malformed_addresses_are_denied(ssr: TestClient, email: str) -> None:
    assert causes(decide(ssr, registration(email=email))) == [
        ("data.userProfile.email", "INVALID_EMAIL")
    ]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (..., "MISSING_ATTRIBUTE"),
        (None, "MISSING_ATTRIBUTE"),
        ("", "MISSING_ATTRIBUTE"),
        (42, "INVALID_ATTRIBUTE_TYPE"),
        (["a@example.com"], "INVALID_ATTRIBUTE_TYPE"),
        ({"x": 1}, "INVALID_ATTRIBUTE_TYPE"),
        (True, "INVALID_ATTRIBUTE_TYPE"),
    ],
)
def test_ssr_missing_or_non_string_email_is_denied(
    ssr: TestClient, value: Any, reason: str
) -> None:
    assert causes(decide(ssr, registration(email=value))) == [("data.userProfile.email", reason)]


def test_ssr_empty_profile_is_denied_not_crashed(ssr: TestClient) -> None:
    body = sample("ssr")
    del body["data"]["userProfile"]
    assert causes(decide(ssr, body)) == [("data.userProfile.email", "MISSING_ATTRIBUTE")]


def test_ssr_policy_ignores_progressive_employee_number(ssr: TestClient) -> None:
    # ssr.toml lets no attribute be updated progressively.
    assert causes(decide(ssr, progressive())) == [
        ("data.userProfile.employeeNumber", "ATTRIBUTE_NOT_UPDATABLE")
    ]


def test_allowed_domains_setting_replaces_the_policy_list(make_client: MakeClient) -> None:
    client = hook(
        make_client, "ssr.toml", OKTA_HOOK_ALLOWED_EMAIL_DOMAINS="okta.com, *.example.org"
    )
    assert causes(decide(client, sample("ssr"))) == [
        ("data.userProfile.email", "INVALID_EMAIL_DOMAIN")
    ]
    assert decide(client, registration(email="a@okta.com")) == {"commands": [ALLOW]}
    assert decide(client, registration(email="a@eu.example.org")) == {"commands": [ALLOW]}
    assert causes(decide(client, registration(email="a@example.org")))


def test_bad_allowed_domains_setting_refuses_every_request(make_client: MakeClient) -> None:
    client = hook(make_client, "ssr.toml", OKTA_HOOK_ALLOWED_EMAIL_DOMAINS="exa mple.com")
    assert post(client, sample("ssr")).status_code == 503


# --- progressive.toml: an employee number of exactly four ASCII digits ----------------------


@pytest.fixture
def prog(make_client: MakeClient) -> TestClient:
    return hook(make_client, "progressive.toml")


def test_progressive_sample_is_allowed_with_the_value_echoed(prog: TestClient) -> None:
    assert decide(prog, sample("progressive")) == {
        "commands": [
            ALLOW,
            {
                "type": "com.okta.user.progressive.profile.update",
                "value": {"employeeNumber": "1234"},
            },
        ]
    }


@pytest.mark.parametrize(
    "value",
    [
        "123",
        "12345",
        "abcd",
        "12a4",
        "1234\n",
        "\n1234",
        " 1234",
        "١٢٣٤",
        "１２３４",
        "12.4",
        "-123",
        "1_23",
        "0x12",
        "",
    ],
)
def test_progressive_only_four_ascii_digits(prog: TestClient, value: str) -> None:
    reason = "MISSING_ATTRIBUTE" if value == "" else "INVALID_EMPLOYEE_NUMBER"
    assert causes(decide(prog, progressive({"employeeNumber": value}))) == [
        ("data.userProfile.employeeNumber", reason)
    ]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (1234, "INVALID_ATTRIBUTE_TYPE"),
        (None, "MISSING_ATTRIBUTE"),
        (["1234"], "INVALID_ATTRIBUTE_TYPE"),
    ],
)
def test_progressive_wrong_types(prog: TestClient, value: Any, reason: str) -> None:
    assert causes(decide(prog, progressive({"employeeNumber": value}))) == [
        ("data.userProfile.employeeNumber", reason)
    ]


def test_progressive_missing_update_is_denied(prog: TestClient) -> None:
    assert causes(decide(prog, progressive(update=None))) == [
        ("data.userProfile.employeeNumber", "MISSING_ATTRIBUTE")
    ]


def test_progressive_value_already_on_profile_satisfies_required(prog: TestClient) -> None:
    body = progressive(update={}, current={"employeeNumber": "0042"})
    assert decide(body=body, client=prog) == {"commands": [ALLOW]}


def test_progressive_attribute_not_updatable_is_denied(prog: TestClient) -> None:
    body = progressive({"employeeNumber": "1234", "department": "Sales"})
    assert causes(decide(prog, body)) == [
        ("data.userProfile.department", "ATTRIBUTE_NOT_UPDATABLE")
    ]


def test_progressive_answer_never_carries_profile_update(prog: TestClient) -> None:
    result = decide(prog, sample("progressive"))
    assert "com.okta.user.profile.update" not in {c["type"] for c in result["commands"]}


def test_progressive_policy_leaves_registration_alone(prog: TestClient) -> None:
    assert decide(prog, sample("ssr")) == {"commands": [ALLOW]}


# --- ssr_and_progressive.toml (the default): both ------------------------------------------


def test_default_policy_allows_oktas_sign_up_sample_as_it_is(client: TestClient) -> None:
    # The employee number is asked by the enrollment form (a required input), not by the policy:
    # Okta's documented sign-up request, which has none, is allowed.
    assert decide(client, sample("ssr")) == {"commands": [ALLOW]}
    assert decide(client, registration(employeeNumber="1234")) == {"commands": [ALLOW]}
    assert causes(decide(client, registration(employeeNumber="12345"))) == [
        ("data.userProfile.employeeNumber", "INVALID_EMPLOYEE_NUMBER")
    ]


def test_default_policy_reports_every_failing_field(client: TestClient) -> None:
    result = decide(client, registration(email="x@evil-example.com", employeeNumber="12a4"))
    assert causes(result) == [
        ("data.userProfile.email", "INVALID_EMAIL_DOMAIN"),
        ("data.userProfile.employeeNumber", "INVALID_EMPLOYEE_NUMBER"),
    ]


def test_default_policy_progressive(client: TestClient) -> None:
    assert decide(client, sample("progressive"))["commands"][0] == ALLOW
    assert causes(decide(client, progressive({"employeeNumber": "abcd"}))) == [
        ("data.userProfile.employeeNumber", "INVALID_EMPLOYEE_NUMBER")
    ]


def test_registration_answer_never_carries_progressive_update(client: TestClient) -> None:
    result = decide(client, registration(employeeNumber="1234"))
    assert {c["type"] for c in result["commands"]} == {"com.okta.action.update"}
