"""deploy.sh against fake gcloud and curl: the flags, IAM scope, secrecy, dry run, idempotency."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.deploy_support import (
    APIS,
    BASIC_SECRET,
    CLIENT_SECRET,
    CREDENTIALS,
    FUNCTION,
    HOOK_CLIENT_ID,
    OKTA_ORG,
    OKTA_TOKEN,
    PASSWORD,
    PROJECT,
    REGION,
    ROOT,
    RUNTIME_DIRS,
    SA_EMAIL,
    FakeCloud,
    Run,
    apart,
    changing,
    flag,
    hook_target,
    monitoring_creates,
    okta_calls,
    okta_hook_token,
)
from tests.jwt_support import public_jwk
from tests.server_support import Served
from tools.deploy.options import Options, environment_variables
from tools.deploy.options import flag as option_flag
from tools.okta_inline_hook import BASIC_PLACEHOLDER

ISSUER = "https://example.okta.com/oauth2/default"
OAUTH = ("--auth", "oauth-client-secret", "--issuer", ISSUER, "--client-id", HOOK_CLIENT_ID)
OKTA_ENV = {"OKTA_ORG_URL": OKTA_ORG, "OKTA_API_TOKEN": OKTA_TOKEN}
SECRET_REFERENCE = f"projects/{PROJECT}/secrets/{BASIC_SECRET}/versions/latest"
Shared = tuple[FakeCloud, Run]


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with hook_target(tmp_path_factory.mktemp("hook-target")) as served:
        yield served


@pytest.fixture
def cloud(tmp_path: Path, target: Served) -> FakeCloud:
    """A new project and org; Okta's execute reaches the function served on loopback."""
    made = FakeCloud(tmp_path)
    made.execute_url = target.url
    made.execute_bearer = okta_hook_token()
    return made


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Shared:
    """One basic deploy to a new project, read by the tests that only look at what it did."""
    shared = FakeCloud(tmp_path_factory.mktemp("first-run"))
    return shared, ok(shared.deploy_basic())


def ok(run: Run) -> Run:
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


# --- idempotency and rotation ------------------------------------------------------------------


def test_a_second_run_changes_nothing_and_says_so(cloud: FakeCloud) -> None:
    ok(cloud.deploy_basic())
    state = cloud.state()
    cloud.forget_calls()
    run = ok(cloud.deploy_basic())
    assert changing(cloud.commands()) == []
    assert cloud.state() == state
    assert "APIs: already enabled" in run.stdout
    assert f"service account {SA_EMAIL}: exists" in run.stdout
    assert f"secret {BASIC_SECRET}: the latest version already holds this value" in run.stdout
    assert f"function {FUNCTION}: already deployed with this source and these settings" in (
        run.stdout
    )
    assert run.stdout.rstrip().endswith("Nothing changed: everything was already up to date.")


def test_a_new_secret_value_adds_a_version_and_does_not_redeploy(cloud: FakeCloud) -> None:
    ok(cloud.deploy_basic())
    cloud.forget_calls()
    rotated = CREDENTIALS + "okta:next-pw-R2d4\n"
    run = ok(cloud.deploy_basic(credentials=rotated))
    assert changing(cloud.commands()) == [
        ["secrets", "versions", "add", BASIC_SECRET, "--project", PROJECT, "--data-file=-"]
    ]
    assert cloud.state()["secrets"][BASIC_SECRET]["versions"][-1] == rotated.rstrip("\n")
    assert "Done: 1 change(s) made." in run.stdout
    assert "next-pw-R2d4" not in everything_recorded(cloud)


def test_a_later_run_may_leave_out_the_stored_secret(cloud: FakeCloud) -> None:
    ok(cloud.deploy_basic())
    cloud.forget_calls()
    run = ok(cloud.deploy("--project", PROJECT, "--region", REGION))
    assert changing(cloud.commands()) == []
    assert f"secret {BASIC_SECRET}: no new value given; the latest version stays" in run.stdout


