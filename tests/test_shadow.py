"""Shadow mode: rules that log what they would have denied, and let the person through."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from policy.loader import PolicyError, parse_policy
from tests.conftest import POLICIES, MakeClient, sample
from tests.policy_support import (
    ALLOW,
    EXAMPLE,
    answer,
    audit_lines,
    causes,
    hook_on,
    progressive,
    registration,
    write_policy,
)


def enforced_copy(tmp_path: Path) -> Path:
    """example_full.toml with its shadowed rule enforced."""
    text = EXAMPLE.read_text("utf-8")
    assert text.count("shadow = true\n") == 1
    return write_policy(tmp_path, text.replace("shadow = true\n", ""))


def test_shadowed_rule_allows_and_logs_what_it_would_have_denied(
    example: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    result = answer(example, registration(firstName="R2D2", employeeNumber="1234"))
    assert result["commands"][0] == ALLOW
    [entry] = audit_lines(capsys)
    assert entry["decision"] == "ALLOW"
    assert entry["shadow_reasons"] == [{"attribute": "firstName", "reason": "INVALID_NAME"}]
    assert "reasons" not in entry
    assert "R2D2" not in str(entry)  # the attribute is named, its value never logged


def test_the_same_rule_enforced_denies(
    make_client: MakeClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = hook_on(make_client, enforced_copy(tmp_path))
    capsys.readouterr()
    result = answer(client, registration(firstName="R2D2", employeeNumber="1234"))
    assert causes(result) == [
        ("firstName", "INVALID_NAME", "Enter your first name without digits or @.")
    ]
    [entry] = audit_lines(capsys)
    assert entry["reasons"] == ["INVALID_NAME"]
    assert "shadow_reasons" not in entry


def test_a_passing_value_leaves_no_shadow_trace(
    example: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    answer(example, registration(employeeNumber="1234"))
    [entry] = audit_lines(capsys)
    assert "shadow_reasons" not in entry


def test_enforced_failures_still_deny_next_to_shadowed_ones(
    example: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    result = answer(example, registration(firstName="R2D2", employeeNumber="12a4"))
    assert [c[:2] for c in causes(result)] == [("employeeNumber", "INVALID_EMPLOYEE_NUMBER")]
    [entry] = audit_lines(capsys)
    assert entry["decision"] == "DENY"
    assert entry["reasons"] == ["INVALID_EMPLOYEE_NUMBER"]
    assert entry["shadow_reasons"] == [{"attribute": "firstName", "reason": "INVALID_NAME"}]


def test_a_shadowed_value_is_still_normalised_and_stored(example: TestClient) -> None:
    result = answer(example, registration(firstName=" R2  D2 ", employeeNumber="1234"))
    assert result["commands"][1]["value"]["firstName"] == "R2 D2"


# --- global shadow: a whole policy watched before it is switched on --------------------------


@pytest.fixture
def all_shadow(make_client: MakeClient, tmp_path: Path) -> TestClient:
    text = "shadow = true\n" + (POLICIES / "ssr_and_progressive.toml").read_text("utf-8")
    return hook_on(make_client, write_policy(tmp_path, text))


def test_global_shadow_allows_a_registration_every_rule_refuses(
    all_shadow: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    body = registration(email="x@evil-example.com", employeeNumber="12a4")
    assert answer(all_shadow, body) == {"commands": [ALLOW]}
    [entry] = audit_lines(capsys)
    assert entry["shadow_reasons"] == [
        {"attribute": "email", "reason": "INVALID_EMAIL_DOMAIN"},
        {"attribute": "employeeNumber", "reason": "INVALID_EMPLOYEE_NUMBER"},
    ]
    assert entry["email_domain"] == "evil-example.com"
    assert "x@evil-example.com" not in str(entry)


def test_global_shadow_never_sends_an_attribute_the_policy_may_not_set(
    all_shadow: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    result = answer(all_shadow, progressive({"employeeNumber": "12a4", "department": "Sales"}))
    assert result["commands"] == [
        ALLOW,
        {"type": "com.okta.user.progressive.profile.update", "value": {"employeeNumber": "12a4"}},
    ]
    [entry] = audit_lines(capsys)
    assert entry["shadow_reasons"] == [
        {"attribute": "department", "reason": "ATTRIBUTE_NOT_UPDATABLE"},
        {"attribute": "employeeNumber", "reason": "INVALID_EMPLOYEE_NUMBER"},
    ]


# --- the domain rule in shadow --------------------------------------------------------------

DOMAINS_SHADOW = """
[domains]
allowed = ["example.com"]
shadow = true

[attributes.email]
type = "email"
required = ["registration"]
"""


@pytest.fixture
def domains_shadow(make_client: MakeClient, tmp_path: Path) -> TestClient:
    return hook_on(make_client, write_policy(tmp_path, DOMAINS_SHADOW))


def test_shadowed_domain_rule_lets_another_domain_through(
    domains_shadow: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert answer(domains_shadow, registration(email="a@okta.com")) == {"commands": [ALLOW]}
    [entry] = audit_lines(capsys)
    assert entry["shadow_reasons"] == [{"attribute": "email", "reason": "INVALID_EMAIL_DOMAIN"}]


@pytest.mark.parametrize(
    ("email", "reason"), [("not-an-address", "INVALID_EMAIL"), (..., "MISSING_ATTRIBUTE")]
)
def test_shadowed_domain_rule_still_enforces_the_rest_of_the_email_rule(
    domains_shadow: TestClient, email: object, reason: str
) -> None:
    assert [c[:2] for c in causes(answer(domains_shadow, registration(email=email)))] == [
        ("email", reason)
    ]


def test_the_sample_passes_the_shadowed_domain_rule_silently(domains_shadow: TestClient) -> None:
    assert answer(domains_shadow, sample("ssr")) == {"commands": [ALLOW]}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("shadow = 'yes'", "top level shadow must be true or false"),
        ("[domains]\nshadow = 1", "[domains] shadow must be true or false"),
        ("[attributes.x]\nshadow = 'true'", "[attributes.x] shadow must be true or false"),
    ],
)
def test_shadow_must_be_a_boolean(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy(text, "p.toml")
    assert message in str(raised.value)
