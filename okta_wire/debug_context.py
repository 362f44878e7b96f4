"""The `debugContext` of an answer: what Okta copies into its System Log event
`inline_hook.response.processed`, for Okta admins who cannot read the function's own log.

Codes, ids and numbers only, as short strings: never a value from the profile, never a message
(a message may quote one).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from okta_wire.names import ATTRIBUTE, REASON

EVENT_ID = "eventId"
REASONS = "reasons"
SHADOW_REASONS = "shadowReasons"
POLICY_DIGEST = "policyDigest"
POLICY_VERSION = "policyVersion"
LATENCY_MS = "latencyMs"
KEYS = frozenset({EVENT_ID, REASONS, SHADOW_REASONS, POLICY_DIGEST, POLICY_VERSION, LATENCY_MS})

MAX_VALUE_CHARS = 512
# Every key at its longest stays under this; the response self-check holds an answer to it.
MAX_BYTES = 2048
# One character class for every value: letters, digits and the separators of ids and lists.
VALUE = re.compile(rf"[A-Za-z0-9._~:/+=,-]{{1,{MAX_VALUE_CHARS}}}")
_ID = re.compile(r"[A-Za-z0-9._~:/+=-]{1,64}")


def debug_context(
    *,
    event_id: str | None,
    reasons: Sequence[str],
    shadowed: Sequence[tuple[str, str]],
    shadowed_unlisted: int,
    policy_digest: str | None,
    policy_version: str | None,
    latency_ms: float,
) -> dict[str, str]:
    """The object, with only the keys that have something to say."""
    context: dict[str, str] = {}
    if event_id is not None and _ID.fullmatch(event_id):
        context[EVENT_ID] = event_id
    codes = [reason for reason in reasons if REASON.fullmatch(reason)]
    if codes:
        context[REASONS] = _joined(codes, 0)
    rules = [
        f"{attribute}:{reason}"
        for attribute, reason in shadowed
        if ATTRIBUTE.fullmatch(attribute) and REASON.fullmatch(reason)
    ]
    if rules:
        context[SHADOW_REASONS] = _joined(rules, shadowed_unlisted + len(shadowed) - len(rules))
    if policy_digest is not None and _ID.fullmatch(policy_digest):
        context[POLICY_DIGEST] = policy_digest
    if policy_version is not None and _ID.fullmatch(policy_version):
        context[POLICY_VERSION] = policy_version
    context[LATENCY_MS] = f"{max(latency_ms, 0.0):.1f}"
    return context


def _joined(items: Iterable[str], more: int) -> str:
    """`A,B,C`, and `,+N` for the N left out to stay within MAX_VALUE_CHARS."""
    kept: list[str] = []
    items = list(items)
    for index, item in enumerate(items):
        left = len(items) - index - 1 + more
        tail = len(f",+{left + 1}")
        if len(",".join([*kept, item])) + tail > MAX_VALUE_CHARS:
            more += len(items) - index
            break
        kept.append(item)
    return ",".join(kept + ([f"+{more}"] if more else []))