def test_a_changed_setting_redeploys(cloud: FakeCloud) -> None:
    ok(cloud.deploy_basic())
    first_label = flag(deploy_argv(cloud), "--update-labels")
    cloud.forget_calls()
    ok(cloud.deploy_basic("--min-instances", "2"))
    assert [c[:2] for c in changing(cloud.commands())] == [["functions", "deploy"]]
    assert flag(deploy_argv(cloud), "--update-labels") != first_label


def test_a_changed_source_file_redeploys(cloud: FakeCloud) -> None:
    ok(cloud.deploy_basic())
    cloud.forget_calls()
    policy = cloud.checkout / "policies" / "ssr_and_progressive.toml"
    policy.write_text(policy.read_text() + "\n# edited\n")
    ok(cloud.deploy_basic())
    assert [c[:2] for c in changing(cloud.commands())] == [["functions", "deploy"]]


def test_force_deploy_deploys_an_unchanged_function(cloud: FakeCloud) -> None:
    ok(cloud.deploy_basic())
    cloud.forget_calls()
    ok(cloud.deploy_basic("--force-deploy"))
    assert [c[:2] for c in changing(cloud.commands())] == [["functions", "deploy"]]


def test_without_the_upload_list_every_run_deploys(cloud: FakeCloud) -> None:
    state = cloud.state()
    state["meta_missing"] = True
    cloud.gcloud_state.write_text(json.dumps(state))
    run = ok(cloud.deploy_basic())
    assert "gcloud cannot list the upload; the function will be deployed on every run" in run.stdout
    assert flag(deploy_argv(cloud), "--update-labels") == "okta-hook-config=unknown"
    cloud.forget_calls()
    ok(cloud.deploy_basic())
    assert [c[:2] for c in changing(cloud.commands())] == [["functions", "deploy"]]


# --- public access where allUsers is forbidden --------------------------------------------------


def test_the_invoker_check_can_be_turned_off_instead_of_granting_all_users(
    cloud: FakeCloud,
) -> None:
    run = ok(cloud.deploy_basic("--public-access", "no-invoker-iam-check"))
    argv = deploy_argv(cloud)
    assert "--no-allow-unauthenticated" in argv and "--allow-unauthenticated" not in argv
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


# --- dry run -----------------------------------------------------------------------------------


def _without_temp_paths(line: str) -> str:
    return re.sub(r"\S*/deploy-hook\.\w+/", "<tmp>/", line)


def test_dry_run_prints_every_change_and_makes_none(cloud: FakeCloud, tmp_path: Path) -> None:
    before = cloud.state()
    dry = ok(cloud.deploy_basic("--dry-run"))
    assert changing(cloud.commands()) == []
    assert cloud.state() == before
    assert dry.stdout.rstrip().endswith("Dry run: 18 change(s) would be made; nothing was changed.")
    planned = [
        _without_temp_paths(line.removeprefix("[dry-run] "))
        for line in dry.stdout.splitlines()
        if line.startswith("[dry-run] ")
    ]
    # The real run, on a fresh project, runs exactly the commands the dry run printed.
    real_cloud = FakeCloud(tmp_path / "real")
    real = ok(real_cloud.deploy_basic())
    done = [
        _without_temp_paths(line.removeprefix("+ "))
        for line in real.stdout.splitlines()
        if line.startswith("+ gcloud ") and _is_change(line)
    ]
    assert planned == done
    assert len(planned) == 18  # the hook's 6, then monitoring/'s 12
    assert planned[0].startswith("gcloud services enable cloudfunctions.googleapis.com")
    assert planned[5].startswith(f"gcloud functions deploy {FUNCTION} --gen2 ")
    assert planned[-1].startswith(f"gcloud monitoring dashboards create --project {PROJECT} ")


def _is_change(line: str) -> bool:
    argv = line.removeprefix("+ gcloud ").split()
    return bool(changing([argv]))


def test_dry_run_shows_the_environment_and_the_expected_url(cloud: FakeCloud) -> None:
    run = ok(cloud.deploy_basic("--dry-run"))
    assert f'  OKTA_HOOK_BASIC_CREDENTIALS_SECRET: "{SECRET_REFERENCE}"' in run.stdout
    expected = f"https://{REGION}-{PROJECT}.cloudfunctions.net/{FUNCTION}"
    assert f"function URL (expected; known after the first deploy): {expected}" in run.stdout
    assert printed_body(run.stdout)["channel"]["config"]["uri"] == expected
    assert PASSWORD not in everything_recorded(cloud)


