"""What `gcloud functions deploy --source .` would upload, and the digest that says whether the
deployed function already runs this source with these settings."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from tools.deploy.output import Refused, say, step
from tools.deploy.runner import Runner

# Directories with Python packages that are never deployed.
NOT_UPLOADED = ("tests", "tools", "bench")


def upload_step(runner: Runner, policy: str) -> list[str] | None:
    """The files gcloud would upload, sorted, once each runtime package is known to be among
    them; None when this gcloud cannot say (then the function is deployed on every run)."""
    step("Checking what gcloud would upload")
    done = runner.check(["gcloud", "meta", "list-files-for-upload", "."], quiet=True)
    if runner.plan:
        say("(--plan: gcloud lists the upload when the deploy runs; .gcloudignore decides it)")
        return None
    if not done.ok:
        say("gcloud cannot list the upload; the function will be deployed on every run")
        return None
    files = sorted(done.text().splitlines())
    for needed in ("main.py", "requirements.txt", policy):
        if needed not in files:
            raise Refused(f"{needed} would not be uploaded: .gcloudignore leaves it out")
    for init in sorted(Path().glob("*/__init__.py")):
        package = init.parent.name
        if package.startswith(".") or package in NOT_UPLOADED:
            continue
        if f"{package}/__init__.py" not in files:
            raise Refused(
                f"package {package}/ would not be uploaded: add !/{package}/ to .gcloudignore"
            )
    say(f"{len(files)} files, no tests or local settings")
    return files


def fingerprint(deploy_argv: Sequence[str], env_file: str, files: Sequence[str]) -> str:
    """A digest of the deploy command, the environment and every uploaded file."""
    total = hashlib.sha256("".join(f"{word}\n" for word in deploy_argv).encode())
    total.update(env_file.encode())
    for name in files:
        if name:
            total.update(name.encode() + b"\0" + hashlib.sha256(Path(name).read_bytes()).digest())
    return total.hexdigest()[:40]
