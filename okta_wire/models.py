"""The typed request the handlers read and the typed decision they return."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import IPv4Address, IPv6Address

IPAddress = IPv4Address | IPv6Address


class RequestType(StrEnum):
    REGISTRATION = "self.service.registration"
    PROGRESSIVE = "progressive.profile"

    @property
    def short(self) -> str:
        return "registration" if self is RequestType.REGISTRATION else "progressive"


@dataclass(frozen=True)
class HookRequest:
    """What Okta asked: the submitted values and, for progressive requests, the current profile."""

    request_type: RequestType
    event_id: str | None
    # Registration: data.userProfile. Progressive: data.userProfileUpdate.
    submitted: Mapping[str, object]
    # Progressive: data.context.user.profile. Registration: empty.
    current_profile: Mapping[str, object] = field(default_factory=dict)
    # The Accept-Language header of Okta's call, as sent; a source of the person's language.
    accept_language: str | None = None
    # data.context.request.ipAddress: the address the person's browser called Okta from. None
    # when the request has none, or one that is not an address (then `ip_malformed` is set).
    ip_address: IPAddress | None = None
    ip_malformed: bool = False


@dataclass(frozen=True)
class Cause:
    """One failing field: shown inline by the Sign-In Widget next to `attribute`."""

    attribute: str
    reason: str
    message: str


@dataclass(frozen=True)
class Decision:
    request_type: RequestType
    allowed: bool
    causes: tuple[Cause, ...] = ()
    summary: str = ""
    # Values sent back to Okta on allow, in the command valid for the request type.
    updates: Mapping[str, object] = field(default_factory=dict)
    # For the audit line only: the email domain seen, never the address.
    email_domain: str | None = None
    # Failures of rules in shadow mode: not enforced, logged as what would have been denied.
    shadowed: tuple[Cause, ...] = ()
    # How many more shadowed failures there were than `shadowed` lists (it is bounded).
    shadowed_unlisted: int = 0
    # The locale of the messages, when there are messages.
    locale: str | None = None
    # For the audit line only: (rule, outcome code) of the list and directory rules that did
    # something, e.g. ("directory.hr", "directory_found"). Codes, never values.
    outcomes: tuple[tuple[str, str], ...] = ()