def test_dry_run_can_be_asked_for_in_the_environment(cloud: FakeCloud) -> None:
    run = ok(cloud.deploy_basic(DEPLOY_DRY_RUN="true"))
    assert changing(cloud.commands()) == []
    assert "Dry run: 18 change(s) would be made; nothing was changed." in run.stdout


def test_a_switch_that_is_neither_on_nor_off_is_refused(cloud: FakeCloud) -> None:
    refused(cloud.deploy_basic(DEPLOY_DRY_RUN="maybe"), "DEPLOY_DRY_RUN=maybe: use 1 or 0")
    assert cloud.gcloud_calls() == []


def test_dry_run_after_a_deploy_plans_nothing(cloud: FakeCloud) -> None:
    ok(cloud.deploy_basic())
    run = ok(cloud.deploy_basic("--dry-run"))
    assert "[dry-run]" not in run.stdout
    assert "Dry run: 0 change(s) would be made; nothing was changed." in run.stdout


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
    # The Okta set-up the default policy needs, derived from it.
    assert '    Inline hook: "okta-registration-hook"' in run.stdout
    assert "    Run this hook: Both" in run.stdout
    assert "  Security > User Profile Policies > the policy of your app > Enrollment:" in run.stdout
    assert "    employeeNumber (Employee number): Required, add it; asked at sign-up" in run.stdout
    assert (
        "  Directory > Profile Editor > User (default): User permission Read-Write for: "
        "employeeNumber"
    ) in run.stdout


def test_oauth_client_secret_sets_the_token_checks_and_no_secret(cloud: FakeCloud) -> None:
    run = ok(cloud.deploy("--project", PROJECT, *OAUTH, "--scopes", "hooks.registration"))
    assert env_file(cloud) == {
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "WORKERS": "1",
        "THREADS": "8",
        "OKTA_HOOK_POLICY": "policies/ssr_and_progressive.toml",
        "OKTA_HOOK_ISSUER": ISSUER,
        "OKTA_HOOK_AUDIENCE": "api://default",
        "OKTA_HOOK_SCOPES": "hooks.registration",
        "OKTA_HOOK_CLIENT_IDS": "0oa1hook",
        "OKTA_HOOK_JWKS_URI": f"{ISSUER}/v1/keys",
    }
    assert cloud.state()["secrets"] == {}
    assert [c for c in cloud.commands() if c[0] == "secrets"] == []
    assert printed_body(run.stdout)["channel"] == {
        "type": "OAUTH",
        "version": "1.0.0",
        "config": {
            "uri": f"https://{FUNCTION}-x7k2q9-uc.a.run.app",
            "method": "POST",
            "authType": "client_secret_post",
            "clientId": "0oa1hook",
            "tokenUrl": f"{ISSUER}/v1/token",
            "scope": "hooks.registration",
            "clientSecret": "<set in Okta: the client secret of the Okta app 0oa1hook>",
        },
    }


def test_oauth_private_key_prints_the_hook_key_id(cloud: FakeCloud) -> None:
    run = ok(
        cloud.deploy(
            "--project",
            PROJECT,
            "--auth",
            "oauth-private-key",
            "--issuer",
            ISSUER + "/",
            "--client-id",
            "0oa2key,0oa3old",
            "--scopes",
            "hooks.registration  hooks.other",
            "--hook-key-id",
            "HKY1key",
            "--audience",
            "api://hooks",
            "--token-url",
            "https://example.okta.com/oauth2/default/v1/token",
        )  # fmt: skip
    )
    env = env_file(cloud)
    assert (env["OKTA_HOOK_ISSUER"], env["OKTA_HOOK_AUDIENCE"]) == (ISSUER, "api://hooks")
    assert (env["OKTA_HOOK_SCOPES"], env["OKTA_HOOK_CLIENT_IDS"]) == (
        "hooks.registration hooks.other",
        "0oa2key,0oa3old",
    )
    config = printed_body(run.stdout)["channel"]["config"]
    assert config == {
        "uri": f"https://{FUNCTION}-x7k2q9-uc.a.run.app",
        "method": "POST",
        "authType": "private_key_jwt",
        "clientId": "0oa2key",
        "tokenUrl": f"{ISSUER}/v1/token",
        "scope": "hooks.registration hooks.other",
        "hookKeyId": "HKY1key",
    }


