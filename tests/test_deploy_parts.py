"""The parts of tools/deploy on their own: options, the runner, the env-vars file, IAM retries."""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from pathlib import Path

import pytest

from tests.deploy_support import PROJECT, SA_EMAIL, FakeCloud
from tools.deploy.checks import check
from tools.deploy.function_env import env_file_text
from tools.deploy.options import Options, environment_variables, flag, parse
from tools.deploy.output import CommandFailed, Refused, cmdline
from tools.deploy.runner import Runner
from tools.deploy.stored_secrets import may_read, secrets_step
from tools.deploy.usage import USAGE

# --- options -----------------------------------------------------------------------------------


def test_an_option_wins_over_its_environment_variable_which_wins_over_the_default() -> None:
    env = {"DEPLOY_REGION": "europe-west1", "DEPLOY_MEMORY": "1Gi", "DEPLOY_CPU": ""}
    options = parse(["--memory=2Gi", "--project", PROJECT], env)
    assert options is not None
    assert (options.project, options.region, options.memory) == (PROJECT, "europe-west1", "2Gi")
    assert options.cpu == "1"  # an empty variable counts as unset


@pytest.mark.parametrize(
    ("value", "on"),
    [("1", True), ("true", True), ("yes", True), ("0", False), ("no", False), ("", False)],
)
def test_a_switch_in_the_environment(value: str, on: bool) -> None:
    options = parse([], {"DEPLOY_DRY_RUN": value})
    assert options is not None
    assert options.dry_run is on
    options = parse(["--dry-run"], {"DEPLOY_DRY_RUN": value})
    assert options is not None
    assert options.dry_run


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["--nope"], {}, "unknown option: --nope (see ./deploy.sh --help)"),
        (["--nope=1"], {}, "unknown option: --nope (see ./deploy.sh --help)"),
        (["stray"], {}, "unknown option: stray (see ./deploy.sh --help)"),
        (["--proj", "p"], {}, "unknown option: --proj (see ./deploy.sh --help)"),
        (["--project"], {}, "--project needs a value"),
        (["--dry-run=1"], {}, "--dry-run takes no value"),
        ([], {"DEPLOY_FORCE": "maybe"}, "DEPLOY_FORCE=maybe: use 1 or 0"),
    ],
)
def test_options_that_cannot_be_read(argv: list[str], env: dict[str, str], message: str) -> None:
    with pytest.raises(Refused) as refused:
        parse(argv, env)
    assert str(refused.value) == message


def test_help_is_asked_for() -> None:
    assert parse(["--project", PROJECT, "-h"], {}) is None
    assert parse(["--help"], {}) is None


def test_the_help_names_each_options_variable_in_its_entry() -> None:
    for option, variable in environment_variables().items():
        start = re.search(rf"^  {re.escape(option)}( |$)", USAGE, flags=re.MULTILINE)
        assert start is not None, option
        # An entry runs on over the lines indented further.
        end = re.compile(r"^(  \S|\S|$)", flags=re.MULTILINE).search(USAGE, start.end() + 1)
        assert end is not None
        assert f"[{variable}" in USAGE[start.start() : end.start()], option


def test_every_option_is_parsed_into_its_field() -> None:
    for field in dataclasses.fields(Options):
        if field.type == "bool":
            options = parse([flag(field.name)], {})
            assert options is not None
            assert getattr(options, field.name) is True
        elif field.metadata.get("repeat"):
            given = [flag(field.name), "one", flag(field.name), "two"]
            options = parse(given, {})
            assert options is not None
            assert getattr(options, field.name) == ("one", "two")
        else:
            options = parse([flag(field.name), "given value"], {})
            assert options is not None
            assert getattr(options, field.name) == "given value"


def test_the_defaults_complete_what_was_not_given() -> None:
    options = parse(["--project", PROJECT, "--function", "okta-registration-hook-staged-eu"], {})
    assert options is not None
    checked = check(options)
    # The service account id is the function name's first thirty characters, but a last hyphen.
    assert checked.service_account == "okta-registration-hook-staged"
    assert checked.okta_hook_name == "okta-registration-hook-staged-eu"
    assert (checked.workers, checked.concurrency) == (1, "80")
    assert dataclasses.replace(checked, cpu="4").workers == 4


# --- the env-vars file ---------------------------------------------------------------------------


def test_the_env_vars_file_quotes_each_value() -> None:
    text = env_file_text({"A": 'say "hi" \\ bye', "B": "é"})
    assert text == 'A: "say \\"hi\\" \\\\ bye"\nB: "é"\n'


def test_a_control_character_is_refused_by_name() -> None:
    with pytest.raises(Refused, match=r"^OKTA_HOOK_SCOPES holds a control character$"):
        env_file_text({"OKTA_HOOK_SCOPES": "a\tb"})


