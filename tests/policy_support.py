"""Support for policy feature tests: a hook on a given policy file, its answers and audit lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import BASIC_PASSWORD, BASIC_USER, POLICIES, MakeClient, post, sample

ALLOW = {"type": "com.okta.action.update", "value": {"registration": "ALLOW"}}
DENY = {"type": "com.okta.action.update", "value": {"registration": "DENY"}}
EXAMPLE = POLICIES / "example_full.toml"


def hook_on(make_client: MakeClient, policy: Path, **env: str) -> TestClient:
    return make_client(
        OKTA_HOOK_BASIC_CREDENTIALS=f"{BASIC_USER}:{BASIC_PASSWORD}",
        OKTA_HOOK_POLICY=str(policy),
        **env,
    )


def write_policy(tmp_path: Path, text: str, name: str = "policy.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def answer(client: TestClient, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    response = post(client, body, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def registration(**profile: Any) -> dict[str, Any]:
    """Okta's registration sample with these profile values set (`...` removes one)."""
    body = sample("ssr")
    for name, value in profile.items():
        if value is ...:
            body["data"]["userProfile"].pop(name, None)
        else:
            body["data"]["userProfile"][name] = value
    return body


def progressive(update: dict[str, Any], **current: Any) -> dict[str, Any]:
    """Okta's progressive sample with this update and these current profile values."""
    body = sample("progressive")
    body["data"]["userProfileUpdate"] = update
    body["data"]["context"]["user"]["profile"].update(current)
    return body


def causes(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(attribute, reason, message) of each cause of a DENY."""
    assert result["commands"] == [DENY]
    prefix = "data.userProfile."
    return [
        (c["location"].removeprefix(prefix), c["reason"], c["errorSummary"])
        for c in result["error"]["errorCauses"]
    ]


def audit_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The audit lines written since the last call (startup lines left out)."""
    entries = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    return [entry for entry in entries if "status" in entry]
