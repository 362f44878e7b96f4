"""Settings, read from the environment once, in this one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hook.secret_values import SecretSource, StaticSecret

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POLICY = PROJECT_ROOT / "policies" / "ssr_and_progressive.toml"


class ConfigError(Exception):
    """The environment or a file it names cannot configure the hook."""


@dataclass(frozen=True)
class Settings:
    policy_path: Path
    allowed_email_domains: tuple[str, ...] | None
    basic_credentials: SecretSource | None
    trace_project: str | None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        return cls(
            policy_path=Path(env.get("OKTA_HOOK_POLICY") or DEFAULT_POLICY),
            allowed_email_domains=_csv(env, "OKTA_HOOK_ALLOWED_EMAIL_DOMAINS"),
            basic_credentials=secret_source(env, "OKTA_HOOK_BASIC_CREDENTIALS"),
            trace_project=env.get("GOOGLE_CLOUD_PROJECT") or env.get("GCP_PROJECT") or None,
        )


def secret_source(env: Mapping[str, str], name: str) -> SecretSource | None:
    """The source of a secret-valued setting, or None when it is not set."""
    value = env.get(name)
    if value is None or not value.strip():
        return None
    return StaticSecret(name, value)


def _csv(env: Mapping[str, str], name: str) -> tuple[str, ...] | None:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return None
    items = tuple(item.strip() for item in raw.split(",") if item.strip())
    if not items:
        raise ConfigError(f"{name} is set but names nothing")
    return items
