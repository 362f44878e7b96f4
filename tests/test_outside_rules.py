"""Lists and directory rules in the policy language: what the loader accepts and refuses (with the
line at fault), and how the handlers decide with them, on canned entries and directory answers
(the same `Outside` the policy check's cases use)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from core.errors import Unavailable
from handlers import progressive, registration
from lists.parse import ListRefused, ListValue, read_list
from okta_wire.models import Decision, RequestType
from okta_wire.request import parse_hook_request
from policy import reasons
from policy.list_kinds import KINDS
from policy.loader import Policy, PolicyError, parse_policy
from policy.policy_lines import line_of
from tests.conftest import sample
from tools.canned_outside import CannedOutside

LISTS = """
[lists.partners]
source = "gs://acme-hook-lists/partners.txt"
kind = "domains"

[lists.offices]
secret = "projects/acme-hook/secrets/office-ranges/versions/latest"
kind = "networks"
fail_open = true

[lists.codes]
source = "gs://acme-hook-lists/codes.csv"
kind = "codes"
csv_column = "code"
max_shrink = 0.2
refresh_seconds = 30
max_bytes = 1048576
"""
USES = """
[attributes.email]
type = "email"
normalize = ["trim", "lower"]

[domains]
allowed = { list = "partners" }

[network]
allowed = { list = "offices" }

[attributes.invitation]
type = "string"
one_of = { list = "codes" }
reason = "UNKNOWN_CODE"

[attributes.tier]
type = "string"
when = { attribute = "invitation", in = { list = "codes" } }
one_of = ["gold"]

[messages]
UNKNOWN_CODE = "This invitation code is not one we sent."
"""
DIRECTORY = """
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
pattern = "E[0-9]{3}"

[progressive]
updatable = ["employeeNumber", "department"]

