"""Hostile input, generated: never a 5xx, a traceback, a non-JSON body, or an ALLOW the policy forbids."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.conftest import POLICIES, basic, hook_client, post, sample
from tests.hostile_support import (
    allowed,
    basic_env,
    four_ascii_digits,
    set_at,
    well_formed,
)

SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
# Characters that look like the ones of "example.com" or of digits, from other scripts and forms.
lookalikes = st.sampled_from(
    list(
        "еxаmрlе.соm" + "ｅｘａｍｐｌｅ．ｃｏｍ" + "١٢٣٤٥٦٧٨٩٠" + "１２３４" + "\u200b\u00ad\u0301"
    )
)
tricky_text = st.text(alphabet=st.characters() | lookalikes, max_size=40)
emails = st.one_of(
    st.builds(lambda local, domain: f"{local}@{domain}", tricky_text, tricky_text),
    st.builds(
        lambda d: f"a@{d}",
        st.sampled_from(
            [
                "example.com",
                "EXAMPLE.COM",
                "xn--exmple-cua.com",
                "xn--example-9ua.com",
                "example.com.",
                "example.com.evil.io",
                "evil-example.com",
                "mail.example.com",
                "exаmple.com",
                "example.com\u200b",
            ]
        ),
    ),
    tricky_text,
)
employee_numbers = st.one_of(st.from_regex(r"[0-9]{4}", fullmatch=True), tricky_text, json_values)


def example_address(value: object) -> bool:
    if not isinstance(value, str) or value.count("@") != 1:
        return False
    local, domain = value.split("@")
    return bool(local) and domain.isascii() and domain.lower() == "example.com"


@pytest.fixture(scope="module")
def hook() -> TestClient:
    return hook_client(basic_env(POLICIES / "ssr_and_progressive.toml"))


@SETTINGS
@given(body=json_values)
def test_any_json_document(hook: TestClient, body: Any) -> None:
    document = well_formed(post(hook, body))
    assert not allowed(document) or isinstance(body, dict)


@SETTINGS
@given(body=st.binary(max_size=200))
def test_any_bytes(hook: TestClient, body: bytes) -> None:
    well_formed(post(hook, body))


@SETTINGS
@given(
    path=st.lists(
        st.sampled_from(
            [
                "data",
                "userProfile",
                "context",
                "user",
                "profile",
                "userProfileUpdate",
                "requestType",
                "eventId",
                "email",
            ]
        ),
        min_size=1,
        max_size=4,
    ),
    value=json_values,
    kind=st.sampled_from(["ssr", "progressive", "reference"]),
)
def test_sample_with_any_value_anywhere(
    hook: TestClient, path: list[str], value: Any, kind: str
) -> None:
    body = set_at(sample(kind), path, value)
    document = well_formed(post(hook, body))
    if document.get("commands") and allowed(document):
        check_allow_is_deserved(body)


def check_allow_is_deserved(body: dict[str, Any]) -> None:
    """An independent statement of the default policy: only what it permits may be allowed."""
    data = body["data"]
    if body["requestType"] == "self.service.registration":
        profile = data.get("userProfile") or {}
        assert example_address(profile.get("email"))
        number = profile.get("employeeNumber")  # optional at sign-up, checked when given
        assert number in (None, "") or four_ascii_digits(number)
    else:
        update = data.get("userProfileUpdate") or {}
        assert set(update) <= {"employeeNumber"}
        number = update.get("employeeNumber")
        if number in (None, ""):
            current = ((data.get("context") or {}).get("user") or {}).get("profile") or {}
            assert current.get("employeeNumber") not in (None, "")
        else:
            assert four_ascii_digits(number)


@SETTINGS
@given(email=emails, number=employee_numbers)
def test_registration_allow_only_when_deserved(hook: TestClient, email: Any, number: Any) -> None:
    body = sample("ssr")
    body["data"]["userProfile"].update(email=email, login=email, employeeNumber=number)
    document = well_formed(post(hook, body))
    assert allowed(document) == (
        example_address(email)
        and (number in (None, "") or four_ascii_digits(number))
        and email.split("@")[1].isascii()
        and _plain_local(email)
    )


def _plain_local(email: str) -> bool:
    local = email.split("@")[0]
    return all(c.isprintable() and not c.isspace() for c in local) and len(local) <= 64


@SETTINGS
@given(
    number=employee_numbers, extra=st.dictionaries(st.text(max_size=10), json_values, max_size=2)
)
def test_progressive_allow_only_when_deserved(
    hook: TestClient, number: Any, extra: dict[str, Any]
) -> None:
    body = sample("progressive")
    body["data"]["userProfileUpdate"] = {**extra, "employeeNumber": number}
    document = well_formed(post(hook, body))
    if allowed(document):
        check_allow_is_deserved(body)
        assert document["commands"][1]["value"] == body["data"]["userProfileUpdate"]
    else:
        assert not four_ascii_digits(number) or set(extra) - {"employeeNumber"}


@SETTINGS
@given(
    authorization=st.one_of(
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=200),
        st.builds(
            lambda s, b: f"{s} {base64.b64encode(b).decode()}",
            st.sampled_from(["Basic", "basic", "Bearer", "Digest", "Negotiate"]),
            st.binary(max_size=80),
        ),
    )
)
def test_any_authorization_header(hook: TestClient, authorization: str) -> None:
    response = post(hook, sample("progressive"), authorization=authorization)
    document = well_formed(response)
    if response.status_code == 200:
        assert authorization.strip().lower().startswith("basic")
        assert basic().split(" ", 1)[1] == authorization.strip().split(" ", 1)[1].strip()
    else:
        assert response.status_code == 401
        assert document["error"]["code"] == "unauthenticated"


@SETTINGS
@given(
    headers=st.dictionaries(
        st.sampled_from(
            [
                "Content-Type",
                "Content-Length",
                "X-Cloud-Trace-Context",
                "Accept-Language",
                "Transfer-Encoding",
                "Content-Encoding",
            ]
        ),
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
        max_size=3,
    )
)
def test_any_other_headers(hook: TestClient, headers: dict[str, str]) -> None:
    content_type = headers.pop("Content-Type", "application/json")
    headers.pop("Content-Length", None)  # the test client computes it
    response = post(hook, sample("progressive"), content_type=content_type, headers=headers)
    well_formed(response)


def test_deep_nesting_everywhere(hook: TestClient) -> None:
    for depth in (10, 100, 990, 5000):
        body = sample("ssr")
        nested: Any = "x"
        for _ in range(depth):
            nested = {"a": nested}
        body["data"]["userProfile"]["employeeNumber"] = nested
        raw = json.dumps(body) if depth < 900 else None
        if raw is None:
            raw = json.dumps(sample("ssr")).replace(
                '"Jones"', '{"a":' * depth + '"x"' + "}" * depth
            )
        document = well_formed(post(hook, raw.encode()))
        assert not allowed(document)
