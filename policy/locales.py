"""Which languages the person reads, best first: their profile's `locale`, then Accept-Language."""

from __future__ import annotations

import re

from okta_wire.models import HookRequest, RequestType

_TAG = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{1,8})*", re.ASCII)
_QVALUE = re.compile(r"(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)", re.ASCII)
_MAX_HEADER = 4096
_MAX_RANGES = 32


def tag(value: object) -> str | None:
    """`fr_FR`, `fr-fr` and `FR-FR` all read as `fr-fr`; None for anything that is not a tag."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    candidate = value.strip().replace("_", "-").lower()
    return candidate if _TAG.fullmatch(candidate) else None


def language(locale: str) -> str:
    return locale.partition("-")[0]


def accept_language(header: str | None) -> list[str]:
    """The language ranges of an Accept-Language header by weight (RFC 9110), `q=0` left out."""
    if not header or len(header) > _MAX_HEADER:
        return []
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")[:_MAX_RANGES]):
        name, *parameters = (part.strip() for part in item.split(";"))
        locale = tag(name)
        if locale is None:
            continue  # "*" and malformed ranges say nothing about a language we could pick
        weight = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                value = value.strip()
                weight = float(value) if _QVALUE.fullmatch(value) else -1.0
        if weight > 0:
            weighted.append((-weight, position, locale))
    return [locale for _, _, locale in sorted(weighted)]


def preferred_locales(request: HookRequest) -> list[str]:
    """The profile's locale (the value being submitted first, then the stored one), then the
    browser's languages."""
    candidates = [request.submitted.get("locale")]
    if request.request_type is RequestType.PROGRESSIVE:
        candidates.append(request.current_profile.get("locale"))
    profile = next((t for t in map(tag, candidates) if t is not None), None)
    found = [profile] if profile else []
    return found + [t for t in accept_language(request.accept_language) if t not in found]