def test_a_pinned_jwks_is_a_secret_with_its_own_binding(cloud: FakeCloud) -> None:
    # A key the function can use: deploy reads the set with the function's own parser.
    key = public_jwk("pinned", "k1")
    jwks = json.dumps({"keys": [key]})
    path = cloud.write("jwks.json", jwks)
    run = ok(cloud.deploy("--project", PROJECT, *OAUTH, "--scopes", "s", "--jwks-file", str(path)))
    assert (
        "warning: a pinned key set (--jwks-file) stops working at the authorization server's next"
        in run.stdout
    )
    assert "Signing Key Rotation: Manual" in run.stdout
    env = env_file(cloud)
    assert "OKTA_HOOK_JWKS_URI" not in env
    assert env["OKTA_HOOK_JWKS_SECRET"] == (
        f"projects/{PROJECT}/secrets/{FUNCTION}-jwks/versions/latest"
    )
    secret = cloud.state()["secrets"][f"{FUNCTION}-jwks"]
    assert secret["versions"] == [jwks]
    assert secret["bindings"][0]["members"] == [f"serviceAccount:{SA_EMAIL}"]
    assert key["n"] not in everything_recorded(cloud)


# --- creating the hook in Okta -----------------------------------------------------------------


def test_create_okta_hook_sends_the_real_header_to_okta_only(cloud: FakeCloud) -> None:
    run = ok(cloud.deploy_basic("--create-okta-hook", **OKTA_ENV))
    [hook] = cloud.okta()["hooks"]
    assert hook["name"] == FUNCTION
    assert hook["channel"]["config"]["uri"] == f"https://{FUNCTION}-x7k2q9-uc.a.run.app"
    expected = "Basic " + base64.b64encode(CREDENTIALS.strip().encode()).decode()
    assert hook["channel"]["config"]["authScheme"] == {
        "type": "HEADER",
        "key": "Authorization",
        "value": expected,
    }
    assert "created in Okta" in run.stdout
    calls = cloud.curl_calls()
    assert okta_calls(cloud) == [
        "GET /api/v1/inlineHooks?type=com.okta.user.pre-registration",
        "POST /api/v1/inlineHooks",
        "POST /api/v1/inlineHooks/cal00000000000000001/execute",
        "POST /api/v1/inlineHooks/cal00000000000000001/execute",
    ]
    for call in calls:
        assert call["config"] == f'header = "Authorization: SSWS {OKTA_TOKEN}"\n'
    recorded = everything_recorded(cloud)
    for secret in (OKTA_TOKEN, PASSWORD, expected.split()[1]):
        assert secret not in recorded


def test_the_stored_credentials_are_sent_to_okta_when_no_file_is_given(cloud: FakeCloud) -> None:
    ok(cloud.deploy_basic())
    run = ok(
        cloud.deploy("--project", PROJECT, "--region", REGION, "--create-okta-hook", **OKTA_ENV)
    )
    [hook] = cloud.okta()["hooks"]
    expected = "Basic " + base64.b64encode(CREDENTIALS.strip().encode()).decode()
    assert hook["channel"]["config"]["authScheme"]["value"] == expected
    assert "created in Okta" in run.stdout
    assert PASSWORD not in everything_recorded(cloud)
    assert expected.split()[1] not in everything_recorded(cloud)


def test_create_okta_hook_twice_leaves_okta_alone(cloud: FakeCloud) -> None:
    ok(cloud.deploy_basic("--create-okta-hook", **OKTA_ENV))
    okta = cloud.okta()
    cloud.forget_calls()
    run = ok(cloud.deploy_basic("--create-okta-hook", **OKTA_ENV))
    assert [c for c in okta_calls(cloud) if not c.endswith("/execute")] == [
        "GET /api/v1/inlineHooks?type=com.okta.user.pre-registration"
    ]
    assert cloud.okta() == okta
    assert "already current in Okta (id cal00000000000000001)" in run.stdout
    assert "Nothing changed: everything was already up to date." in run.stdout


