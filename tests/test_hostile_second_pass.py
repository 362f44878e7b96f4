"""Hostile input, second pass: odd values that once made a 500, blanked a required value, grew an
answer or a log line without bound, or reached the log verbatim."""

from __future__ import annotations

import json
from typing import Any

import pytest

from auth.basic import CredentialsFormatError, credential_lines
from core.strict_json import MAX_DEPTH
from policy.loader import PolicyError, load_policy
from service.settings import ConfigError, Settings
from tests.conftest import MakeClient, basic, post, sample
from tests.hostile_support import well_formed
from tests.jwt_support import KeyServer, bearer_env, mint, okta_claims
from tests.policy_support import (
    ALLOW,
    DENY,
    EXAMPLE,
    audit_lines,
    causes,
    hook_on,
    progressive,
    registration,
    write_policy,
)

CURRENT = "4321"


# A progressive update never clears a required attribute.


# Nothing drawn: white space, zero-width, Hangul fillers, variation selectors, a lone
# combining mark, the blank Braille pattern, tags.
BLANKS = [None, "", " ", "   ", "\t", "\u00a0", "\u200b", "\u2028", " \u3000 "]
BLANKS += ["\u3164", "\u115f\u1160", "\uffa0", "\u034f", "\ufe0f", "\u180b", "\u17b4"]
BLANKS += ["\U000e0100", "\u2800", "\u200b\u3164", " \u3164 ", "\u0301", "\U000e0041"]


@pytest.mark.parametrize("blank", BLANKS)
def test_a_blank_update_of_a_required_attribute_is_missing_not_echoed(
    example: Any, blank: object
) -> None:
    body = progressive({"employeeNumber": blank}, employeeNumber=CURRENT)
    result = well_formed(post(example, body))
    assert causes(result) == [
        ("employeeNumber", "MISSING_ATTRIBUTE", "This field is required."),
    ]
    assert "progressive.profile.update" not in json.dumps(result)


def test_leaving_a_required_attribute_out_keeps_the_stored_value(example: Any) -> None:
    result = well_formed(post(example, progressive({}, employeeNumber=CURRENT)))
    assert result["commands"] == [ALLOW]


@pytest.mark.parametrize("blank", [" ", "\u200b", "\u00a0\u00a0"])
def test_a_blank_registration_value_of_a_required_attribute_is_missing(
    example: Any, blank: str
) -> None:
    result = well_formed(post(example, registration(employeeNumber=blank)))
    assert ("employeeNumber", "MISSING_ATTRIBUTE", "This field is required.") in causes(result)


def test_an_optional_attribute_of_invisible_characters_is_still_judged(
    make_client: MakeClient, tmp_path: Any
) -> None:
    policy = write_policy(
        tmp_path,
        """
[attributes.nickName]
pattern = "[a-z]{2,10}"
reason = "INVALID_NICKNAME"

[messages]
INVALID_NICKNAME = "Letters only."
""",
    )
    client = hook_on(make_client, policy)
    assert well_formed(post(client, registration(nickName="")))["commands"] == [ALLOW]
    result = well_formed(post(client, registration(nickName="\u200b")))
    assert causes(result) == [("nickName", "INVALID_NICKNAME", "Letters only.")]


# Numbers outside the double range are a 400, like NaN.


@pytest.mark.parametrize(
    "number",
    ["1e400", "-1E999", "1.5e309", "123456789e400", "-0.1e+99999"],
)
@pytest.mark.parametrize("where", ["profile", "array", "object", "context"])
def test_numbers_outside_the_double_range_are_a_400(example: Any, number: str, where: str) -> None:
    body = json.dumps(sample("progressive"))
    placed = {
        "profile": '"userProfileUpdate": {"employeeNumber": "1234", "age": NUMBER}',
        "array": '"userProfileUpdate": {"employeeNumber": "1234", "tags": [1, NUMBER]}',
        "object": '"userProfileUpdate": {"employeeNumber": "1234", "x": {"y": NUMBER}}',
        "context": '"userProfileUpdate": {"employeeNumber": "1234"}, "extra": NUMBER',
    }[where].replace("NUMBER", number)
    before = '"userProfileUpdate": {"employeeNumber": "1234"}'
    assert before in body
    response = post(example, body.replace(before, placed).encode())
    assert response.status_code == 400
    assert well_formed(response)["error"] == {
        "code": "bad_request",
        "message": "The JSON body has a number out of range.",
    }


def test_large_finite_numbers_are_still_read(example: Any) -> None:
    body = sample("progressive")
    body["data"]["userProfileUpdate"]["employeeNumber"] = 1.7976931348623157e308
    result = well_formed(post(example, body))
    assert causes(result)[0][:2] == ("employeeNumber", "INVALID_ATTRIBUTE_TYPE")


