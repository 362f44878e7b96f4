"""Settings, read from the environment once, in this one place."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from core.deadline import DEFAULT_DEADLINE_MS, MAX_DEADLINE_MS, MIN_DEADLINE_MS
from core.error_report import DEFAULT_SERVICE
from core.json_fetch import is_allowed_url
from core.refreshing import Clock, Source
from secret_sources.environment import EnvironmentValue
from secret_sources.files import SecretFile
from secret_sources.secret_manager import SecretManagerVersion, parse_endpoint
from secret_sources.setting import SecretSetting

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POLICY = PROJECT_ROOT / "policies" / "ssr_and_progressive.toml"

# Every secret-valued setting; each can be given as NAME (the value), NAME_SECRET (a Secret
# Manager version) or NAME_FILE (a mounted file). See "Secrets" in the README.
SECRET_SETTINGS = (
    "OKTA_HOOK_BASIC_CREDENTIALS",
    "OKTA_HOOK_JWKS",
    "OKTA_HOOK_JWT_HMAC_SECRET",
)
DEFAULT_SECRET_REFRESH_SECONDS = 300.0


class ConfigError(Exception):
    """The environment or a file it names cannot configure the hook."""


@dataclass(frozen=True)
class Settings:
    policy_path: Path
    allowed_email_domains: tuple[str, ...] | None
    basic_credentials: SecretSetting | None
    trace_project: str | None
    bearer: BearerSettings | None = None
    # Per request: no answer takes longer, whatever the key and secret stores do.
    deadline_ms: int = DEFAULT_DEADLINE_MS
    # Answers carry a debugContext for Okta's System Log: codes, ids, digest and latency.
    debug_context: bool = False
    # Where the policy's lists and the directory's secrets are read: Google's APIs (None), or a
    # loopback server or emulator for local runs and tests.
    storage_endpoint: str | None = None
    secret_manager_endpoint: str | None = None
    secret_refresh_seconds: float = DEFAULT_SECRET_REFRESH_SECONDS

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, clock: Clock = time.monotonic) -> Settings:
        """The settings in `env`; `clock` keeps the secrets' refresh schedule."""
        return cls(
            policy_path=Path(env.get("OKTA_HOOK_POLICY") or DEFAULT_POLICY),
            allowed_email_domains=_csv(env, "OKTA_HOOK_ALLOWED_EMAIL_DOMAINS"),
            basic_credentials=secret_source(env, "OKTA_HOOK_BASIC_CREDENTIALS", clock=clock),
            trace_project=trace_project(env),
            bearer=BearerSettings.from_env(env, clock=clock),
            deadline_ms=_deadline_ms(env),
            debug_context=_flag(env, "OKTA_HOOK_DEBUG_CONTEXT"),
            storage_endpoint=storage_endpoint(env),
            secret_manager_endpoint=_secret_manager_endpoint(env),
            secret_refresh_seconds=_refresh_seconds(env),
        )


def trace_project(env: Mapping[str, str]) -> str | None:
    """The project of the trace field; read even when another setting is broken, so that the
    503s of a refusing hook are tied to their requests too."""
    return env.get("GOOGLE_CLOUD_PROJECT") or env.get("GCP_PROJECT") or None


def service_context(env: Mapping[str, str]) -> tuple[str, str | None]:
    """The service and version that Error Reporting groups errors under: the function's name
    and revision as Cloud Run sets them (K_SERVICE, K_REVISION). Never refuses: errors about
    every other setting are reported under it."""
    service = (env.get("K_SERVICE") or "").strip() or DEFAULT_SERVICE
    revision = (env.get("K_REVISION") or "").strip() or None
    return service[:128], revision[:128] if revision else None


