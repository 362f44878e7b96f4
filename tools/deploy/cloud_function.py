"""The function: deployed (2nd gen) only when its fingerprint label says something changed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tools.deploy.options import Options
from tools.deploy.output import CommandFailed, say, step
from tools.deploy.runner import Runner
from tools.deploy.upload import fingerprint

LABEL = "okta-hook-config"
# A first deploy builds the function: minutes, not seconds.
DEPLOY_SECONDS = 1800.0
# With --public-access no-invoker-iam-check: no allUsers binding; the check is turned off after.
NOT_PUBLIC = "--no-allow-unauthenticated"


@dataclass(frozen=True)
class Deployed:
    url: str
    redeployed: bool


def deploy_argv(o: Options) -> list[str]:
    """`gcloud functions deploy` with every flag but the environment and the label."""
    argv = [
        "gcloud", "functions", "deploy", o.function, "--gen2", "--project", o.project,
        "--region", o.region, "--runtime", o.runtime, "--source", ".",
        "--entry-point", "registration_hook", "--trigger-http",
        "--allow-unauthenticated" if o.public_access == "allusers" else NOT_PUBLIC,
        "--ingress-settings", "all", "--service-account", o.service_account_email,
        "--timeout", f"{o.timeout}s", "--memory", o.memory, "--cpu", o.cpu,
        "--concurrency", o.concurrency, "--min-instances", o.min_instances,
        "--max-instances", o.max_instances, "--clear-secrets",
    ]  # fmt: skip
    if o.build_service_account:
        service_account = f"projects/{o.project}/serviceAccounts/{o.build_service_account}"
        argv += ["--build-service-account", service_account]
    return argv


def function_step(
    o: Options, runner: Runner, env_file: Path, env_text: str, upload: Sequence[str] | None
) -> Deployed:
    step(f"Function {o.function} in {o.region}")
    say("environment (--env-vars-file; secrets are references, never values):")
    for line in env_text.splitlines():
        say(f"  {line}")
    deploy = deploy_argv(o)
    label = fingerprint(deploy, env_text, upload) if upload is not None else ""
    if runner.plan:
        say("(its label, a digest of the upload, these flags and this environment, is known when")
        say("gcloud lists the upload)")
        label = "<fingerprint>"
    where = ["--region", o.region, "--project", o.project]
    described = runner.check(
        ["gcloud", "functions", "describe", o.function, *where, f"--format=value(labels.{LABEL})"],
        quiet=True,
    )
    exists = described.ok
    redeployed = not (exists and label and described.text() == label and not o.force_deploy)
    if not redeployed:
        say(f"function {o.function}: already deployed with this source and these settings")
    else:
        if runner.dry_run:
            say("(--env-vars-file would be a temporary file holding the environment above)")
        runner.change(
            [*deploy, "--env-vars-file", str(env_file),
             "--update-labels", f"{LABEL}={label or 'unknown'}", "--quiet"],
            timeout=DEPLOY_SECONDS,
        )  # fmt: skip
    url = ""
    if not runner.dry_run or exists:
        described = runner.check(
            ["gcloud", "functions", "describe", o.function, *where,
             "--format=value(serviceConfig.uri)"]
        )  # fmt: skip
        if not described.ok:
            raise CommandFailed(described.status)
        url = described.text()
    if url:
        say(f"function URL: {url}")
    else:
        url = f"https://{o.region}-{o.project}.cloudfunctions.net/{o.function}"
        say(f"function URL (expected; known after the first deploy): {url}")
    return Deployed(url, redeployed)
