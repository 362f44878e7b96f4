"""deploy.sh --plan: the whole first deploy printed with no gcloud, no curl, no credentials and no
network; the same commands a dry run on a new project prints, and the Okta calls and bodies."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from tests.deploy_support import (
    CREDENTIALS,
    HOOK_CLIENT_ID,
    HOOK_SCOPE,
    ISSUER,
    OKTA_ORG,
    OKTA_TOKEN,
    PASSWORD,
    PROJECT,
    REGION,
    FakeCloud,
    Run,
)
from tests.jwt_support import rsa_key
from tests.okta_schema_check import problems
from tests.test_deploy_outside import CASES, POLICY

PRIVATE_KEY_ARGS = (
    "--auth", "oauth-private-key", "--issuer", ISSUER, "--client-id", HOOK_CLIENT_ID,
    "--scopes", HOOK_SCOPE, "--hook-key-id", "HKY1hookkey",
)  # fmt: skip


def plan(base: Path, *args: str, **env: str) -> Run:
    """deploy.sh --plan with a PATH that has neither gcloud nor curl, and no Okta or Google
    variable: run from a checkout copy, as a newcomer would before any set-up."""
    return plan_with({}, base, *args, **env)


def plan_with(files: Mapping[str, str], base: Path, *args: str, **env: str) -> Run:
    """`plan`, with `files` written in the checkout copy first."""
    cloud = FakeCloud(base)
    for name, text in files.items():
        (cloud.checkout / name).write_text(text, "utf-8")
    tools = base / "bare-bin"
    tools.mkdir()
    for name in ("dirname",):
        found = shutil.which(name)
        assert found is not None
        (tools / name).symlink_to(found)
    clean = {
        "PATH": str(tools),
        "HOME": str(base),
        "TMPDIR": str(base),
        "PYTHON": sys.executable,
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        **env,
    }
    done = subprocess.run(
        ["/bin/bash", str(cloud.checkout / "deploy.sh"), "--plan", *args],
        cwd=base,
        env=clean,
        input="",
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def commands(stdout: str, prefix: str) -> list[str]:
    """The commands printed with `prefix`, temporary paths and the fingerprint label masked."""
    found = []
    for line in stdout.splitlines():
        if line.startswith(prefix):
            line = re.sub(r"\S*/deploy-hook\.\w+/", "<tmp>/", line.removeprefix(prefix))
            found.append(re.sub(r"'?okta-hook-config=[^ ]+", "okta-hook-config=<label>", line))
    return found


def printed_json(stdout: str, after: str) -> Any:
    start = stdout.index("\n{\n", stdout.index(after)) + 1
    return json.loads(stdout[start : stdout.index("\n}\n", start) + 2])


def test_plan_runs_without_gcloud_curl_or_credentials(tmp_path: Path) -> None:
    assert shutil.which("gcloud", path=str(tmp_path / "bare-bin")) is None
    run = plan(tmp_path, "--project", PROJECT, "--region", REGION)
    assert run.returncode == 0, run.output
    assert "[plan] gcloud functions deploy okta-registration-hook --gen2 " in run.stdout
    # The hook's 6 changes, and monitoring/'s 12 (metrics, alert policies, dashboard).
    assert run.stdout.rstrip().endswith("Plan: 18 change(s) a first deploy makes; nothing was run.")
    assert "its value would come from the file given (none given to --plan)" in run.stdout
    assert "+ " not in "".join(line[:2] for line in run.stdout.splitlines())  # nothing ran


def test_plan_prints_what_a_dry_run_on_a_new_project_runs(tmp_path: Path) -> None:
    path = tmp_path / "basic.txt"
    path.write_text(CREDENTIALS)
    args = ("--project", PROJECT, "--region", REGION, "--basic-credentials-file", str(path))
    planned = plan(tmp_path / "plan", *args)
    assert planned.returncode == 0, planned.output
    dry = FakeCloud(tmp_path / "dry").deploy(*args, "--dry-run")
    assert dry.returncode == 0, dry.output
    assert commands(planned.stdout, "[plan] ") == commands(dry.stdout, "[dry-run] ")
    assert len(commands(planned.stdout, "[plan] ")) == 18
    # Each read a dry run makes is printed too.
    assert commands(planned.stdout, "[read] ") == commands(dry.stdout, "+ ")
    # The function's environment, with a reference for the secret.
    secret = f"projects/{PROJECT}/secrets/okta-registration-hook-basic-credentials/versions/latest"
    assert f'  OKTA_HOOK_BASIC_CREDENTIALS_SECRET: "{secret}"' in planned.stdout
    assert PASSWORD not in planned.output


def test_plan_of_the_okta_side_with_a_service_app(tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    key.write_text("not read by a plan beyond this check")
    args = (
        "--project", PROJECT, *PRIVATE_KEY_ARGS, "--create-okta-hook", "--okta-policy",
        "Default Policy", "--okta-api-client-id", "0oa9deployapp",
    )  # fmt: skip
    run = plan(tmp_path, *args, "--okta-api-private-key-file", str(key))
    # The key is read and checked: a plan refuses what the deploy would refuse.
    assert run.returncode == 1
    assert (
        "deploy.sh: error: --okta-api-private-key-file: not an unencrypted PEM private key, nor "
        "a JWK"
    ) in run.stderr
    pem = rsa_key("plan").private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key.write_bytes(pem)
    run = plan(tmp_path / "second", *args, "--okta-api-private-key-file", str(key))
    assert run.returncode == 0, run.output
    out = run.stdout
    org = "https://<your-org>.okta.com"
    assert "signed in with: OAuth 2.0 service app 0oa9deployapp (private_key_jwt)" in out
    assert commands(out, "[read] curl ")[0].endswith(f"'{org}/oauth2/v1/token'")
    assert "  scope=okta.inlineHooks.manage okta.policies.manage" in out
    okta = [shlex.split(line)[-1] for line in commands(out, "[plan] curl ")]
    assert okta == [
        f"{org}/api/v1/inlineHooks",
        f"{org}/api/v1/policies/<policy id>/rules/<rule id>",
        f"{org}/api/v1/inlineHooks/<hook id>/execute",
        f"{org}/api/v1/inlineHooks/<hook id>/execute",
    ]
    hook = printed_json(out, "body (read by curl from file descriptor 3")
    assert problems(hook, "InlineHookCreate") == []
    assert hook["channel"]["config"]["hookKeyId"] == "HKY1hookkey"
    rule = printed_json(out, "body: the rule as read from Okta")
    enrollment = rule["actions"]["profileEnrollment"]
    assert enrollment["preRegistrationInlineHooks"] == [{"inlineHookId": "<hook id>"}]
    assert {"name": "employeeNumber", "label": "Employee number", "required": True} in (
        enrollment["profileAttributes"]
    )
    for what in (
        "which the policy allows:",
        "which the policy denies (email: INVALID_EMAIL_DOMAIN; employeeNumber: "
        "INVALID_EMPLOYEE_NUMBER):",
    ):
        line = out.split(what + "\n", 1)[1].splitlines()[0]
        assert problems(json.loads(line), "RegistrationInlineHookRequest") == []
    assert "    Run this hook: Both" in out
    assert pem.decode().splitlines()[1] not in run.output
    # The Okta side's 5 changes, and monitoring/'s 12.
    assert out.rstrip().endswith("Plan: 17 change(s) a first deploy makes; nothing was run.")


@pytest.mark.parametrize(
    ("env", "shown"),
    [({}, "https://<your-org>.okta.com"), ({"OKTA_ORG_URL": OKTA_ORG}, OKTA_ORG)],
)
def test_plan_with_basic_and_an_api_token_shows_no_secret(
    tmp_path: Path, env: dict[str, str], shown: str
) -> None:
    path = tmp_path / "basic.txt"
    path.write_text(CREDENTIALS)
    run = plan(
        tmp_path / "p", "--project", PROJECT, "--basic-credentials-file", str(path),
        "--create-okta-hook", OKTA_API_TOKEN=OKTA_TOKEN, **env,
    )  # fmt: skip
    assert run.returncode == 0, run.output
    assert "[plan] curl " in run.stdout
    assert f"{shown}/api/v1/inlineHooks" in run.stdout
    assert "signed in with: API token (OKTA_API_TOKEN)" in run.stdout
    body = printed_json(run.stdout, "body (read by curl from file descriptor 3")
    assert body["channel"]["config"]["authScheme"]["value"].startswith("<set in Okta")
    for secret in (PASSWORD, OKTA_TOKEN):
        assert secret not in run.output


def test_plan_of_a_policy_that_reads_lists_and_a_directory_secret(tmp_path: Path) -> None:
    declared = POLICY.replace('kind = "domains"', 'kind = "domains"\nmax_bytes = 26700000')
    files = {"policies/partners.toml": declared, "policies/partners.cases.toml": CASES}
    credentials = tmp_path / "basic.txt"
    credentials.write_text(CREDENTIALS)
    args = (
        "--project", PROJECT, "--region", REGION, "--policy", "policies/partners.toml",
        "--basic-credentials-file", str(credentials),
    )  # fmt: skip
    planned = plan_with(files, tmp_path / "plan", *args)
    assert planned.returncode == 0, planned.output
    out = planned.stdout
    step = out[out.index("==> What the policy reads") : out.index("==> Function")]
    assert step.splitlines()[1:] == [
        "[read] gcloud storage objects describe gs://acme-hook-lists/partners.txt "
        "'--format=value(size)'",
        "warning: the policy's lists need more memory than --memory 512Mi: about 504 MiB while "
        "they are refreshed (WORKERS=1: the gunicorn master keeps its cold-start copy, each "
        "worker its own and a new version read beside it; docs/outside_data.md has the "
        "figures); give --memory 1Gi",
        "  list partners: 26.7 MB (declared), about 1,000,000 domains: 117 MiB held, 168 MiB "
        "more while a new version is read",
        "[read] gcloud storage buckets describe gs://acme-hook-lists "
        "'--format=value(uniform_bucket_level_access)'",
        "(--plan: whether gs://acme-hook-lists has uniform bucket-level access is read when the",
        "deploy runs; without it, the grant is on the whole bucket)",
        "grant read of gs://acme-hook-lists/partners.txt: this object alone (IAM condition on "
        "its name)",
        "[read] gcloud storage buckets get-iam-policy gs://acme-hook-lists --format=json",
        "[plan] gcloud storage buckets add-iam-policy-binding gs://acme-hook-lists "
        f"--member=serviceAccount:okta-registration-hook@{PROJECT}.iam.gserviceaccount.com "
        "--role=roles/storage.objectViewer '--condition=expression=resource.name == "
        '"projects/_/buckets/acme-hook-lists/objects/partners.txt",title=okta-hook reads '
        "partners.txt'",
        f"grant read of projects/{PROJECT}/secrets/hr-token: this secret (all its versions)",
        f"[read] gcloud secrets get-iam-policy hr-token --project={PROJECT} --format=json",
        f"[plan] gcloud secrets add-iam-policy-binding hr-token --project={PROJECT} "
        f"--member=serviceAccount:okta-registration-hook@{PROJECT}.iam.gserviceaccount.com "
        "--role=roles/secretmanager.secretAccessor",
        "",
    ]
    # A dry run on a new project whose bucket has uniform access prints the same commands.
    cloud = FakeCloud(tmp_path / "dry")
    for name, text in files.items():
        (cloud.checkout / name).write_text(text, "utf-8")
    cloud.gcloud_state.write_text(
        json.dumps(
            {
                **cloud.state(),
                "buckets": {"acme-hook-lists": {"uniform": True, "objects": {}}},
                "secrets": {"hr-token": {"labels": "", "versions": ["x"], "bindings": []}},
            }
        )
    )
    dry = cloud.deploy(*args, "--dry-run")
    assert dry.returncode == 0, dry.output
    assert commands(planned.stdout, "[plan] ") == commands(dry.stdout, "[dry-run] ")
    assert commands(planned.stdout, "[read] ") == commands(dry.stdout, "+ ")
