"""Normalisation and values set on allow, through the HTTP stack with Okta's sample requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from policy.loader import PolicyError, parse_policy
from policy.normalize import normalize, ordered
from tests.conftest import MakeClient, sample
from tests.policy_support import (
    ALLOW,
    answer,
    causes,
    hook_on,
    progressive,
    registration,
    write_policy,
)

PROFILE_UPDATE = "com.okta.user.profile.update"
PROGRESSIVE_UPDATE = "com.okta.user.progressive.profile.update"


def profile_update(value: dict[str, Any]) -> dict[str, Any]:
    return {"commands": [ALLOW, {"type": PROFILE_UPDATE, "value": value}]}


# --- registration: normalised values that change, and the values set on allow --------------


def test_already_normal_values_send_only_the_static(example: TestClient) -> None:
    assert answer(example, registration(employeeNumber="1234")) == profile_update(
        {"userType": "employee"}
    )


def test_email_is_trimmed_and_lower_cased_and_login_follows(example: TestClient) -> None:
    typed = "  Rosario.Jones@EXAMPLE.com "
    body = registration(email=typed, login=typed, employeeNumber="1234")
    assert answer(example, body) == profile_update(
        {
            "email": "rosario.jones@example.com",
            "login": "rosario.jones@example.com",
            "userType": "employee",
        }
    )


def test_values_are_normalised_before_they_are_checked(example: TestClient) -> None:
    # Untrimmed, " 1234 " breaks both max_length 4 and the pattern; trimmed, it is what is stored.
    assert answer(example, registration(employeeNumber=" 1234 ")) == profile_update(
        {"employeeNumber": "1234", "userType": "employee"}
    )


def test_a_value_that_normalises_to_nothing_is_missing(example: TestClient) -> None:
    result = answer(example, registration(employeeNumber="   "))
    assert causes(result) == [("employeeNumber", "MISSING_ATTRIBUTE", "This field is required.")]


def test_lower_casing_does_not_let_another_domain_in(example: TestClient) -> None:
    result = answer(example, registration(email="Someone@EVIL-example.com", employeeNumber="1234"))
    assert [c[:2] for c in causes(result)] == [("email", "INVALID_EMAIL_DOMAIN")]


def test_inner_whitespace_is_collapsed_and_text_composed(example: TestClient) -> None:
    body = registration(firstName=" Mary \t  Ange\u0301le ", employeeNumber="1234")
    assert answer(example, body) == profile_update(
        {"firstName": "Mary Ang\u00e9le", "userType": "employee"}
    )


def test_derived_value_replaces_the_submitted_one(example: TestClient) -> None:
    body = registration(login="someone-else", employeeNumber="1234")
    assert answer(example, body) == profile_update(
        {"login": "rosario.jones@example.com", "userType": "employee"}
    )


def test_static_value_replaces_a_submitted_one_and_is_not_resent_when_equal(
    example: TestClient,
) -> None:
    body = registration(userType="contractor", employeeNumber="1234")
    assert answer(example, body) == profile_update({"userType": "employee"})
    body = registration(userType="employee", employeeNumber="1234")
    assert answer(example, body) == {"commands": [ALLOW]}


def test_no_update_is_sent_with_a_deny(example: TestClient) -> None:
    result = answer(example, registration(email=" A@EXAMPLE.COM", employeeNumber="12a4"))
    assert {c["type"] for c in result["commands"]} == {"com.okta.action.update"}
    assert [c[:2] for c in causes(result)] == [("employeeNumber", "INVALID_EMPLOYEE_NUMBER")]


# --- progressive: the progressive update only, and only updatable attributes ----------------


def test_progressive_echo_is_normalised(example: TestClient) -> None:
    assert answer(example, progressive({"employeeNumber": " 4321 "})) == {
        "commands": [ALLOW, {"type": PROGRESSIVE_UPDATE, "value": {"employeeNumber": "4321"}}]
    }


def test_registration_only_values_are_not_set_progressively(example: TestClient) -> None:
    result = answer(example, sample("progressive"))
    assert result == {
        "commands": [ALLOW, {"type": PROGRESSIVE_UPDATE, "value": {"employeeNumber": "1234"}}]
    }


PROGRESSIVE_SETS = """
[attributes.employeeNumber]
required = ["progressive"]
pattern = "[0-9]{4}"

[attributes.email]
normalize = ["trim", "lower"]

[progressive]
updatable = ["employeeNumber", "email", "userType", "login"]

[set.userType]
value = "employee"
on = ["registration", "progressive"]

