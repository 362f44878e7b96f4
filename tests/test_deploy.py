"""deploy.sh against fake gcloud and curl: the first deploy, its flags, IAM scope and secrecy,
and the options it takes; the body it prints for Okta."""

from __future__ import annotations

import re
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
    SA_EMAIL,
    SECRET_REFERENCE,
    FakeCloud,
    Run,
    changing,
    deploy_argv,
    env_file,
    everything_recorded,
    flag,
    ok,
    printed_body,
)
from tools.okta_inline_hook import BASIC_PLACEHOLDER

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
        "--concurrency", "8", "--min-instances", "1", "--max-instances", "10", "--clear-secrets",
        "--env-vars-file", flag(argv, "--env-vars-file"), "--update-labels", label, "--quiet",
    ]  # fmt: skip
    assert env_file(cloud) == {
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "WORKERS": "1",
        "THREADS": "8",
        "OKTA_HOOK_POLICY": "policies/ssr_and_progressive.toml",
        "OKTA_HOOK_BASIC_CREDENTIALS_SECRET": SECRET_REFERENCE,
    }


def test_the_env_vars_file_is_removed_after_the_run(first_run: Shared) -> None:
    cloud, _ = first_run
    assert not Path(flag(deploy_argv(cloud), "--env-vars-file")).exists()
    assert [p.name for p in cloud.base.iterdir() if p.name.startswith("deploy-hook.")] == []


def test_first_run_enables_the_apis_and_creates_account_and_secret(first_run: Shared) -> None:
    cloud, run = first_run
    assert changing(cloud.commands()) == [
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
    assert "Done: 6 change(s) made." in run.stdout
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


def test_workers_and_threads_follow_cpu_and_concurrency(cloud: FakeCloud) -> None:
    ok(cloud.deploy_basic("--cpu", "2", "--memory", "1Gi", "--concurrency", "10"))
    env = env_file(cloud)
    assert (env["WORKERS"], env["THREADS"]) == ("2", "5")
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


# --- what to tell Okta -------------------------------------------------------------------------


def test_basic_prints_an_http_channel_body_with_a_placeholder(first_run: Shared) -> None:
    cloud, run = first_run
    assert printed_body(run.stdout) == {
        "name": FUNCTION,
        "type": "com.okta.user.pre-registration",
        "version": "1.0.0",
        "channel": {
            "type": "HTTP",
            "version": "1.0.0",
            "config": {
                "uri": f"https://{FUNCTION}-x7k2q9-uc.a.run.app",
                "method": "POST",
                "authScheme": {
                    "type": "HEADER",
                    "key": "Authorization",
                    "value": BASIC_PLACEHOLDER,
                },
            },
        },
    }
    assert 'In "Use the following inline hook", choose "okta-registration-hook".' in run.stdout
    assert "Security > User Profile Policies" in run.stdout
