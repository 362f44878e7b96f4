"""Secrets in Secret Manager: created when missing, a new version only when the value differs
from the latest, and read access for the runtime service account on each of them only."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping

from tools.deploy.options import Options
from tools.deploy.output import Refused, say, step
from tools.deploy.runner import Runner

ACCESSOR = "roles/secretmanager.secretAccessor"
GRANT_ATTEMPTS = 5
GRANT_RETRY_SECONDS = 10


def secrets_step(
    o: Options,
    runner: Runner,
    secrets: Mapping[str, tuple[str, str]],
    sleep: Callable[[float], None] = time.sleep,
) -> set[str]:
    """`secrets`: by setting, the secret's id and the value given ("" for none). Returns the
    settings whose secret got a new version."""
    step("Secrets")
    changed = set()
    for setting, (secret, value) in secrets.items():
        if _store(o, runner, secret, value):
            changed.add(setting)
        _grant_access(o, runner, secret, sleep)
    if not secrets:
        say(f"none: --auth {o.auth} checks tokens against Okta's public keys")
    return changed


def _store(o: Options, runner: Runner, secret: str, value: str) -> bool:
    described = runner.check(
        ["gcloud", "secrets", "describe", secret, "--project", o.project, "--format=value(name)"],
        quiet=True,
    )
    if described.ok:
        say(f"secret {secret}: exists")
    else:
        runner.change(
            ["gcloud", "secrets", "create", secret, "--project", o.project,
             "--replication-policy", "automatic", "--labels", f"okta-hook={o.function}"]
        )  # fmt: skip
    if not value and runner.plan:
        say(f"secret {secret}: its value would come from the file given (none given to --plan)")
    elif not value:
        say(f"secret {secret}: no new value given; the latest version stays")
        return False
    latest = runner.check(
        ["gcloud", "secrets", "versions", "access", "latest", "--secret", secret,
         "--project", o.project],
        quiet=True,
    )  # fmt: skip
    # Compared by digest, as the value itself is never to be shown.
    if latest.ok and value and _digest(latest.stdout) == _digest(value.encode()):
        say(f"secret {secret}: the latest version already holds this value")
        return False
    runner.change(
        ["gcloud", "secrets", "versions", "add", secret, "--project", o.project, "--data-file=-"],
        stdin=value.encode(),
    )
    return True


def _digest(value: bytes) -> str:
    return hashlib.sha256(value.rstrip(b"\r\n")).hexdigest()


def _grant_access(o: Options, runner: Runner, secret: str, sleep: Callable[[float], None]) -> None:
    email = o.service_account_email
    policy = runner.check(
        ["gcloud", "secrets", "get-iam-policy", secret, "--project", o.project, "--format=json"],
        quiet=True,
    )
    if policy.ok and may_read(policy.text(), f"serviceAccount:{email}"):
        say(f"secret {secret}: {email} may already read it")
        return
    # A service account created seconds ago may not be visible to IAM yet: retry a little.
    for attempt in range(1, GRANT_ATTEMPTS + 1):
        done = runner.change(
            ["gcloud", "secrets", "add-iam-policy-binding", secret, "--project", o.project,
             "--member", f"serviceAccount:{email}", "--role", ACCESSOR, "--format=none"],
            must=False,
        )  # fmt: skip
        if done is None or done.ok:
            return
        if attempt == GRANT_ATTEMPTS:
            raise Refused(f"cannot grant {email} access to secret {secret}")
        say(f"IAM does not see {email} yet; retrying in {GRANT_RETRY_SECONDS} s")
        sleep(GRANT_RETRY_SECONDS)


def may_read(iam_policy: str, member: str) -> bool:
    """Whether a secret's IAM policy (gcloud's JSON) lets `member` read its versions."""
    try:
        policy = json.loads(iam_policy or "{}")
    except ValueError:
        return False
    bindings = policy.get("bindings") if isinstance(policy, dict) else None
    return isinstance(bindings, list) and any(
        isinstance(b, dict) and b.get("role") == ACCESSOR and member in (b.get("members") or [])
        for b in bindings
    )