def test_a_hook_that_differs_is_replaced(cloud: FakeCloud) -> None:
    ok(cloud.deploy_basic("--create-okta-hook", **OKTA_ENV))
    okta = cloud.okta()
    okta["hooks"][0]["channel"]["config"]["uri"] = "https://old.example.com/hook"
    cloud.okta_state.write_text(json.dumps(okta))
    cloud.forget_calls()
    run = ok(cloud.deploy_basic("--create-okta-hook", **OKTA_ENV))
    [put] = [c for c in cloud.curl_calls() if "PUT" in c["argv"]]
    assert put["argv"][-1] == f"{OKTA_ORG}/api/v1/inlineHooks/cal00000000000000001"
    [hook] = cloud.okta()["hooks"]
    assert hook["channel"]["config"]["uri"] == f"https://{FUNCTION}-x7k2q9-uc.a.run.app"
    assert "updated in Okta (id cal00000000000000001)" in run.stdout


def test_okta_is_not_switched_to_credentials_instances_may_not_have(cloud: FakeCloud) -> None:
    ok(cloud.deploy_basic("--create-okta-hook", **OKTA_ENV))
    rotated = CREDENTIALS + "okta:next-pw-R2d4\n"
    cloud.forget_calls()
    run = ok(cloud.deploy_basic("--create-okta-hook", credentials=rotated, **OKTA_ENV))
    assert [c for c in okta_calls(cloud) if not c.endswith("/execute")] == [
        "GET /api/v1/inlineHooks?type=com.okta.user.pre-registration"
    ]
    assert "not updated: the credentials changed in this run" in run.stdout
    cloud.forget_calls()
    run = ok(
        cloud.deploy_basic(
            "--create-okta-hook", "--force-okta-update", credentials=rotated, **OKTA_ENV
        )
    )
    [hook] = cloud.okta()["hooks"]
    newest = "Basic " + base64.b64encode(b"okta:next-pw-R2d4").decode()
    assert hook["channel"]["config"]["authScheme"]["value"] == newest
    assert "next-pw-R2d4" not in everything_recorded(cloud)


def test_create_okta_hook_with_oauth_client_secret(cloud: FakeCloud) -> None:
    path = cloud.write("client-secret.txt", CLIENT_SECRET + "\n")
    args = ("--project", PROJECT, *OAUTH, "--scopes", "hooks.registration")
    run = ok(
        cloud.deploy(
            *args, "--okta-client-secret-file", str(path), "--create-okta-hook", **OKTA_ENV
        )
    )
    [hook] = cloud.okta()["hooks"]
    assert hook["channel"]["type"] == "OAUTH"
    assert hook["channel"]["config"]["clientSecret"] == CLIENT_SECRET
    assert CLIENT_SECRET not in everything_recorded(cloud)
    assert "created in Okta" in run.stdout


def test_dry_run_with_create_okta_hook_only_reads_okta(cloud: FakeCloud) -> None:
    run = ok(cloud.deploy_basic("--dry-run", "--create-okta-hook", **OKTA_ENV))
    assert okta_calls(cloud) == ["GET /api/v1/inlineHooks?type=com.okta.user.pre-registration"]
    assert cloud.okta().get("hooks", []) == []
    assert "[dry-run] curl " in run.stdout
    assert "--request POST" in run.stdout
    assert PASSWORD not in everything_recorded(cloud)


def test_okta_refusing_the_token_is_reported_without_it(cloud: FakeCloud) -> None:
    env = {**OKTA_ENV, "OKTA_API_TOKEN": "00wrong-token-Jx3"}
    refused(
        cloud.deploy_basic("--create-okta-hook", **env),
        "Okta answered HTTP 401 to the list of inline hooks: Invalid token provided",
    )
    assert "00wrong-token-Jx3" not in everything_recorded(cloud)


