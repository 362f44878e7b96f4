"""Generated values, conditions, addresses and policies, each judged against an independent
statement of the rule written here (sharing no code with policy/ or handlers/)."""

from __future__ import annotations

import ipaddress
import itertools
import json
import random
import re
import unicodedata
from typing import Any

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from handlers import progressive, registration
from okta_wire.models import Decision, HookRequest, RequestType
from policy.addresses import email_domain
from policy.loader import Policy, PolicyError, load_policy, parse_policy
from tests.conftest import ROOT
from tests.hostile_support import address_domain

EVERY_RULE_PATH = ROOT / "tests" / "policies" / "every_rule.toml"
EVERY_RULE = load_policy(EVERY_RULE_PATH)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GOOD: dict[str, Any] = {
    "email": "rosario.jones@example.com",
    "consent": True,
    "age": 30,
    "countryCode": "FR",
    "employeeNumber": "1234",
}
TYPE = "INVALID_ATTRIBUTE_TYPE"
MISSING = "MISSING_ATTRIBUTE"
HANDLERS = {
    RequestType.REGISTRATION: registration.decide,
    RequestType.PROGRESSIVE: progressive.decide,
}


def decide(policy: Policy, submitted: dict[str, Any], **extra: Any) -> Decision:
    extra.setdefault("ip_text", "127.0.0.1")
    request = HookRequest(RequestType.REGISTRATION, "e", submitted, **extra)
    return HANDLERS[request.request_type](policy, request)


def cause_of(decision: Decision, attribute: str) -> str | None:
    found = [cause.reason for cause in decision.causes if cause.attribute == attribute]
    return found[0] if found else None


# --- types and checks of every_rule.toml, stated independently --------------------------


def is_number(value: object) -> bool:
    return type(value) in (int, float)


def whole(value: object) -> int | None:
    """The integer a JSON number stands for, when it has no fractional part."""
    if type(value) is int:
        n = value
    elif type(value) is float and value == int(value):
        n = int(value)
    else:
        return None
    return n if abs(n) < 2**53 else None  # RFC 8259's interoperable integers


def blank(value: object) -> bool:
    """What a required attribute counts as missing: null, or text with nothing visible."""
    if value is None:
        return True
    return isinstance(value, str) and not any(drawn(c) for c in value)


# Characters that draw nothing although Python calls them printable: Unicode's default-ignorable
# code points (DerivedCoreProperties.txt) and the blank Braille pattern.
NOTHING_DRAWN = {0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x2800, 0x3164}
NOTHING_DRAWN |= {0xFEFF, 0xFFA0, *range(0x180B, 0x1810), *range(0x200B, 0x2010)}
NOTHING_DRAWN |= {*range(0x202A, 0x202F), *range(0x2060, 0x2070), *range(0xFE00, 0xFE10)}
NOTHING_DRAWN |= {*range(0xFFF0, 0xFFF9), *range(0x1BCA0, 0x1BCA4), *range(0x1D173, 0x1D17B)}
NOTHING_DRAWN |= {*range(0xE0000, 0xE1000)}


def drawn(c: str) -> bool:
    """A letter, digit, punctuation mark or symbol that shows."""
    return unicodedata.category(c)[0] in "LNPS" and ord(c) not in NOTHING_DRAWN


def expect_consent(value: object) -> str | None:
    if blank(value):
        return MISSING
    if type(value) is not bool:
        return TYPE
    return None if value else "CONSENT_REQUIRED"


def expect_age(value: object, country: object) -> str | None:
    if blank(value):
        return MISSING
    n = whole(value)
    if n is None:
        return TYPE
    if n < 18 or n > 130:
        return "INVALID_AGE"
    if isinstance(country, str) and country.strip() == "US" and n < 21:
        return "TOO_YOUNG_HERE"
    return None


