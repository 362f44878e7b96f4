"""The hook as built once per instance: settings, policy and verifiers, or why it refuses."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from auth.basic import BasicVerifier, parse_credentials
from auth.caller import Verifier
from auth.gate import Gate
from core import deadline
from core.error_report import set_service_context
from core.errors import Unavailable
from core.logs import logger
from core.refreshing import Clock
from handlers import progressive, registration
from okta_wire.debug_context import debug_context
from okta_wire.models import Decision, HookRequest, RequestType
from policy.checks import Trace
from policy.loader import Policy, PolicyError, load_policy
from service.outside import LiveOutside, build_outside
from service.retries import RecentEvents
from service.settings import (
    BearerSettings,
    ConfigError,
    Settings,
    service_context,
    trace_project,
)

if TYPE_CHECKING:
    from auth.bearer import BearerVerifier
    from auth.keys import KeyProvider

HANDLERS: Mapping[
    RequestType, Callable[[Policy, HookRequest, Trace, LiveOutside | None], Decision]
] = {
    RequestType.REGISTRATION: registration.decide,
    RequestType.PROGRESSIVE: progressive.decide,
}


@dataclass(frozen=True)
class HookApp:
    settings: Settings | None
    gate: Gate | None
    policy: Policy | None
    refusal: str | None = None
    recent_events: RecentEvents = field(default_factory=RecentEvents)
    # A short sha256 of the policy file: which policy decided, in logs and Okta's System Log.
    policy_digest: str | None = None

    # The project of the trace field, known even when the settings are not.
    trace_project: str | None = None
    # The lists and directory lookups the policy reads, when it names any.
    outside: LiveOutside | None = None

    @property
    def deadline_seconds(self) -> float:
        ms = self.settings.deadline_ms if self.settings else deadline.DEFAULT_DEADLINE_MS
        return ms / 1000

    def ready(self) -> tuple[Gate, Policy]:
        if self.gate is None or self.policy is None:
            raise Unavailable(self.refusal or "not configured")
        return self.gate, self.policy

    @property
    def policy_version(self) -> str | None:
        return self.policy.version if self.policy else None

    def decide(self, request: HookRequest) -> Decision:
        """The policy's decision. Safe on the event loop under `no_waiting()`: a directory
        answer that needs a call raises WouldBlock (then run it in a thread); a list never
        read, or a directory that cannot answer, raises Unavailable (503) unless the rule fails
        open."""
        _, policy = self.ready()
        return HANDLERS[request.request_type](policy, request, None, self.outside)

    def debug_context(
        self, request: HookRequest, decision: Decision, latency_ms: float
    ) -> dict[str, str] | None:
        """The answer's debugContext, when OKTA_HOOK_DEBUG_CONTEXT is on."""
        if self.settings is None or not self.settings.debug_context:
            return None
        return debug_context(
            event_id=request.event_id,
            reasons=[cause.reason for cause in decision.causes],
            shadowed=[(cause.attribute, cause.reason) for cause in decision.shadowed],
            shadowed_unlisted=decision.shadowed_unlisted,
            policy_digest=self.policy_digest,
            policy_version=self.policy_version,
            latency_ms=latency_ms,
        )


def policy_digest(path: Path) -> str | None:
    """The first 12 hex digits of the sha256 of the policy file, as it was read at cold start."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    except OSError:
        return None


def build_gate(settings: Settings, clock: Clock = time.monotonic) -> Gate:
    verifiers: list[Verifier] = []
    if settings.basic_credentials is not None:
        verifiers.append(BasicVerifier(settings.basic_credentials.reading(parse_credentials)))
    if settings.bearer is not None:
        verifiers.append(build_bearer(settings.bearer, clock))
    if not verifiers:
        raise ConfigError(
            "no authentication is configured (set OKTA_HOOK_BASIC_CREDENTIALS, or "
            "OKTA_HOOK_ISSUER and OKTA_HOOK_SCOPES for OAuth 2.0 Bearer); "
            "there is no unauthenticated mode"
        )
    return Gate(verifiers)


def build_bearer(bearer: BearerSettings, clock: Clock = time.monotonic) -> BearerVerifier:
    # Imported only when Bearer is configured: PyJWT and its crypto add ~35 ms to a cold start.
    from auth.bearer import BearerVerifier, Expectations
    from auth.jwks import RemoteKeys
    from auth.static_keys import HmacKeys, PinnedKeys, hmac_key, parse_jwks_text

    keys: KeyProvider
    if bearer.hmac_secret is not None:
        keys = HmacKeys(bearer.hmac_secret.reading(hmac_key))
    elif bearer.pinned_jwks is not None:
        pinned = bearer.pinned_jwks
        keys = PinnedKeys(pinned.reading(parse_jwks_text(pinned.name)))
    else:
        keys = RemoteKeys(bearer.issuer, bearer.jwks_uri, clock=clock)
    if bearer.client_ids is None:
        logger.warning(
            "OKTA_HOOK_CLIENT_IDS is not set: any client of %s holding the scope can call the hook",
            bearer.issuer,
            extra={"fields": {"event": "config"}},
        )
    expect = Expectations(
        issuer=bearer.issuer,
        audience=bearer.audience,
        scopes=bearer.scopes,
        client_ids=bearer.client_ids,
        leeway_seconds=bearer.leeway_seconds,
    )
    return BearerVerifier(expect, keys)


# The clock that refresh schedules and backoffs are kept on. Waits on the network always use the
# real time; tests that go through the whole app move this one by hand instead of sleeping.
SCHEDULING_CLOCK: Clock = time.monotonic


def load_app(env: Mapping[str, str]) -> HookApp:
    """Everything a request needs, built now; a broken configuration yields a refusing app."""
    set_service_context(*service_context(env))
    try:
        settings = Settings.from_env(env, clock=SCHEDULING_CLOCK)
        policy = load_policy(settings.policy_path)
        if settings.allowed_email_domains is not None:
            policy = policy.with_allowed_domains(settings.allowed_email_domains)
        gate = build_gate(settings, SCHEDULING_CLOCK)
        outside = build_outside(policy, settings, SCHEDULING_CLOCK)
    except (ConfigError, PolicyError) as e:
        # Reported to Error Reporting, grouped by this message: one group per cause.
        logger.error(
            "hook refuses every request: %s",
            e,
            extra={"fields": {"event": "config", "refusal": True}, "report": True},
        )
        return HookApp(
            settings=None,
            gate=None,
            policy=None,
            refusal=str(e),
            trace_project=trace_project(env),
        )
    try:
        # The first request waits for the cold start: its reads get the same bound as a request.
        with deadline.within(deadline.Deadline.after(settings.deadline_ms / 1000)):
            gate.load()
    except Unavailable as e:
        # Sources that can recover (a secret store) are retried per request.
        logger.error(
            "credentials not available yet: %s",
            e.reason,
            extra={"fields": {"event": "config"}, "report": True},
        )
    if outside is not None:
        # In the gunicorn master, before the workers are forked: see service/outside.py.
        outside.load()
    logger.info(
        "hook ready",
        extra={
            "fields": {
                "event": "config",
                "policy": policy.source,
                "policy_version": policy.version,
                "auth": list(gate.schemes),
            }
        },
    )
    return HookApp(
        settings=settings,
        gate=gate,
        policy=policy,
        policy_digest=policy_digest(settings.policy_path),
        trace_project=settings.trace_project,
        outside=outside,
    )