# --- stops before changing anything ----------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "no project: pass --project ID (or set GOOGLE_CLOUD_PROJECT)"),
        (("--project", "Bad_Project"), "--project Bad_Project is not a project id"),
        (
            ("--project", PROJECT, "--auth", "saml"),
            "--auth saml is not one of: basic, oauth-client-secret, oauth-private-key",
        ),
        (
            ("--project", PROJECT, "--auth", "oauth-client-secret", "--scopes", "s"),
            "--auth oauth-client-secret needs --issuer (the Okta authorization server)",
        ),
        (
            ("--project", PROJECT, *OAUTH),
            "--auth oauth-client-secret needs --scopes (the custom scope Okta requests)",
        ),
        (
            (
                "--project",
                PROJECT,
                "--auth",
                "oauth-private-key",
                "--issuer",
                ISSUER,
                "--scopes",
                "s",
            ),  # fmt: skip
            "--auth oauth-private-key needs --client-id (the Okta app's client id)",
        ),
        (
            (
                "--project",
                PROJECT,
                "--auth",
                "oauth-client-secret",
                "--issuer",
                "http://x.test",
                "--scopes",
                "s",
                "--client-id",
                "c",
            ),  # fmt: skip
            "--issuer http://x.test is not an https:// URL",
        ),
        (
            ("--project", PROJECT, "--issuer", ISSUER),
            "--issuer does not apply to --auth basic (only to: oauth-client-secret "
            "oauth-private-key)",
        ),
        (
            ("--project", PROJECT, *OAUTH, "--scopes", "s", "--hook-key-id", "HKY1"),
            "--hook-key-id does not apply to --auth oauth-client-secret "
            "(only to: oauth-private-key)",
        ),
        (
            ("--project", PROJECT, "--basic-credentials-file", "/nonexistent/basic.txt"),
            "--basic-credentials-file /nonexistent/basic.txt: no such readable file",
        ),
        (
            ("--project", PROJECT, "--create-okta-hook"),
            "--create-okta-hook needs OKTA_ORG_URL (https://example.okta.com)",
        ),
        (
            (
                "--project",
                PROJECT,
                "--auth",
                "oauth-private-key",
                "--issuer",
                ISSUER,
                "--scopes",
                "s",
                "--client-id",
                "c",
                "--create-okta-hook",
            ),  # fmt: skip
            "--create-okta-hook needs OKTA_ORG_URL (https://example.okta.com)",
        ),
        (
            ("--project", PROJECT, "--runtime", "python310"),
            "--runtime python310: the hook needs python311 or newer",
        ),  # fmt: skip
        (
            ("--project", PROJECT, "--cpu", "0.5"),
            "--concurrency above 1 needs --cpu 1 or more",
        ),
        (
            ("--project", PROJECT, "--timeout", "300"),
            "--timeout 300: Okta waits 3 seconds; use at most 60",
        ),  # fmt: skip
        (("--project", PROJECT, "--memory", "lots"), "--memory lots is not a size like 512Mi"),
        (
            ("--project", PROJECT, *OAUTH, "--scopes", "s", "--leeway-seconds", "301"),
            "the settings cannot be used, and the function would refuse every request: "
            "OKTA_HOOK_LEEWAY_SECONDS must be between 0 and 300",
        ),
        (("--project", PROJECT, "--nope"), "unknown option: --nope (see ./deploy.sh --help)"),
        (
            ("--project", PROJECT, "--public-access", "public"),
            "--public-access public is not one of: allusers, no-invoker-iam-check",
        ),
        (
            ("--project", PROJECT, *OAUTH, "--scopes", "hooks.registration okta.hook"),
            "--scopes okta.hook: Okta refuses a custom scope whose name starts with okta. (the "
            "prefix of its own API scopes); name it e.g. hooks.registration",
        ),
        (
            ("--project", PROJECT, "--auth", "hmac"),
            "--auth hmac: Okta signs hook tokens with RS256: the HMAC mode "
            "(OKTA_HOOK_JWT_HMAC_SECRET) is for local tests only, and deploy.sh does not deploy it",
        ),
        (("--project",), "--project needs a value"),
        (
            ("--project", PROJECT, "--policy", "/etc/passwd"),
            "--policy /etc/passwd must be a path inside the checkout",
        ),  # fmt: skip
        (
            ("--project", PROJECT, "--policy", "policies/none.toml"),
            "--policy policies/none.toml: no such file in the checkout",
        ),  # fmt: skip
    ],
)
def test_bad_input_stops_before_any_gcloud_call(
    cloud: FakeCloud, args: tuple[str, ...], message: str
) -> None:
    refused(cloud.deploy(*args), message)
    assert cloud.gcloud_calls() == []


