"""Shared fixtures: Okta's sample requests, the function as functions-framework builds it (in
process, or served), deploy.sh's fake cloud, the dependencies on loopback, and a manual clock."""

from __future__ import annotations

import base64
import copy
import importlib
import json
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import functions_framework
import pytest
from starlette.testclient import TestClient

from core import logs
from service import app as service_app
from tests import leak_check
from tests.clock_support import ManualClock
from tests.deploy_support import FakeCloud, hook_target, okta_hook_token
from tests.fault_support import FaultProxy, fault_proxy
from tests.jwt_support import KeyServer, bearer_env, key_server
from tests.secret_manager_support import SecretManagerServer, secret_manager
from tests.server_support import Served, serve

# In process, each log line is written before the request returns, so a test reads it at once.
# (The served process writes through its writer thread, as deployed.)
logs.configure(background=False)

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "samples"
POLICIES = ROOT / "policies"
# The shipped policies, without the case files beside them.
SHIPPED_POLICIES = sorted(p for p in POLICIES.glob("*.toml") if not p.name.endswith(".cases.toml"))

BASIC_USER = "okta-test"
BASIC_PASSWORD = leak_check.remember("test:password-with-colon")

Sample = dict[str, Any]
MakeClient = Callable[..., TestClient]


def sample(name: str) -> Sample:
    """A fresh copy of one of Okta's documented requests: `ssr`, `progressive`, `reference`."""
    data: Sample = json.loads((SAMPLES / f"okta_{name}_request.json").read_text("utf-8"))
    return copy.deepcopy(data)


def basic(user: str = BASIC_USER, password: str = BASIC_PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def post(client: TestClient, body: Any, authorization: str | None = None, **kwargs: Any) -> Any:
    """POST a JSON body (a dict is serialised; bytes are sent as they are) with Basic auth."""
    headers = {"Authorization": authorization if authorization is not None else basic()}
    headers["Content-Type"] = kwargs.pop("content_type", "application/json")
    headers.update(kwargs.pop("headers", {}))
    data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
    # A header is bytes on the wire: a value that is not ASCII goes as its UTF-8 bytes.
    sent = [(name.encode(), value.encode()) for name, value in headers.items()]
    return client.post("/", content=data, headers=sent, **kwargs)


def hook_app(env: Mapping[str, str]) -> Any:
    """A cold start with exactly these OKTA_HOOK_* settings: the ASGI app functions-framework
    builds from main.py, as `functions-framework --target registration_hook` serves it."""
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("OKTA_HOOK_")}
    os.environ.update(env)
    try:
        return functions_framework.create_app(  # type: ignore[no-untyped-call]
            target="registration_hook", source=str(ROOT / "main.py")
        )
    finally:
        for name in env:
            os.environ.pop(name, None)
        os.environ.update(saved)


_OPEN: list[TestClient] = []


def hook_client(env: Mapping[str, str]) -> TestClient:
    """A test client of `hook_app(env)` whose event loop runs until the end of the session (for
    module-scoped fixtures)."""
    client = TestClient(hook_app(env), raise_server_exceptions=False)
    client.__enter__()
    _OPEN.append(client)
    return client