# A value no Okta profile attribute holds (an object, an array of arrays or objects) is refused
# where no rule judges the attribute too, however deep it nests.

VALID = {"employeeNumber": "1234"}
UNHELD = [{}, {"a": "x"}, [[]], ["x", [1]], ["x", {"a": 1}], {"a": {"a": {"a": "x"}}}]
HELD = ["x", 7, 2.5, True, ["x", "y"], [1, 2.5], []]


@pytest.mark.parametrize("value", UNHELD)
def test_a_registration_value_no_profile_attribute_holds_is_denied(
    example: Any, value: object
) -> None:
    assert well_formed(post(example, registration(**VALID)))["commands"][0] == ALLOW
    result = well_formed(post(example, registration(**VALID, nickName=value)))
    assert [cause[:2] for cause in causes(result)] == [("nickName", "INVALID_ATTRIBUTE_TYPE")]


@pytest.mark.parametrize("value", HELD)
def test_a_registration_value_of_an_okta_type_passes_where_no_rule_judges_it(
    example: Any, value: object
) -> None:
    result = well_formed(post(example, registration(**VALID, nickName=value)))
    assert result["commands"][0] == ALLOW


UPDATABLE_NICKNAME = """
[progressive]
updatable = ["employeeNumber", "nickName"]
"""


@pytest.mark.parametrize("value", UNHELD)
def test_a_progressive_value_no_profile_attribute_holds_is_denied_not_echoed(
    make_client: MakeClient, tmp_path: Any, value: object
) -> None:
    client = hook_on(make_client, write_policy(tmp_path, UPDATABLE_NICKNAME))
    held = well_formed(post(client, progressive({"nickName": "Bo"})))
    assert held["commands"][1]["value"] == {"nickName": "Bo"}
    result = well_formed(post(client, progressive({"nickName": value})))
    assert [cause[:2] for cause in causes(result)] == [("nickName", "INVALID_ATTRIBUTE_TYPE")]
    assert "progressive.profile.update" not in json.dumps(result)


@pytest.mark.parametrize("outer", ["array", "object"])
@pytest.mark.parametrize(("depth", "refused"), [(MAX_DEPTH, False), (MAX_DEPTH + 1, True)])
def test_a_body_nested_past_the_bound_is_a_400_on_every_python(
    example: Any, outer: str, depth: int, refused: bool
) -> None:
    # The body, data and userProfileUpdate are three levels; x's value takes the rest.
    arrays = depth - 3 - (outer == "object")
    value = "[" * arrays + "1" + "]" * arrays
    if outer == "object":
        value = '{"a": ' + value + "}"
    body = json.dumps(progressive({"employeeNumber": "1234", "x": "VALUE"}))
    response = post(example, body.replace('"VALUE"', value).encode())
    if refused:
        assert response.status_code == 400
        assert well_formed(response)["error"] == {
            "code": "bad_request",
            "message": "The JSON body is nested too deeply.",
        }
    else:
        assert causes(well_formed(response))[0][:2] == ("x", "ATTRIBUTE_NOT_UPDATABLE")


# A number that only rounds to a whole double is no integer; an integer is within ±(2**53 - 1).

TYPED = """
[attributes.level]
type = "integer"

[attributes.score]
type = "number"

[attributes.counts]
type = "array"
items = "integer"

[progressive]
updatable = ["level", "score", "counts"]
"""


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("5", True),
        ("5.0", True),
        ("5e0", True),
        ("4.99999999999999999", False),
        ("5.00000000000000000000000000001", False),
        ("0.5e1", True),
        ("9007199254740991", True),
        ("9007199254740992", False),
        ("-9007199254740992", False),
        ("1e300", False),
        ("1" + "0" * 99, False),
    ],
)
@pytest.mark.parametrize("where", ["level", "counts"])
def test_an_integer_is_exactly_one_and_within_the_safe_range(
    make_client: MakeClient, tmp_path: Any, text: str, accepted: bool, where: str
) -> None:
    client = hook_on(make_client, write_policy(tmp_path, TYPED))
    value = text if where == "level" else f"[1, {text}]"
    body = json.dumps(progressive({where: "VALUE"})).replace('"VALUE"', value)
    result = well_formed(post(client, body.encode()))
    if accepted:
        assert result["commands"][0] == ALLOW
    else:
        assert [cause[:2] for cause in causes(result)] == [(where, "INVALID_ATTRIBUTE_TYPE")]


