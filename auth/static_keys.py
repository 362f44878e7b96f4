"""Keys given as settings, used with no network at all: a pinned JWKS, or an HMAC shared secret."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from auth.keys import (
    ASYMMETRIC_ALGORITHMS,
    HMAC_ALGORITHMS,
    JwkEntry,
    JwksFormatError,
    KeyNotFound,
    VerificationKey,
    parse_jwks,
)
from auth.loggable import shown
from hook.errors import Unavailable
from hook.logs import logger
from hook.secret_values import Secret, SecretSource

# RFC 7518 §3.2: an HMAC key at least as long as the hash output.
HMAC_MIN_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}

T = TypeVar("T")


class _Parsed(Generic[T]):
    """The parsed form of a secret-valued setting, redone only when the source swaps the Secret.

    A malformed new value never replaces a good one: Okta would be locked out by a typo.
    """

    def __init__(self, source: SecretSource, parse: Callable[[str], T]) -> None:
        self._source = source
        self._parse = parse
        self._lock = threading.Lock()
        self._parsed_from: Secret | None = None
        self._rejected: Secret | None = None
        self._value: T | None = None

    def get(self) -> T:
        secret = self._source.current()
        value = self._value
        if value is not None and (secret is self._parsed_from or secret is self._rejected):
            return value
        with self._lock:
            if secret is not self._parsed_from and secret is not self._rejected:
                self._update(secret)
            if self._value is None:
                raise Unavailable(f"{self._source.setting}: no usable value")
            return self._value

    def _update(self, secret: Secret) -> None:
        try:
            self._value = self._parse(secret.reveal())
        except ValueError as e:
            # The message names the setting and the problem, never the value.
            if self._value is None:
                raise Unavailable(f"{self._source.setting}: {e}") from None
            self._rejected = secret
            logger.error(
                "%s: new value refused, the previous one stays: %s",
                self._source.setting,
                e,
                extra={"fields": {"event": "secret", "setting": self._source.setting}},
            )
            return
        self._parsed_from = secret


class PinnedKeys:
    """`OKTA_HOOK_JWKS`: a JWKS document given as a setting; asymmetric algorithms only."""

    algorithms = ASYMMETRIC_ALGORITHMS

    def __init__(self, source: SecretSource) -> None:
        self._setting = source.setting
        self._entries = _Parsed(source, lambda text: _parse_jwks_text(text, source.setting))

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
        self._secret = _Parsed(source, _hmac_key)

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
