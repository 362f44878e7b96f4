"""Running deploy.sh against fake `gcloud` and `curl` in a copy of the checkout."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.jwt_support import KID, mint, okta_claims, public_jwk
from tests.server_support import Served, serve
from tools.monitoring import Options as MonitoringOptions
from tools.monitoring import resources

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
# What deploy.sh needs of the checkout; tests and local files stay behind.
CHECKOUT_FILES = ("deploy.sh", ".gcloudignore", "main.py", "requirements.txt")
# What the function runs (and gcloud uploads), then what deploy.sh runs beside it.
RUNTIME_DIRS = (
    "core", "secret_sources", "lists", "directory", "okta_wire", "policy", "handlers", "auth", "service", "policies"
)  # fmt: skip
# Deploy also sends Okta's documented samples through Okta (execute).
CHECKOUT_DIRS = (*RUNTIME_DIRS, "tools", "tests/samples", "monitoring")

PROJECT = "hook-project-1"
REGION = "europe-west1"
FUNCTION = "okta-registration-hook"
SA_EMAIL = f"{FUNCTION}@{PROJECT}.iam.gserviceaccount.com"
BASIC_SECRET = f"{FUNCTION}-basic-credentials"
OKTA_ORG = "https://example.okta.com"
OKTA_TOKEN = "00okta-api-token-for-tests-only-Zq81"
# Distinctive values, so that a leak anywhere is found by a plain substring search.
PASSWORD = "s3cret-pw-Qx7v"
CREDENTIALS = f"okta:{PASSWORD}\n"
CLIENT_SECRET = "client-secret-Wm4kP9"

APIS = [
    "cloudfunctions.googleapis.com",
    "run.googleapis.com",
    "cloudbuild.googleapis.com",
    "artifactregistry.googleapis.com",
    "secretmanager.googleapis.com",
    "iam.googleapis.com",
    # For the monitoring resources (none with --no-monitoring).
    "logging.googleapis.com",
    "monitoring.googleapis.com",
]


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class FakeCloud:
    """A checkout copy, a project in fake gcloud, an Okta org in fake curl, and their logs."""

    def __init__(self, base: Path) -> None:
        self.base = base
        base.mkdir(parents=True, exist_ok=True)
        self.checkout = base / "checkout"
        self.checkout.mkdir()
        for name in CHECKOUT_FILES:
            shutil.copy2(ROOT / name, self.checkout / name)
        for name in CHECKOUT_DIRS:
            # Compiled modules come along (copy2 keeps the sources' times, so they stay valid):
            # each deploy run would otherwise compile every module it imports again.
            shutil.copytree(ROOT / name, self.checkout / name)
        self.bin = base / "bin"
        self.bin.mkdir()
        for tool, script in (("gcloud", "fake_gcloud.py"), ("curl", "fake_curl.py")):
            shim = self.bin / tool
            # -I -S: the fakes need only the standard library; a bare interpreter starts in a
            # tenth of the time, and deploy calls them a dozen times a run.
            shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -I -S "{TESTS / script}" "$@"\n')
            shim.chmod(0o755)
        self.gcloud_state = base / "gcloud-state.json"
        self.okta_state = base / "okta-state.json"
        self.gcloud_log = base / "gcloud.log"
        self.curl_log = base / "curl.log"
        self.gcloud_state.write_text(
            json.dumps(
                {
                    "project": PROJECT,
                    "account": "deployer@example.com",
                    "enabled_services": [],
                    "service_accounts": {},
                    "secrets": {},
                    "functions": {},
                }
            )
        )
        self.okta_state.write_text(json.dumps(okta_org()))
        self.gcloud_log.touch()
        self.curl_log.touch()
        self.runs: list[Run] = []
        # Where fake Okta's execute reaches the hook: a function served on loopback.
        self.execute_url = ""
        self.execute_bearer = ""

    def write(self, name: str, text: str) -> Path:
        """A file outside the checkout (where secret files belong)."""
        path = self.base / name
        path.write_text(text)
        return path

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("OKTA_", "DEPLOY_", "GOOGLE_", "CLOUDSDK_"))
        }
        env.update(
            PATH=f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            PYTHON=sys.executable,
            HOME=str(self.base),
            TMPDIR=str(self.base),
            FAKE_GCLOUD_STATE=str(self.gcloud_state),
            FAKE_GCLOUD_LOG=str(self.gcloud_log),
            FAKE_OKTA_STATE=str(self.okta_state),
            FAKE_CURL_LOG=str(self.curl_log),
        )
        if self.execute_url:
            env.update(FAKE_OKTA_EXECUTE_URL=self.execute_url)
        if self.execute_bearer:
            env.update(FAKE_OKTA_EXECUTE_BEARER=self.execute_bearer)
        env.update(extra)
        return env

    def set_okta(self, **changes: Any) -> None:
        self.okta_state.write_text(json.dumps({**self.okta(), **changes}))

    def deploy(self, *args: str, stdin: str | None = None, **env: str) -> Run:
        """Run deploy.sh from the directory above the checkout, as a user would."""
        done = subprocess.run(
            ["bash", str(self.checkout / "deploy.sh"), *args],
            cwd=self.base,
            env=self.env(**env),
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            timeout=120,
        )
        run = Run(done.returncode, done.stdout, done.stderr)
        self.runs.append(run)
        return run

    def deploy_basic(self, *args: str, credentials: str = CREDENTIALS, **env: str) -> Run:
        path = self.write("basic.txt", credentials)
        return self.deploy(
            "--project", PROJECT, "--region", REGION, "--basic-credentials-file", str(path),
            *args, **env,
        )  # fmt: skip

    def gcloud_calls(self) -> list[dict[str, Any]]:
        return _lines(self.gcloud_log)

    def curl_calls(self) -> list[dict[str, Any]]:
        return _lines(self.curl_log)

    def okta_bodies(self) -> list[tuple[str, Any]]:
        """Each JSON body sent to Okta, with its call (`METHOD /path`)."""
        return [
            (call, json.loads(entry["body"]))
            for call, entry in zip(okta_calls(self), self.curl_calls(), strict=True)
            if entry["body"] and not call.endswith("/oauth2/v1/token")
        ]

    def commands(self) -> list[list[str]]:
        """Each gcloud call's argv after `gcloud`."""
        return [call["argv"][1:] for call in self.gcloud_calls()]

    def state(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.gcloud_state.read_text())
        return data

    def okta(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.okta_state.read_text())
        return data

    def forget_calls(self) -> None:
        self.gcloud_log.write_text("")
        self.curl_log.write_text("")