@pytest.fixture(scope="session", autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().__exit__(None, None, None)


@pytest.fixture
def make_client() -> Iterator[MakeClient]:
    """A cold start with exactly the given OKTA_HOOK_* settings, as a test client."""
    made: list[TestClient] = []

    def make(**env: str) -> TestClient:
        client = TestClient(hook_app(env), raise_server_exceptions=False)
        client.__enter__()
        made.append(client)
        return client

    yield make
    for client in made:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    """The default policy (registration and progressive) behind Basic auth."""
    return make_client(OKTA_HOOK_BASIC_CREDENTIALS=f"{BASIC_USER}:{BASIC_PASSWORD}")


@pytest.fixture
def example(make_client: MakeClient) -> TestClient:
    """The full example policy (`policies/example_full.toml`) behind Basic auth."""
    return make_client(
        OKTA_HOOK_BASIC_CREDENTIALS=f"{BASIC_USER}:{BASIC_PASSWORD}",
        OKTA_HOOK_POLICY=str(POLICIES / "example_full.toml"),
    )


@pytest.fixture(scope="module")
def deploy_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The function deploy.sh deploys, served on loopback: what Okta's execute reaches."""
    with hook_target(tmp_path_factory.mktemp("hook-target")) as served:
        yield served


@pytest.fixture
def cloud(tmp_path: Path, deploy_target: Served) -> FakeCloud:
    """A checkout copy, a new project in fake gcloud and an Okta org in fake curl, for deploy.sh;
    Okta's execute reaches the function served on loopback as the deployed one."""
    made = FakeCloud(tmp_path)
    made.execute_url = deploy_target.url
    made.execute_bearer = okta_hook_token()
    return made


# The dependencies on loopback, each fixture defined here once.


@pytest.fixture
def okta() -> Iterator[KeyServer]:
    """Okta's authorization server: metadata and the key `mint` signs with. A test that needs
    other keys sets `okta.jwks`; one that takes it down gets a new one next time."""
    with key_server() as server:
        yield server


@pytest.fixture(scope="module")
def module_okta() -> Iterator[KeyServer]:
    """The same, one per module: for hooks and served processes a module builds once."""
    with key_server() as server:
        yield server


@pytest.fixture(scope="session")
def session_okta() -> Iterator[KeyServer]:
    """The same, for the whole run (each xdist worker has its own): `served_hook`'s issuer."""
    with key_server() as server:
        yield server


@pytest.fixture(scope="session")
def served_hook(
    session_okta: KeyServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """The function served by the real functions-framework server process: Basic, and Bearer
    with `session_okta`'s keys, on the default policy. One process for the tests that need a
    real one but no settings of their own."""
    env = {
        **bearer_env(session_okta),
        "OKTA_HOOK_BASIC_CREDENTIALS": f"{BASIC_USER}:{BASIC_PASSWORD}",
        "OKTA_HOOK_POLICY": str(POLICIES / "ssr_and_progressive.toml"),
    }
    with serve(env, tmp_path_factory.mktemp("served")) as served:
        yield served


@pytest.fixture
def keys_proxy(okta: KeyServer) -> Iterator[FaultProxy]:
    """`okta` behind a proxy that fails as told; its other host is `okta` itself (another
    loopback origin with the issuer's keys)."""
    with fault_proxy(okta.origin) as proxy:
        proxy.other_host = okta.origin
        yield proxy


@pytest.fixture
def store() -> Iterator[SecretManagerServer]:
    """Secret Manager's REST API, speaking to the real client. The client library is imported
    first: its import (a second or more on a busy machine) is not charged to the bound of
    whichever read comes first."""
    importlib.import_module("google.cloud.secretmanager_v1")
    with secret_manager() as server:
        yield server


@pytest.fixture
def attacker_store() -> Iterator[SecretManagerServer]:
    """Another Secret Manager, that would hand out values of an attacker's choosing."""
    with secret_manager() as server:
        yield server


@pytest.fixture
def secrets_proxy(
    store: SecretManagerServer, attacker_store: SecretManagerServer
) -> Iterator[FaultProxy]:
    """`store` behind a proxy that fails as told; its other host is `attacker_store`."""
    with fault_proxy(store.endpoint) as proxy:
        proxy.other_host = attacker_store.endpoint
        yield proxy


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    """A clock moved by hand, on which every hook built after it (by `make_client`) keeps its
    refresh intervals, backoffs and cooldowns. Waits on the network keep the real time."""
    manual = ManualClock()
    monkeypatch.setattr(service_app, "SCHEDULING_CLOCK", manual)
    return manual


_collector = leak_check.install()


# With pytest-xdist, each worker scans its own lines and hands the result to the controller.
_from_workers: list[tuple[int, list[str]]] = []


# Optional: the hook is pytest-xdist's, and a run without the plugin (`-p no:xdist`) is valid.
@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    output = getattr(node, "workeroutput", {})
    if "leak_lines" in output:
        _from_workers.append((output["leak_lines"], output["leaks"]))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when any log line of any test holds a credential, a token or an address."""
    scanned = len(_collector.lines) + leak_check.server_log_lines()
    found = leak_check.findings(_collector.lines)
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller reports
        workeroutput["leak_lines"] = scanned
        workeroutput["leaks"] = found[:20]
        return
    for lines, leaks in _from_workers:
        scanned += lines
        found += leaks
    if found:
        print("\nlog lines that leak:\n" + "\n".join(found[:20]))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        print(f"\nleak check: {scanned} log lines scanned, none leaks")