def secret_source(
    env: Mapping[str, str], name: str, *, clock: Clock = time.monotonic
) -> SecretSetting | None:
    """A secret-valued setting, or None when it is not set: the value itself in NAME, a Secret
    Manager version in NAME_SECRET, or a mounted file in NAME_FILE."""
    refresh_seconds = _refresh_seconds(env)
    endpoint = _secret_manager_endpoint(env)
    forms = (name, f"{name}_SECRET", f"{name}_FILE")
    given = {form: env[form].strip() for form in forms if env.get(form, "").strip()}
    if len(given) > 1:
        raise ConfigError(f"{name} is given {len(given)} ways ({', '.join(given)}); set one")
    if not given:
        return None
    (form, text), *_ = given.items()
    if form == name:
        return SecretSetting(name, EnvironmentValue(name, env[name]), math.inf, clock)
    source: Source[str]
    try:
        if form == f"{name}_SECRET":
            source = SecretManagerVersion(name, text, endpoint)
        else:
            source = SecretFile(name, Path(text))
    except ValueError as e:
        # The message never echoes the text: it may be the value, set in the wrong variable.
        raise ConfigError(f"{form}: {e}") from None
    return SecretSetting(name, source, refresh_seconds, clock)


def _refresh_seconds(env: Mapping[str, str]) -> float:
    name = "OKTA_HOOK_SECRET_REFRESH_SECONDS"
    raw = env.get(name, "").strip()
    if not raw:
        return DEFAULT_SECRET_REFRESH_SECONDS
    try:
        # ASCII only: float() would also read other scripts' digits ("٣").
        seconds = float(raw) if raw.isascii() else math.nan
    except ValueError:
        seconds = math.nan
    if not (seconds > 0 and math.isfinite(seconds)):
        raise ConfigError(f"{name} must be a number of seconds above 0, not {raw[:32]!r}")
    return seconds


def _deadline_ms(env: Mapping[str, str]) -> int:
    name = "OKTA_HOOK_DEADLINE_MS"
    raw = env.get(name, "").strip()
    if not raw:
        return DEFAULT_DEADLINE_MS
    try:
        # ASCII only: int() would also read the digits of other scripts.
        value = int(raw) if raw.isascii() else int("not a number")
    except ValueError:
        raise ConfigError(f"{name} is not a whole number of milliseconds") from None
    if not MIN_DEADLINE_MS <= value <= MAX_DEADLINE_MS:
        # Above the top, Okta (3 s) would give up before the hook does.
        raise ConfigError(f"{name} must be between {MIN_DEADLINE_MS} and {MAX_DEADLINE_MS}")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "false"):
        return False
    if raw == "true":
        return True
    raise ConfigError(f"{name} must be true or false")


def _secret_manager_endpoint(env: Mapping[str, str]) -> str | None:
    name = "OKTA_HOOK_SECRET_MANAGER_ENDPOINT"
    raw = env.get(name, "")
    if not raw.strip():
        return None
    try:
        return parse_endpoint(raw)
    except ValueError as e:
        raise ConfigError(f"{name}: {e}") from None


def storage_endpoint(env: Mapping[str, str]) -> str | None:
    """OKTA_HOOK_STORAGE_ENDPOINT: Cloud Storage's JSON API somewhere else than Google (an
    emulator or a test server; plain http to loopback only, read without credentials)."""
    name = "OKTA_HOOK_STORAGE_ENDPOINT"
    raw = env.get(name, "").strip().rstrip("/")
    if not raw:
        return None
    if not is_allowed_url(raw):
        raise ConfigError(f"{name} must be an https:// URL (http only to loopback)")
    return raw


def secret_manager_endpoint(env: Mapping[str, str]) -> str | None:
    return _secret_manager_endpoint(env)


def _csv(env: Mapping[str, str], name: str) -> tuple[str, ...] | None:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return None
    items = tuple(item.strip() for item in raw.split(",") if item.strip())
    if not items:
        raise ConfigError(f"{name} is set but names nothing")
    return items


DEFAULT_AUDIENCE = "api://default"
# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
DEFAULT_LEEWAY_SECONDS = 30
MAX_LEEWAY_SECONDS = 300
BEARER_SETTINGS = (
    "OKTA_HOOK_AUDIENCE",
    "OKTA_HOOK_SCOPES",
    "OKTA_HOOK_CLIENT_IDS",
    "OKTA_HOOK_JWKS_URI",
    "OKTA_HOOK_JWKS",
    "OKTA_HOOK_JWT_HMAC_SECRET",
    "OKTA_HOOK_LEEWAY_SECONDS",
)