[directory.hr]
url = "https://hr.acme.example/people/{employeeNumber}"
on = ["registration", "progressive"]
match = [{ path = "work.email", attribute = "email", ignore_case = true }]
copy = { department = "work.department" }
attribute = "employeeNumber"
"""
FOUND = {"status": 200, "body": {"work": {"email": "Ana@ACME.example", "department": "Finance"}}}


def load(text: str) -> Policy:
    return parse_policy(text, "p.toml")


def refused(text: str) -> str:
    with pytest.raises(PolicyError) as caught:
        load(text)
    return str(caught.value)


def entries(policy: Policy, name: str, *lines: str) -> ListValue:
    return read_list("\n".join(lines), policy.lists[name].settings.kind)


def decide(
    policy: Policy,
    body: dict[str, Any],
    lists: Mapping[str, ListValue] | None = None,
    unread: frozenset[str] = frozenset(),
    answers: Mapping[str, object] | None = None,
) -> Decision:
    request = parse_hook_request(json.dumps(body).encode())
    outside = CannedOutside(policy, lists or {}, unread, answers or {})
    if request.request_type is RequestType.REGISTRATION:
        return registration.decide(policy, request, None, outside)
    return progressive.decide(policy, request, None, outside)


def signup(**profile: Any) -> dict[str, Any]:
    body = sample("ssr")
    body["data"]["userProfile"].update(profile)
    return body


def causes(decision: Decision) -> dict[str, str]:
    return {cause.attribute: cause.reason for cause in decision.causes}


# --- the loader ---------------------------------------------------------------------------------


def test_lists_are_read_into_the_settings_lists_take() -> None:
    policy = load(LISTS + USES)
    partners, offices, codes = (policy.lists[n] for n in ("partners", "offices", "codes"))
    assert partners.location == "gs://acme-hook-lists/partners.txt"
    assert partners.settings.kind is KINDS["domains"]
    assert (partners.settings.max_shrink, partners.settings.refresh_seconds) == (0.5, 60.0)
    assert (partners.fail_open, partners.declared_bytes) == (False, None)
    assert offices.location == "projects/acme-hook/secrets/office-ranges/versions/latest"
    assert offices.fail_open
    assert codes.settings.layout.csv_column == "code"
    assert (codes.settings.max_shrink, codes.settings.refresh_seconds) == (0.2, 30.0)
    assert codes.declared_bytes == codes.settings.max_bytes == 1048576
    assert policy.reads_outside == (
        "gs://acme-hook-lists/partners.txt",
        "projects/acme-hook/secrets/office-ranges/versions/latest",
        "gs://acme-hook-lists/codes.csv",
    )


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('[lists.p]\nsource = "gs://b-1/p.txt"\nkind = "colours"\n', 3, "kind must be one of domains, email_addresses"),
        ('[lists.p]\nsource = "gs://b-1/p.txt"\nsecret = "projects/p-123/secrets/s/versions/1"\nkind = "codes"\n', 1, "one of them"),
        ('[lists.p]\nkind = "codes"\n', 1, "needs source = 'gs://bucket/object'"),
        ('[lists.p]\nsource = "https://b/p.txt"\nkind = "codes"\n', 2, "source: not a gs://bucket/object location"),
        ('[lists.p]\nsecret = "my-secret"\nkind = "codes"\n', 2, "secret: not a secret version name"),
        ('[lists.p]\nsource = "gs://b-1/p.txt"\nkind = "codes"\nmax_shrink = 0\n', 4, "max_shrink must be above 0"),
        ('[lists.p]\nsource = "gs://b-1/p.txt"\nkind = "codes"\nrefresh_seconds = 0.5\n', 4, "refresh_seconds must be from 1"),
        ('[lists.p]\nsource = "gs://b-1/p.txt"\nkind = "codes"\nmax_bytes = 0\n', 4, "max_bytes must be a whole number"),
        ('[lists.p]\nsource = "gs://b-1/p.txt"\nkind = "codes"\ncolour = 1\n', 4, "unknown key 'colour'"),
        ('[lists.p]\nsource = "gs://b-1/p.txt"\nkind = "codes"\n', 1, "[lists.p] is named by no rule"),
        ('[domains]\nallowed = { list = "nope" }\n', 2, "no [lists.nope] declares the list"),
        ('[lists.p]\nsource = "gs://b-1/p.txt"\nkind = "networks"\n[domains]\nallowed = { list = "p" }\n', 5, "list p is of kind networks; here a list of domains"),
        ('[lists.p]\nsource = "gs://b-1/p.txt"\nkind = "domains"\n[network]\nblocked = { list = "p" }\n', 5, "here a list of networks"),
        ('[lists.p]\nsource = "gs://b-1/p.txt"\nkind = "codes"\n[attributes.n]\ntype = "array"\nitems = "integer"\none_of = { list = "p" }\n', 7, "list p holds text, and n is an array of integers"),
        ('[lists.p]\nsource = "gs://b-1/p.txt"\nkind = "codes"\n[attributes.n]\ntype = "string"\n[attributes.m]\nwhen = { attribute = "n", in = { list = "p", fail_open = true } }\n', 7, "a list in a condition cannot fail open"),
        ('[lists.p]\nsource = "gs://b-1/p.txt"\nkind = "codes"\n[attributes.m]\nwhen = { attribute = "n", in = { list = "p" } }\n', 5, "names n, an unknown attribute"),
        ('[domains]\nallowed = { list = "p", colour = 1 }\n', 2, "unknown key 'colour'"),
    ],
)  # fmt: skip
def test_list_mistakes_are_refused_with_their_line(text: str, line: int, message: str) -> None:
    error = refused(text)
    assert error.startswith(f"p.toml:{line}: "), error
    assert message in error


def test_list_entries_are_read_by_the_policys_own_validators() -> None:
    policy = load(LISTS + USES)
    # An address with a UTF-8 local part is one the policy accepts in an email attribute.
    addresses = read_list("josé@acme.example\nAna@ACME.example\n", KINDS["email_addresses"])
    assert "ana@acme.example" in addresses
    assert "JOSÉ@acme.example" in addresses  # any case
    assert "jose@acme.example" not in addresses
    # A range in IPv4-mapped form is refused in [network] and in a list alike.
    with pytest.raises(ListRefused, match="line 2: not a valid CIDR range"):
        entries(policy, "offices", "10.0.0.0/8", "::ffff:10.0.0.0/104")
    with pytest.raises(PolicyError, match="IPv4-mapped"):
        load("[network]\nblocked = ['::ffff:10.0.0.0/104']\n")
    # `*.name` means what it means in [domains]: names under it, not it.
    partners = entries(policy, "partners", "*.partner.example", "Other.Example")
    assert "a.partner.example" in partners
    assert "partner.example" not in partners
    assert "other.example" in partners


@pytest.mark.parametrize(
    ("change", "at", "message"),
    [
        ("on = []", "on", "on must name"),
        ('url = "http://hr.acme.example/people/{employeeNumber}"', "url", "must be https://host"),
        ('url = "https://hr.acme.example/people"\nmatch = []', "url", "url names no submitted value"),
        ('url = "https://hr.acme.example/people/{nickName}"', "", "reads nickName: it needs an [attributes.nickName] table"),
        ('copy = { employeeNumber = "work.id" }', "copy", "copy: employeeNumber also has [attributes.employeeNumber]"),
        ('copy = { manager = "manager.id" }', "copy", "copies manager, which is not in [progressive] updatable"),
        ('copy = { department = "work..department" }', "copy", "copy.department: not a JSON path"),
        ("timeout_seconds = 3.0", "", "timeout_seconds must be above 0 and at most 2.5"),
        ('method = "POST"', "method", "a POST sends the body template"),
        ("found_statuses = [302]", "", "statuses must be 2xx or 4xx"),
        ('bearer_secret = "projects/p-123/secrets/s/versions/1"\nid_token_audience = "https://hr.run.app"', "id_token_audience", "give one of bearer_secret"),
        ('api_key_secret = "projects/p-123/secrets/s/versions/1"', "api_key_secret", "api_key_secret and api_key_header go together"),
        ('bearer_secret = "hr-token"', "bearer_secret", "bearer_secret: not a secret version name"),
        ('mismatch_reason = "NOT_OURS"', "mismatch_reason", "mismatch_reason NOT_OURS has no [messages] entry"),
        ('when = { request_type = "progressive" }\non = ["registration"]', "when", "can never hold where the directory rule hr is judged"),
        ('colour = "blue"', "colour", "unknown key 'colour'"),
    ],
)  # fmt: skip
def test_directory_mistakes_are_refused_with_their_line(change: str, at: str, message: str) -> None:
    """`change` replaces the keys it sets in DIRECTORY's [directory.hr]; the error names the line
    of `at` (or of the table's header)."""
    keys = {row.split(" =", 1)[0] for row in change.splitlines()}
    kept = [row for row in DIRECTORY.splitlines() if row.split(" =", 1)[0] not in keys]
    text = "\n".join([*kept, change]) + "\n"
    error = refused(text)
    assert message in error, error
    line = line_of(text, ("directory", "hr", at) if at else ("directory", "hr"))
    assert error.startswith(f"p.toml:{line}: "), error


def test_a_copied_attribute_set_elsewhere_is_refused() -> None:
    text = DIRECTORY + '[set.department]\nvalue = "x"\non = ["registration"]\n'
    assert "copy: department is already set by [set] or [derive]" in refused(text)


def test_the_directory_rule_is_read_into_directory_settings() -> None:
    policy = load(
        DIRECTORY + 'bearer_secret = "projects/acme-hook/secrets/hr-token/versions/latest"\n'
    )
    [rule] = policy.directory
    assert rule.reads == ("email", "employeeNumber")
    assert rule.copies == ("department",)
    assert rule.settings.method == "GET"
    assert rule.auth.secret == "projects/acme-hook/secrets/hr-token/versions/latest"
    assert policy.reads_outside == ("projects/acme-hook/secrets/hr-token/versions/latest",)
    assert {reasons.DIRECTORY_MISMATCH, reasons.DIRECTORY_NOT_FOUND} <= policy.reasons()
    assert ("directory", "hr") in policy.rule_keys()


# --- decisions with lists ------------------------------------------------------------------------


def test_a_list_decides_where_a_literal_one_would() -> None:
    policy = load(LISTS + USES)
    lists = {
        "partners": entries(policy, "partners", "partner.example", "*.acme.example"),
        "offices": entries(policy, "offices", "192.0.2.0/24"),
        "codes": read_list("code,name\nGOLD-1,a\nSILVER-2,b\n", policy.lists["codes"].settings.kind, policy.lists["codes"].settings.layout),
    }  # fmt: skip

    def signup_from(ip: str, **profile: Any) -> dict[str, Any]:
        body = signup(**profile)
        body["data"]["context"]["request"]["ipAddress"] = ip
        return body

    good = signup_from("192.0.2.7", email="sam@eu.acme.example", invitation="GOLD-1", tier="gold")
    assert decide(policy, good, lists).allowed
    assert causes(
        decide(policy, signup_from("192.0.2.7", email="sam@elsewhere.example"), lists)
    ) == {"email": "INVALID_EMAIL_DOMAIN"}
    assert causes(
        decide(policy, signup_from("203.0.113.1", email="sam@partner.example"), lists)
    ) == {"email": "NETWORK_NOT_ALLOWED"}
    assert causes(
        decide(policy, signup_from("192.0.2.7", email="sam@partner.example", invitation="X"), lists)
    ) == {"invitation": "UNKNOWN_CODE"}
    # The condition reads the list too: a known code makes the tier judged.
    tiered = signup_from(
        "192.0.2.7", email="sam@partner.example", invitation="SILVER-2", tier="tin"
    )
    assert causes(decide(policy, tiered, lists)) == {"tier": "INVALID_ATTRIBUTE"}


def test_a_list_never_read_is_a_503_unless_its_rule_fails_open() -> None:
    policy = load(LISTS + USES)
    lists = {
        "partners": entries(policy, "partners", "partner.example"),
        "codes": entries(policy, "codes", "GOLD-1"),
    }
    body = signup(email="sam@partner.example")
    body["data"]["context"]["request"]["ipAddress"] = "203.0.113.1"
    # offices fails open: the network rule lets the request through, and says so.
    decision = decide(policy, body, lists, unread=frozenset({"offices"}))
    assert decision.allowed
    assert decision.outcomes == (("lists.offices", "fail_open"),)
    with pytest.raises(Unavailable, match="list partners not read yet"):
        decide(policy, body, lists, unread=frozenset({"partners", "offices"}))


def test_a_reference_may_fail_open_where_its_list_does_not() -> None:
    text = (LISTS + USES).replace(
        'allowed = { list = "partners" }', 'allowed = { list = "partners", fail_open = true }'
    )
    policy = load(text)
    body = signup(email="sam@anywhere.example")
    body["data"]["context"]["request"]["ipAddress"] = "192.0.2.7"
    lists = {"offices": entries(policy, "offices", "192.0.2.0/24")}
    decision = decide(policy, body, lists, unread=frozenset({"partners"}))
    assert decision.allowed
    assert decision.outcomes == (("lists.partners", "fail_open"),)


# --- decisions with the directory -----------------------------------------------------------------


def test_a_matching_record_allows_and_its_values_are_copied() -> None:
    policy = load(DIRECTORY)
    body = signup(email=" Ana@acme.example ", employeeNumber="E123")
    decision = decide(policy, body, answers={"hr": FOUND})
    assert decision.allowed
    assert decision.updates == {"email": "ana@acme.example", "department": "Finance"}
    assert decision.outcomes == (("directory.hr", "directory_found"),)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"status": 200, "body": {"work": {"email": "bob@acme.example"}}}, reasons.DIRECTORY_MISMATCH),
        ({"status": 404, "body": {"error": "not found"}}, reasons.DIRECTORY_NOT_FOUND),
        ("circuit_open", reasons.DIRECTORY_UNAVAILABLE),
    ],
)  # fmt: skip
def test_a_record_that_does_not_match_none_and_a_failing_directory_deny(
    answer: object, reason: str
) -> None:
    policy = load(DIRECTORY)
    decision = decide(
        policy, signup(email="ana@acme.example", employeeNumber="E123"), answers={"hr": answer}
    )
    assert causes(decision) == {"employeeNumber": reason}
    assert decision.causes[0].message == reasons.BUILTIN_MESSAGES[reason]
    assert decision.updates == {}


