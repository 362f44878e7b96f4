"""What one entry of a list is: how a line is checked and normalised, and how entries are held.

These are the defaults, for the tests and for a list used on its own; the policy passes its own
readers (the ones its literal lists use) so that a list means the same in a file as inline.
Every container answers membership in time that does not grow with the list.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

K = TypeVar("K")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"(?:{_LABEL}\.)+{_LABEL}")
_ATOM = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+"
_EMAIL = re.compile(rf"({_ATOM}(?:\.{_ATOM})*)@((?:{_LABEL}\.)+{_LABEL})")
_EMPLOYEE_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_CODE = re.compile(r"[\x21-\x7e]{1,256}")


class Members(Protocol):
    """A list's entries, asked about one submitted value at a time."""

    def __contains__(self, value: object) -> bool: ...

    def __len__(self) -> int: ...


@dataclass(frozen=True)
class Kind(Generic[K]):
    """`read` checks and normalises one entry, raising ValueError with a message that never
    quotes it ("not a domain name"); `hold` keeps the entries read."""

    what: str
    read: Callable[[str], K]
    hold: Callable[[Iterable[K]], Members]


class Exact:
    """Entries matched whole; `key` normalises a submitted value the way entries were."""

    __slots__ = ("_entries", "_key")

    def __init__(self, entries: Iterable[str], key: Callable[[str], str] | None = None) -> None:
        self._entries = frozenset(entries)
        self._key = key

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, str):
            return False
        return (self._key(value) if self._key is not None else value) in self._entries

    def __len__(self) -> int:
        return len(self._entries)


def lower_case(entries: Iterable[str]) -> Exact:
    return Exact(entries, str.lower)


class Domains:
    """Domain names, and `*.name` for any subdomain of name (not name itself), as the policy's
    own domain lists mean them; a lookup walks the value's labels, never the entries."""

    __slots__ = ("_exact", "_parents")

    def __init__(self, entries: Iterable[str]) -> None:
        exact: set[str] = set()
        parents: set[str] = set()
        for entry in entries:
            if entry.startswith("*."):
                parents.add(entry[2:])
            else:
                exact.add(entry)
        self._exact, self._parents = frozenset(exact), frozenset(parents)

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, str):
            return False
        domain = value.lower()
        if domain in self._exact:
            return True
        if not self._parents:
            return False
        dot = domain.find(".")
        while dot >= 0:
            if domain[dot + 1 :] in self._parents:
                return True
            dot = domain.find(".", dot + 1)
        return False

    def __len__(self) -> int:
        return len(self._exact) + len(self._parents)


class Networks:
    """CIDR ranges; an address is looked up once per prefix length in use (at most 33 for IPv4,
    129 for IPv6), whatever the number of ranges. An IPv4-mapped IPv6 address is its IPv4 one."""

    __slots__ = ("_count", "_tables")

    def __init__(self, entries: Iterable[Network]) -> None:
        tables: dict[tuple[int, int], set[int]] = {}
        for network in entries:
            key = (network.version, network.prefixlen)
            tables.setdefault(key, set()).add(int(network.network_address))
        self._count = sum(len(found) for found in tables.values())
        # Per version, the longest prefixes first; each with the mask that keeps its bits.
        self._tables: dict[int, tuple[tuple[int, frozenset[int]], ...]] = {}
        for version, width in ((4, 32), (6, 128)):
            lengths = sorted((p for v, p in tables if v == version), reverse=True)
            self._tables[version] = tuple(
                (((1 << width) - 1) ^ ((1 << (width - p)) - 1), frozenset(tables[(version, p)]))
                for p in lengths
            )

    def __contains__(self, value: object) -> bool:
        address = _address(value)
        if address is None:
            return False
        number = int(address)
        return any(number & mask in found for mask, found in self._tables[address.version])

    def __len__(self) -> int:
        return self._count


def _address(value: object) -> Address | None:
    if isinstance(value, str):
        try:
            value = ipaddress.ip_address(value)
        except ValueError:
            return None
    if isinstance(value, ipaddress.IPv6Address) and value.ipv4_mapped is not None:
        return value.ipv4_mapped
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return value
    return None


def domain(text: str) -> str:
    entry = text.lower()
    name = entry[2:] if entry.startswith("*.") else entry
    if len(name) > 253 or not _DOMAIN.fullmatch(name):
        raise ValueError("not a domain name (ASCII; the xn-- form for IDNs)")
    return entry


def email_address(text: str) -> str:
    entry = text.lower()
    match = _EMAIL.fullmatch(entry)
    if match is None or len(match.group(1)) > 64 or len(match.group(2)) > 253:
        raise ValueError("not an email address")
    return entry


def employee_number(text: str) -> str:
    if not _EMPLOYEE_NUMBER.fullmatch(text):
        raise ValueError("not an employee number (letters, digits, '.', '_', '-'; 64 at most)")
    return text


def code(text: str) -> str:
    if not _CODE.fullmatch(text):
        raise ValueError("not a code (printable ASCII without spaces; 256 at most)")
    return text


def network(text: str) -> Network:
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError:
        # ipaddress's message quotes the entry; ours does not.
        raise ValueError("not a CIDR range (or bits are set past its prefix)") from None


DOMAINS: Kind[str] = Kind("domain name", domain, Domains)
EMAIL_ADDRESSES: Kind[str] = Kind("email address", email_address, lower_case)
EMPLOYEE_NUMBERS: Kind[str] = Kind("employee number", employee_number, Exact)
CODES: Kind[str] = Kind("code", code, Exact)
NETWORKS: Kind[Network] = Kind("CIDR range", network, Networks)
KINDS: dict[str, Kind[str] | Kind[Network]] = {
    "domains": DOMAINS,
    "email_addresses": EMAIL_ADDRESSES,
    "employee_numbers": EMPLOYEE_NUMBERS,
    "codes": CODES,
    "networks": NETWORKS,
}
