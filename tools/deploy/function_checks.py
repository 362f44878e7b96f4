"""The configuration checked by the function's own code, so that deploy and function can never
disagree: the environment it will get, the policy it will load, the secret values it will parse."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from auth.basic import CredentialsFormatError, credential_lines
from core.logs import LOGGER_NAME
from policy.loader import Policy
from policy.patterns import ENGINE
from policy.summary import describe
from service.outside import check_outside
from service.settings import ConfigError, Settings
from tools.deploy.function_env import JWKS, env_file_text
from tools.deploy.options import Options
from tools.deploy.output import Refused, say, step
from tools.deploy.secret_inputs import SecretInputs
from tools.policy_cases import cases_path
from tools.policy_check import check_policy_file

REFUSED = "cannot be used, and the function would refuse every request"
PINNED_JWKS_WARNING = (
    "warning: a pinned key set (--jwks-file) stops working at the authorization server's next",
    "  automatic key rotation (Okta rotates about four times a year): every token is then refused.",
    "  Either set the server to rotate by hand (Admin Console: Security > API > Authorization",
    "  Servers > the server > Edit: Signing Key Rotation: Manual), and run deploy.sh with the new",
    "  key set before each manual rotation; or leave out --jwks-file, and the function follows the",
    "  server's published keys by itself.",
)


@dataclass(frozen=True)
class Configuration:
    env_text: str  # the env-vars file's text
    policy: Policy  # as the function will load it


def configuration_step(o: Options, secrets: SecretInputs, env: Mapping[str, str]) -> Configuration:
    """Everything the function will read, checked as it reads it."""
    step("Checking the configuration")
    env_file = env_file_text(env)
    settings = check_settings(env)
    policy = load_checked_policy(settings)
    try:
        check_outside(policy, settings)
    except ConfigError as e:
        raise Refused(f"the policy {REFUSED}: {e}") from None
    say(f"policy {o.policy}: valid")
    if ENGINE != "RE2":
        say(f"    note: its patterns were checked with {ENGINE}; make setup installs it")
    for line in describe(policy)[1:]:
        say(f"    {line}")
    if secrets.basic_credentials:
        check_basic_credentials(secrets.basic_credentials)
        say("basic credentials: well formed")
    if secrets.jwks:
        for skipped in check_jwks(secrets.jwks):
            say(f"note: {skipped}")
        say("pinned JWKS: well formed")
        for line in PINNED_JWKS_WARNING:
            say(line)
    say(f"auth {o.auth}: settings complete")
    say(
        f"instances: {o.min_instances} to {o.max_instances}, {o.cpu} CPU, {o.memory}, "
        f"concurrency {o.concurrency} (WORKERS={o.workers}), "
        f"timeout {o.timeout}s"
    )
    return Configuration(env_file, policy)


def check_policy_path(policy: str) -> None:
    """The policy is uploaded with the function, so it must be a file in the checkout."""
    if policy.startswith("/") or ".." in policy:
        raise Refused(f"--policy {policy} must be a path inside the checkout")
    if not Path(policy).is_file():
        raise Refused(f"--policy {policy}: no such file in the checkout")


def check_settings(env: Mapping[str, str]) -> Settings:
    """The settings as the function reads them at its cold start."""
    try:
        return Settings.from_env(env)
    except ConfigError as e:
        raise Refused(f"the settings {REFUSED}: {e}") from None


def check_policy(settings: Settings) -> list[str]:
    """The policy as the function loads it; what it allows and denies, a line each."""
    return describe(load_checked_policy(settings))


def load_checked_policy(settings: Settings) -> Policy:
    """The policy as the function loads it, its cases passing (when it has a case file);
    raises `Refused` saying why it cannot be deployed."""
    path = settings.policy_path
    report = check_policy_file(path, settings.allowed_email_domains or ())
    if report.policy is None:
        raise Refused(f"the policy {REFUSED}: {report.errors[0]}\n{path}: INVALID")
    if report.errors:
        failing = "\n".join(report.errors)
        raise Refused(
            f"the policy's cases fail, so it is not deployed:\n{failing}\n{path}: INVALID"
        )
    if report.cases:
        say(f"policy {path}: {report.cases} case(s) in {cases_path(path)} pass")
    else:
        say(f"note: policy {path} has no case file ({cases_path(path)}): see docs/policy.md")
    return report.policy


def check_basic_credentials(text: str) -> None:
    """The lines as the function reads them; an error names the line, never its content."""
    try:
        credential_lines(text)
    except CredentialsFormatError as e:
        raise Refused(f"--basic-credentials-file: {e}") from None


def check_jwks(text: str) -> list[str]:
    """The key set as the function reads a pinned one; the keys it would skip, and why."""
    try:
        # As in the function, only a key set needs PyJWT and cryptography: a Python without the
        # hook's requirements can still deploy the other settings.
        from auth.static_keys import parse_jwks_text
    except ModuleNotFoundError as e:
        raise Refused(f"--jwks-file: {e} (run make setup, or set PYTHON)") from None
    with _skipped_keys() as skipped:
        try:
            parse_jwks_text(JWKS)(text)  # the function's own reader of a pinned key set
        except ValueError as e:
            raise Refused("; ".join([f"--jwks-file: {e}", *skipped])) from None
    return skipped


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextmanager
def _skipped_keys() -> Iterator[list[str]]:
    """The function logs each key it skips: here those lines are kept, to be shown."""
    kept = _Kept()
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(kept)
    try:
        yield kept.lines
    finally:
        logger.removeHandler(kept)
