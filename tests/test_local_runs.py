"""`make run` and `make preview` as their recipes run them (tools.local_run, tools.preview): the
policy asked for is served and named, the environment beats local.env, OAuth 2.0 works against
a local key set in two commands, each preview is a new event, and a newcomer is told what is
missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jwt
import pytest

from tests import leak_check
from tests.conftest import POLICIES, ROOT
from tests.server_support import free_port
from tools import local_oauth
from tools.local_env import local_settings, read_local_env
from tools.local_run import run_environment

LOCAL_USER = read_local_env()["OKTA_HOOK_BASIC_CREDENTIALS"].split(":", 1)[0]


@dataclass
class LocalRun:
    url: str
    ready: str
    env: dict[str, str]

    def preview(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """`make preview ARGS="..."` (outside make: no --url, PORT tells the port)."""
        return subprocess.run(
            [sys.executable, "-m", "tools.preview", *args],
            cwd=ROOT,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A shell with none of the hook's settings: local.env is all there is."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OKTA_HOOK_", "PORT"))}
    return {**env, "OKTA_HOOK_LOCAL_KEY_DIR": str(tmp_path / "keys"), **extra}


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("local")


def start(env: dict[str, str], log: Path, *args: str) -> Iterator[LocalRun]:
    port = free_port()
    env = {**env, "PORT": str(port)}
    leak_check.SERVER_LOGS.append(log)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tools.local_run", *args],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        ready = ""
        while not ready:
            ready = next(
                (line for line in log.read_text().splitlines() if line.startswith("ready:")), ""
            )
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        yield LocalRun(f"http://127.0.0.1:{port}", ready, env)
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def basic_run(keys: Path) -> Iterator[LocalRun]:
    # make run POLICY=policies/ssr.toml, with an exported policy that it overrides
    env = clean_env(keys, OKTA_HOOK_POLICY="policies/progressive.toml")
    yield from start(env, keys / "basic.log", "--policy", "policies/ssr.toml")


@pytest.fixture(scope="module")
def oauth_run(keys: Path) -> Iterator[LocalRun]:
    yield from start(clean_env(keys), keys / "oauth.log", "--auth", "oauth")


def decision(done: subprocess.CompletedProcess[str]) -> str:
    return next(line for line in done.stdout.splitlines() if line.startswith("decision:"))


def test_make_run_serves_the_policy_given_and_names_it(basic_run: LocalRun) -> None:
    assert basic_run.ready == (
        f"ready: {basic_run.url} serves policies/ssr.toml with Basic (user {LOCAL_USER}); "
        'try: make preview ARGS="registration"'
    )


def test_an_allow_and_a_deny_through_basic_with_preview_s_defaults(basic_run: LocalRun) -> None:
    allowed = basic_run.preview("registration")  # no --url, no credentials: PORT and local.env
    assert allowed.returncode == 0, allowed.stderr
    assert decision(allowed) == "decision: ALLOW"
    denied = basic_run.preview("registration", "--email", "someone@evil-example.com")
    assert decision(denied) == "decision: DENY"
    assert "data.userProfile.email: INVALID_EMAIL_DOMAIN" in denied.stdout


def test_the_served_policy_is_the_one_asked_for(basic_run: LocalRun) -> None:
    # ssr.toml lets nothing be updated: the progressive sample is denied, where the exported
    # progressive.toml would allow it.
    done = basic_run.preview("progressive")
    assert decision(done) == "decision: DENY"
    assert "ATTRIBUTE_NOT_UPDATABLE" in done.stdout


def test_each_preview_is_a_new_event_unless_given_one(basic_run: LocalRun) -> None:
    def event_id(*args: str) -> str:
        done = basic_run.preview("registration", "--show-request", *args)
        shown = done.stdout[: done.stdout.index("\n}\n") + 2]
        return str(json.loads(shown)["eventId"])

    first, second = event_id(), event_id()
    assert first != second
    assert event_id("--event-id", "chosen-1") == "chosen-1"


def test_oauth_in_two_commands(oauth_run: LocalRun) -> None:
    assert oauth_run.ready.startswith(f"ready: {oauth_run.url} serves policies/")
    assert "with OAuth 2.0 Bearer (issuer https://okta-hook.local.invalid/oauth2/default" in (
        oauth_run.ready
    )
    assert 'try: make preview AUTH=oauth ARGS="registration"' in oauth_run.ready
    allowed = oauth_run.preview("--local-oauth", "registration")
    assert decision(allowed) == "decision: ALLOW", allowed.stderr
    denied = oauth_run.preview("--local-oauth", "progressive", "--employee-number", "12a4")
    assert decision(denied) == "decision: DENY"


def test_with_oauth_a_basic_preview_is_told_what_to_send(oauth_run: LocalRun) -> None:
    done = oauth_run.preview("registration")
    assert done.returncode == 1
    assert "no decision: HTTP 401" in done.stdout
    assert (
        f"the hook refused the credentials (sent: Basic for {LOCAL_USER}, the first line of "
        "OKTA_HOOK_BASIC_CREDENTIALS in local.env)"
    ) in done.stderr
    assert "takes only --local-oauth (make preview AUTH=oauth)" in done.stderr


def test_the_local_key_is_made_once_kept_private_and_signs_okta_shaped_tokens(
    keys: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OKTA_HOOK_LOCAL_KEY_DIR", str(keys / "fresh"))
    first = local_oauth.public_jwks()
    assert local_oauth.public_jwks() == first
    path = keys / "fresh" / "private-key.pem"
    assert path.stat().st_mode & 0o777 == 0o600
    assert (keys / "fresh").stat().st_mode & 0o777 == 0o700
    token = local_oauth.token()
    key = jwt.PyJWK(first["keys"][0])
    claims = jwt.decode(token, key, algorithms=["RS256"], audience=local_oauth.AUDIENCE)
    assert (claims["iss"], claims["cid"], claims["scp"]) == (
        local_oauth.ISSUER,
        local_oauth.CLIENT_ID,
        [local_oauth.SCOPE],
    )
    assert jwt.get_unverified_header(token)["kid"] == first["keys"][0]["kid"]


def test_the_environment_beats_local_env() -> None:
    settings = local_settings({"OKTA_HOOK_POLICY": "mine.toml", "OTHER": "x"})
    assert settings["OKTA_HOOK_POLICY"] == "mine.toml"
    assert (
        settings["OKTA_HOOK_BASIC_CREDENTIALS"] == read_local_env()["OKTA_HOOK_BASIC_CREDENTIALS"]
    )


def test_make_run_s_policy_beats_the_environment() -> None:
    exported = {"OKTA_HOOK_POLICY": "policies/ssr.toml"}
    assert run_environment(exported, None, "basic", ROOT)["OKTA_HOOK_POLICY"] == (
        "policies/ssr.toml"
    )
    # A relative path is read from where make was started.
    env = run_environment(exported, "progressive.toml", "basic", POLICIES)
    assert env["OKTA_HOOK_POLICY"] == str(POLICIES / "progressive.toml")


def test_a_policy_that_cannot_load_stops_make_run(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[domains\n")
    with pytest.raises(SystemExit, match=r"^make run: .*broken.toml:1: not valid TOML"):
        run_environment({}, str(broken), "basic", tmp_path)


def test_oauth_replaces_basic(keys: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OKTA_HOOK_LOCAL_KEY_DIR", str(keys / "replace"))
    env = run_environment({"OKTA_HOOK_BASIC_CREDENTIALS_FILE": "/x"}, None, "oauth", ROOT)
    assert not [k for k in env if k.startswith("OKTA_HOOK_BASIC_CREDENTIALS")]
    assert env["OKTA_HOOK_ISSUER"] == local_oauth.ISSUER
    assert json.loads(env["OKTA_HOOK_JWKS"]) == local_oauth.public_jwks()


def test_preview_with_nothing_running_says_so(tmp_path: Path) -> None:
    run = LocalRun(f"http://127.0.0.1:{free_port()}", "", clean_env(tmp_path))
    done = run.preview("registration", "--url", run.url)
    assert done.returncode == 2
    assert "Is the hook running? Start it with make run (PORT=... for another port)" in done.stderr
