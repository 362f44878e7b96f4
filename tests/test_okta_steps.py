"""The Okta set-up a policy needs, derived from the policy: form inputs, permissions, the hook."""

from __future__ import annotations

from pathlib import Path

import pytest

from policy.loader import load_policy, parse_policy
from tests.conftest import POLICIES
from tools.okta_steps import FormInput, OktaSteps, okta_steps

SHIPPED = sorted(p for p in POLICIES.glob("*.toml") if not p.name.endswith(".cases.toml"))


def steps_of(text: str) -> OktaSteps:
    return okta_steps(parse_policy(text, "p.toml"))


def test_the_default_policy_needs_the_employee_number_as_a_required_input() -> None:
    steps = okta_steps(load_policy(POLICIES / "ssr_and_progressive.toml"))
    assert steps.inputs == (
        FormInput("email", "Email", required=True, progressive=False, on_default_form=True),
        FormInput(
            "employeeNumber", "Employee number", required=True, progressive=True,
            on_default_form=False,
        ),
    )  # fmt: skip
    assert steps.read_write == ("employeeNumber",)
    assert steps.run_this_hook == "Both"
    lines = steps.lines("okta-registration-hook")
    assert "    Self-service registration: Allowed" in lines
    assert "    Progressive profiling: Enabled" in lines
    assert '    Inline hook: "okta-registration-hook"' in lines
    assert (
        "  Directory > Profile Editor > User (default): User permission Read-Write for: "
        "employeeNumber"
    ) in lines


def test_a_registration_only_policy_runs_the_hook_for_new_users_only() -> None:
    steps = okta_steps(load_policy(POLICIES / "ssr.toml"))
    assert (steps.registration, steps.progressive) == (True, False)
    assert steps.run_this_hook == "When a new user is created"
    assert steps.read_write == ()
    assert "    Progressive profiling: not needed" in steps.lines()


def test_a_progressive_only_policy_denies_sign_up() -> None:
    steps = okta_steps(load_policy(POLICIES / "progressive.toml"))
    assert (steps.registration, steps.progressive) == (False, True)
    lines = steps.lines()
    assert "    Self-service registration: Denied" in lines
    assert (
        "    employeeNumber (Employee number): Required, add it; asked at sign-in of a person "
        "whose profile lacks it (progressive profiling)"
    ) in lines


def test_an_attribute_checked_only_when_given_is_an_optional_input() -> None:
    steps = steps_of("[attributes.nickName]\npattern = '[a-z]+'\n")
    assert steps.inputs == (
        FormInput("nickName", "Nickname", required=False, progressive=False, on_default_form=False),
    )
    assert (
        "    nickName (Nickname): Optional (Required works too), add it; asked at sign-up"
        in steps.lines()
    )


def test_values_set_on_allow_must_exist_but_are_no_inputs() -> None:
    steps = okta_steps(load_policy(POLICIES / "example_full.toml"))
    assert [i.name for i in steps.inputs] == ["email", "employeeNumber", "firstName"]
    assert steps.set_on_allow == ("userType", "login")


@pytest.mark.parametrize(
    "text",
    [
        "[attributes.password]\nrequired = ['registration']\n",
        "[progressive]\nupdatable = ['password']\n",
        "[set.password]\nvalue = 'x'\non = ['registration']\n",
    ],
)
def test_a_rule_on_the_password_is_warned_about(text: str) -> None:
    steps = steps_of(text)
    assert steps.never_sent == ("password",)
    assert "password" not in [i.name for i in steps.inputs]
    assert (
        "  warning: a rule names password, which Okta never sends to the hook (nor lets it set): "
        "that rule can never see a value"
    ) in steps.lines()


def test_sensitive_attributes_are_named_since_the_policy_cannot_know_them() -> None:
    steps = okta_steps(load_policy(POLICIES / "ssr_and_progressive.toml"))
    assert steps.lines()[-1] == (
        "  note: Okta leaves out of its requests any attribute marked Sensitive in the Profile "
        "Editor, which a policy cannot know: none of email, employeeNumber may be"
    )


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_each_shipped_policy_says_in_its_first_lines_what_okta_needs(path: Path) -> None:
    head = []
    for line in path.read_text("utf-8").splitlines():
        if not line.startswith("#"):
            break
        head.append(line)
    comment = " ".join(" ".join(head).replace("#", " ").split())
    steps = okta_steps(load_policy(path))
    for form_input in steps.inputs:
        assert form_input.label in comment, form_input.label
        if form_input.required and not form_input.on_default_form:
            assert f"{form_input.label}, Required" in comment
    for name in steps.read_write:
        label = next(i.label for i in steps.inputs if i.name == name)
        assert f"{label}, User permission Read-Write" in comment
    signup = "Allowed" if steps.registration or not steps.progressive else "Denied"
    assert f"self-service registration {signup}" in comment
    if steps.progressive:
        assert "progressive profiling Enabled" in comment
