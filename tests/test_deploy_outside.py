"""deploy.sh against fake gcloud: the monitoring resources of monitoring/ (created, then left
alone), read access to exactly the lists and secrets a policy names, the memory its lists need,
and --debug-context; each with the exact commands recorded."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.deploy_support import (
    APIS,
    PROJECT,
    SA_EMAIL,
    FakeCloud,
    Run,
    apart,
    changing,
    monitoring_creates,
    without_files,
)
from tools.monitoring import Options as MonitoringOptions
from tools.monitoring import resources

CHANNEL = f"projects/{PROJECT}/notificationChannels/4242"
OTHER_CHANNEL = f"projects/{PROJECT}/notificationChannels/7"
MEMBER = f"--member=serviceAccount:{SA_EMAIL}"
LIST = "gs://acme-hook-lists/partners.txt"
SECRET = f"projects/{PROJECT}/secrets/hr-token/versions/latest"
POLICY = f"""
[lists.partners]
source = "{LIST}"
kind = "domains"

[attributes.email]
type = "email"
required = ["registration"]
normalize = ["trim", "lower"]

[domains]
allowed = {{ list = "partners" }}

[attributes.employeeNumber]
type = "string"

[directory.hr]
url = "https://hr.acme.example/people/{{employeeNumber}}"
on = ["registration"]
when = {{ email_domain = ["acme.example"] }}
bearer_secret = "{SECRET}"
"""
CASES = """
[lists.partners]
entries = ["acme.example", "partner.example"]

[[case]]
name = "a partner"
request_type = "registration"
submitted = { email = "sam@partner.example" }
expect = "ALLOW"

