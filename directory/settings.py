"""One directory lookup as the policy configures it, checked when the policy is read."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from directory.templates import BodyTemplate, JsonPath, MissingValue, UrlTemplate

# The most a lookup may wait (each call is bounded further by the request's deadline).
MAX_TIMEOUT_SECONDS = 2.5
_ATTRIBUTE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


@dataclass(frozen=True)
class Match:
    """The record's value at `path` must equal the submitted `field` (both as text; with
    `ignore_case`, compared case-folded: an email address the directory writes capitalised)."""

    path: JsonPath
    field: str
    ignore_case: bool = False


@dataclass(frozen=True)
class DirectorySettings:
    """A lookup: `url` (and `body`, for a POST) filled from submitted values; `found` and
    `not_found` the statuses that mean a record or none (any other is a failure); `record` where
    the record is in a found answer (a missing or empty one: not found); `match` what must agree;
    `copy` the profile attributes to set on ALLOW from the record's values."""

    name: str
    url: UrlTemplate
    body: BodyTemplate | None = None
    found: frozenset[int] = frozenset({200})
    not_found: frozenset[int] = frozenset({404})
    record: JsonPath = JsonPath("")
    match: tuple[Match, ...] = ()
    copy: Mapping[str, JsonPath] = field(default_factory=dict)
    timeout_seconds: float = 1.0
    positive_ttl_seconds: float = 300.0
    negative_ttl_seconds: float = 60.0
    cache_entries: int = 10_000
    max_body_bytes: int = 64 * 1024
    failures_to_open: int = 5
    open_seconds: float = 30.0
    fail_open: bool = False
    ca_bundle: str | None = None  # PEM file of CAs trusted beside the system's (a private CA)
    fields: tuple[str, ...] = field(init=False)  # the submitted values a lookup is keyed on

    def __post_init__(self) -> None:
        if not 0 < self.timeout_seconds <= MAX_TIMEOUT_SECONDS:
            raise ValueError(f"timeout_seconds must be above 0 and at most {MAX_TIMEOUT_SECONDS}")
        if self.found & self.not_found or not self.found:
            raise ValueError("found and not_found must be distinct, and found not empty")
        if any(not 200 <= s <= 499 or 300 <= s <= 399 for s in self.found | self.not_found):
            raise ValueError("found and not_found statuses must be 2xx or 4xx")
        for name in self.copy:
            if not _ATTRIBUTE.fullmatch(name):
                raise ValueError(f"copy: {name!r} is not a profile attribute name")
        for number in (self.positive_ttl_seconds, self.negative_ttl_seconds):
            if number < 0:
                raise ValueError("a cache TTL cannot be negative")
        if self.failures_to_open < 1 or self.open_seconds <= 0 or self.cache_entries < 0:
            raise ValueError("failures_to_open and open_seconds must be positive")
        used = self.url.fields + (self.body.fields if self.body else ())
        used += tuple(m.field for m in self.match)
        object.__setattr__(self, "fields", tuple(sorted(set(used))))

    @property
    def method(self) -> str:
        return "POST" if self.body is not None else "GET"

    def key(self, values: Mapping[str, Any]) -> tuple[str, ...]:
        """What an answer is cached under: the values of the fields this lookup uses."""
        try:
            return tuple(str(values[name]) for name in self.fields)
        except KeyError as e:
            raise MissingValue(f"no value for {e.args[0]!s}") from None
