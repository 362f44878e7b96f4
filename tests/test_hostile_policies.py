"""Hostile bodies under every shipped policy, an allow-all-but-blocked one and a `\\d` one.

Each generated request must get a well-formed answer (never a 5xx, a traceback or a body that is
not JSON), and an ALLOW only when the oracle in `tests/hostile_support.py`, written from the
policy files alone, says the policy permits it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.conftest import hook_client, post, sample
from tests.hostile_support import (
    BACKSLASH_D_POLICY,
    BLOCKLIST_POLICY,
    SHIPPED,
    Oracle,
    address_domain,
    allowed,
    basic_env,
    blocked,
    delivery_names,
    may_allow_backslash_d,
    may_allow_blocklist,
    set_at,
    well_formed,
)

SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
POLICY_NAMES = [*SHIPPED, "blocklist", "backslash_d"]


@pytest.fixture(scope="module")
def hooks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, Oracle]]:
    folder = tmp_path_factory.mktemp("hostile-policies")
    written: dict[str, tuple[Path, Oracle]] = {}
    for name, text, oracle in (
        ("blocklist", BLOCKLIST_POLICY, may_allow_blocklist),
        ("backslash_d", BACKSLASH_D_POLICY, may_allow_backslash_d),
    ):
        path = folder / f"{name}.toml"
        path.write_text(text, encoding="utf-8")
        written[name] = (path, oracle)
    return {
        name: (hook_client(basic_env(path)), oracle)
        for name, (path, oracle) in {**SHIPPED, **written}.items()
    }


def hook_for(hooks: dict[str, tuple[Any, Oracle]], name: str) -> tuple[TestClient, Oracle]:
    client, oracle = hooks[name]
    return client, oracle


# Text that other scripts and Unicode forms make look like the expected ASCII.
LOOKALIKES = (
    "еxаmрlеѕсоіј"  # Cyrillic
    "οαεκ"  # Greek
    "ｅｘａｍｐｌｃｏ．"  # full-width
    "。｡．"  # ideographic and full-width dots
    "\u212a\u017f\u0131\u0130ß"  # Kelvin sign, long s, dotless i, dotted I, sharp s
    "\u200b\u200d\u00ad\u0301\ufeff"  # zero width, soft hyphen, combining accent, BOM
)
# Digits of other scripts, and forms that are digits to str.isdigit but not to [0-9].
UNICODE_DIGITS = "١٢٣٤۱۲۳۴१२३४১২৩৪１２３４߁߂߃߄𝟏𝟐𝟑𝟒²³¹⁴①②③④"
tricky_text = st.text(
    alphabet=st.characters(codec="utf-8") | st.sampled_from(LOOKALIKES + UNICODE_DIGITS),
    max_size=24,
)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | tricky_text
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(tricky_text, inner, max_size=3),
    max_leaves=12,
)
employee_numbers = st.one_of(
    st.from_regex(r"[0-9]{4}", fullmatch=True),
    st.text(alphabet=st.sampled_from("0123456789" + UNICODE_DIGITS + " \t\n"), max_size=6),
    json_values,
)


def _domain_spellings(base: str) -> st.SearchStrategy[str]:
    """`base` as a user, a script or a mail system might write it."""

    def swap(text: str, index: int, char: str) -> str:
        return (
            text[:index] + char + text[index:]
            if index >= len(text)
            else (text[:index] + char + text[index + 1 :])
        )

    as_unicode = base.encode("ascii").decode("idna") if "xn--" in base else base
    variants = st.sampled_from(
        [
            base,
            base.upper(),
            base.title(),
            base + ".",
            "mail." + base,
            "a.b." + base,
            base + ".evil.test",
            "evil-" + base,
            base.replace(".", "-") + ".test",
            as_unicode,
            as_unicode.upper(),
            base.replace(".", "。"),
            base.replace(".", "．"),
            base.replace("k", "\u212a").replace("s", "\u017f"),
        ]
    )
    lookalike = st.builds(
        swap,
        st.just(base),
        st.integers(min_value=0, max_value=len(base)),
        st.sampled_from(LOOKALIKES),
    )

    def punycoded(text: str) -> str:
        try:
            return text.encode("idna").decode("ascii")
        except UnicodeError:
            return text

    return st.one_of(variants, lookalike, lookalike.map(punycoded), variants.map(punycoded))


# --- any value anywhere, under every policy ---


@pytest.mark.parametrize("policy", POLICY_NAMES)
@SETTINGS
@given(
    kind=st.sampled_from(["ssr", "progressive", "reference"]),
    path=st.lists(
        st.sampled_from(
            [
                "data",
                "userProfile",
                "userProfileUpdate",
                "context",
                "user",
                "profile",
                "email",
                "employeeNumber",
                "firstName",
                "login",
                "requestType",
                "eventId",
            ]
        ),  # fmt: skip
        min_size=1,
        max_size=4,
    ),
    value=json_values,
)
def test_any_value_anywhere(
    hooks: dict[str, tuple[Any, Oracle]], policy: str, kind: str, path: list[str], value: Any
) -> None:
    client, may_allow = hook_for(hooks, policy)
    body = set_at(sample(kind), path, value)
    response = post(client, body)
    document = well_formed(response)
    assert response.status_code in (200, 400)
    event(f"{response.status_code} {'ALLOW' if allowed(document) else 'other'}")
    if allowed(document):
        assert may_allow(body), json.dumps(body)[:500]


@pytest.mark.parametrize("policy", POLICY_NAMES)
@SETTINGS
@given(
    email=st.one_of(
        tricky_text,
        st.builds("{}@{}".format, tricky_text, tricky_text),
        st.builds("rosario@{}".format, _domain_spellings("example.com")),
        st.builds("rosario@{}".format, st.sampled_from(["blocked.test", "kiss.test"])),
    ),
    number=employee_numbers,
    first_name=json_values,
)
def test_registration_values(
    hooks: dict[str, tuple[Any, Oracle]], policy: str, email: Any, number: Any, first_name: Any
) -> None:
    client, may_allow = hook_for(hooks, policy)
    body = sample("ssr")
    body["data"]["userProfile"].update(email=email, employeeNumber=number, firstName=first_name)
    response = post(client, body)
    document = well_formed(response)
    assert response.status_code == 200
    event("ALLOW" if allowed(document) else "DENY")
    if allowed(document):
        assert may_allow(body), json.dumps(body)[:500]


@pytest.mark.parametrize("policy", POLICY_NAMES)
@SETTINGS
@given(
    update=st.dictionaries(
        st.sampled_from(["employeeNumber", "email", "firstName", "login"]) | tricky_text,
        employee_numbers,
        max_size=3,
    ),
    current_number=st.none() | st.just("") | st.just("5678"),
)
def test_progressive_updates(
    hooks: dict[str, tuple[Any, Oracle]],
    policy: str,
    update: dict[str, Any],
    current_number: str | None,
) -> None:
    client, may_allow = hook_for(hooks, policy)
    body = sample("progressive")
    body["data"]["userProfileUpdate"] = update
    body["data"]["context"]["user"]["profile"]["employeeNumber"] = current_number
    response = post(client, body)
    document = well_formed(response)
    event("ALLOW" if allowed(document) else "other")
    if allowed(document):
        assert may_allow(body), json.dumps(body)[:500]
        # What is sent back is only what the policy lets a progressive update set.
        for command in document["commands"][1:]:
            assert set(command["value"]) <= {"employeeNumber"}


# --- lookalike and IDNA forms of allowed and blocked domains ---


@SETTINGS
@given(
    domain=st.one_of(
        *(_domain_spellings(base) for base in ("blocked.test", "spam.test", "kiss.test")),
        _domain_spellings("xn--bcher-kva.test"),
        _domain_spellings("example.com"),
    )
)
def test_blocked_domain_in_any_spelling(hooks: dict[str, tuple[Any, Oracle]], domain: str) -> None:
    """Allow-all-but-blocked: an address is allowed exactly when it is a plain ASCII address
    and no mail system, however lenient with Unicode, could deliver it to a blocked domain."""
    client, _ = hook_for(hooks, "blocklist")
    body = sample("ssr")
    body["data"]["userProfile"]["email"] = f"rosario@{domain}"
    document = well_formed(post(client, body))
    expected = address_domain(f"rosario@{domain}") is not None and not any(
        blocked(name) for name in delivery_names(domain)
    )
    event("ALLOW" if expected else "DENY")
    assert allowed(document) == expected, domain


@pytest.mark.parametrize("policy", ["ssr", "ssr_and_progressive", "example_full"])
@SETTINGS
@given(domain=_domain_spellings("example.com"))
def test_allowed_domain_only_in_its_own_spelling(
    hooks: dict[str, tuple[Any, Oracle]], policy: str, domain: str
) -> None:
    client, _ = hook_for(hooks, policy)
    body = sample("ssr")
    body["data"]["userProfile"].update(email=f"rosario@{domain}", employeeNumber="1234")
    document = well_formed(post(client, body))
    expected = address_domain(f"rosario@{domain}") == "example.com"
    event("ALLOW" if expected else "DENY")
    assert allowed(document) == expected, domain


@pytest.mark.parametrize(
    ("spelling", "allow"),
    [
        ("blocked.test", False),
        ("BLOCKED.TEST", False),
        ("mail.spam.test", False),
        ("xn--bcher-kva.test", False),  # the A-label of the blocked bücher.test
        ("XN--BCHER-KVA.TEST", False),
        ("bücher.test", False),  # its U-label: not ASCII, refused
        ("blocked。test", False),  # an ideographic full stop
        ("\u212aiss.test", False),  # KELVIN SIGN, which lower-cases to k
        ("\u212aey.test", False),  # not blocked once lower-cased (key.test), but not ASCII
        ("blocked.test.", False),  # a final dot: the same DNS name, refused as malformed
        ("xn--bcher-7qa.test", True),  # bÜcher: another A-label, another DNS name
        ("notblocked.test", True),
        ("blocked.test.example", True),
        ("spam.testing", True),
    ],
)
def test_blocklist_examples(
    hooks: dict[str, tuple[Any, Oracle]], spelling: str, allow: bool
) -> None:
    # The controls of the property above, written out: both answers do occur.
    client, _ = hook_for(hooks, "blocklist")
    body = sample("ssr")
    body["data"]["userProfile"]["email"] = f"rosario@{spelling}"
    assert allowed(well_formed(post(client, body))) is allow


@pytest.mark.parametrize("policy", ["progressive", "ssr_and_progressive", "backslash_d"])
@pytest.mark.parametrize("digits", ["١٢٣٤", "۱۲۳۴", "१२३४", "１２３４", "𝟏𝟐𝟑𝟒", "¹²³⁴", "߁߂߃߄"])
def test_digits_of_other_scripts_are_not_digits(
    hooks: dict[str, tuple[Any, Oracle]], policy: str, digits: str
) -> None:
    client, _ = hook_for(hooks, policy)
    body = sample("progressive")
    body["data"]["userProfileUpdate"] = {"employeeNumber": digits}
    assert not allowed(well_formed(post(client, body)))
    body["data"]["userProfileUpdate"] = {"employeeNumber": "1234"}
    assert allowed(well_formed(post(client, body)))  # the control


# --- bodies no parser should read two ways ---


def _object_paths(node: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix] if isinstance(node, dict) and node else []
    if isinstance(node, dict):
        for key, value in node.items():
            paths.extend(_object_paths(value, (*prefix, key)))
    return paths


def _dumps_with_duplicate(node: Any, path: tuple[str, ...], key_index: int, value: Any) -> str:
    """JSON text of `node` where the object at `path` repeats one of its keys with `value`."""
    if not isinstance(node, dict):
        return json.dumps(node)
    items = [
        f"{json.dumps(k)}: "
        + (
            _dumps_with_duplicate(v, path[1:], key_index, value)
            if path and k == path[0]
            else (json.dumps(v))
        )
        for k, v in node.items()
    ]
    if not path:
        key = list(node)[key_index % len(node)]
        items.append(f"{json.dumps(key)}: {json.dumps(value)}")
    return "{" + ", ".join(items) + "}"


@pytest.mark.parametrize("policy", POLICY_NAMES)
@SETTINGS
@given(
    kind=st.sampled_from(["ssr", "progressive"]),
    pick=st.integers(min_value=0, max_value=10_000),
    key_index=st.integers(min_value=0, max_value=50),
    value=json_values,
)
def test_duplicate_keys_anywhere_are_refused(
    hooks: dict[str, tuple[Any, Oracle]],
    policy: str,
    kind: str,
    pick: int,
    key_index: int,
    value: Any,
) -> None:
    client, _ = hook_for(hooks, policy)
    body = sample(kind)
    paths = _object_paths(body)
    raw = _dumps_with_duplicate(body, paths[pick % len(paths)], key_index, value)
    response = post(client, raw.encode("utf-8"))
    assert well_formed(response)["error"]["message"] == "The JSON body repeats a key."
    assert response.status_code == 400


INVALID_UTF8 = [b"\xff", b"\xc0\xae", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80", b"\xe2\x82"]
LONE_SURROGATES = ["\\ud800", "\\udfff", "\\ud800x", "\\udc00\\ud800", "\\ud83d\\u0041"]


@pytest.mark.parametrize("policy", POLICY_NAMES)
@SETTINGS
@given(
    kind=st.sampled_from(["ssr", "progressive"]),
    field=st.sampled_from(["email", "employeeNumber", "firstName", "login", "eventId", "source"]),
    attack=st.one_of(
        st.sampled_from(INVALID_UTF8).map(lambda raw: ("utf8", raw)),
        st.sampled_from(LONE_SURROGATES).map(lambda raw: ("surrogate", raw.encode())),
        st.integers(min_value=101, max_value=6000).map(lambda n: ("number", b"9" * n)),
        st.integers(min_value=101, max_value=6000).map(lambda n: ("number", b"-" + b"1" * n)),
    ),
)
def test_bytes_no_parser_should_accept(
    hooks: dict[str, tuple[Any, Oracle]],
    policy: str,
    kind: str,
    field: str,
    attack: tuple[str, bytes],
) -> None:
    client, _ = hook_for(hooks, policy)
    body = sample(kind)
    profile = "userProfile" if kind == "ssr" else "userProfileUpdate"
    placeholder = "PLACEHOLDER-7f3a"
    if field in ("eventId", "source"):
        body[field] = placeholder
    else:
        body["data"][profile][field] = placeholder
    raw = json.dumps(body).encode()
    what, payload = attack
    if what == "number":
        raw = raw.replace(f'"{placeholder}"'.encode(), payload)
    else:
        raw = raw.replace(placeholder.encode(), b"a" + payload + b"z")
    response = post(client, raw)
    document = well_formed(response)
    assert response.status_code == 400
    assert document["error"]["code"] == "bad_request"


@pytest.mark.parametrize("policy", POLICY_NAMES)
@pytest.mark.parametrize("depth", [50, 500, 2000, 20000])
@pytest.mark.parametrize("container", ["object", "array"])
def test_deep_nesting(
    hooks: dict[str, tuple[Any, Oracle]], policy: str, depth: int, container: str
) -> None:
    client, _ = hook_for(hooks, policy)
    opening, closing = ('{"a":', "}") if container == "object" else ("[", "]")
    nested = opening * depth + '"x"' + closing * depth
    raw = json.dumps(sample("progressive")).replace('"1234"', nested)
    response = post(client, raw.encode())
    document = well_formed(response)
    assert not allowed(document)
    assert response.status_code in (200, 400, 413)


@pytest.mark.parametrize("policy", POLICY_NAMES)
@pytest.mark.parametrize("size", [1000, 60_000, 64 * 1024, 200_000])
def test_huge_strings(hooks: dict[str, tuple[Any, Oracle]], policy: str, size: int) -> None:
    client, may_allow = hook_for(hooks, policy)
    body = sample("ssr")
    body["data"]["userProfile"].update(
        email="rosario@example.com", employeeNumber="1234", firstName="R" * size
    )
    response = post(client, body)
    document = well_formed(response)
    if len(json.dumps(body)) > 64 * 1024:
        assert (response.status_code, document["error"]["code"]) == (413, "payload_too_large")
    else:
        assert response.status_code == 200
        assert allowed(document) == may_allow(body)


WRONG_TYPES: list[Any] = [None, True, 0, -1.5, "", "text", [], ["a"], {}, {"a": 1}]


def _replace(node: Any, path: tuple[str, ...], value: Any) -> Any:
    if not path:
        return value
    return {k: (_replace(v, path[1:], value) if k == path[0] else v) for k, v in node.items()}


def _value_paths(node: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            paths.extend(_value_paths(value, (*prefix, key)))
    return paths


@pytest.mark.parametrize("policy", POLICY_NAMES)
@pytest.mark.parametrize("kind", ["ssr", "progressive"])
def test_wrong_type_at_every_level(
    hooks: dict[str, tuple[Any, Oracle]], policy: str, kind: str
) -> None:
    """Every value of Okta's sample, at every depth, replaced by each JSON type in turn."""
    client, may_allow = hook_for(hooks, policy)
    tried = 0
    for path in _value_paths(sample(kind)):
        for value in WRONG_TYPES:
            body = _replace(sample(kind), path, value)
            response = post(client, body)
            document = well_formed(response)
            assert response.status_code in (200, 400), (path, value)
            if allowed(document):
                assert may_allow(body), (path, value)
            tried += 1
    assert tried > 100