# --- the runner ---------------------------------------------------------------------------------


def test_a_command_is_printed_as_a_shell_would_read_it() -> None:
    argv = ["gcloud", "--format=value(x)", "it's", "", "a-b_c/d.e:f=g@h%i+j,k"]
    assert cmdline(argv) == "gcloud '--format=value(x)' 'it'\\''s' '' a-b_c/d.e:f=g@h%i+j,k"


def test_a_dry_run_prints_a_change_and_counts_it(capsys: pytest.CaptureFixture[str]) -> None:
    runner = Runner(dry_run=True, env={})
    assert runner.change(["false"]) is None
    assert runner.changes == 1
    assert capsys.readouterr().out == "[dry-run] false\n"


def test_a_failed_change_stops_with_its_status_and_is_not_counted() -> None:
    runner = Runner(dry_run=False, env={})
    argv = [sys.executable, "-c", "raise SystemExit(3)"]
    with pytest.raises(CommandFailed) as failed:
        runner.change(argv)
    assert failed.value.status == 3
    done = runner.change(argv, must=False)
    assert done is not None
    assert done.status == 3
    assert runner.changes == 0


def test_stdin_and_descriptor_3_reach_the_command_and_never_its_arguments(
    capsys: pytest.CaptureFixture[str],
) -> None:
    program = "import sys; print(sys.stdin.read() + '|' + open('/dev/fd/3').read())"
    runner = Runner(dry_run=False, env={})
    done = runner.change(
        [sys.executable, "-c", program], stdin=b"config-Zt4", body=b"body-Qm8", capture=True
    )
    assert done is not None
    assert done.text() == "config-Zt4|body-Qm8"
    printed = capsys.readouterr().out
    assert "config-Zt4" not in printed
    assert "body-Qm8" not in printed


def test_a_command_that_hangs_is_given_up(capsys: pytest.CaptureFixture[str]) -> None:
    runner = Runner(dry_run=False, env={})
    with pytest.raises(Refused, match=r"gave no answer within 0\.2 s"):
        runner.check([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.2)


def test_a_captured_value_is_never_in_a_repr() -> None:
    runner = Runner(dry_run=False, env={})
    done = runner.check([sys.executable, "-c", "print('secret-value-Hk2')"])
    assert done.text() == "secret-value-Hk2"
    assert "secret-value-Hk2" not in repr(done)


# --- secret access -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "granted"),
    [
        ({"bindings": [{"role": "roles/secretmanager.secretAccessor", "members": ["M"]}]}, True),
        ({"bindings": [{"role": "roles/secretmanager.admin", "members": ["M"]}]}, False),
        ({"bindings": [{"role": "roles/secretmanager.secretAccessor", "members": ["N"]}]}, False),
        ({"etag": "x"}, False),
        ([], False),
        ("not json", False),
    ],
)
def test_who_may_read_a_secret(policy: object, granted: bool) -> None:
    text = policy if isinstance(policy, str) else json.dumps(policy)
    assert may_read(text, "M") is granted


def _secrets_run(cloud: FakeCloud, sleeps: list[float], add_account_after: int) -> Runner:
    options = parse(["--project", PROJECT], {})
    assert options is not None
    runner = Runner(dry_run=False, env=cloud.env())

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == add_account_after:
            state = cloud.state()
            state["service_accounts"][SA_EMAIL] = {}
            cloud.gcloud_state.write_text(json.dumps(state))

    secret = {"OKTA_HOOK_BASIC_CREDENTIALS": ("hook-basic", "okta:pw-Yv3")}
    secrets_step(check(options), runner, secret, sleep=sleep)
    return runner


def test_a_service_account_iam_does_not_see_yet_is_granted_on_a_retry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud = FakeCloud(tmp_path)
    sleeps: list[float] = []
    runner = _secrets_run(cloud, sleeps, add_account_after=1)
    assert sleeps == [10]
    assert runner.changes == 3  # the secret, its version, the binding
    assert f"IAM does not see {SA_EMAIL} yet; retrying in 10 s" in capsys.readouterr().out
    assert cloud.state()["secrets"]["hook-basic"]["bindings"] == [
        {"role": "roles/secretmanager.secretAccessor", "members": [f"serviceAccount:{SA_EMAIL}"]}
    ]


def test_a_grant_that_keeps_failing_stops_the_deploy(tmp_path: Path) -> None:
    cloud = FakeCloud(tmp_path)
    sleeps: list[float] = []
    with pytest.raises(Refused, match=f"cannot grant {SA_EMAIL} access to secret hook-basic"):
        _secrets_run(cloud, sleeps, add_account_after=99)
    assert sleeps == [10, 10, 10, 10]