[derive.login]
from = "email"
on = ["progressive"]
"""


@pytest.fixture
def progressive_sets(make_client: MakeClient, tmp_path: Path) -> TestClient:
    return hook_on(make_client, write_policy(tmp_path, PROGRESSIVE_SETS))


def test_progressive_static_is_sent_when_the_profile_differs(progressive_sets: TestClient) -> None:
    assert answer(progressive_sets, sample("progressive"))["commands"][1] == {
        "type": PROGRESSIVE_UPDATE,
        "value": {"employeeNumber": "1234", "userType": "employee"},
    }


def test_progressive_static_is_not_resent_when_already_on_the_profile(
    progressive_sets: TestClient,
) -> None:
    body = progressive({"employeeNumber": "1234"}, userType="employee")
    assert answer(progressive_sets, body)["commands"][1]["value"] == {"employeeNumber": "1234"}


def test_progressive_derivation_follows_a_submitted_source(progressive_sets: TestClient) -> None:
    body = progressive(
        {"email": " R.Jones@Example.com"}, employeeNumber="0042", userType="employee"
    )
    assert answer(progressive_sets, body)["commands"] == [
        ALLOW,
        {
            "type": PROGRESSIVE_UPDATE,
            "value": {"email": "r.jones@example.com", "login": "r.jones@example.com"},
        },
    ]


def test_progressive_answer_never_carries_a_profile_update(progressive_sets: TestClient) -> None:
    body = progressive({"email": "A@B.example"}, employeeNumber="0042")
    types = [c["type"] for c in answer(progressive_sets, body)["commands"]]
    assert types == ["com.okta.action.update", PROGRESSIVE_UPDATE]


# --- the steps themselves, and policies that cannot be used ----------------------------------


@pytest.mark.parametrize(
    ("steps", "value", "expected"),
    [
        (["trim"], "  a  b \n", "a  b"),
        (["collapse_whitespace"], " a \t\u00a0 b ", " a b "),
        (["lower"], "RoSARIO", "rosario"),
        (["nfc"], "e\u0301", "\u00e9"),
        (["nfc", "lower", "trim"], " \u00c9 ", "\u00e9"),
        (["lower", "nfc"], "E\u0301", "\u00e9"),  # composed after lower-casing
        ([], " A ", " A "),
        (["trim"], 42, 42),  # not text: left for the type check
    ],
)
def test_normalisation_steps(steps: list[str], value: object, expected: object) -> None:
    assert normalize(ordered(steps), value) == expected


def test_steps_apply_in_one_order_whatever_the_listing() -> None:
    assert ordered(["nfc", "lower", "trim"]) == ("trim", "lower", "nfc")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[attributes.x]\nnormalize = ['strip']", "'strip' is not one of trim"),
        ("[attributes.x]\nnormalize = 'trim'", "normalize must be a list of strings"),
        ("[set.userType]\nvalue = 'employee'", "on must name the request types"),
        ("[set.userType]\non = ['registration']", "needs value"),
        ("[set.userType]\nvalue = 'e'\non = ['signup']", "'signup' is not 'registration'"),
        ("[set.userType]\nvalue = {a = 1}\non = ['registration']", "value must be a string"),
        ("[set.userType]\nvalue = 1979-05-27\non = ['registration']", "value must be a string"),
        ("[set.userType]\nvalue = nan\non = ['registration']", "value must be a string"),
        ("[set.userType]\nvalue = [[1]]\non = ['registration']", "value must be a string"),
        (
            "[set.userType]\nvalue = 'e'\non = ['progressive']",
            "userType is not in [progressive] updatable",
        ),
        ("[set.x]\nvalue = 'e'\non = ['registration']\n[attributes.x]", "also has [attributes.x]"),
        ("[set.'bad name']\nvalue = 'e'\non = ['registration']", "is not an attribute name"),
        ("[set]\nuserType = 'employee'", "must be a table with value and on"),
        (
            "[set.a]\nvalue = 1\non = ['registration']\n[derive.a]\nfrom = 'b'\non = ['registration']",
            "a is already set",
        ),
        ("[derive.login]\nfrom = 'login'\non = ['registration']", "which is itself set on allow"),
        (
            "[derive.a]\nfrom = 'b'\non = ['registration']\n[derive.b]\nfrom = 'c'\non = ['registration']",
            "derive from a submitted attribute",
        ),
        ("[derive.login]\nfrom = 3\non = ['registration']", "from must be an attribute name"),
        ("[derive.login]\nsource = 'email'\non = ['registration']", "unknown key 'source'"),
    ],
)
def test_broken_normalisation_or_values_on_allow_are_refused(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy(text, "p.toml")
    assert message in str(raised.value)


def test_values_set_on_allow_keep_their_json_type() -> None:
    policy = parse_policy(
        "[set.a]\nvalue = true\non = ['registration']\n"
        "[set.b]\nvalue = [1, 2.5, 'x']\non = ['registration']"
    )
    assert [(a.target, a.value) for a in policy.assignments] == [("a", True), ("b", [1, 2.5, "x"])]
