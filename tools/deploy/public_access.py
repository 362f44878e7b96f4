"""How Okta reaches the function: Cloud Run's invoker check must let anyone in (the function
authenticates Okta itself). `allusers` grants roles/run.invoker to allUsers (gcloud's
--allow-unauthenticated); `no-invoker-iam-check` turns the check off on the function's Cloud Run
service instead, which an organization policy of domain-restricted sharing does not forbid."""

from __future__ import annotations

import json

from tools.deploy.options import Options
from tools.deploy.output import Refused, say, step
from tools.deploy.runner import Runner

FLAG = "invoker-iam-check"
# Cloud Run's annotation on a service whose invoker check is off.
DISABLED = "run.googleapis.com/invoker-iam-disabled"


def check_support(o: Options, runner: Runner) -> None:
    """Before anything changes: this gcloud can turn the invoker check off."""
    if o.public_access != "no-invoker-iam-check":
        return
    step("Checking that gcloud can turn off Cloud Run's invoker check")
    done = runner.check(["gcloud", "run", "services", "update", "--help"], quiet=True)
    if runner.plan:
        say("(--plan: the gcloud in use is asked when the deploy runs)")
    elif not done.ok or FLAG not in done.text():
        raise Refused(
            "this gcloud has no --no-invoker-iam-check (gcloud run services update): update it "
            "(gcloud components update), or use --public-access allusers"
        )
    else:
        say("gcloud run services update --no-invoker-iam-check: available")


def public_access_step(o: Options, runner: Runner) -> None:
    """After the deploy: the function's Cloud Run service (same name) skips the invoker check."""
    if o.public_access != "no-invoker-iam-check":
        return
    step(f"Public access to {o.function} without allUsers")
    where = ["--region", o.region, "--project", o.project]
    described = runner.check(
        ["gcloud", "run", "services", "describe", o.function, *where, "--format=json"], quiet=True
    )
    if described.ok and invoker_check_off(described.text()):
        say(f"Cloud Run service {o.function}: the invoker check is already off")
        return
    runner.change(
        ["gcloud", "run", "services", "update", o.function, *where, "--no-invoker-iam-check",
         "--quiet"]
    )  # fmt: skip


def invoker_check_off(service_json: str) -> bool:
    try:
        service = json.loads(service_json or "{}")
    except ValueError:
        return False
    metadata = service.get("metadata") if isinstance(service, dict) else None
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    return isinstance(annotations, dict) and annotations.get(DISABLED) == "true"
