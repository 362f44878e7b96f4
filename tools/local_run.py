"""`make run`: the hook served on this machine by functions-framework, with a line once it is ready
that names the policy and how callers authenticate.

python -m tools.local_run [--policy FILE] [--auth basic|oauth] [--host H] [--port P]

Settings come from the environment, then local.env for what the environment does not set;
--policy (make run POLICY=...) beats both. --auth oauth serves OAuth 2.0 Bearer only, against
a key set made on first use in .local/ (tools/local_oauth.py); `make preview AUTH=oauth` sends a
token signed with it.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import FrameType

from auth.basic import CredentialsFormatError, credential_lines
from policy.loader import PolicyError, load_policy
from service.settings import DEFAULT_POLICY, PROJECT_ROOT, SECRET_SETTINGS
from tools import local_oauth
from tools.local_env import local_settings

STARTUP_SECONDS = 30.0
BASIC = "OKTA_HOOK_BASIC_CREDENTIALS"


def run_environment(
    environ: Mapping[str, str], policy: str | None, auth: str, started_in: Path
) -> dict[str, str]:
    """What the function is started with; raises `SystemExit` with what is wrong."""
    env = local_settings(environ)
    if policy:
        path = Path(policy)
        env["OKTA_HOOK_POLICY"] = str(path if path.is_absolute() else started_in / path)
    if auth == "oauth":
        # Bearer only: a Basic header is then refused, as it would be by a hook set up so.
        for name in SECRET_SETTINGS:
            for form in (name, f"{name}_SECRET", f"{name}_FILE"):
                env.pop(form, None)
        env.pop("OKTA_HOOK_JWKS_URI", None)
        env.update(local_oauth.hook_settings())
    try:
        load_policy(Path(env.get("OKTA_HOOK_POLICY") or DEFAULT_POLICY))
    except PolicyError as e:
        raise SystemExit(f"make run: {e}") from None
    return env


def ready_line(env: Mapping[str, str], url: str, auth: str, shown_policy: str) -> str:
    if auth == "oauth":
        how = (
            f"OAuth 2.0 Bearer (issuer {local_oauth.ISSUER}, scope {local_oauth.SCOPE}, "
            f"local key set in {_shown(local_oauth.key_dir())})"
        )
        try_it = 'make preview AUTH=oauth ARGS="registration"'
    else:
        how = "Basic " + _basic_user(env.get(BASIC, ""))
        try_it = 'make preview ARGS="registration"'
    return f"ready: {url} serves {shown_policy} with {how}; try: {try_it}"


def _basic_user(text: str) -> str:
    try:
        user = credential_lines(text)[0][0]
    except (CredentialsFormatError, IndexError):
        return "(no credentials: OKTA_HOOK_BASIC_CREDENTIALS is not set; every request gets 503)"
    return f"(user {user})"


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.local_run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--policy", help="a policy file (default: the environment's, else local.env's)"
    )
    parser.add_argument("--auth", choices=("basic", "oauth"), default="basic")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8080))
    args = parser.parse_args(argv)
    started_in = Path.cwd()
    env = run_environment(os.environ, args.policy, args.auth, started_in)
    shown_policy = args.policy or env.get("OKTA_HOOK_POLICY") or _shown(DEFAULT_POLICY)
    if _listening(args.host, args.port):
        raise SystemExit(
            f"make run: something already listens on {args.host}:{args.port} (set PORT=...)"
        )
    child = subprocess.Popen(  # noqa: S603  this Python running functions-framework; no shell
        [sys.executable, "-m", "functions_framework", "--target", "registration_hook",
         "--source", "main.py", "--host", args.host, "--port", str(args.port)],
        cwd=PROJECT_ROOT, env=env,
    )  # fmt: skip

    def forward(signum: int, _frame: FrameType | None) -> None:
        child.send_signal(signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, forward)
    deadline = time.monotonic() + STARTUP_SECONDS
    while child.poll() is None and not _listening(args.host, args.port):
        if time.monotonic() > deadline:
            child.terminate()
            raise SystemExit("make run: functions-framework did not start listening")
        time.sleep(0.05)
    if child.poll() is None:
        url = f"http://{args.host}:{args.port}"
        print(ready_line(env, url, args.auth, shown_policy), flush=True)
    return child.wait()


if __name__ == "__main__":
    sys.exit(main())
