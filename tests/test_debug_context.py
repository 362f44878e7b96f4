"""debugContext: what Okta copies into its System Log, opt-in, codes and ids only, and bounded."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from okta_wire import debug_context as dc
from okta_wire.contract import check
from okta_wire.models import RequestType
from policy.loader import PolicyError, parse_policy
from service.settings import ConfigError, Settings
from tests.conftest import MakeClient, post
from tests.policy_support import EXAMPLE, audit_lines, hook_on, registration, write_policy

ON = {"OKTA_HOOK_DEBUG_CONTEXT": "true"}


def build(**changes: object) -> dict[str, str]:
    arguments: dict[str, object] = {
        "event_id": "04Dmt8BcT_aEgM",
        "reasons": ["INVALID_EMAIL_DOMAIN"],
        "shadowed": [("firstName", "INVALID_NAME")],
        "shadowed_unlisted": 0,
        "policy_digest": "0123456789ab",
        "policy_version": "2024-06-01",
        "latency_ms": 3.14159,
        **changes,
    }
    return dc.debug_context(**arguments)  # type: ignore[arg-type]


def test_the_keys_and_their_shapes() -> None:
    assert build() == {
        "eventId": "04Dmt8BcT_aEgM",
        "reasons": "INVALID_EMAIL_DOMAIN",
        "shadowReasons": "firstName:INVALID_NAME",
        "policyDigest": "0123456789ab",
        "policyVersion": "2024-06-01",
        "latencyMs": "3.1",
    }
    assert set(build()) == dc.KEYS


def test_only_what_has_something_to_say() -> None:
    context = build(event_id=None, reasons=[], shadowed=[], policy_digest=None, policy_version=None)
    assert context == {"latencyMs": "3.1"}


@pytest.mark.parametrize("event_id", ["rosario.jones@example.com", "a b", "x" * 65, "", "é"])
def test_an_event_id_that_is_not_plain_is_left_out(event_id: str) -> None:
    assert "eventId" not in build(event_id=event_id)


def test_long_lists_are_cut_and_say_how_many_were_left_out() -> None:
    reasons = [f"REASON_{i:02d}_" + "X" * 54 for i in range(20)]
    context = build(reasons=reasons, shadowed=[("attr" + "x" * 96, r) for r in reasons])
    for key in ("reasons", "shadowReasons"):
        assert len(context[key]) <= dc.MAX_VALUE_CHARS
        kept, more = context[key].rsplit(",+", 1)
        assert len(kept.split(",")) + int(more) == 20
    assert build(shadowed_unlisted=7)["shadowReasons"] == "firstName:INVALID_NAME,+7"


def test_the_largest_context_passes_the_contract() -> None:
    reasons = ["R" + "X" * 63 for _ in range(20)]
    context = build(
        event_id="e" * 64,
        reasons=reasons,
        shadowed=[("a" * 100, r) for r in reasons],
        shadowed_unlisted=10**6,
        policy_version="v" * 64,
        latency_ms=10**9,
    )
    document = {
        "commands": [{"type": "com.okta.action.update", "value": {"registration": "ALLOW"}}]
    }
    check({**document, "debugContext": context}, RequestType.REGISTRATION)
    assert len(json.dumps(context)) <= dc.MAX_BYTES


@pytest.mark.parametrize(
    ("raw", "expected"), [("", False), ("false", False), ("true", True), (" TRUE ", True)]
)
def test_the_setting(raw: str, expected: bool) -> None:
    settings = Settings.from_env({"OKTA_HOOK_DEBUG_CONTEXT": raw})
    assert settings.debug_context is expected


@pytest.mark.parametrize("raw", ["yes", "1", "on", "true!"])
def test_the_setting_is_true_or_false(raw: str) -> None:
    with pytest.raises(ConfigError, match="OKTA_HOOK_DEBUG_CONTEXT must be true or false"):
        Settings.from_env({"OKTA_HOOK_DEBUG_CONTEXT": raw})


def test_a_policy_may_declare_its_version() -> None:
    text = EXAMPLE.read_text("utf-8")
    assert parse_policy(text).version is None
    assert parse_policy('version = "2024-06-01.2"\n' + text).version == "2024-06-01.2"
    for bad in ("version = 3\n", 'version = "a b"\n', 'version = ""\n'):
        with pytest.raises(PolicyError, match="version must be"):
            parse_policy(bad + text)


def test_answers_carry_it_when_it_is_on(
    make_client: MakeClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = 'version = "2024-06-01"\n' + EXAMPLE.read_text("utf-8")
    policy = write_policy(tmp_path, text)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    client = hook_on(make_client, policy, **ON)
    capsys.readouterr()
    body = registration(email="rosario@evil-example.com", firstName="R2D2", employeeNumber="1234")
    denied = post(client, body).json()
    allowed = post(client, registration(employeeNumber="1234")).json()
    assert denied["debugContext"] == {
        "eventId": "04Dmt8BcT_aEgM",
        "reasons": "INVALID_EMAIL_DOMAIN",
        "shadowReasons": "firstName:INVALID_NAME",
        "policyDigest": digest,
        "policyVersion": "2024-06-01",
        "latencyMs": denied["debugContext"]["latencyMs"],
    }
    assert float(denied["debugContext"]["latencyMs"]) >= 0
    assert set(allowed["debugContext"]) == {"eventId", "policyDigest", "policyVersion", "latencyMs"}
    # Never a value: no address, no name, no message.
    for answer in (denied, allowed):
        text_sent = json.dumps(answer["debugContext"], separators=(",", ":"))
        assert "@" not in text_sent
        assert "R2D2" not in text_sent
        assert " " not in text_sent
    # The audit line names the same policy.
    for entry in audit_lines(capsys):
        assert (entry["policy_digest"], entry["policy_version"]) == (digest, "2024-06-01")


def test_answers_carry_none_by_default(make_client: MakeClient) -> None:
    client = hook_on(make_client, EXAMPLE)
    assert "debugContext" not in post(client, registration(email="x@evil-example.com")).json()
    assert "debugContext" not in post(client, registration(employeeNumber="1234")).json()
