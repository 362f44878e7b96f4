"""deploy.sh run again: idempotency, rotation and the dry run."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.deploy_support import (
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
    everything_recorded,
    flag,
    ok,
    printed_body,
    refused,
)

Shared = tuple[FakeCloud, Run]


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
