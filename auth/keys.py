"""Verification keys: what a key provider hands the bearer verifier, and how a JWKS is read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from jwt import PyJWK
from jwt.exceptions import PyJWTError
from jwt.utils import base64url_decode

from core.loggable import shown
from core.logs import logger

RSA_ALGORITHMS = ("RS256", "RS384", "RS512")
RSA_PSS_ALGORITHMS = ("PS256", "PS384", "PS512")
EC_ALGORITHMS = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
ASYMMETRIC_ALGORITHMS = frozenset((*RSA_ALGORITHMS, *RSA_PSS_ALGORITHMS, *EC_ALGORITHMS.values()))
HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
MAX_KEYS = 50
# Okta's keys are 2048-bit. Larger ones cost more to verify for nothing, and a public exponent
# past NIST's 256-bit bound turns each verification into a private-key-sized computation.
MAX_RSA_BITS = 4096
MAX_RSA_EXPONENT_BITS = 256


class KeyNotFound(Exception):
    """No key for this `kid` and `alg`; the message is safe to log."""


@dataclass(frozen=True)
class VerificationKey:
    """A key and the one algorithm it may verify, for `jwt.decode`."""

    key: PyJWK | bytes
    algorithm: str


class KeyProvider(Protocol):
    """Where the bearer verifier gets keys; raises `core.errors.Unavailable` when it has none."""

    algorithms: frozenset[str]

    def load(self) -> None: ...

    def key_for(self, kid: str | None, alg: str) -> VerificationKey: ...


@dataclass(frozen=True)
class JwkEntry:
    """One usable key of a JWKS, with a verifier prepared for each algorithm its type allows."""

    kid: str
    by_algorithm: Mapping[str, PyJWK]


class JwksFormatError(ValueError):
    """The document is not a JWKS with at least one usable signing key."""


def parse_jwks(document: Any, origin: str) -> dict[str, JwkEntry]:
    """Usable keys by `kid`; keys that cannot verify our tokens are skipped and logged."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JwksFormatError(f"{origin}: not a JWKS (no 'keys' list)")
    entries: dict[str, JwkEntry] = {}
    ambiguous: set[str] = set()
    for index, jwk in enumerate(document["keys"][:MAX_KEYS]):
        try:
            entry = _entry(jwk)
        except (JwksFormatError, PyJWTError, TypeError, ValueError) as e:
            label = jwk.get("kid") if isinstance(jwk, dict) else None
            logger.warning(
                "JWKS key skipped: %s",
                str(e)[:200],
                extra={"fields": {"event": "keys", "origin": origin, "index": index, "kid": label}},
            )
            continue
        _add(entries, ambiguous, entry, origin)
    if not entries:
        raise JwksFormatError(f"{origin}: no usable signing key")
    return entries


def _add(entries: dict[str, JwkEntry], ambiguous: set[str], entry: JwkEntry, origin: str) -> None:
    """One kid may name keys of different types (RFC 7517 §4.5), told apart by `alg`; a kid
    that names two keys for the same algorithm cannot say which one signed, so neither is used."""
    previous = entries.get(entry.kid)
    if entry.kid in ambiguous:
        return
    if previous is None:
        entries[entry.kid] = entry
    elif not set(previous.by_algorithm) & set(entry.by_algorithm):
        entries[entry.kid] = JwkEntry(entry.kid, {**previous.by_algorithm, **entry.by_algorithm})
    else:
        ambiguous.add(entry.kid)
        del entries[entry.kid]
        logger.warning(
            "JWKS kid names two keys for one algorithm: neither is used",
            extra={"fields": {"event": "keys", "origin": origin, "kid": shown(entry.kid)}},
        )


def _entry(jwk: Any) -> JwkEntry:
    if not isinstance(jwk, dict):
        raise JwksFormatError("not a JSON object")
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not kid or len(kid) > 256:
        raise JwksFormatError("no kid")
    if jwk.get("use", "sig") != "sig":
        raise JwksFormatError(f"use is {str(jwk.get('use'))[:16]!r}, not 'sig'")
    key_ops = jwk.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
        raise JwksFormatError("key_ops does not allow verify")
    if "d" in jwk:
        # A private key in a public key set is a leak upstream, not something to trust.
        raise JwksFormatError("the JWK holds private key material")
    algorithms = _algorithms_for(jwk)
    if jwk.get("kty") == "RSA":
        _check_rsa_size(jwk)
    by_algorithm: dict[str, PyJWK] = {}
    for algorithm in algorithms:
        prepared = PyJWK(jwk, algorithm=algorithm)
        weakness = prepared.Algorithm.check_key_length(prepared.key)
        if weakness:
            raise JwksFormatError(weakness)
        by_algorithm[algorithm] = prepared
    return JwkEntry(kid=kid, by_algorithm=by_algorithm)


def _check_rsa_size(jwk: dict[str, Any]) -> None:
    """Refuses a modulus or exponent too large before any key object is built from them."""
    for member, limit in (("n", MAX_RSA_BITS), ("e", MAX_RSA_EXPONENT_BITS)):
        value = jwk.get(member)
        # Base64url carries 6 bits a character: a longer text cannot be under the limit.
        if not isinstance(value, str) or len(value) > limit // 6 + 4:
            raise JwksFormatError(f"RSA {member} missing or over {limit} bits")
        bits = int.from_bytes(base64url_decode(value), "big").bit_length()
        if bits > limit:
            raise JwksFormatError(f"RSA {member} is {bits} bits, over {limit}")


def _algorithms_for(jwk: dict[str, Any]) -> tuple[str, ...]:
    """Algorithms pinned by key type; a JWK's own `alg` narrows them to one."""
    kty = jwk.get("kty")
    if kty == "RSA":
        family: tuple[str, ...] = RSA_ALGORITHMS + RSA_PSS_ALGORITHMS
        default: tuple[str, ...] = RSA_ALGORITHMS
    elif kty == "EC" and jwk.get("crv") in EC_ALGORITHMS:
        family = default = (EC_ALGORITHMS[jwk["crv"]],)
    else:
        raise JwksFormatError(f"key type {str(kty)[:16]!r} is not RSA or EC P-256/384/521")
    alg = jwk.get("alg")
    if alg is None:
        return default
    if alg not in family:
        raise JwksFormatError(f"alg {str(alg)[:16]!r} does not fit key type {kty}")
    return (alg,)


def pick(entries: Mapping[str, JwkEntry], kid: str | None, alg: str) -> VerificationKey | None:
    """The key for this token header, or None when the set has none."""
    entry = entries.get(kid) if kid is not None else None
    if kid is None or entry is None:
        return None
    prepared = entry.by_algorithm.get(alg)
    if prepared is None:
        raise KeyNotFound(f"key {shown(kid)} does not verify {alg}")
    return VerificationKey(prepared, alg)