@pytest.mark.parametrize("form", ["", "_SECRET", "_FILE"])
def test_the_hmac_mode_is_refused_in_any_form(cloud: FakeCloud, form: str) -> None:
    run = cloud.deploy_basic(**{f"OKTA_HOOK_JWT_HMAC_SECRET{form}": "x" * 40})
    refused(run, f"OKTA_HOOK_JWT_HMAC_SECRET{form} is set: Okta signs hook tokens with RS256")
    assert "x" * 40 not in run.output
    assert cloud.gcloud_calls() == []


def test_private_key_hook_needs_its_key_id_to_be_created(cloud: FakeCloud) -> None:
    args = ("--auth", "oauth-private-key", "--issuer", ISSUER, "--scopes", "s", "--client-id", "c")
    refused(
        cloud.deploy("--project", PROJECT, *args, "--create-okta-hook", **OKTA_ENV),
        "--create-okta-hook with --auth oauth-private-key needs --hook-key-id",
    )


def test_a_broken_policy_is_named_and_nothing_is_deployed(cloud: FakeCloud) -> None:
    (cloud.checkout / "policies" / "broken.toml").write_text("[domains\nallowed = 1\n")
    run = cloud.deploy_basic("--policy", "policies/broken.toml")
    refused(run, "the policy cannot be used, and the function would refuse every request: ")
    assert "policies/broken.toml:1: not valid TOML" in run.stderr
    assert cloud.gcloud_calls() == []


def test_a_policy_with_an_unknown_key_is_refused(cloud: FakeCloud) -> None:
    (cloud.checkout / "policies" / "typo.toml").write_text('[domain]\nallowed = ["a.com"]\n')
    run = cloud.deploy_basic("--policy", "policies/typo.toml")
    refused(run, "the policy cannot be used")
    assert "unknown key 'domain'" in run.stderr


def test_bad_allowed_domains_are_refused(cloud: FakeCloud) -> None:
    run = cloud.deploy_basic("--allowed-email-domains", "example.com,not a domain")
    refused(run, "the policy cannot be used")
    assert "'not a domain' is not a domain name" in run.stderr


def test_malformed_credentials_name_the_line_not_the_content(cloud: FakeCloud) -> None:
    run = cloud.deploy_basic(credentials=f"okta:{PASSWORD}\n{PASSWORD}-no-colon\n")
    refused(run, "--basic-credentials-file: line 2 is not user:password")
    assert PASSWORD not in run.output
    assert cloud.gcloud_calls() == []


def test_an_empty_secret_file_is_refused(cloud: FakeCloud) -> None:
    refused(cloud.deploy_basic(credentials="\n  \n"), "--basic-credentials-file ")
    assert "the file is empty" in cloud.runs[-1].stderr


def test_basic_without_credentials_needs_a_stored_secret(cloud: FakeCloud) -> None:
    run = cloud.deploy("--project", PROJECT)
    refused(
        run,
        f"secret {BASIC_SECRET} holds no value yet: give one with --basic-credentials-file",
    )
    assert changing(cloud.commands()) == []


def test_a_package_left_out_of_the_upload_stops_the_deploy(cloud: FakeCloud) -> None:
    (cloud.checkout / "extra").mkdir()
    (cloud.checkout / "extra" / "__init__.py").write_text("")
    refused(
        cloud.deploy_basic(),
        "package extra/ would not be uploaded: add !/extra/ to .gcloudignore",
    )
    assert changing(cloud.commands()) == []


def test_without_a_gcloud_account_nothing_happens(cloud: FakeCloud) -> None:
    state = cloud.state()
    state["account"] = ""
    cloud.gcloud_state.write_text(json.dumps(state))
    refused(cloud.deploy_basic(), "gcloud has no active account: run gcloud auth login")
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
    assert len(options) > 30 and len(variables) > 25
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
