"""Keys given as settings, used with no network at all: a pinned JWKS, or an HMAC shared secret."""

from __future__ import annotations

from collections.abc import Callable

from auth.keys import (
    ASYMMETRIC_ALGORITHMS,
    HMAC_ALGORITHMS,
    JwkEntry,
    JwksFormatError,
    KeyNotFound,
    VerificationKey,
    parse_jwks,
)
from core import strict_json
from core.loggable import shown
from core.refreshing import Refreshing

# RFC 7518 §3.2: an HMAC key at least as long as the hash output.
HMAC_MIN_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}

KeySet = dict[str, JwkEntry]


def parse_jwks_text(setting: str) -> Callable[[str], KeySet]:
    """The parser of a JWKS given as the text of `setting`: the function's one key-set reader."""

    def parse(text: str) -> KeySet:
        try:
            document = strict_json.loads(text)
        except strict_json.StrictJsonError as e:
            why = "not JSON" if e.syntax else f"the JSON {e.public}"
            raise JwksFormatError(f"{setting}: {why}") from None
        return parse_jwks(document, setting)

    return parse


class PinnedKeys:
    """`OKTA_HOOK_JWKS`: a JWKS document given as a setting; asymmetric algorithms only."""

    algorithms = ASYMMETRIC_ALGORITHMS

    def __init__(self, keys: Refreshing[str, KeySet]) -> None:
        self._keys = keys
        self._setting = keys.source.name

    def __repr__(self) -> str:
        return f"PinnedKeys({self._setting})"

    def load(self) -> None:
        self._keys.current()

    def key_for(self, kid: str | None, alg: str) -> VerificationKey:
        entries = self._keys.current()
        if kid is None or kid not in entries:
            raise KeyNotFound(f"no key {shown(kid)} in {self._setting}")
        entry = entries[kid]
        if alg not in entry.by_algorithm:
            raise KeyNotFound(f"key {shown(kid)} does not verify {alg}")
        return VerificationKey(entry.by_algorithm[alg], alg)


class HmacKeys:
    """`OKTA_HOOK_JWT_HMAC_SECRET`: one shared secret; HS256/384/512 only, as its length allows.
    For local tests only: Okta signs hook tokens with RS256."""

    algorithms = HMAC_ALGORITHMS

    def __init__(self, key: Refreshing[str, bytes]) -> None:
        self._key = key
        self._setting = key.source.name

    def __repr__(self) -> str:
        return f"HmacKeys({self._setting})"

    def load(self) -> None:
        self._key.current()

    def key_for(self, kid: str | None, alg: str) -> VerificationKey:
        key = self._key.current()
        if alg not in HMAC_MIN_BYTES:
            raise KeyNotFound(f"{alg} is not an HMAC algorithm")
        if len(key) < HMAC_MIN_BYTES[alg]:
            raise KeyNotFound(f"{self._setting} is too short for {alg}")
        return VerificationKey(key, alg)


def hmac_key(text: str) -> bytes:
    key = text.strip().encode("utf-8")
    if len(key) < HMAC_MIN_BYTES["HS256"]:
        raise ValueError(f"shorter than {HMAC_MIN_BYTES['HS256']} bytes")
    return key