def expect_height(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not is_number(value):
        return TYPE
    assert isinstance(value, int | float)
    return None if 0.5 <= value <= 2.5 else "INVALID_HEIGHT"


def expect_country(value: object) -> str | None:
    text = value.strip() if isinstance(value, str) else value
    if blank(text):
        return MISSING
    if not isinstance(text, str):
        return TYPE
    ok = len(text) == 2 and all("A" <= c <= "Z" for c in text) and text in {"BE", "DE", "FR", "US"}
    return None if ok else "COUNTRY_NOT_SERVED"


def expect_groups(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return TYPE
    names = [v.strip().lower() for v in value]
    ok = 1 <= len(names) <= 3 and len(set(names)) == len(names)
    return None if ok and set(names) <= {"eng", "sales", "staff"} else "INVALID_GROUPS"


def expect_scores(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, list) or any(whole(v) is None for v in value):
        return TYPE
    numbers = [whole(v) for v in value]
    return None if len(numbers) <= 5 and len(set(numbers)) == len(numbers) else "INVALID_SCORES"


def expect_weights(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, list) or not all(is_number(v) for v in value):
        return TYPE
    return None if all(v in (0.5, 1, 1.5) for v in value) else "INVALID_WEIGHTS"


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=200),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.sampled_from([17.0, 18.0, 18.5, 20.0, 21.0, 130.0, 130.5, 0.5, 2.5, 1.0, 1.5, 0.0]),
    st.text(max_size=4),
    st.sampled_from(["FR", " FR ", "US", "fr", "BE", "GB", "FRA", "\u00a0DE\u2003", "eng"]),
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=6),
    st.lists(st.sampled_from(["eng", " Sales", "STAFF", "ops", "eng "]), max_size=5),
    st.lists(st.sampled_from([1, 2, 2.0, 3, 0.5, 1.5, 1.0]), max_size=7),
)


@SETTINGS
@given(
    consent=values,
    age=values,
    height=values,
    country=values,
    groups=values,
    scores=values,
    weights=values,
)
def test_typed_attributes_are_judged_as_stated(
    consent: Any, age: Any, height: Any, country: Any, groups: Any, scores: Any, weights: Any
) -> None:
    submitted = {
        **GOOD,
        "consent": consent,
        "age": age,
        "height": height,
        "countryCode": country,
        "groups": groups,
        "scores": scores,
        "weights": weights,
    }
    decision = decide(EVERY_RULE, submitted)
    expected = {
        "consent": expect_consent(consent),
        "age": expect_age(age, country),
        "height": expect_height(height),
        "countryCode": expect_country(country),
        "groups": expect_groups(groups),
        "scores": expect_scores(scores),
        "weights": expect_weights(weights),
    }
    got = {name: cause_of(decision, name) for name in expected}
    assert got == expected, json.dumps(submitted, default=str)
    assert decision.allowed is not any(expected.values())
    event("ALLOW" if decision.allowed else "DENY")


# --- conditions, stated independently --------------------------------------------------

COLORS = ["red", "blue", "green"]
ATTRIBUTES: dict[str, list[Any]] = {"color": COLORS, "size": [1, 2, 3], "flag": [True, False]}
DOMAINS = ["a.example", "*.b.example", "c.example"]

leaf = st.one_of(
    st.lists(
        st.sampled_from(["registration", "progressive"]), min_size=1, max_size=2, unique=True
    ).map(lambda types: {"request_type": types}),
    st.lists(st.sampled_from(DOMAINS), min_size=1, max_size=3, unique=True).map(
        lambda entries: {"email_domain": entries}
    ),
    st.sampled_from(sorted(ATTRIBUTES)).flatmap(
        lambda name: st.one_of(
            st.sampled_from(ATTRIBUTES[name]).map(lambda v: {"attribute": name, "equals": v}),
            st.lists(st.sampled_from(ATTRIBUTES[name]), min_size=1, max_size=3).map(
                lambda vs: {"attribute": name, "in": vs}
            ),
        )
    ),
)
conditions = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda parts: {"all": parts}),
        st.lists(inner, min_size=1, max_size=3).map(lambda parts: {"any": parts}),
        inner.map(lambda part: {"not": part}),
    ),
    max_leaves=6,
)


def toml_value(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value)