[[case]]
name = "an employee the directory knows"
request_type = "registration"
submitted = { email = "ana@acme.example", employeeNumber = "E1" }
directory = { hr = { status = 200, body = { id = "E1" } } }
expect = "ALLOW"
"""
OBJECT_GRANT = [
    "storage", "buckets", "add-iam-policy-binding", "gs://acme-hook-lists", MEMBER,
    "--role=roles/storage.objectViewer",
    '--condition=expression=resource.name == "projects/_/buckets/acme-hook-lists/objects/'
    'partners.txt",title=okta-hook reads partners.txt',
]  # fmt: skip
SECRET_GRANT = [
    "secrets", "add-iam-policy-binding", "hr-token", f"--project={PROJECT}", MEMBER,
    "--role=roles/secretmanager.secretAccessor",
]  # fmt: skip


def ok(run: Run) -> Run:
    assert run.returncode == 0, run.output
    return run


def set_state(cloud: FakeCloud, **changes: Any) -> None:
    cloud.gcloud_state.write_text(json.dumps({**cloud.state(), **changes}))


# --- monitoring ----------------------------------------------------------------------------------


def test_a_first_deploy_creates_monitoring_and_a_second_leaves_it_alone(tmp_path: Path) -> None:
    cloud = FakeCloud(tmp_path)
    ok(cloud.deploy_basic())
    hook, monitoring = apart(changing(cloud.commands()))
    assert hook[0] == ["services", "enable", *APIS, "--project", PROJECT]
    assert monitoring == monitoring_creates()
    # Each resource is the file of monitoring/, as tools.monitoring renders it.
    sent = [c for c in cloud.gcloud_calls() if c["argv"][1:3] in (["logging", "metrics"], ["monitoring", "policies"], ["monitoring", "dashboards"]) and c["argv"][3] == "create"]  # fmt: skip
    wanted = [r.body for r in resources(MonitoringOptions(PROJECT, "okta-registration-hook"))]
    assert [json.loads(call["file"]) for call in sent] == wanted
    state = cloud.state()
    assert (len(state["log_metrics"]), len(state["alert_policies"]), len(state["dashboards"])) == (
        8, 3, 1,
    )  # fmt: skip
    cloud.forget_calls()
    second = ok(cloud.deploy_basic())
    assert changing(cloud.commands()) == []
    assert "monitoring: as in monitoring/ already" in second.stdout
    assert "Nothing changed: everything was already up to date." in second.stdout


def test_alerts_go_to_the_channels_given_and_the_no_requests_alert_is_added(
    tmp_path: Path,
) -> None:
    cloud = FakeCloud(tmp_path)
    ok(
        cloud.deploy_basic(
            "--notification-channel", CHANNEL, "--notification-channel", OTHER_CHANNEL,
            "--no-requests-hours", "6",
        )
    )  # fmt: skip
    policies = cloud.state()["alert_policies"].values()
    assert sorted(p["userLabels"]["okta-hook-alert"] for p in policies) == [
        "error-rate", "latency", "no-requests", "unavailable",
    ]  # fmt: skip
    assert all(p["notificationChannels"] == [CHANNEL, OTHER_CHANNEL] for p in policies)
    # The same channels from the environment: nothing to change.
    cloud.forget_calls()
    ok(
        cloud.deploy_basic(
            "--no-requests-hours", "6", DEPLOY_NOTIFICATION_CHANNELS=f"{CHANNEL}, {OTHER_CHANNEL}"
        )
    )
    assert changing(cloud.commands()) == []
    # A channel removed updates the alert policies, and nothing else.
    cloud.forget_calls()
    ok(cloud.deploy_basic("--notification-channel", CHANNEL, "--no-requests-hours", "6"))
    updated = [without_files(c)[:3] for c in changing(cloud.commands())]
    assert updated == [["monitoring", "policies", "update"]] * 4


def test_no_monitoring_creates_nothing_and_enables_neither_api(tmp_path: Path) -> None:
    cloud = FakeCloud(tmp_path)
    run = ok(cloud.deploy_basic("--no-monitoring"))
    hook, monitoring = apart(changing(cloud.commands()))
    assert monitoring == []
    assert hook[0] == ["services", "enable", *APIS[:-2], "--project", PROJECT]
    assert not [c for c in cloud.commands() if c[:1] in (["logging"], ["monitoring"])]
    assert "none: --no-monitoring" in run.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--notification-channel", "alerts@acme.example"), "--notification-channel 'alerts@acme.example' is not projects/PROJECT/notificationChannels/ID"),
        (("--no-requests-hours", "24"), "--no-requests-hours must be between 1 and 23"),
        (("--no-requests-hours", "six"), "--no-requests-hours six is not a whole number"),
    ],
)  # fmt: skip
def test_monitoring_options_are_refused_before_anything_runs(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    cloud = FakeCloud(tmp_path)
    run = cloud.deploy_basic(*args)
    assert run.returncode == 1
    assert f"deploy.sh: error: {message}" in run.stderr
    assert cloud.gcloud_calls() == []


def test_a_dry_run_lists_what_exists_and_plans_what_is_missing(tmp_path: Path) -> None:
    cloud = FakeCloud(tmp_path)
    run = ok(cloud.deploy_basic("--dry-run"))
    reads = [c for c in cloud.commands() if c[:1] in (["logging"], ["monitoring"])]
    assert reads == [
        ["logging", "metrics", "list", "--project", PROJECT, "--format=json"],
        ["monitoring", "policies", "list", "--project", PROJECT, "--format=json"],
        ["monitoring", "dashboards", "list", "--project", PROJECT, "--format=json"],
    ]
    planned = [line for line in run.stdout.splitlines() if line.startswith("[dry-run] gcloud mon")]
    assert len(planned) == 4  # three alert policies and the dashboard


# --- what the policy reads -----------------------------------------------------------------------


def lists_cloud(tmp_path: Path, *, uniform: bool = True, size: int = 1234) -> FakeCloud:
    cloud = FakeCloud(tmp_path)
    policy = cloud.checkout / "policies" / "partners.toml"
    policy.write_text(POLICY, "utf-8")
    policy.with_name("partners.cases.toml").write_text(CASES, "utf-8")
    set_state(
        cloud,
        buckets={"acme-hook-lists": {"uniform": uniform, "objects": {"partners.txt": size}}},
        secrets={"hr-token": {"labels": "", "versions": ["t0k3n"], "bindings": []}},
    )
    return cloud


def test_read_access_to_exactly_the_named_object_and_secret_before_the_function(
    tmp_path: Path,
) -> None:
    cloud = lists_cloud(tmp_path)
    run = ok(cloud.deploy_basic("--policy", "policies/partners.toml"))
    hook, _ = apart(changing(cloud.commands()))
    grants = [
        c for c in hook if "add-iam-policy-binding" in c and "hr-token" in c or c[:1] == ["storage"]
    ]
    assert grants == [OBJECT_GRANT, SECRET_GRANT]
    deploy = next(i for i, c in enumerate(hook) if c[:2] == ["functions", "deploy"])
    assert hook.index(OBJECT_GRANT) < deploy
    assert hook.index(SECRET_GRANT) < deploy
    state = cloud.state()
    assert state["buckets"]["acme-hook-lists"]["bindings"] == [
        {
            "role": "roles/storage.objectViewer",
            "members": [f"serviceAccount:{SA_EMAIL}"],
            "condition": {
                "expression": 'resource.name == "projects/_/buckets/acme-hook-lists/objects/'
                'partners.txt"',
                "title": "okta-hook reads partners.txt",
            },
        }
    ]
    assert state["secrets"]["hr-token"]["bindings"] == [
        {"role": "roles/secretmanager.secretAccessor", "members": [f"serviceAccount:{SA_EMAIL}"]}
    ]
    assert (
        "grant read of gs://acme-hook-lists/partners.txt: this object alone (IAM condition on "
        "its name)"
    ) in run.stdout
    cloud.forget_calls()
    again = ok(cloud.deploy_basic("--policy", "policies/partners.toml"))
    assert changing(cloud.commands()) == []
    assert f"{LIST}: {SA_EMAIL} may already read it" in again.stdout


def test_a_bucket_without_uniform_access_is_granted_whole_and_the_plan_says_so(
    tmp_path: Path,
) -> None:
    cloud = lists_cloud(tmp_path, uniform=False)
    run = ok(cloud.deploy_basic("--policy", "policies/partners.toml"))
    assert [
        "storage", "buckets", "add-iam-policy-binding", "gs://acme-hook-lists", MEMBER,
        "--role=roles/storage.objectViewer",
    ] in changing(cloud.commands())  # fmt: skip
    assert (
        "grant read of gs://acme-hook-lists/*: the whole bucket: uniform bucket-level access"
        in (run.stdout)
    )


def test_lists_larger_than_the_memory_allows_are_warned_of_with_the_size_to_give(
    tmp_path: Path,
) -> None:
    # A 26.7 MB list of domains is about 1,000,000 entries: 117 MiB held, 168 more at a refresh.
    cloud = lists_cloud(tmp_path, size=26_700_000)
    run = ok(cloud.deploy_basic("--policy", "policies/partners.toml"))
    warning = re.search(
        r"warning: the policy's lists need more memory than --memory 512Mi: .*", run.stdout
    )
    assert warning is not None
    assert "about 504 MiB while they are refreshed (WORKERS=1" in warning.group(0)
    assert warning.group(0).endswith("give --memory 1Gi")
    assert (
        "  list partners: 26.7 MB (measured), about 1,000,000 domains: 117 MiB held, 168 MiB more "
        "while a new version is read"
    ) in run.stdout
    assert ["storage", "objects", "describe", LIST, "--format=value(size)"] in cloud.commands()
    roomy = lists_cloud(tmp_path / "roomy", size=26_700_000)
    assert (
        "need more memory"
        not in ok(
            roomy.deploy_basic("--policy", "policies/partners.toml", "--memory", "1Gi")
        ).stdout
    )


# --- the function's environment --------------------------------------------------------------------


def test_debug_context_is_turned_on_in_the_functions_environment(tmp_path: Path) -> None:
    cloud = FakeCloud(tmp_path)
    ok(cloud.deploy_basic("--debug-context"))
    [call] = [c for c in cloud.gcloud_calls() if c["argv"][1:3] == ["functions", "deploy"]]
    assert 'OKTA_HOOK_DEBUG_CONTEXT: "true"\n' in call["env_vars_file"]
    cloud.forget_calls()
    ok(cloud.deploy_basic())  # without it, the setting goes: a redeploy
    [call] = [c for c in cloud.gcloud_calls() if c["argv"][1:3] == ["functions", "deploy"]]
    assert "OKTA_HOOK_DEBUG_CONTEXT" not in call["env_vars_file"]


def test_a_directory_timeout_past_the_functions_deadline_is_refused_before_anything_runs(
    tmp_path: Path,
) -> None:
    cloud = lists_cloud(tmp_path)
    policy = cloud.checkout / "policies" / "partners.toml"
    policy.write_text(POLICY + "timeout_seconds = 2.5\n", "utf-8")
    run = cloud.deploy_basic("--policy", "policies/partners.toml")
    assert run.returncode == 1
    assert (
        "deploy.sh: error: the policy cannot be used, and the function would refuse every "
        "request: [directory.hr] timeout_seconds 2.5 is not within the request's deadline of 2 s "
        "(OKTA_HOOK_DEADLINE_MS)"
    ) in run.stderr
    assert cloud.gcloud_calls() == []
