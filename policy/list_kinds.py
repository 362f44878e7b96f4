"""The kinds of list a policy may name, each entry read by the policy's own validators and the
entries held in the policy's own sets: a list means the same in a bucket as written inline."""

from __future__ import annotations

from typing import Any

from lists.entries import Exact, Kind, code, employee_number, lower_case
from policy.addresses import email_domain
from policy.domains import checked_domain
from policy.entries import DomainSet, NetworkSet
from policy.network import cidr_range

DOMAINS = "domains"
EMAIL_ADDRESSES = "email_addresses"
EMPLOYEE_NUMBERS = "employee_numbers"
CODES = "codes"
NETWORKS = "networks"


def email_address(text: str) -> str:
    """An address of the syntax an `email` attribute must have (policy/addresses.py), matched
    without regard to case; ValueError otherwise, never quoting it."""
    if email_domain(text) is None:
        raise ValueError("not an email address")
    return text.lower()


def _networks(entries: Any) -> NetworkSet:
    # Only the lookup tables: a million range objects would cost far more than the list.
    return NetworkSet(entries, keep=False)


KINDS: dict[str, Kind[Any]] = {
    DOMAINS: Kind("domain name", checked_domain, DomainSet),
    EMAIL_ADDRESSES: Kind("email address", email_address, lower_case),
    EMPLOYEE_NUMBERS: Kind("employee number", employee_number, Exact),
    CODES: Kind("code", code, Exact),
    NETWORKS: Kind("CIDR range", cidr_range, _networks),
}
# The kinds a rule on text values (one_of, a condition's `in`) may name: compared with a value.
VALUE_KINDS = (EMAIL_ADDRESSES, EMPLOYEE_NUMBERS, CODES)
