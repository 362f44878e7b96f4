"""Keys given as settings, used with no network at all: a pinned JWKS, or an HMAC shared secret."""

from __future__ import annotations

import json

from auth.keys import (
    ASYMMETRIC_ALGORITHMS,
    HMAC_ALGORITHMS,
    JwkEntry,
    JwksFormatError,
    KeyNotFound,
    VerificationKey,
    parse_jwks,
)
from core.loggable import shown
from secret_sources.values import ParsedSecret, SecretSource

# RFC 7518 §3.2: an HMAC key at least as long as the hash output.
HMAC_MIN_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}


class PinnedKeys:
    """`OKTA_HOOK_JWKS`: a JWKS document given as a setting; asymmetric algorithms only."""

    algorithms = ASYMMETRIC_ALGORITHMS

    def __init__(self, source: SecretSource) -> None:
        self._setting = source.setting
        self._entries = ParsedSecret(source, lambda text: _parse_jwks_text(text, source.setting))

    def __repr__(self) -> str:
        return f"PinnedKeys({self._setting})"

    def load(self) -> None:
        self._entries.get()

    def key_for(self, kid: str | None, alg: str) -> VerificationKey:
        entries = self._entries.get()
        if kid is None or kid not in entries:
            raise KeyNotFound(f"no key {shown(kid)} in {self._setting}")
        entry = entries[kid]
        if alg not in entry.by_algorithm:
            raise KeyNotFound(f"key {shown(kid)} does not verify {alg}")
        return VerificationKey(entry.by_algorithm[alg], alg)


def _parse_jwks_text(text: str, setting: str) -> dict[str, JwkEntry]:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        raise JwksFormatError("not JSON") from None
    return parse_jwks(document, setting)


class HmacKeys:
    """`OKTA_HOOK_JWT_HMAC_SECRET`: one shared secret; HS256/384/512 only, as its length allows."""

    algorithms = HMAC_ALGORITHMS

    def __init__(self, source: SecretSource) -> None:
        self._setting = source.setting
        self._secret = ParsedSecret(source, _hmac_key)

    def __repr__(self) -> str:
        return f"HmacKeys({self._setting})"

    def load(self) -> None:
        self._secret.get()

    def key_for(self, kid: str | None, alg: str) -> VerificationKey:
        key = self._secret.get()
        if alg not in HMAC_MIN_BYTES:
            raise KeyNotFound(f"{alg} is not an HMAC algorithm")
        if len(key) < HMAC_MIN_BYTES[alg]:
            raise KeyNotFound(f"{self._setting} is too short for {alg}")
        return VerificationKey(key, alg)


def _hmac_key(text: str) -> bytes:
    key = text.strip().encode("utf-8")
    if len(key) < HMAC_MIN_BYTES["HS256"]:
        raise ValueError(f"shorter than {HMAC_MIN_BYTES['HS256']} bytes")
    return key
