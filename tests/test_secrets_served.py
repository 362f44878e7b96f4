"""Basic credentials from Secret Manager, in the real functions-framework server process."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import BASIC_PASSWORD, BASIC_USER, basic, sample
from tests.secret_manager_support import SecretManagerServer
from tests.server_support import serve

HEADERS = {"Content-Type": "application/json", "Authorization": basic()}


def test_served_with_credentials_from_secret_manager(
    store: SecretManagerServer, tmp_path: Path
) -> None:
    name = store.add_version("basic", f"{BASIC_USER}:{BASIC_PASSWORD}")
    env = {
        "OKTA_HOOK_BASIC_CREDENTIALS_SECRET": name,
        "OKTA_HOOK_SECRET_MANAGER_ENDPOINT": store.endpoint,
    }
    with serve(env, tmp_path) as served:
        for _ in range(3):
            status, _, body = served.post(json.dumps(sample("progressive")).encode(), HEADERS)
            assert status == 200
        assert store.reads == {name: 1}  # at cold start only
        log = served.log()
    assert f'"message": "secret OKTA_HOOK_BASIC_CREDENTIALS read from {name}"' in log
    assert BASIC_PASSWORD not in log


def test_served_with_secret_manager_down_answers_503(
    store: SecretManagerServer, tmp_path: Path
) -> None:
    name = store.add_version("basic", f"{BASIC_USER}:{BASIC_PASSWORD}")
    store.stop()
    env = {
        "OKTA_HOOK_BASIC_CREDENTIALS_SECRET": name,
        "OKTA_HOOK_SECRET_MANAGER_ENDPOINT": store.endpoint,
    }
    with serve(env, tmp_path) as served:
        status, _, body = served.post(json.dumps(sample("progressive")).encode(), HEADERS)
        log = served.log()
    assert status == 503
    assert json.loads(body) == {
        "error": {"code": "unavailable", "message": "The hook is not available."}
    }
    assert "secret read failed: OKTA_HOOK_BASIC_CREDENTIALS: cannot read " + name in log