def test_no_answer_is_a_503_or_an_allow_as_the_rule_says() -> None:
    body = signup(email="ana@acme.example", employeeNumber="E123")
    with pytest.raises(Unavailable, match="no answer"):
        decide(load(DIRECTORY), body, answers={"hr": "unavailable"})
    opened = decide(load(DIRECTORY + "fail_open = true\n"), body, answers={"hr": "unavailable"})
    assert opened.allowed
    assert opened.updates == {}
    assert opened.outcomes == (("directory.hr", "directory_unavailable"),)


def test_the_directory_is_asked_only_when_everything_else_passes() -> None:
    policy = load(DIRECTORY)
    # No canned answer: a lookup would fail the test.
    decision = decide(policy, signup(email="ana@acme.example", employeeNumber="123"))
    assert causes(decision) == {"employeeNumber": "INVALID_ATTRIBUTE"}


def test_a_value_the_lookup_needs_is_missing() -> None:
    text = DIRECTORY.replace(
        'required = ["registration"]\nnormalize = ["trim"]', 'normalize = ["trim"]'
    )
    decision = decide(load(text), signup(email="ana@acme.example", employeeNumber=None))
    assert causes(decision) == {"employeeNumber": "MISSING_ATTRIBUTE"}


def test_progressive_copies_onto_the_profile_when_it_differs() -> None:
    policy = load(DIRECTORY)
    body = sample("progressive")
    body["data"]["userProfileUpdate"] = {"employeeNumber": "E123"}
    body["data"]["context"]["user"]["profile"].update(email="ana@acme.example", department="Sales")
    decision = decide(policy, body, answers={"hr": FOUND})
    assert decision.allowed
    assert decision.updates == {"employeeNumber": "E123", "department": "Finance"}
    body["data"]["context"]["user"]["profile"]["department"] = "Finance"
    assert decide(policy, body, answers={"hr": FOUND}).updates == {"employeeNumber": "E123"}


def test_a_directory_rule_in_shadow_mode_is_logged_not_enforced() -> None:
    policy = load(DIRECTORY + "shadow = true\n")
    body = signup(email="ana@acme.example", employeeNumber="E123")
    decision = decide(policy, body, answers={"hr": {"status": 404}})
    assert decision.allowed
    assert [(c.attribute, c.reason) for c in decision.shadowed] == [
        ("employeeNumber", reasons.DIRECTORY_NOT_FOUND)
    ]