def same(a: object, b: object) -> bool:
    """JSON equality: a boolean equals only a boolean; numbers by value; strings exactly."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if is_number(a) and is_number(b):
        return a == b
    return type(a) is str and type(b) is str and a == b


def domain_matches(domain: str | None, entries: list[str]) -> bool:
    if domain is None:
        return False
    return any(
        domain.endswith(entry[1:]) if entry.startswith("*.") else domain == entry
        for entry in entries
    )


def holds(condition: dict[str, Any], request_type: str, profile: dict[str, Any]) -> bool:
    """The condition, stated from docs/policy.md: a comparison with a missing value is false."""
    if "request_type" in condition:
        return request_type in condition["request_type"]
    if "email_domain" in condition:
        return domain_matches(address_domain(profile.get("email")), condition["email_domain"])
    if "attribute" in condition:
        value = profile.get(condition["attribute"])
        if value is None or value == "":
            return False
        wanted = [condition["equals"]] if "equals" in condition else condition["in"]
        return any(same(value, w) for w in wanted)
    if "all" in condition:
        return all(holds(part, request_type, profile) for part in condition["all"])
    if "any" in condition:
        return any(holds(part, request_type, profile) for part in condition["any"])
    return not holds(condition["not"], request_type, profile)


CONDITION_POLICY = """
[domains]
blocked = ["never.example"]
[attributes.email]
type = "email"
[attributes.color]
type = "string"
[attributes.size]
type = "integer"
[attributes.flag]
type = "boolean"
[attributes.x]
required = ["registration", "progressive"]
required_when = {condition}
[progressive]
updatable = ["color"]
"""

TYPES = ("registration", "progressive")
SAMPLE_PROFILES = [
    dict(zip(("email", "color", "size", "flag"), combination, strict=True))
    for combination in itertools.product(
        ["u@a.example", "u@x.b.example", "u@c.example", "bad"],
        [*COLORS, None],
        [1, 2, 3],
        [True, False],
    )
]
profiles = st.fixed_dictionaries(
    {},
    optional={
        "email": st.sampled_from(
            ["u@a.example", "u@x.b.example", "u@b.example", "u@c.example", "u@d.example", "bad", ""]
        ),
        "color": st.sampled_from([*COLORS, "", None, "Red"]),
        "size": st.sampled_from([1, 2, 3, 2.0, None]),
        "flag": st.sampled_from([True, False, None]),
    },
)


@SETTINGS
@given(
    condition=conditions,
    request_type=st.sampled_from(["registration", "progressive"]),
    profile=profiles,
)
def test_conditions_are_judged_as_stated(
    condition: dict[str, Any], request_type: str, profile: dict[str, Any]
) -> None:
    text = CONDITION_POLICY.replace("{condition}", toml_value(condition))
    if not any(holds(condition, t, p) for t in TYPES for p in SAMPLE_PROFILES):
        # A condition no request of either type could ever meet may be refused at load.
        try:
            parse_policy(text)
        except PolicyError as e:
            refusal = str(e)
        else:
            refusal = ""
        if refusal:
            assert "can never hold" in refusal
            event("refused at load")
            return
    policy = parse_policy(text)  # anything else loads
    if request_type == "registration":
        request = HookRequest(RequestType.REGISTRATION, "e", profile)
        decision = registration.decide(policy, request)
    else:
        # The profile as it is; the update sets nothing but (maybe) the updatable color.
        update = {"color": profile["color"]} if "color" in profile else {}
        current = {k: v for k, v in profile.items() if k != "color"}
        request = HookRequest(RequestType.PROGRESSIVE, "e", update, current)
        decision = progressive.decide(policy, request)
    expected = holds(condition, request_type, profile)
    assert (cause_of(decision, "x") == MISSING) is expected, toml_value(condition)
    event(f"holds {expected}")


# --- the order of tables and rules changes no decision ------------------------------------

ORDER_POLICY = (
    EVERY_RULE_PATH.read_text("utf-8")
    + """
[[attributes.age.rules]]
when = { attribute = "countryCode", in = ["DE", "BE"] }
max = 99
reason = "TOO_OLD_HERE"
shadow = true

[[attributes.age.rules]]
when = { not = { attribute = "consent", equals = false } }
min = 19
reason = "INVALID_AGE"
"""
)
ORDER_POLICY = ORDER_POLICY.replace("[messages]\n", "[messages]\nTOO_OLD_HERE = 'x'\n")


def _blocks(text: str) -> list[str]:
    """The policy's tables, each with its keys (the top-level keys first)."""
    blocks = re.split(r"\n(?=\[)", text)
    return [block.rstrip("\n") + "\n" for block in blocks]


def _outcome(decision: Decision) -> tuple[Any, ...]:
    return (
        decision.allowed,
        sorted((c.attribute, c.reason) for c in decision.causes),
        sorted((c.attribute, c.reason) for c in decision.shadowed),
        json.dumps(dict(decision.updates), sort_keys=True),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(min_value=0, max_value=2**32),
    submitted=st.fixed_dictionaries(
        {},
        optional={
            "consent": st.sampled_from([True, False, None, "yes"]),
            "age": st.sampled_from([17, 18, 19, 20, 21, 100, 131, 18.0, "x", None]),
            "countryCode": st.sampled_from(["US", "DE", "FR", " BE ", "GB", None]),
            "email": st.sampled_from(
                ["a@agency-one.example", "a@example.com", "a@yopmail.com", "x"]
            ),
            "employeeNumber": st.sampled_from(["1234", "12", None, " "]),
            "groups": st.sampled_from([["eng"], ["ops"], [], None]),
            "nickname": st.sampled_from(["rosa", "a-very-long-nickname", None]),
        },
    ),
    ip=st.sampled_from(["127.0.0.1", "198.51.100.7", "203.0.113.1", None]),
)
def test_the_order_of_tables_and_rules_changes_no_decision(
    seed: int, submitted: dict[str, Any], ip: str | None
) -> None:
    first, *tables = _blocks(ORDER_POLICY)
    shuffled = list(tables)
    random.Random(seed).shuffle(shuffled)
    try:
        reordered = parse_policy(first + "\n".join(shuffled))
    except PolicyError as e:
        assume("not valid TOML" not in str(e))  # a shuffle TOML itself refuses
        raise
    original = parse_policy(ORDER_POLICY)
    for policy_a, policy_b in itertools.pairwise([original, reordered]):
        a = decide(policy_a, submitted, ip_text=ip)
        b = decide(policy_b, submitted, ip_text=ip)
        assert _outcome(a) == _outcome(b)


