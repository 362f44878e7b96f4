"""What the policy reads from outside it: read access for the function's service account to
exactly the list objects and secrets the policy names (tools/outside_data_iam.py), each grant
made only when the IAM policy lacks it; and the memory the lists need (tools/deploy/list_memory).
Before the function is deployed: a new revision reads its lists at cold start."""

from __future__ import annotations

from lists.cloud_storage import parse_location
from policy.loader import Policy
from tools.deploy.list_memory import ListSize, advice
from tools.deploy.options import Options
from tools.deploy.output import say, step
from tools.deploy.runner import Runner
from tools.outside_data_iam import buckets_of, grants, plan, uniform_access_check


def outside_access_step(o: Options, runner: Runner, policy: Policy) -> None:
    locations = list(policy.reads_outside)
    if not locations:
        return
    step("What the policy reads: its lists and the directory's secrets")
    _memory(o, runner, policy)
    uniform = {}
    for bucket in buckets_of(locations):
        done = runner.check(list(uniform_access_check(bucket)), quiet=True)
        if runner.plan:
            # A plan reads nothing: it shows the narrow grant, which a bucket made today has.
            say(f"(--plan: whether gs://{bucket} has uniform bucket-level access is read when the")
            say("deploy runs; without it, the grant is on the whole bucket)")
            uniform[bucket] = True
        else:
            uniform[bucket] = done.ok and done.text().strip().lower() == "true"
    for grant, line in zip(
        made := grants(o.service_account_email, locations, uniform), plan(made), strict=True
    ):
        say(line)
        current = runner.check(list(grant.current), quiet=True)
        if current.ok and grant.made(current.text()):
            say(f"{grant.reads}: {o.service_account_email} may already read it")
            continue
        runner.change(list(grant.argv))


def _memory(o: Options, runner: Runner, policy: Policy) -> None:
    """The lists' sizes, measured (the object's size) or declared (`max_bytes`), and a warning
    when --memory is below what they need."""
    sizes = []
    for declared in policy.lists.values():
        measured = None
        if declared.location.startswith("gs://"):
            bucket, name = parse_location(declared.location)
            done = runner.check(
                ["gcloud", "storage", "objects", "describe", f"gs://{bucket}/{name}",
                 "--format=value(size)"],
                quiet=True,
            )  # fmt: skip
            text = done.text().strip()
            measured = int(text) if done.ok and text.isdigit() else None
        if measured is not None:
            sizes.append(ListSize(declared.name, declared.kind, measured, "measured"))
        elif declared.declared_bytes is not None:
            sizes.append(
                ListSize(declared.name, declared.kind, declared.declared_bytes, "declared")
            )
        elif declared.location.startswith("gs://"):
            say(f"list {declared.name}: its size is not known yet (the object is read when the")
            say("  deploy runs; give max_bytes in the policy to size the function before)")
    for line in advice(sizes, o.workers, o.memory):
        say(line)