POLICY_ID = "rst1ssrpp0policy1d7"
RULE_ID = "rul1ssrpp0rule01d7"
DEFAULT_POLICY_ID = "rst0default0pol1d7"


def enrollment_rule(rule_id: str) -> dict[str, Any]:
    """A user profile policy's one rule as Okta returns it (its API reference's example): the
    default form, no hook, sign-up denied, and the nulls Okta writes."""
    return {
        "id": rule_id,
        "status": "ACTIVE",
        "name": "Catch-all Rule",
        "priority": 99,
        "created": "2025-08-27T19:51:18.000Z",
        "lastUpdated": "2025-08-27T19:51:22.000Z",
        "system": True,
        "conditions": None,
        "actions": {
            "profileEnrollment": {
                "access": "ALLOW",
                "preRegistrationInlineHooks": None,
                "profileAttributes": [
                    {"name": "email", "label": "Email", "required": True},
                    {"name": "firstName", "label": "First name", "required": True},
                    {"name": "lastName", "label": "Last name", "required": True},
                ],
                "targetGroupIds": None,
                "unknownUserAction": "DENY",
                "activationRequirements": {"emailVerification": True},
                "uiSchemaId": "uis1" + rule_id[4:],
                "progressiveProfilingAction": "DISABLED",
            }
        },
        "_links": {"self": {"href": f"{OKTA_ORG}/api/v1/policies/p/rules/{rule_id}"}},
        "type": "PROFILE_ENROLLMENT",
    }


def okta_org() -> dict[str, Any]:
    """The org fake curl answers for: an API token, and two user profile policies."""
    policies = [
        {"id": DEFAULT_POLICY_ID, "name": "Default Policy", "system": True},
        {"id": POLICY_ID, "name": "SSR + PP Inline Hook", "system": False},
    ]
    return {
        "org": OKTA_ORG,
        "token": OKTA_TOKEN,
        "policies": [
            {**p, "type": "PROFILE_ENROLLMENT", "status": "ACTIVE", "priority": 1} for p in policies
        ],
        "rules": {
            DEFAULT_POLICY_ID: [enrollment_rule("rul0default0rul1d7")],
            POLICY_ID: [enrollment_rule(RULE_ID)],
        },
    }


# The hook's OAuth 2.0 settings in the tests: Okta's token, as the served function checks it.
ISSUER = "https://example.okta.com/oauth2/default"
HOOK_SCOPE = "hooks.registration"
HOOK_CLIENT_ID = "0oa1hook"
ROTATED = "okta:next-pw-R2d4"


@contextmanager
def hook_target(log_dir: Path, policy: str = "ssr_and_progressive.toml") -> Iterator[Served]:
    """The function served on loopback as deploy.sh deploys it, standing for the deployed URL when
    fake Okta runs execute: the test credentials (and their rotation), and Okta's tokens for the
    hook's OAuth 2.0 app, checked against a pinned key set."""
    env = {
        "OKTA_HOOK_BASIC_CREDENTIALS": f"{CREDENTIALS.strip()}\n{ROTATED}",
        "OKTA_HOOK_POLICY": str(ROOT / "policies" / policy),
        "OKTA_HOOK_ISSUER": ISSUER,
        "OKTA_HOOK_SCOPES": HOOK_SCOPE,
        "OKTA_HOOK_CLIENT_IDS": HOOK_CLIENT_ID,
        "OKTA_HOOK_JWKS": json.dumps({"keys": [public_jwk("okta", KID)]}),
    }
    with serve(env, log_dir) as served:
        yield served


