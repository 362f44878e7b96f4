"""`./deploy.sh` (python -m tools.deploy): checks everything, then deploys the hook and tells Okta.

The steps run in the order they print: nothing changes anywhere until every check has passed.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from service.settings import SECRET_SETTINGS
from tools.deploy import okta_token
from tools.deploy.checks import HMAC_REFUSED, check
from tools.deploy.cloud_function import function_step
from tools.deploy.function_checks import check_policy_path, configuration_step
from tools.deploy.function_env import BASIC_CREDENTIALS, JWKS, function_env, stored_secrets
from tools.deploy.monitoring_step import monitoring_options, monitoring_step
from tools.deploy.okta_access import okta_access
from tools.deploy.okta_api import OktaApi
from tools.deploy.okta_hook import HookStep
from tools.deploy.okta_token import load_signing_key
from tools.deploy.options import parse
from tools.deploy.output import PROG, CommandFailed, Refused, error, say
from tools.deploy.outside_access import outside_access_step
from tools.deploy.project import project_step
from tools.deploy.public_access import check_support, public_access_step
from tools.deploy.runner import Runner
from tools.deploy.secret_inputs import read_secret_inputs
from tools.deploy.stored_secrets import secrets_step
from tools.deploy.upload import upload_step
from tools.deploy.usage import USAGE

HMAC_SETTING = "OKTA_HOOK_JWT_HMAC_SECRET"
# The source is this checkout: gcloud uploads the current directory (--source .).
CHECKOUT = Path(__file__).resolve().parent.parent.parent


def main(argv: Sequence[str] | None = None) -> int:
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    env = dict(os.environ)
    # deploy.sh starts Python in the checkout and says where it was started: secret files'
    # paths are relative to there.
    started_in = Path(env.pop("DEPLOY_STARTED_IN", "") or Path.cwd())
    try:
        return deploy(sys.argv[1:] if argv is None else argv, env, started_in)
    except Refused as e:
        error(str(e))
        return 1
    except CommandFailed as e:
        return e.status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Whoever read the output stopped reading (`--help | head`): nothing more to say.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def deploy(argv: Sequence[str], env: dict[str, str], started_in: Path) -> int:
    given = parse(argv, env)
    if given is None:
        print(USAGE, end="")
        return 0
    o = check(given)
    if not o.no_monitoring:
        monitoring_options(o)  # refused now rather than after the function is deployed
    for form in ("", "_SECRET", "_FILE"):
        if env.get(f"{HMAC_SETTING}{form}"):
            raise Refused(f"{HMAC_SETTING}{form} is set: {HMAC_REFUSED}")
    okta = okta_access(o, env)
    for name in SECRET_SETTINGS:
        if env.get(name):
            say(f"note: {name} in the environment is ignored: {PROG} reads secrets from files only")
    secrets = read_secret_inputs(o, started_in, sys.stdin.buffer if sys.stdin else io.BytesIO())
    signing_key = None
    if secrets.okta_api_private_key:
        signing_key = load_signing_key(secrets.okta_api_private_key, o.okta_api_key_id)
    os.chdir(CHECKOUT)
    check_policy_path(o.policy)
    secret_ids = stored_secrets(o, secrets)
    env_vars = function_env(o, secret_ids)
    configuration = configuration_step(o, secrets, env_vars)
    if o.plan:
        say()
        say(f"Plan: what a first deploy to a new project runs; {PROG} runs nothing now, and reads")
        say("nothing from Google Cloud or Okta. A command that only looks is marked [read], one")
        say("that changes something [plan].")
    elif shutil.which("gcloud") is None:
        raise Refused("gcloud is not installed (https://cloud.google.com/sdk)")

    # gcloud must never stop to ask: every answer is in the command line. The API token goes to
    # curl in a config on standard input only, never through the environment.
    env.pop("OKTA_API_TOKEN", None)
    runner = Runner(
        dry_run=o.dry_run, env={**env, "CLOUDSDK_CORE_DISABLE_PROMPTS": "1"}, plan=o.plan
    )
    with tempfile.TemporaryDirectory(prefix="deploy-hook.") as work:
        upload = upload_step(runner, o.policy)
        check_support(o, runner)
        basic_secret = secret_ids.get(BASIC_CREDENTIALS)
        project_step(o, runner, basic_secret if not secrets.basic_credentials else None)
        values = {BASIC_CREDENTIALS: secrets.basic_credentials, JWKS: secrets.jwks}
        changed = secrets_step(
            o, runner, {name: (secret, values[name]) for name, secret in secret_ids.items()}
        )
        outside_access_step(o, runner, configuration.policy)
        env_file = Path(work) / "env.yaml"
        env_file.touch(mode=0o600)
        env_file.write_text(configuration.env_text)
        deployed = function_step(o, runner, env_file, configuration.env_text, upload)
        public_access_step(o, runner)
        monitoring_step(o, runner, Path(work))
        scopes = okta_token.HOOK_SCOPES + (okta_token.POLICY_SCOPES if o.okta_policy else ())
        api = OktaApi(okta, runner, Path(work), signing_key, scopes) if okta else None
        HookStep(o, runner, secrets, basic_secret or "", configuration.policy).run(
            deployed.url, api, basic_changed=BASIC_CREDENTIALS in changed,
            redeployed=deployed.redeployed,
        )  # fmt: skip
    say()
    if o.plan:
        say(f"Plan: {runner.changes} change(s) a first deploy makes; nothing was run.")
    elif o.dry_run:
        say(f"Dry run: {runner.changes} change(s) would be made; nothing was changed.")
    elif runner.changes == 0:
        say("Nothing changed: everything was already up to date.")
    else:
        say(f"Done: {runner.changes} change(s) made.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