# --- network rules, stated with a scan over ipaddress networks -----------------------------

networks4 = st.builds(
    lambda a, n: ipaddress.ip_network(f"{a}/{n}", strict=False),
    st.ip_addresses(v=4),
    st.integers(min_value=0, max_value=32),
)
networks6 = st.builds(
    lambda a, n: ipaddress.ip_network(f"{a}/{n}", strict=False),
    st.ip_addresses(v=6),
    st.integers(min_value=0, max_value=128),
)
networks = st.lists(st.one_of(networks4, networks6), max_size=6)


def near(ranges: list[Any]) -> st.SearchStrategy[Any]:
    """Addresses at the edges of the ranges, and anywhere."""
    edges = [n.network_address for n in ranges] + [n.broadcast_address for n in ranges]
    around = [
        ipaddress.ip_address(int(a) + d)
        for a in edges
        for d in (-1, 1)
        if 0 <= int(a) + d < 2**a.max_prefixlen
    ]
    return st.one_of(
        st.ip_addresses(), st.sampled_from(edges + around) if edges else st.ip_addresses()
    )


MAPPED = ipaddress.ip_network("::ffff:0:0/96")


def unmapped(address: Any) -> Any:
    """An IPv4-mapped IPv6 address is its IPv4 address (docs/policy.md)."""
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped if mapped is not None else address


@SETTINGS
@given(data=st.data(), allowed=networks, blocked=networks)
def test_network_rule_as_stated(
    data: st.DataObject, allowed: list[Any], blocked: list[Any]
) -> None:
    assume(allowed or blocked)
    # A range inside ::ffff:0:0/96 could never match (its addresses are judged as IPv4): refused.
    assume(not any(n.version == 6 and n.subnet_of(MAPPED) for n in allowed + blocked))
    lines = []
    if allowed:
        lines.append(f"allowed = {json.dumps([str(n) for n in allowed])}")
    if blocked:
        lines.append(f"blocked = {json.dumps([str(n) for n in blocked])}")
    policy = parse_policy("[network]\n" + "\n".join(lines) + "\n")
    drawn = data.draw(st.one_of(near(allowed + blocked), st.none(), st.just("malformed")))
    text = None if drawn is None else str(drawn)
    malformed = drawn == "malformed"
    address = "malformed" if malformed else None if drawn is None else unmapped(drawn)
    decision = decide(policy, {}, ip_text=text)
    if address == "malformed":
        expected = False
    elif address is None:
        expected = not allowed
    else:
        in_blocked = any(address in n for n in blocked)
        in_allowed = any(address in n for n in allowed)
        expected = not in_blocked and (not allowed or in_allowed)
    assert decision.allowed is expected
    event("ALLOW" if expected else "DENY")


# --- email syntax: the implementation and the statement in tests/hostile_support.py ------

ADDRESS_PARTS = st.sampled_from(
    [
        "a",
        "b.c",
        ".",
        "..",
        '"',
        "@",
        " ",
        "+",
        "ü",
        "\u200b",
        "(",
        ")",
        ",",
        "!",
        "#",
        "~",
        "x" * 60,
        "-",
        "Ａ",
    ]
)
addresses = st.builds(
    lambda local, domain: "".join(local) + "@" + domain,
    st.lists(ADDRESS_PARTS, min_size=0, max_size=5),
    st.sampled_from(
        ["example.com", "EXAMPLE.com", "example", "ex ample.com", "-x.com", "x.com.", "bücher.de"]
    ),
)


@SETTINGS
@given(value=st.one_of(addresses, st.text(max_size=20)))
def test_email_syntax_as_stated(value: str) -> None:
    assert email_domain(value) == address_domain(value)
    event("valid" if address_domain(value) else "invalid")
