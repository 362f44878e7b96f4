"""Policy files: the schema, the domain matching, and broken files refused at cold start."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from okta_wire.models import RequestType
from policy.conditions import Facts
from policy.entries import DomainSet
from policy.loader import Domains, PolicyError, load_policy, parse_policy
from tests.conftest import BASIC_PASSWORD, BASIC_USER, POLICIES, MakeClient, post, sample

# Literal lists read nothing from the request's facts.
NO_FACTS = Facts(RequestType.REGISTRATION, {})


@pytest.mark.parametrize("name", ["ssr.toml", "progressive.toml", "ssr_and_progressive.toml"])
def test_shipped_policies_load(name: str) -> None:
    load_policy(POLICIES / name)


@pytest.mark.parametrize(
    ("domain", "allowed"),
    [
        ("example.com", True),
        ("mail.example.com", False),
        ("evil-example.com", False),
        ("example.com.attacker.io", False),
        ("eu.example.org", True),
        ("a.b.example.org", True),
        ("example.org", False),
        ("badexample.org", False),
        ("blocked.example.org", False),
        ("x.blocked.example.org", True),
    ],
)
def test_domain_matching_is_whole_names(domain: str, allowed: bool) -> None:
    domains = Domains(
        allowed=DomainSet(("example.com", "*.example.org")),
        blocked=DomainSet(("blocked.example.org",)),
    )
    assert domains.permits(domain, NO_FACTS) is allowed


def test_blocked_only_lets_everything_else_through() -> None:
    domains = Domains(blocked=DomainSet(("*.tempmail.test", "tempmail.test")))
    assert domains.permits("example.com", NO_FACTS)
    assert not domains.permits("tempmail.test", NO_FACTS)
    assert not domains.permits("x.tempmail.test", NO_FACTS)


def test_domain_entries_are_lower_cased() -> None:
    policy = parse_policy('[domains]\nallowed = ["Example.COM"]')
    assert policy.domains.allowed.written == ("example.com",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[domains\nallowed = []", "not valid TOML"),
        ("colour = 'blue'", "unknown key 'colour'"),
        ("[domains]\nallow = ['example.com']", "unknown key 'allow'"),
        ("[attributes.x]\npatern = '[0-9]'", "unknown key 'patern'"),
        ("[attributes.x]\npattern = '[0-9'", "not a valid regular expression"),
        ("[attributes.x]\npattern = ''", "pattern must be a non-empty string"),
        ("[attributes.email]\ntype = 'email'", "needs [domains] allowed or blocked"),
        ("[attributes.x]\ntype = 'float'", "type must be"),
        (
            "[attributes.x]\nrequired = ['signup']",
            "'signup' is not 'registration' or 'progressive'",
        ),
        ("[attributes.x]\nmax_length = 0", "max_length must be a positive integer"),
        ("[attributes.x]\nmax_length = true", "max_length must be a positive integer"),
        ("[attributes.x]\nreason = 'bad reason'", "reason must be a code"),
        ("[attributes.x]\nreason = 'CUSTOM_CODE'", "CUSTOM_CODE has no [messages] entry"),
        ("[domains]\nallowed = ['exa mple.com']", "is not a domain name"),
        ("[domains]\nallowed = ['bücher.example']", "is not a domain name"),
        ("[domains]\nallowed = ['*example.com']", "is not a domain name"),
        ("[domains]\nallowed = 'example.com'", "allowed must be a list of strings"),
        ("[progressive]\nupdatable = ['bad name!']", "is not an attribute name"),
        ("[messages]\nlower = 'x'", "is not a reason code"),
        ("[messages]\nDENIED = ''", "must be a non-empty string"),
        ("attributes = 3", "[attributes] must be a table"),
    ],
)
def test_broken_policies_are_refused_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy(text, "p.toml")
    assert str(raised.value).startswith("p.toml")
    assert message in str(raised.value)


def test_custom_reason_with_message() -> None:
    policy = parse_policy(
        "[attributes.x]\nreason = 'CUSTOM_CODE'\n[messages]\nCUSTOM_CODE = 'Custom message.'"
    )
    assert policy.message("CUSTOM_CODE") == "Custom message."
    assert policy.message("MISSING_ATTRIBUTE") == "This field is required."


@pytest.mark.parametrize(
    "text",
    [
        "[domains\n",
        "unknown = 1",
        "[attributes.x]\npattern = '('",
        "[attributes.e]\ntype = 'email'",
    ],
)
def test_broken_policy_refuses_every_request_after_one_log_line(
    make_client: MakeClient, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(text)
    client = make_client(
        OKTA_HOOK_BASIC_CREDENTIALS=f"{BASIC_USER}:{BASIC_PASSWORD}", OKTA_HOOK_POLICY=str(path)
    )
    startup = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [entry["severity"] for entry in startup] == ["ERROR"]
    assert startup[0]["message"].startswith(f"hook refuses every request: {path}")
    for body in (sample("ssr"), sample("progressive")):
        response = post(client, body)
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "unavailable"


def test_missing_policy_file_refuses_every_request(make_client: MakeClient, tmp_path: Path) -> None:
    client = make_client(
        OKTA_HOOK_BASIC_CREDENTIALS=f"{BASIC_USER}:{BASIC_PASSWORD}",
        OKTA_HOOK_POLICY=str(tmp_path / "absent.toml"),
    )
    assert post(client, sample("ssr")).status_code == 503
