"""Shared fixtures: Okta's sample requests and the function served by functions-framework."""

from __future__ import annotations

import base64
import copy
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import functions_framework
import pytest
from flask.testing import FlaskClient

from tests import leak_check

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "samples"
POLICIES = ROOT / "policies"

BASIC_USER = "okta-test"
BASIC_PASSWORD = leak_check.remember("test:password-with-colon")

Sample = dict[str, Any]
MakeClient = Callable[..., FlaskClient]


def sample(name: str) -> Sample:
    """A fresh copy of one of Okta's documented requests: `ssr`, `progressive`, `reference`."""
    data: Sample = json.loads((SAMPLES / f"okta_{name}_request.json").read_text("utf-8"))
    return copy.deepcopy(data)


def basic(user: str = BASIC_USER, password: str = BASIC_PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def post(client: FlaskClient, body: Any, authorization: str | None = None, **kwargs: Any) -> Any:
    """POST a JSON body (a dict is serialised; bytes are sent as they are) with Basic auth."""
    headers = {"Authorization": authorization if authorization is not None else basic()}
    headers.update(kwargs.pop("headers", {}))
    data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
    content_type = kwargs.pop("content_type", "application/json")
    return client.post("/", data=data, headers=headers, content_type=content_type, **kwargs)


@pytest.fixture
def make_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[MakeClient]:
    """A cold start with exactly the given OKTA_HOOK_* settings, as a Flask test client."""

    def make(**env: str) -> FlaskClient:
        for name in list(os.environ):
            if name.startswith("OKTA_HOOK_"):
                monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        app = functions_framework.create_app(  # type: ignore[no-untyped-call]
            target="registration_hook", source=str(ROOT / "main.py")
        )
        test_client: FlaskClient = app.test_client()
        return test_client

    yield make


@pytest.fixture
def client(make_client: MakeClient) -> FlaskClient:
    """The default policy (registration and progressive) behind Basic auth."""
    return make_client(OKTA_HOOK_BASIC_CREDENTIALS=f"{BASIC_USER}:{BASIC_PASSWORD}")


_collector = leak_check.install()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when any log line of any test holds a credential, a token or an address."""
    found = leak_check.findings(_collector.lines)
    if found:
        print("\nlog lines that leak:\n" + "\n".join(found[:20]))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        print(f"\nleak check: {len(_collector.lines)} log lines scanned, none leaks")
