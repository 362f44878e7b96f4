"""Each rule of the policy language both ways, through the HTTP stack with Okta's sample shapes,
under tests/policies/every_rule.toml: a value that passes, and one that fails with its reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import ROOT, hook_client, post, sample
from tests.hostile_support import basic_env, well_formed
from tests.policy_support import ALLOW, answer, audit_lines, causes, progressive, registration

EVERY_RULE = ROOT / "tests" / "policies" / "every_rule.toml"
# A registration that passes every rule of every_rule.toml.
GOOD: dict[str, Any] = {
    "email": "rosario.jones@example.com",
    "consent": True,
    "age": 30,
    "countryCode": "FR",
    "employeeNumber": "1234",
}


@pytest.fixture(scope="module")
def hook() -> TestClient:
    return hook_client(basic_env(EVERY_RULE))


def register(hook: TestClient, ip: Any = "127.0.0.1", **changes: Any) -> dict[str, Any]:
    body = registration(**{**GOOD, **changes})
    if ip is ...:
        body["data"]["context"]["request"].pop("ipAddress")
    else:
        body["data"]["context"]["request"]["ipAddress"] = ip
    return answer(hook, body)


def reasons_of(result: dict[str, Any]) -> dict[str, str]:
    return {attribute: reason for attribute, reason, _ in causes(result)}


def test_the_good_registration_is_allowed(hook: TestClient) -> None:
    assert register(hook) == {"commands": [ALLOW]}


# (changes to GOOD, the one cause expected): each rule failing, and the same rule passing.
BOTH_WAYS: list[tuple[dict[str, Any], dict[str, str]]] = [
    # boolean: equals
    ({"consent": False}, {"consent": "CONSENT_REQUIRED"}),
    ({"consent": True}, {}),
    ({"consent": "true"}, {"consent": "INVALID_ATTRIBUTE_TYPE"}),
    ({"consent": 1}, {"consent": "INVALID_ATTRIBUTE_TYPE"}),  # a number is never a boolean
    ({"consent": ...}, {"consent": "MISSING_ATTRIBUTE"}),
    # integer: min, max; a boolean is never a number; 3.0 is an integer, 17.5 is not
    ({"age": 17}, {"age": "INVALID_AGE"}),
    ({"age": 18}, {}),
    ({"age": 130}, {}),
    ({"age": 131}, {"age": "INVALID_AGE"}),
    ({"age": 18.0}, {}),
    ({"age": 17.5}, {"age": "INVALID_ATTRIBUTE_TYPE"}),
    ({"age": True}, {"age": "INVALID_ATTRIBUTE_TYPE"}),
    ({"age": "30"}, {"age": "INVALID_ATTRIBUTE_TYPE"}),
    ({"age": None}, {"age": "MISSING_ATTRIBUTE"}),
    # a [[rules]] entry with a condition on another attribute
    ({"age": 20, "countryCode": "US"}, {"age": "TOO_YOUNG_HERE"}),
    ({"age": 21, "countryCode": "US"}, {}),
    ({"age": 20, "countryCode": "DE"}, {}),
    # number: min, max
    ({"height": 0.4}, {"height": "INVALID_HEIGHT"}),
    ({"height": 1.72}, {}),
    ({"height": 2}, {}),
    ({"height": 3}, {"height": "INVALID_HEIGHT"}),
    ({"height": False}, {"height": "INVALID_ATTRIBUTE_TYPE"}),
    ({"height": "1.7"}, {"height": "INVALID_ATTRIBUTE_TYPE"}),
    ({"height": None}, {}),  # optional and absent: not judged
    # string: min_length, max_length, pattern, one_of
    ({"countryCode": "F"}, {"countryCode": "COUNTRY_NOT_SERVED"}),
    ({"countryCode": "FRA"}, {"countryCode": "COUNTRY_NOT_SERVED"}),
    ({"countryCode": "fr"}, {"countryCode": "COUNTRY_NOT_SERVED"}),
    ({"countryCode": "GB"}, {"countryCode": "COUNTRY_NOT_SERVED"}),
    ({"countryCode": " BE "}, {}),
    ({"countryCode": ["FR"]}, {"countryCode": "INVALID_ATTRIBUTE_TYPE"}),
    # arrays: allowed members, min_items, max_items, no duplicates, member types
    ({"groups": ["eng"]}, {}),
    ({"groups": [" Sales ", "STAFF"]}, {}),
    ({"groups": ["eng", "ops"]}, {"groups": "INVALID_GROUPS"}),
    ({"groups": []}, {"groups": "INVALID_GROUPS"}),
    ({"groups": ["eng", "sales", "staff", "eng"]}, {"groups": "INVALID_GROUPS"}),
    ({"groups": ["eng", " ENG"]}, {"groups": "INVALID_GROUPS"}),
    ({"groups": ["eng", 1]}, {"groups": "INVALID_ATTRIBUTE_TYPE"}),
    ({"groups": "eng"}, {"groups": "INVALID_ATTRIBUTE_TYPE"}),
    ({"scores": [1, 2, 3]}, {}),
    ({"scores": [1, 2.0]}, {}),
    ({"scores": [1, 1.0]}, {"scores": "INVALID_SCORES"}),
    ({"scores": [1, 2, 3, 4, 5, 6]}, {"scores": "INVALID_SCORES"}),
    ({"scores": [1, 2.5]}, {"scores": "INVALID_ATTRIBUTE_TYPE"}),
    ({"scores": [True]}, {"scores": "INVALID_ATTRIBUTE_TYPE"}),
    ({"weights": [0.5, 1, 1.0, 1.5]}, {}),
    ({"weights": [2]}, {"weights": "INVALID_WEIGHTS"}),
    ({"weights": [True]}, {"weights": "INVALID_ATTRIBUTE_TYPE"}),
    # a whole attribute check with a condition: nickname is judged only for FR/BE or consent
    ({"nickname": "a-very-long-nickname"}, {"nickname": "INVALID_NICKNAME"}),
    ({"nickname": "rosa"}, {}),
    (
        {"nickname": "a-very-long-nickname", "consent": False, "countryCode": "DE"},
        {"consent": "CONSENT_REQUIRED"},
    ),  # fmt: skip
    # a requirement with a condition: the agencies' people need no employee number
    ({"employeeNumber": ...}, {"employeeNumber": "MISSING_ATTRIBUTE"}),
    ({"employeeNumber": ..., "email": "sam@agency-one.example"}, {}),
    ({"employeeNumber": ..., "email": "sam@eu.agency-two.example"}, {}),
    (
        {"employeeNumber": ..., "email": "sam@agency-two.example"},
        {"employeeNumber": "MISSING_ATTRIBUTE"},
    ),
    (
        {"employeeNumber": "12", "email": "sam@agency-one.example"},
        {"employeeNumber": "INVALID_EMPLOYEE_NUMBER"},
    ),
    # a condition on a missing attribute is false: no email, so no agency
    (
        {"employeeNumber": ..., "email": ...},
        {"email": "MISSING_ATTRIBUTE", "employeeNumber": "MISSING_ATTRIBUTE"},
    ),
    # email: syntax, [domains], disposable list and its allow list
    ({"email": "rosario..jones@example.com"}, {"email": "INVALID_EMAIL"}),
    ({"email": ".rosario@example.com"}, {"email": "INVALID_EMAIL"}),
    ({"email": "rosario.@example.com"}, {"email": "INVALID_EMAIL"}),
    ({"email": '"rosario jones"@example.com'}, {"email": "INVALID_EMAIL"}),
    ({"email": "rosario@blocked.example"}, {"email": "INVALID_EMAIL_DOMAIN"}),
    ({"email": "rosario@yopmail.com"}, {"email": "DISPOSABLE_EMAIL_DOMAIN"}),
    ({"email": "rosario@inbox.yopmail.com"}, {"email": "DISPOSABLE_EMAIL_DOMAIN"}),
    ({"email": " Rosario@Mailinator.COM"}, {}),
]


@pytest.mark.parametrize(
    ("changes", "expected"), BOTH_WAYS, ids=lambda v: json.dumps(v, default=str)
)
def test_each_rule_both_ways(
    hook: TestClient, changes: dict[str, Any], expected: dict[str, str]
) -> None:
    result = register(hook, **changes)
    if expected:
        assert reasons_of(result) == expected
    else:
        assert result["commands"][0] == ALLOW, result


def test_an_integer_sent_as_a_whole_float_is_stored_as_an_integer(hook: TestClient) -> None:
    result = register(hook, age=30.0, groups=[" Eng "])
    assert result["commands"][1]["value"] == {"age": 30, "groups": ["eng"]}


# The network rule: allowed ranges, blocked ranges inside them, absent and malformed addresses.
NETWORK: list[tuple[Any, bool]] = [
    ("127.0.0.1", True),
    ("192.0.2.77", True),
    ("198.51.100.200", True),
    ("198.51.100.7", False),  # blocked inside an allowed range
    ("2001:db8::1", True),
    ("2001:db8:bad::1", False),
    ("::ffff:192.0.2.1", True),  # IPv4-mapped: judged as 192.0.2.1
    ("::ffff:198.51.100.1", False),
    ("203.0.113.1", False),  # outside every allowed range
    ("2001:db9::1", False),
    (..., False),  # absent: an allowed list is not met
    (None, False),
    ("", False),
    ("not an address", False),  # malformed: denied by both lists
    ("192.0.2.1 ", False),
    ("fe80::1%eth0", False),
    (7, False),
]


@pytest.mark.parametrize(("ip", "allowed"), NETWORK, ids=repr)
def test_network_rule(hook: TestClient, ip: Any, allowed: bool) -> None:
    result = register(hook, ip=ip)
    if allowed:
        assert result == {"commands": [ALLOW]}
    else:
        assert reasons_of(result) == {"email": "NETWORK_NOT_ALLOWED"}


def test_the_reference_sample_address_is_outside_the_allowed_ranges(hook: TestClient) -> None:
    # Okta's reference sample comes from 98.124.153.138: not in any allowed range.
    body = sample("reference")
    body["data"]["userProfileUpdate"] = {"employeeNumber": "1234"}
    assert reasons_of(answer(hook, body)) == {"email": "NETWORK_NOT_ALLOWED"}


def test_a_context_of_the_wrong_type_is_still_a_400(hook: TestClient) -> None:
    contexts: list[Any] = [[], "x", {"request": "x"}, {"request": []}]
    for context in contexts:
        body = registration(**GOOD)
        body["data"]["context"] = context
        response = post(hook, body)
        assert response.status_code == 400, context
        assert well_formed(response)["error"]["code"] == "bad_request"


def test_new_rules_speak_french(hook: TestClient) -> None:
    result = answer(hook, registration(**{**GOOD, "consent": False, "locale": "fr_FR"}))
    assert causes(result) == [("consent", "CONSENT_REQUIRED", "Cochez la case.")]
    result = register(hook, ip="203.0.113.1", locale="fr")
    assert causes(result) == [("email", "NETWORK_NOT_ALLOWED", "Pas depuis ce réseau.")]
    result = register(hook, email="x@yopmail.com", locale="fr")
    assert causes(result) == [("email", "DISPOSABLE_EMAIL_DOMAIN", "Pas d'adresse jetable.")]


def test_progressive_with_typed_arrays(hook: TestClient) -> None:
    result = answer(hook, progressive({"groups": [" Staff "]}, employeeNumber="1234"))
    assert result["commands"][1]["value"] == {"groups": ["staff"]}
    result = answer(hook, progressive({"groups": ["ops"]}))
    assert reasons_of(result) == {"groups": "INVALID_GROUPS"}
    result = answer(hook, progressive({"age": 40}))
    assert reasons_of(result) == {"age": "ATTRIBUTE_NOT_UPDATABLE"}


def test_audit_lines_hold_names_and_codes_never_values(
    hook: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    audit_lines(capsys)
    register(hook, ip="198.51.100.7", groups=["secret-group-x"], age=17)
    (line,) = audit_lines(capsys)
    assert line["reasons"] == ["NETWORK_NOT_ALLOWED", "INVALID_AGE", "INVALID_GROUPS"]
    text = json.dumps(line)
    assert "198.51.100.7" not in text
    assert "secret-group-x" not in text


# --- shadow mode with the new rules ---


@pytest.fixture(scope="module")
def shadowed(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    text = EVERY_RULE.read_text("utf-8")
    text = text.replace("[network]\n", "[network]\nshadow = true\n")
    text = text.replace("[disposable_domains]\n", "[disposable_domains]\nshadow = true\n")
    text = text.replace('reason = "TOO_YOUNG_HERE"\n', 'reason = "TOO_YOUNG_HERE"\nshadow = true\n')
    path: Path = tmp_path_factory.mktemp("shadow") / "shadowed.toml"
    path.write_text(text, encoding="utf-8")
    return hook_client(basic_env(path))


def test_new_rules_in_shadow_mode_are_logged_not_enforced(
    shadowed: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    audit_lines(capsys)
    result = register(shadowed, ip="203.0.113.1", email="ana@yopmail.com", age=20, countryCode="US")
    assert result["commands"][0] == ALLOW
    (line,) = audit_lines(capsys)
    assert {(e["attribute"], e["reason"]) for e in line["shadow_reasons"]} == {
        ("email", "NETWORK_NOT_ALLOWED"),
        ("age", "TOO_YOUNG_HERE"),
    }  # one cause per attribute: the network's is listed for email
    # The enforced checks of the same attributes still deny.
    result = register(shadowed, age=12, countryCode="US")
    assert reasons_of(result) == {"age": "INVALID_AGE"}
