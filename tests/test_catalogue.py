"""The message catalogue: every reason code a decision can carry has a default-locale message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers import progressive, registration
from lists.parse import read_list
from okta_wire.contract import checked_body
from okta_wire.models import HookRequest, RequestType
from okta_wire.response import okta_response
from policy import reasons
from policy.loader import Policy, load_policy
from tests.conftest import SHIPPED_POLICIES, MakeClient, sample
from tests.policy_support import answer, hook_on, write_policy
from tools.canned_outside import CannedOutside
from tools.policy_cases import cases_path, load_case_file

SHIPPED = SHIPPED_POLICIES
DIRECTORY_REASONS = {
    reasons.DIRECTORY_MISMATCH,
    reasons.DIRECTORY_NOT_FOUND,
    reasons.DIRECTORY_UNAVAILABLE,
}
POLICY_OBJECTS = {path.name: load_policy(path) for path in SHIPPED}
HANDLERS = {
    RequestType.REGISTRATION: registration.decide,
    RequestType.PROGRESSIVE: progressive.decide,
}


def canned(path: Path) -> CannedOutside:
    """A shipped policy's outside data: its case file's lists, and a directory that knows no
    one (every lookup is a DENY with the rule's not-found code)."""
    policy = POLICY_OBJECTS[path.name]
    lists = {}
    if policy.lists:
        for name, (entries, _) in load_case_file(cases_path(path)).lists.items():
            lists[name] = read_list("\n".join(entries), policy.lists[name].settings.kind)
    answers = {rule.name: {"status": 404} for rule in policy.directory}
    return CannedOutside(policy, lists, frozenset(), answers)


OUTSIDE = {path.name: canned(path) for path in SHIPPED}


@pytest.mark.parametrize("name", sorted(POLICY_OBJECTS))
def test_every_reason_of_a_shipped_policy_has_a_default_locale_message(name: str) -> None:
    policy = POLICY_OBJECTS[name]
    default = policy.catalogue.tables[policy.catalogue.default_locale]
    for reason in policy.reasons():
        assert reason in default or reason in reasons.BUILTIN_MESSAGES, reason
        assert policy.message(reason).strip()


def test_builtin_table_is_the_one_set_of_builtin_codes() -> None:
    assert reasons.BUILTIN_REASONS == set(reasons.BUILTIN_MESSAGES)
    assert all(message.strip() for message in reasons.BUILTIN_MESSAGES.values())


def emitted(result: dict[str, Any]) -> set[str]:
    if "error" not in result:
        return set()
    return {"DENIED"} | {cause["reason"] for cause in result["error"]["errorCauses"]}


def test_every_builtin_code_is_emitted_by_some_request(
    make_client: MakeClient, tmp_path: Path
) -> None:
    # A rule with no `reason` of its own fails with the built-in INVALID_ATTRIBUTE / ..._DOMAIN.
    text = (
        "[domains]\nblocked = ['okta.com']\n[attributes.email]\ntype = 'email'\n"
        "[attributes.employeeNumber]\nrequired = ['registration']\npattern = '[0-9]{4}'\n"
        "[progressive]\nupdatable = ['employeeNumber']\n"
        "[disposable_domains]\ndeny = true\n[network]\nblocked = ['203.0.113.0/24']\n"
    )
    client = hook_on(make_client, write_policy(tmp_path, text))
    seen: set[str] = set()
    for profile in [
        {"employeeNumber": "12a4"},
        {"email": "a@okta.com"},
        {"email": "nope"},
        {"email": 42},
        {"email": "a@yopmail.com"},
    ]:
        body = sample("ssr")
        body["data"]["userProfile"].update(profile)
        seen |= emitted(answer(client, body))
    body = sample("ssr")
    body["data"]["userProfile"]["employeeNumber"] = "1234"
    body["data"]["context"]["request"]["ipAddress"] = "203.0.113.9"
    seen |= emitted(answer(client, body))
    body = sample("progressive")
    body["data"]["userProfileUpdate"]["department"] = "Sales"
    seen |= emitted(answer(client, body))
    body["data"]["userProfileUpdate"] = {f"attribute{i}": "x" for i in range(25)}
    seen |= emitted(answer(client, body))  # more causes than are listed
    # The directory's codes need a directory: tests/test_outside_rules.py emits each of them.
    assert seen == reasons.BUILTIN_REASONS - DIRECTORY_REASONS


# --- whatever is submitted, the handlers emit only listed codes, with their messages --------

VALUES = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(["1234", " 1234 ", "12a4", "a@example.com", "A@EVIL.example", "x@", "@", ""]),
    st.integers(),
    st.booleans(),
    st.lists(st.text(max_size=3), max_size=2),
)
NAMES = st.sampled_from(["email", "login", "employeeNumber", "firstName", "department", "locale"])
PROFILES = st.dictionaries(NAMES, VALUES, max_size=6)
LOCALES = st.sampled_from([None, "fr_FR", "fr", "en_US", "de", "x!", 7])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(POLICY_OBJECTS)),
    request_type=st.sampled_from(list(RequestType)),
    submitted=PROFILES,
    current=PROFILES,
    locale=LOCALES,
    accept=st.sampled_from([None, "fr", "de, fr;q=0.5", "*", "fr;q=0"]),
)
def test_handlers_emit_only_listed_codes_and_valid_answers(
    name: str,
    request_type: RequestType,
    submitted: dict[str, Any],
    current: dict[str, Any],
    locale: object,
    accept: str | None,
) -> None:
    policy: Policy = POLICY_OBJECTS[name]
    if locale is not None:
        current = {**current, "locale": locale}
    request = HookRequest(request_type, "e", submitted, current, accept)
    decision = HANDLERS[request_type](policy, request, None, OUTSIDE[name])
    for cause in decision.causes + decision.shadowed:
        assert cause.reason in policy.reasons(), cause.reason
    assert decision.allowed is not bool(decision.causes)
    if not decision.allowed:
        # What the person reads: the catalogue's message in the locale chosen for them.
        assert decision.locale is not None
        messages = policy.catalogue.messages([decision.locale])
        assert decision.summary == messages(reasons.DENIED)
        assert all(cause.message == messages(cause.reason) for cause in decision.causes)
    # And every one of these answers passes Okta's contract.
    checked_body(okta_response(decision), request_type)
