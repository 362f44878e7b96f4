"""deploy.sh against fake gcloud and curl: the first deploy's flags, IAM scope and secrecy, public
access, and the script itself and what it uploads."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy_support import (
    APIS,
    BASIC_SECRET,
    CREDENTIALS,
    FUNCTION,
    PASSWORD,
    PROJECT,
    REGION,
    ROOT,
    RUNTIME_DIRS,
    SA_EMAIL,
    SECRET_REFERENCE,
    FakeCloud,
    Run,
    apart,
    changing,
    deploy_argv,
    env_file,
    everything_recorded,
    flag,
    monitoring_creates,
    ok,
    refused,
)
from tools.deploy.options import Options, environment_variables
from tools.deploy.options import flag as option_flag

Shared = tuple[FakeCloud, Run]


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Shared:
    """One basic deploy to a new project, read by the tests that only look at what it did."""
    shared = FakeCloud(tmp_path_factory.mktemp("first-run"))
    return shared, ok(shared.deploy_basic())


# --- the first deploy ----------------------------------------------------------------------------


def test_first_run_deploys_gen2_with_the_documented_flags(first_run: Shared) -> None:
    cloud, _ = first_run
    argv = deploy_argv(cloud)
    label = flag(argv, "--update-labels")
    assert re.fullmatch(r"okta-hook-config=[0-9a-f]{40}", label)
    assert argv == [
        "functions", "deploy", FUNCTION, "--gen2", "--project", PROJECT, "--region", REGION,
        "--runtime", "python312", "--source", ".", "--entry-point", "registration_hook",
        "--trigger-http", "--allow-unauthenticated", "--ingress-settings", "all",
        "--service-account", SA_EMAIL, "--timeout", "5s", "--memory", "512Mi", "--cpu", "1",
        "--concurrency", "80", "--min-instances", "1", "--max-instances", "10", "--clear-secrets",
        "--env-vars-file", flag(argv, "--env-vars-file"), "--update-labels", label, "--quiet",
    ]  # fmt: skip
    assert env_file(cloud) == {
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "WORKERS": "1",
        "OKTA_HOOK_POLICY": "policies/ssr_and_progressive.toml",
        "OKTA_HOOK_BASIC_CREDENTIALS_SECRET": SECRET_REFERENCE,
    }


def test_the_env_vars_file_is_removed_after_the_run(first_run: Shared) -> None:
    cloud, _ = first_run
    assert not Path(flag(deploy_argv(cloud), "--env-vars-file")).exists()
    assert [p.name for p in cloud.base.iterdir() if p.name.startswith("deploy-hook.")] == []


def test_first_run_enables_the_apis_and_creates_account_and_secret(first_run: Shared) -> None:
    cloud, run = first_run
    hook, monitoring = apart(changing(cloud.commands()))
    assert monitoring == monitoring_creates()  # after the function: test_deploy_monitoring.py
    assert hook == [
        ["services", "enable", *APIS, "--project", PROJECT],
        ["iam", "service-accounts", "create", FUNCTION, "--project", PROJECT,
         "--display-name", f"Okta registration hook ({FUNCTION})"],
        ["secrets", "create", BASIC_SECRET, "--project", PROJECT,
         "--replication-policy", "automatic", "--labels", f"okta-hook={FUNCTION}"],
        ["secrets", "versions", "add", BASIC_SECRET, "--project", PROJECT, "--data-file=-"],
        ["secrets", "add-iam-policy-binding", BASIC_SECRET, "--project", PROJECT,
         "--member", f"serviceAccount:{SA_EMAIL}", "--role", "roles/secretmanager.secretAccessor",
         "--format=none"],
        deploy_argv(cloud),
    ]  # fmt: skip
    # The hook's 6, and monitoring/'s 12.
    assert "Done: 18 change(s) made." in run.stdout
    assert f"function URL: https://{FUNCTION}-x7k2q9-uc.a.run.app" in run.stdout


def test_the_service_account_is_looked_up_before_it_is_created(first_run: Shared) -> None:
    cloud, _ = first_run
    commands = cloud.commands()
    describe = ["iam", "service-accounts", "describe", SA_EMAIL, "--project", PROJECT,
                "--format=value(email)"]  # fmt: skip
    calls = [c for c in cloud.gcloud_calls() if c["argv"][1:] == describe]
    assert [c["status"] for c in calls] == [1]
    assert commands.index(describe) < commands.index(
        [
            "iam",
            "service-accounts",
            "create",
            FUNCTION,
            "--project",
            PROJECT,
            "--display-name",
            f"Okta registration hook ({FUNCTION})",
        ]  # fmt: skip
    )
    assert list(cloud.state()["service_accounts"]) == [SA_EMAIL]


def test_secret_access_is_granted_on_the_hook_secret_only(first_run: Shared) -> None:
    cloud, _ = first_run
    grants = [c for c in cloud.commands() if "add-iam-policy-binding" in c]
    assert grants == [
        ["secrets", "add-iam-policy-binding", BASIC_SECRET, "--project", PROJECT,
         "--member", f"serviceAccount:{SA_EMAIL}", "--role", "roles/secretmanager.secretAccessor",
         "--format=none"],
    ]  # fmt: skip
    state = cloud.state()
    assert "project_bindings" not in state
    assert state["secrets"][BASIC_SECRET]["bindings"] == [
        {"role": "roles/secretmanager.secretAccessor", "members": [f"serviceAccount:{SA_EMAIL}"]}
    ]


def test_the_secret_travels_on_stdin_only_and_is_never_shown(first_run: Shared) -> None:
    cloud, _ = first_run
    [added] = [c for c in cloud.gcloud_calls() if c["argv"][1:4] == ["secrets", "versions", "add"]]
    assert added["stdin"] == CREDENTIALS.rstrip("\n")
    assert cloud.state()["secrets"][BASIC_SECRET]["versions"] == [CREDENTIALS.rstrip("\n")]
    assert PASSWORD not in everything_recorded(cloud)


def test_the_secret_can_come_from_standard_input(cloud: FakeCloud) -> None:
    run = cloud.deploy(
        "--project", PROJECT, "--basic-credentials-file", "-", stdin="okta:from-stdin-pw9\n"
    )
    ok(run)
    assert cloud.state()["secrets"][BASIC_SECRET]["versions"] == ["okta:from-stdin-pw9"]
    assert "from-stdin-pw9" not in everything_recorded(cloud)


def test_a_relative_secret_path_is_read_from_where_deploy_was_started(cloud: FakeCloud) -> None:
    cloud.write("relative-basic.txt", "okta:relative-pw-T5\n")
    ok(cloud.deploy("--project", PROJECT, "--basic-credentials-file", "relative-basic.txt"))
    assert cloud.state()["secrets"][BASIC_SECRET]["versions"] == ["okta:relative-pw-T5"]


def test_workers_follow_cpu_and_concurrency_is_cloud_run_s(cloud: FakeCloud) -> None:
    ok(cloud.deploy_basic("--cpu", "2", "--memory", "1Gi", "--concurrency", "10"))
    env = env_file(cloud)
    # One worker (an event loop) per CPU; uvicorn workers have no threads to set.
    assert env["WORKERS"] == "2"
    assert "THREADS" not in env
    argv = deploy_argv(cloud)
    assert (flag(argv, "--cpu"), flag(argv, "--concurrency")) == ("2", "10")


def test_options_can_come_from_the_environment(cloud: FakeCloud) -> None:
    path = cloud.write("basic.txt", CREDENTIALS)
    ok(
        cloud.deploy(
            GOOGLE_CLOUD_PROJECT=PROJECT,
            DEPLOY_MIN_INSTANCES="0",
            DEPLOY_BASIC_CREDENTIALS_FILE=str(path),
            OKTA_HOOK_ALLOWED_EMAIL_DOMAINS="example.com,*.example.org",
        )
    )
    argv = deploy_argv(cloud)
    assert (flag(argv, "--project"), flag(argv, "--region")) == (PROJECT, "us-central1")
    assert flag(argv, "--min-instances") == "0"
    assert env_file(cloud)["OKTA_HOOK_ALLOWED_EMAIL_DOMAINS"] == "example.com,*.example.org"


def test_a_fractional_refresh_interval_is_deployed_as_the_function_accepts_it(
    cloud: FakeCloud,
) -> None:
    ok(cloud.deploy_basic("--secret-refresh-seconds", "0.5"))
    assert env_file(cloud)["OKTA_HOOK_SECRET_REFRESH_SECONDS"] == "0.5"


def test_a_secret_value_in_the_environment_is_ignored(cloud: FakeCloud) -> None:
    run = ok(cloud.deploy_basic(OKTA_HOOK_BASIC_CREDENTIALS="env:value-never-used-8k"))
    assert "note: OKTA_HOOK_BASIC_CREDENTIALS in the environment is ignored" in run.stdout
    assert cloud.state()["secrets"][BASIC_SECRET]["versions"] == [CREDENTIALS.rstrip("\n")]
    assert "value-never-used-8k" not in everything_recorded(cloud)


# --- public access where allUsers is forbidden --------------------------------------------------


def test_the_invoker_check_can_be_turned_off_instead_of_granting_all_users(
    cloud: FakeCloud,
) -> None:
    run = ok(cloud.deploy_basic("--public-access", "no-invoker-iam-check"))
    argv = deploy_argv(cloud)
    assert "--no-allow-unauthenticated" in argv
    assert "--allow-unauthenticated" not in argv
    hook, _ = apart(changing(cloud.commands()))  # monitoring/'s come after
    assert hook[-1] == [
        "run", "services", "update", FUNCTION, "--region", REGION, "--project", PROJECT,
        "--no-invoker-iam-check", "--quiet",
    ]  # fmt: skip
    annotations = cloud.state()["functions"][FUNCTION]["annotations"]
    assert annotations == {"run.googleapis.com/invoker-iam-disabled": "true"}
    assert "gcloud run services update --no-invoker-iam-check: available" in run.stdout
    cloud.forget_calls()
    run = ok(cloud.deploy_basic("--public-access", "no-invoker-iam-check"))
    assert changing(cloud.commands()) == []
    assert f"Cloud Run service {FUNCTION}: the invoker check is already off" in run.stdout


def test_a_gcloud_without_the_flag_stops_before_any_change(cloud: FakeCloud) -> None:
    state = cloud.state()
    state["old_gcloud"] = True
    cloud.gcloud_state.write_text(json.dumps(state))
    refused(
        cloud.deploy_basic("--public-access", "no-invoker-iam-check"),
        "this gcloud has no --no-invoker-iam-check (gcloud run services update): update it "
        "(gcloud components update), or use --public-access allusers",
    )
    assert changing(cloud.commands()) == []


# --- the script itself and what it uploads -----------------------------------------------------


def test_help_documents_every_option_and_environment_variable() -> None:
    done = subprocess.run(
        ["bash", str(ROOT / "deploy.sh"), "--help"], capture_output=True, text=True, check=True
    )
    # What the parser of tools/deploy accepts, and the variables it reads.
    options = {option_flag(f.name) for f in dataclasses.fields(Options)} | {"--help"}
    variables = set(environment_variables().values())
    variables |= {"PYTHON", "OKTA_ORG_URL", "OKTA_API_TOKEN"}
    assert len(options) > 30
    assert len(variables) > 25
    for word in sorted(options | variables):
        assert re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", done.stdout), word


def test_deploy_sh_is_shellcheck_clean() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (Debian/Ubuntu: apt-get install shellcheck)")
    done = subprocess.run(
        [shellcheck, "--severity=style", str(ROOT / "deploy.sh")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout


def test_gcloud_uploads_only_what_the_function_runs(tmp_path: Path) -> None:
    """The real gcloud, when installed, reading the real .gcloudignore (no network needed)."""
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        pytest.skip("gcloud is not installed")
    cloud = FakeCloud(tmp_path)  # a copy, with a stray secret file and the tests next to it
    (cloud.checkout / "basic-credentials.txt").write_text(CREDENTIALS)
    shutil.copytree(
        ROOT / "tests" / "samples", cloud.checkout / "tests" / "samples", dirs_exist_ok=True
    )
    (cloud.checkout / ".venv" / "lib").mkdir(parents=True)
    (cloud.checkout / "auth" / "__pycache__").mkdir(exist_ok=True)
    (cloud.checkout / "auth" / "__pycache__" / "basic.cpython-312.pyc").write_bytes(b"")
    env = {**os.environ, "CLOUDSDK_CONFIG": str(tmp_path / "gcloud-config")}
    env["CLOUDSDK_CORE_DISABLE_PROMPTS"] = "1"
    done = subprocess.run(
        [gcloud, "meta", "list-files-for-upload", "."],
        cwd=cloud.checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    uploaded = sorted(done.stdout.split())
    expected = sorted(
        str(p.relative_to(ROOT))
        for p in [ROOT / "main.py", ROOT / "requirements.txt"]
        + [
            p
            for d in RUNTIME_DIRS
            for p in (ROOT / d).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        ]
    )
    assert uploaded == expected
    # The fake gcloud, which the other tests use, reads .gcloudignore the same way.
    from tests.fake_gcloud import upload_list

    assert sorted(upload_list(cloud.checkout)) == expected
