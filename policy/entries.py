"""Sets of entries a rule looks values up in: domains, values and network ranges.

Each is built once from its entries and answers `in` without scanning them, whatever their number.
Written in the policy file, or read from a list kept elsewhere (a bucket, a secret) into the same
objects (policy/list_kinds.py), so that no rule depends on where its entries come from.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator
from typing import Protocol, TypeVar

T_contra = TypeVar("T_contra", contravariant=True)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Entries(Protocol[T_contra]):
    """What a rule needs of a list: membership, and the entries as written, for summaries."""

    def __contains__(self, item: T_contra, /) -> bool: ...

    def __len__(self) -> int: ...

    @property
    def written(self) -> tuple[str, ...]: ...


class DomainSet:
    """Domain names matched whole: `example.com` itself, or `*.example.com` for any name under
    it (never the name itself). A name is looked up once per label, never by substring."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.entries = tuple(entries)
        self._exact = frozenset(e for e in self.entries if not e.startswith("*."))
        # `*.example.com` is kept as `example.com`: a name under it has it as a parent.
        self._parents = frozenset(e[2:] for e in self.entries if e.startswith("*."))

    def __contains__(self, domain: object) -> bool:
        if not isinstance(domain, str):
            return False
        if domain in self._exact:
            return True
        if not self._parents:
            return False
        _, dot, parent = domain.partition(".")
        while dot:
            if parent in self._parents:
                return True
            _, dot, parent = parent.partition(".")
        return False

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def members(self, facts: object) -> DomainSet:
        """The entries a rule looks in: these, written in the policy (a `ListRef` reads its
        list's instead)."""
        return self

    @property
    def written(self) -> tuple[str, ...]:
        return self.entries


def value_key(value: object) -> tuple[str, object] | None:
    """The key two JSON values share when they are equal: `true` is never `1`, and `3.0` is `3`.
    None for a value no entry can equal (null, an array, an object)."""
    if isinstance(value, bool):
        return ("boolean", value)
    if isinstance(value, int | float):
        return ("number", value)  # 3 == 3.0 and both hash alike
    if isinstance(value, str):
        return ("string", value)
    return None


class ValueSet:
    """JSON scalars compared as JSON compares them: strings exactly, numbers by value, booleans
    only with booleans."""

    def __init__(self, entries: Iterable[str | int | float | bool]) -> None:
        self.entries = tuple(entries)
        # One set per JSON type: Python's own `True == 1` never meets a number.
        self._by_type: dict[type, frozenset[object]] = {
            kind: frozenset(e for e in self.entries if _json_type(e) is kind)
            for kind in (str, bool, float)
        }

    def __contains__(self, value: object) -> bool:
        kind = type(value)
        if kind is int:
            kind = float
        found = self._by_type.get(kind)
        return found is not None and value in found

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[str | int | float | bool]:
        return iter(self.entries)

    def members(self, facts: object) -> ValueSet:
        """The entries a rule looks in: these, written in the policy (a `ListRef` reads its
        list's instead)."""
        return self

    @property
    def written(self) -> tuple[str, ...]:
        return tuple(_json_text(entry) for entry in self.entries)


def _json_type(value: object) -> type | None:
    """str, bool, or float for any number (3 and 3.0 are one number); None for the rest."""
    kind = type(value)
    if kind is int:
        return float
    return kind if kind in (str, bool, float) else None


def _json_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


class NetworkSet:
    """CIDR ranges, IPv4 and IPv6. An address is looked up once per prefix length in use
    (at most 33 for IPv4 and 129 for IPv6), never range by range."""

    def __init__(self, networks: Iterable[Network], *, keep: bool = True) -> None:
        """`keep`: hold the ranges as written, for summaries (a long list read from outside the
        policy is held only as the tables below: its range objects would cost far more)."""
        kept: list[Network] = []
        count = 0
        by_length: dict[tuple[int, int], set[int]] = {}
        for network in networks:
            count += 1
            if keep:
                kept.append(network)
            key = (network.version, network.prefixlen)
            by_length.setdefault(key, set()).add(int(network.network_address))
        self.networks = tuple(kept)
        self._count = count
        # Longest prefixes first: the same answer, but the narrowest range is found first.
        self._ranges = {
            version: tuple(
                (_mask(version, length), frozenset(starts))
                for (v, length), starts in sorted(by_length.items(), key=lambda kv: -kv[0][1])
                if v == version
            )
            for version in (4, 6)
        }

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address):
            return False
        value = int(address)
        return any(value & mask in starts for mask, starts in self._ranges[address.version])

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Network]:
        return iter(self.networks)

    def members(self, facts: object) -> NetworkSet:
        """The entries a rule looks in: these, written in the policy (a `ListRef` reads its
        list's instead)."""
        return self

    @property
    def written(self) -> tuple[str, ...]:
        return tuple(str(network) for network in self.networks)


def _mask(version: int, length: int) -> int:
    bits = 32 if version == 4 else 128
    return ((1 << length) - 1) << (bits - length)
