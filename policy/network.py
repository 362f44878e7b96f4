"""The network rule: CIDR ranges a request's address (data.context.request.ipAddress) must be in,
or must not be in.

`blocked`: an address in a range is denied; an absent address passes (nothing is known against
it); a malformed one is denied. `allowed`: only an address in a range passes; an absent or a
malformed one is denied. With both, an address must pass both.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from okta_wire.models import HookRequest
from okta_wire.names import REASON
from policy import reasons
from policy.conditions import Condition, Facts, parse_when
from policy.entries import Network, NetworkSet
from policy.outside import ListRef, parse_ref
from policy.schema import Path, PolicyError, attribute_name, boolean, only, strings

PATH: Path = ("network",)
KEYS = {"allowed", "blocked", "attribute", "reason", "shadow", "when"}
# An IPv4-mapped IPv6 address is judged as its IPv4 address: a mapped range would never match.
_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


@dataclass(frozen=True)
class NetworkRule:
    allowed: NetworkSet | ListRef
    blocked: NetworkSet | ListRef
    # The profile attribute the cause is shown next to: a network is no field of the form.
    attribute: str = "email"
    reason: str = reasons.NETWORK_NOT_ALLOWED
    shadow: bool = False
    when: Condition | None = None

    def failed_list(self, request: HookRequest, facts: Facts) -> str | None:
        """`"blocked"` or `"allowed"`: the list this request's address fails; None if it passes.
        A list that was never read and fails open is passed."""
        address = request.ip_address
        if self.blocked:
            blocked = self.blocked.members(facts)
            if blocked is not None and (request.ip_malformed or address in blocked):
                return "blocked"
        if self.allowed:
            allowed = self.allowed.members(facts)
            if allowed is not None and (address is None or address not in allowed):
                return "allowed"
        return None


def parse_network(table: Mapping[str, Any]) -> NetworkRule | None:
    if not table:
        return None
    only(table, KEYS, PATH)
    lists = {key: _entries(table, key) for key in ("allowed", "blocked")}
    if not lists["allowed"] and not lists["blocked"]:
        raise PolicyError("[network] needs allowed or blocked ranges", PATH)
    attribute = table.get("attribute", "email")
    if not isinstance(attribute, str):
        raise PolicyError("[network] attribute must be an attribute name", (*PATH, "attribute"))
    reason = table.get("reason", reasons.NETWORK_NOT_ALLOWED)
    if not isinstance(reason, str) or not REASON.fullmatch(reason):
        raise PolicyError("[network] reason must be a code of A-Z, 0-9 and _", (*PATH, "reason"))
    return NetworkRule(
        allowed=lists["allowed"],
        blocked=lists["blocked"],
        attribute=attribute_name(attribute, (*PATH, "attribute")),
        reason=reason,
        shadow=boolean(table, "shadow", PATH),
        when=parse_when(table, "when", PATH),
    )


def _entries(table: Mapping[str, Any], key: str) -> NetworkSet | ListRef:
    if isinstance(table.get(key), dict):
        return parse_ref(table[key], (*PATH, key))
    return NetworkSet(_ranges(table, key))


def cidr_range(text: str) -> Network:
    """A CIDR range as the network rule reads it (strict: no host bits; never IPv4-mapped);
    ValueError otherwise, never quoting it. The one reader of ranges, in the policy file and in
    lists alike."""
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError:
        raise ValueError("not a CIDR range (or bits are set past its prefix)") from None
    if isinstance(network, ipaddress.IPv6Network) and network.subnet_of(_MAPPED):
        raise ValueError("IPv4-mapped: write the IPv4 range")
    return network


def _ranges(table: Mapping[str, Any], key: str) -> list[Network]:
    at = (*PATH, key)
    found = []
    for entry in strings(table, key, PATH):
        try:
            found.append(cidr_range(entry))
        except ValueError as e:
            raise PolicyError(f"[network] {key}: {entry!r} {_why(entry, str(e))}", at) from None
    return found


def _why(entry: str, error: str) -> str:
    if error.startswith("IPv4-mapped"):
        return (
            "is IPv4-mapped; an address ::ffff:a.b.c.d is judged as a.b.c.d, so write the IPv4 "
            "range"
        )
    try:
        meant = ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return "is not a CIDR range"
    return f"is not a CIDR range (the range is {meant})"
