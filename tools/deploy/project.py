"""The project: who acts in it, the APIs the hook needs, and the runtime service account."""

from __future__ import annotations

from tools.deploy.options import Options
from tools.deploy.output import Refused, say, step
from tools.deploy.runner import Runner

APIS = (
    "cloudfunctions.googleapis.com",
    "run.googleapis.com",
    "cloudbuild.googleapis.com",
    "artifactregistry.googleapis.com",
    "secretmanager.googleapis.com",
    "iam.googleapis.com",
)
# For the log-based metrics, alert policies and dashboard deploy creates (unless --no-monitoring).
MONITORING_APIS = ("logging.googleapis.com", "monitoring.googleapis.com")


def project_step(o: Options, runner: Runner, basic_secret: str | None) -> None:
    """`basic_secret`: a secret that must already hold a version, no new value being given."""
    step(f"Google Cloud project {o.project}")
    accounts = runner.check(
        ["gcloud", "auth", "list", "--filter=status:ACTIVE", "--format=value(account)"],
        quiet=True,
    )
    account = accounts.text() if accounts.ok else ""
    if runner.plan:
        account = "the account gcloud is logged in with (gcloud auth login)"
    elif not account:
        raise Refused("gcloud has no active account: run gcloud auth login")
    say(f"acting as {account}")
    if basic_secret is not None and not runner.plan:
        held = runner.check(
            ["gcloud", "secrets", "versions", "describe", "latest", "--secret", basic_secret,
             "--project", o.project, "--format=value(name)"],
            quiet=True,
        )  # fmt: skip
        if not held.ok:
            raise Refused(
                f"secret {basic_secret} holds no value yet: give one with --basic-credentials-file"
            )
    enabled = runner.check(
        ["gcloud", "services", "list", "--enabled", "--project", o.project,
         "--format=value(config.name)"]
    )  # fmt: skip
    if not enabled.ok and not runner.plan:
        question = f"does it exist, and may {account} use it?"
        raise Refused(f"cannot list the enabled APIs of {o.project} ({question})")
    wanted = APIS if o.no_monitoring else (*APIS, *MONITORING_APIS)
    missing = [api for api in wanted if api not in enabled.text().splitlines()]
    if missing:
        runner.change(["gcloud", "services", "enable", *missing, "--project", o.project])
    else:
        say("APIs: already enabled")
    described = runner.check(
        ["gcloud", "iam", "service-accounts", "describe", o.service_account_email,
         "--project", o.project, "--format=value(email)"],
        quiet=True,
    )  # fmt: skip
    if described.ok:
        say(f"service account {o.service_account_email}: exists")
    else:
        runner.change(
            ["gcloud", "iam", "service-accounts", "create", o.service_account, "--project",
             o.project, "--display-name", f"Okta registration hook ({o.function})"]
        )  # fmt: skip