def okta_hook_token() -> str:
    """What Okta sends an OAuth 2.0 hook: a token of the hook's app from its authorization server."""
    return mint(okta_claims(ISSUER, cid=HOOK_CLIENT_ID, sub=HOOK_CLIENT_ID, scp=[HOOK_SCOPE]))


def okta_calls(cloud: FakeCloud) -> list[str]:
    """Each curl call as `METHOD /path?query`, the org left out."""
    calls = []
    for entry in cloud.curl_calls():
        argv = entry["argv"]
        calls.append(f"{argv[argv.index('--request') + 1]} {argv[-1].removeprefix(OKTA_ORG)}")
    return calls


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def flag(argv: list[str], name: str) -> str:
    """The value of `--name value` or `--name=value` in an argv."""
    for i, arg in enumerate(argv):
        if arg == name:
            return argv[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    raise AssertionError(f"{name} not in {argv}")


# Commands that change something in the project, by their leading words.
CHANGING = (
    ("services", "enable"),
    ("iam", "service-accounts", "create"),
    ("secrets", "create"),
    ("secrets", "versions", "add"),
    ("secrets", "add-iam-policy-binding"),
    ("projects", "add-iam-policy-binding"),
    ("functions", "deploy"),
    ("run", "services", "update"),
    ("storage", "buckets", "add-iam-policy-binding"),
    ("logging", "metrics", "create"),
    ("logging", "metrics", "update"),
    ("monitoring", "policies", "create"),
    ("monitoring", "policies", "update"),
    ("monitoring", "dashboards", "create"),
    ("monitoring", "dashboards", "update"),
)
MONITORING = (("logging", "metrics"), ("monitoring", "policies"), ("monitoring", "dashboards"))


def monitoring_creates(function: str = FUNCTION) -> list[list[str]]:
    """The commands a first deploy makes for monitoring/ (no alert channel, no no-requests
    alert), the file each reads left out: eight metrics, three alert policies, a dashboard."""
    found = []
    for resource in resources(MonitoringOptions(PROJECT, function)):
        if resource.kind == "metric":
            found.append(["logging", "metrics", "create", resource.key, "--project", PROJECT])
        else:
            group = "policies" if resource.kind == "policy" else "dashboards"
            found.append(["monitoring", group, "create", "--project", PROJECT])
    return found


def without_files(command: list[str]) -> list[str]:
    """A monitoring command without the file it reads (a temporary path)."""
    return [w for w in command if not w.startswith(("--config-from-file=", "--policy-from-file="))]


def apart(commands: list[list[str]]) -> tuple[list[list[str]], list[list[str]]]:
    """Changing commands: those of the hook itself, and those of monitoring/ (files left out)."""
    monitoring = [c for c in commands if tuple(c[:2]) in MONITORING]
    return [c for c in commands if tuple(c[:2]) not in MONITORING], [
        without_files(c) for c in monitoring
    ]


def changing(commands: list[list[str]]) -> list[list[str]]:
    return [
        c
        for c in commands
        if any(c[: len(words)] == list(words) for words in CHANGING) and "--help" not in c
    ]


# Settings and checks the deploy tests share.
OAUTH = ("--auth", "oauth-client-secret", "--issuer", ISSUER, "--client-id", HOOK_CLIENT_ID)
OKTA_ENV = {"OKTA_ORG_URL": OKTA_ORG, "OKTA_API_TOKEN": OKTA_TOKEN}
SECRET_REFERENCE = f"projects/{PROJECT}/secrets/{BASIC_SECRET}/versions/latest"


def ok(run: Run) -> Run:
    """The run, which must have succeeded."""
    assert run.returncode == 0, run.output
    return run


def refused(run: Run, message: str) -> None:
    assert run.returncode == 1, run.output
    assert f"deploy.sh: error: {message}" in run.stderr


def deploy_argv(cloud: FakeCloud) -> list[str]:
    deploys = [c for c in cloud.commands() if c[:2] == ["functions", "deploy"]]
    assert len(deploys) == 1, deploys
    return deploys[0]


def env_file(cloud: FakeCloud) -> dict[str, str]:
    """The env-vars file the deploy was given, as gcloud reads it (YAML of quoted strings)."""
    [call] = [c for c in cloud.gcloud_calls() if c["argv"][1:3] == ["functions", "deploy"]]
    pairs = re.findall(r'^([A-Z_]+): "(.*)"$', call["env_vars_file"], flags=re.MULTILINE)
    assert len(pairs) == len(call["env_vars_file"].splitlines())
    return dict(pairs)


def printed_body(stdout: str) -> dict[str, Any]:
    """The JSON body deploy.sh prints for Okta's POST /api/v1/inlineHooks."""
    start = stdout.index("\n{\n") + 1
    end = stdout.index("\n}\n", start) + 2
    body: dict[str, Any] = json.loads(stdout[start:end])
    return body


def everything_recorded(cloud: FakeCloud) -> str:
    """Every argv, every run's output, every env-vars file: where no secret may ever be."""
    parts = [json.dumps(c["argv"]) + c.get("env_vars_file", "") for c in cloud.gcloud_calls()]
    parts += [json.dumps(c["argv"]) for c in cloud.curl_calls()]
    parts += [run.output for run in cloud.runs]
    return "\n".join(parts)