@pytest.mark.parametrize("text", ["4.99999999999999999", "1e300", "1" + "0" * 99])
def test_a_number_attribute_takes_what_a_double_holds(
    make_client: MakeClient, tmp_path: Any, text: str
) -> None:
    client = hook_on(make_client, write_policy(tmp_path, TYPED))
    body = json.dumps(progressive({"score": "VALUE"})).replace('"VALUE"', text)
    result = well_formed(post(client, body.encode()))
    assert result["commands"][0] == ALLOW
    assert result["commands"][1]["value"]["score"] == json.loads(text)


# Thousands of failing attributes: the answer stays a bounded DENY, the audit line small.


@pytest.mark.parametrize("count", [21, 4000])
def test_a_flood_of_not_updatable_attributes_is_a_bounded_deny(
    example: Any, capsys: pytest.CaptureFixture[str], count: int
) -> None:
    update: dict[str, Any] = {f"a{i}": "x" for i in range(count)}
    update["employeeNumber"] = "12a4"
    capsys.readouterr()
    response = post(example, progressive(update))
    result = well_formed(response)
    assert result["commands"] == [DENY]
    found = causes(result)
    assert len(found) == 20
    # The policy's own rule is never pushed out by the flood; the request's order is kept.
    assert [name for name, _, _ in found[:18]] == [f"a{i}" for i in range(18)]
    assert {reason for _, reason, _ in found[:18]} == {"ATTRIBUTE_NOT_UPDATABLE"}
    assert found[18][:2] == ("employeeNumber", "INVALID_EMPLOYEE_NUMBER")
    assert found[19] == (
        "a18",
        "TOO_MANY_ERRORS",
        "More fields than can be listed were refused.",
    )
    line = json.dumps(audit_lines(capsys)[-1])
    assert len(line) < 2000


