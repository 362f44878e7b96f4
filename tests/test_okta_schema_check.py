"""The closed-world check of bodies sent to Okta: what it lets through and what it catches."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.conftest import sample
from tests.okta_schema_check import problems
from tools.okta_inline_hook import HookSpec

BASIC = HookSpec(mode="basic", name="hook", uri="https://hook.example.com")
PRIVATE_KEY = HookSpec(
    mode="oauth-private-key",
    name="hook",
    uri="https://hook.example.com",
    client_id="0oa1",
    token_url="https://example.okta.com/oauth2/default/v1/token",
    scope="hooks.registration",
    hook_key_id="HKY1",
)
RULE: dict[str, Any] = {
    "type": "PROFILE_ENROLLMENT",
    "name": "Catch-all Rule",
    "priority": 99,
    "status": "ACTIVE",
    "system": True,
    "conditions": None,
    "actions": {
        "profileEnrollment": {
            "access": "ALLOW",
            "preRegistrationInlineHooks": [{"inlineHookId": "cal1"}],
            "profileAttributes": [{"name": "email", "label": "Email", "required": True}],
            "unknownUserAction": "REGISTER",
            "progressiveProfilingAction": "ENABLED",
            "activationRequirements": {"emailVerification": True},
            "uiSchemaId": "uis1",
        }
    },
}


def test_okta_samples_and_our_bodies_conform() -> None:
    assert problems(BASIC.body("okta:pw"), "InlineHookCreate") == []
    assert problems(PRIVATE_KEY.body(), "InlineHookCreate") == []
    assert problems(PRIVATE_KEY.replace_body(), "InlineHookReplace") == []
    assert problems(RULE, "PolicyRule") == []
    for name in ("ssr", "progressive"):
        assert problems(sample(name), "RegistrationInlineHookRequest") == []


def test_the_replace_schema_has_no_type() -> None:
    assert problems(BASIC.body("okta:pw"), "InlineHookReplace") == [
        "$.type: not a property the schema declares"
    ]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            lambda b: b["channel"]["config"].update(authSchema={}),
            "$.channel.config.authSchema: not a property the schema declares",
        ),
        (
            lambda b: b["channel"].update(type="GRPC"),
            "$.channel.type: 'GRPC' is not one of ['HTTP', 'OAUTH']",
        ),
        (lambda b: b.update(name=7), "$.name: 7 is not of type string"),
        (lambda b: b.update(id="cal1"), "$.id: not a property the schema declares"),
        (
            lambda b: b["channel"]["config"].update(headers={"k": "v"}),
            "$.channel.config.headers: {'k': 'v'} is not of type array",
        ),
    ],
)
def test_a_hook_body_that_breaks_the_schema(change: Any, problem: str) -> None:
    body = BASIC.body("okta:pw")
    change(body)
    assert problems(body, "InlineHookCreate") == [problem]


def test_the_oauth_config_is_picked_by_its_auth_type() -> None:
    body = PRIVATE_KEY.body()
    body["channel"]["config"]["clientSecret"] = "x"  # only the client secret config has it
    assert problems(body, "InlineHookCreate") == [
        "$.channel.config.clientSecret: not a property the schema declares"
    ]
    body["channel"]["config"]["authType"] = "client_secret_jwt"
    assert problems(body, "InlineHookCreate") == [
        "$.channel.config.authType: 'client_secret_jwt' is not one of "
        "['client_secret_post', 'private_key_jwt']"
    ]


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        (
            ("actions", "profileEnrollment", "targetGroupIds"),
            None,
            "$.actions.profileEnrollment.targetGroupIds: null, which the schema does not allow",
        ),
        (
            ("actions", "profileEnrollment", "progressiveProfilingAction"),
            "ON",
            "$.actions.profileEnrollment.progressiveProfilingAction: 'ON' is not one of ['ENABLED', 'DISABLED']",
        ),
        (
            ("actions", "profileEnrollment", "preRegistrationInlineHooks"),
            [{"id": "cal1"}],
            "$.actions.profileEnrollment.preRegistrationInlineHooks[0].id: not a property the schema declares",
        ),
        (
            ("actions", "profileEnrollment", "profileAttributes"),
            [{"name": "x", "required": "yes"}],
            "$.actions.profileEnrollment.profileAttributes[0].required: 'yes' is not of type boolean",
        ),
        (("priority",), True, "$.priority: True is not of type integer"),
        (("id",), "rul1", "$.id: read-only, never sent in a request"),
    ],
)
def test_a_rule_that_breaks_the_schema(path: tuple[str, ...], value: Any, problem: str) -> None:
    rule = copy.deepcopy(RULE)
    parent = rule
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    assert problems(rule, "PolicyRule") == [problem]


def test_a_rule_of_another_type_is_checked_against_that_type() -> None:
    rule = {**copy.deepcopy(RULE), "type": "PASSWORD"}
    assert "$.actions.profileEnrollment: not a property the schema declares" in problems(
        rule, "PolicyRule"
    )


def test_an_execute_body_is_picked_by_its_request_type() -> None:
    body = sample("ssr")
    body["data"]["userProfileUpdate"] = {"employeeNumber": "1234"}
    assert problems(body, "RegistrationInlineHookRequest") == [
        "$.data.userProfileUpdate: not a property the schema declares"
    ]