@dataclass(frozen=True)
class BearerSettings:
    """OAuth 2.0 Bearer: whose tokens are accepted, and where their keys come from."""

    issuer: str
    audience: str
    scopes: tuple[str, ...]
    client_ids: tuple[str, ...] | None
    jwks_uri: str | None
    pinned_jwks: SecretSetting | None
    hmac_secret: SecretSetting | None
    leeway_seconds: int

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], *, clock: Clock = time.monotonic
    ) -> BearerSettings | None:
        issuer = (env.get("OKTA_HOOK_ISSUER") or "").strip()
        if not issuer:
            stray = [form for name in BEARER_SETTINGS for form in _forms_set(env, name)]
            if stray:
                raise ConfigError(f"{stray[0]} is set but OKTA_HOOK_ISSUER is not")
            return None
        if any(c.isspace() for c in issuer):
            raise ConfigError("OKTA_HOOK_ISSUER contains white space")
        # Split on spaces only (RFC 6749 §3.3): str.split() would also split at U+2028 and others.
        scopes = tuple(s for s in (env.get("OKTA_HOOK_SCOPES") or "").strip(" ").split(" ") if s)
        if not scopes:
            raise ConfigError("OKTA_HOOK_SCOPES must name the scope(s) Okta's token must carry")
        if not all(_SCOPE_TOKEN.fullmatch(scope) for scope in scopes):
            raise ConfigError(
                "OKTA_HOOK_SCOPES contains a quote, a backslash or a character a scope cannot "
                "have (printable ASCII only, separated by spaces)"
            )
        settings = cls(
            issuer=issuer,
            audience=(env.get("OKTA_HOOK_AUDIENCE") or "").strip() or DEFAULT_AUDIENCE,
            scopes=scopes,
            client_ids=_csv(env, "OKTA_HOOK_CLIENT_IDS"),
            jwks_uri=(env.get("OKTA_HOOK_JWKS_URI") or "").strip() or None,
            pinned_jwks=secret_source(env, "OKTA_HOOK_JWKS", clock=clock),
            hmac_secret=secret_source(env, "OKTA_HOOK_JWT_HMAC_SECRET", clock=clock),
            leeway_seconds=_leeway(env.get("OKTA_HOOK_LEEWAY_SECONDS")),
        )
        settings._check_key_source()
        return settings

    def _check_key_source(self) -> None:
        if self.hmac_secret is not None and (self.jwks_uri or self.pinned_jwks is not None):
            raise ConfigError(
                "OKTA_HOOK_JWT_HMAC_SECRET cannot be combined with OKTA_HOOK_JWKS_URI or "
                "OKTA_HOOK_JWKS: a hook accepts either HMAC or public-key tokens"
            )
        if self.jwks_uri and self.pinned_jwks is not None:
            raise ConfigError("set OKTA_HOOK_JWKS_URI or OKTA_HOOK_JWKS, not both")
        remote = self.hmac_secret is None and self.pinned_jwks is None
        if self.jwks_uri and not is_allowed_url(self.jwks_uri):
            raise ConfigError("OKTA_HOOK_JWKS_URI must be an https:// URL (http only to loopback)")
        if remote and not self.jwks_uri and not is_allowed_url(self.issuer):
            raise ConfigError("OKTA_HOOK_ISSUER must be an https:// URL (http only to loopback)")


def _forms_set(env: Mapping[str, str], name: str) -> list[str]:
    """The variables that give this setting: a secret has three forms, others one."""
    forms = (name, f"{name}_SECRET", f"{name}_FILE") if name in SECRET_SETTINGS else (name,)
    return [form for form in forms if (env.get(form) or "").strip()]


def _leeway(raw: str | None) -> int:
    if raw is None or not raw.strip():
        return DEFAULT_LEEWAY_SECONDS
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError("OKTA_HOOK_LEEWAY_SECONDS is not a whole number") from None
    if not 0 <= value <= MAX_LEEWAY_SECONDS:
        raise ConfigError(f"OKTA_HOOK_LEEWAY_SECONDS must be between 0 and {MAX_LEEWAY_SECONDS}")
    return value