def test_a_flood_under_global_shadow_is_allowed_and_its_log_bounded(
    make_client: MakeClient, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "shadow = true\n" + EXAMPLE.read_text("utf-8")
    client = hook_on(make_client, write_policy(tmp_path, text))
    update = {f"a{i}": "x" for i in range(3000)} | {"employeeNumber": "1234"}
    capsys.readouterr()
    result = well_formed(post(client, progressive(update)))
    assert result["commands"][0] == ALLOW
    entry = audit_lines(capsys)[-1]
    assert len(entry["shadow_reasons"]) == 20
    assert entry["shadow_reasons_unlisted"] == 2980
    assert len(json.dumps(entry)) < 3000


# Body values reach the audit line only in Okta's shape.


@pytest.mark.parametrize(
    "event_id",
    [
        "@example.com",
        "someone@example.com",
        "x" * 65,
        "a b",
        "line\nbreak",
        "<script>",
        "ünïcode",
    ],
)
def test_an_event_id_not_in_okta_shape_is_logged_as_a_marker(
    example: Any, capsys: pytest.CaptureFixture[str], event_id: str
) -> None:
    body = progressive({"employeeNumber": "1234"})
    body["eventId"] = event_id
    capsys.readouterr()
    assert well_formed(post(example, body))["commands"][0] == ALLOW
    entry = audit_lines(capsys)[-1]
    assert entry["eventId"] == "(not shown)"
    assert event_id not in json.dumps(entry, ensure_ascii=False)


def test_an_event_id_in_okta_shape_is_logged(
    example: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    body = sample("progressive")
    capsys.readouterr()
    post(example, body)
    assert audit_lines(capsys)[-1]["eventId"] == body["eventId"]


def test_attribute_names_from_the_body_are_logged_only_when_plain(
    make_client: MakeClient, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "shadow = true\n" + EXAMPLE.read_text("utf-8")
    client = hook_on(make_client, write_policy(tmp_path, text))
    update = {"someone@example.com": "x", "plainName": "y", "employeeNumber": "1234"}
    capsys.readouterr()
    post(client, progressive(update))
    entry = audit_lines(capsys)[-1]
    assert entry["shadow_reasons"] == [
        {"attribute": "(not shown)", "reason": "ATTRIBUTE_NOT_UPDATABLE"},
        {"attribute": "plainName", "reason": "ATTRIBUTE_NOT_UPDATABLE"},
    ]


@pytest.mark.parametrize(
    ("content_type", "logged"),
    [("someone@example.com", "(not shown)"), ("text/plain", "'text/plain'")],
)
def test_a_content_type_is_logged_only_when_plain(
    example: Any, capsys: pytest.CaptureFixture[str], content_type: str, logged: str
) -> None:
    capsys.readouterr()
    response = post(example, sample("progressive"), content_type=content_type)
    assert response.status_code == 415
    entry = audit_lines(capsys)[-1]
    assert entry["reason"] == f"Content-Type {logged}"


# Basic credential lines end at \n or \r\n only, and a password is taken exactly.

# (An environment variable cannot hold NUL: the parser test below has it.)
SEPARATORS = ["\u2028", "\u2029", "\x85", "\v", "\f", "\x1c", "\x1d", "\x1e", "\t", "\r", "\ufeff"]


@pytest.mark.parametrize("separator", SEPARATORS)
def test_a_credentials_line_with_another_separator_is_refused_naming_the_line(
    make_client: MakeClient, capsys: pytest.CaptureFixture[str], separator: str
) -> None:
    configured = f"# rotation\nokta:first-half{separator}evil:second-half\n"
    client = make_client(OKTA_HOOK_BASIC_CREDENTIALS=configured)
    for user, password in [("okta", "first-half"), ("evil", "second-half")]:
        assert post(client, sample("progressive"), basic(user, password)).status_code == 503
    out = capsys.readouterr().out
    assert "line 2 holds a control character" in out
    assert "first-half" not in out
    assert "second-half" not in out


@pytest.mark.parametrize("separator", [*SEPARATORS, "\x00", "\x7f", "\ud800"])
def test_the_parser_never_splits_a_password(separator: str) -> None:
    with pytest.raises(CredentialsFormatError, match="line 1 holds a control character"):
        credential_lines(f"okta:pass{separator}word")


def test_a_password_is_taken_exactly(make_client: MakeClient) -> None:
    client = make_client(OKTA_HOOK_BASIC_CREDENTIALS="okta:  spaced pass  \r\nnext:pw:2\r\n")
    assert post(client, sample("progressive"), basic("okta", "  spaced pass  ")).status_code == 200
    assert post(client, sample("progressive"), basic("okta", "spaced pass")).status_code == 401
    assert post(client, sample("progressive"), basic("next", "pw:2")).status_code == 200
    assert post(client, sample("progressive"), basic("next", "pw:2\r")).status_code == 401


def test_an_indented_user_is_refused() -> None:
    with pytest.raises(CredentialsFormatError, match="line 2: the user starts or ends"):
        credential_lines("a:1\n  b:2\n")


def test_lines_end_at_lf_or_crlf() -> None:
    assert credential_lines("a:1\nb:2\r\n\r\n# c:3\r\nd:4") == [("a", "1"), ("b", "2"), ("d", "4")]


# Siblings: other settings split on odd separators, messages that would grow every DENY, and
# claims of a verified token logged in a plain shape only.


@pytest.mark.parametrize("scopes", ["hooks.a\u2028hooks.b", "hooks.a\thooks.b", "hooks.é", 'a"b'])
def test_scopes_are_printable_ascii_separated_by_spaces(scopes: str) -> None:
    env = {"OKTA_HOOK_ISSUER": "https://acme.okta.com/oauth2/default", "OKTA_HOOK_SCOPES": scopes}
    with pytest.raises(ConfigError, match="OKTA_HOOK_SCOPES contains a quote, a backslash or"):
        Settings.from_env(env)


def test_scopes_split_on_spaces_only() -> None:
    env = {
        "OKTA_HOOK_ISSUER": "https://acme.okta.com/oauth2/default",
        "OKTA_HOOK_SCOPES": "  hooks.a   hooks.b ",
    }
    bearer = Settings.from_env(env).bearer
    assert bearer is not None
    assert bearer.scopes == ("hooks.a", "hooks.b")


def test_a_message_too_long_for_a_deny_is_refused_at_load(tmp_path: Any) -> None:
    text = f'[messages]\nDENIED = "{"x" * 1001}"\n'
    with pytest.raises(PolicyError, match=r"policy.toml:2: \[messages\] DENIED is over 1000"):
        load_policy(write_policy(tmp_path, text))
    load_policy(write_policy(tmp_path, f'[messages]\nDENIED = "{"x" * 1000}"\n'))


@pytest.mark.parametrize("jti", ["someone@example.com", "AT." + "x" * 70])
def test_claims_of_a_verified_token_are_logged_only_when_plain(
    make_client: MakeClient, okta: KeyServer, capsys: pytest.CaptureFixture[str], jti: str
) -> None:
    client = make_client(**bearer_env(okta))
    capsys.readouterr()
    token = mint(okta_claims(okta.issuer, jti=jti))
    response = post(client, sample("progressive"), authorization=f"Bearer {token}")
    assert response.status_code == 200
    entry = audit_lines(capsys)[-1]
    assert entry["jti"] == "(not shown)"
    assert jti not in json.dumps(entry)
