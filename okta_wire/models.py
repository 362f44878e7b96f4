"""The typed request the handlers read and the typed decision they return."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
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
    # data.context.request.ipAddress as sent: the address the person's browser called Okta
    # from. It is read only when a rule asks (`ip_address`, `ip_malformed`).
    ip_text: object = None

    @cached_property
    def _ip(self) -> tuple[IPAddress | None, bool]:
        return read_ip_address(self.ip_text)

    @property
    def ip_address(self) -> IPAddress | None:
        """The address; None when the request has none, or one that is not an address."""
        return self._ip[0]

    @property
    def ip_malformed(self) -> bool:
        """Whether the request carries something that is not the plain text of an address."""
        return self._ip[1]


# The longest text of an address (an IPv4-mapped IPv6 one).
_MAX_ADDRESS_CHARS = 45


def read_ip_address(value: object) -> tuple[IPAddress | None, bool]:
    """(the address, malformed) of data.context.request.ipAddress: (None, False) when there is
    none (missing, null or ""); (None, True) when it is not the plain text of an IPv4 or IPv6
    address. An IPv4-mapped IPv6 address (::ffff:192.0.2.1) is its IPv4 address; a zone
    (fe80::1%eth0) is malformed."""
    if value is None or value == "":
        return None, False
    if not isinstance(value, str) or len(value) > _MAX_ADDRESS_CHARS or "%" in value:
        return None, True
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None, True
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped, False
    return address, False


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
