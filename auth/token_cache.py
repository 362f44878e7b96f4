"""Tokens already verified: Okta sends the same access token until it expires, so remember it.

An entry is keyed by the SHA-256 of the whole token string: any other token, even one with the
same claims and another signature, is another key. It is stored only once every check has passed
(signature, claims, client, scopes), and it answers only while the token is valid as the full
check would judge it: from `nbf`/`iat` less the leeway, and never at or after `exp` (the leeway
past `exp` is left to the full check). It also remembers the exact key object that verified the
token: the verifier asks its key provider for that key on every hit, and anything else (the key
is gone, or the key set was read again) makes the entry void.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from auth.caller import Caller

DEFAULT_CAPACITY = 1024


@dataclass(frozen=True)
class Verified:
    """What a full verification established about one token, and for how long it holds."""

    caller: Caller
    kid: str | None
    alg: str
    key: object  # the key object that verified it; compared by identity
    not_before: float  # wall-clock seconds; the entry answers from here...
    expires: float  # ...until just before here


class TokenCache:
    """A bounded, thread-safe LRU map from token digest to `Verified`."""

    def __init__(
        self, capacity: int = DEFAULT_CAPACITY, clock: Callable[[], float] = time.time
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._clock = clock
        self._entries: OrderedDict[bytes, Verified] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, token: str) -> Verified | None:
        """The entry for exactly this token while it holds; an entry past its time is dropped."""
        digest = _digest(token)
        now = self._clock()
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            if not entry.not_before <= now < entry.expires:
                del self._entries[digest]
                return None
            self._entries.move_to_end(digest)
            return entry

    def put(self, token: str, entry: Verified) -> None:
        """Remember a token that passed every check; one already past its time is not kept."""
        now = self._clock()
        if not entry.not_before <= now < entry.expires:
            return
        digest = _digest(token)
        with self._lock:
            self._entries[digest] = entry
            self._entries.move_to_end(digest)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
