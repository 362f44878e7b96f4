"""Tokens built byte by byte, for headers, claims and signatures no honest library would produce."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from jwt.algorithms import ECAlgorithm, RSAAlgorithm, RSAPSSAlgorithm
from jwt.utils import to_base64url_uint

from tests import leak_check
from tests.jwt_support import b64url, ec_key, rsa_key

Signer = Callable[[bytes], bytes]

HMAC_SECRET = leak_check.remember("hmac-shared-secret-for-the-attack-suite-0123456789")
HASHES = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}


def raw_token(header: str | dict[str, Any], claims: str | dict[str, Any], sign: Signer) -> str:
    """`header` and `claims` as JSON text (kept as written: repeated members, odd numbers) or
    as objects; the signature is `sign` over exactly these bytes."""
    head = b64url((header if isinstance(header, str) else json.dumps(header)).encode())
    body = b64url((claims if isinstance(claims, str) else json.dumps(claims)).encode())
    signing_input = f"{head}.{body}".encode("ascii")
    return f"{head}.{body}.{b64url(sign(signing_input))}"


def rs(key_name: str = "okta", bits: str = "256") -> Signer:
    algorithm = RSAAlgorithm(getattr(RSAAlgorithm, f"SHA{bits}"))
    return lambda data: algorithm.sign(data, rsa_key(key_name))


def ps(key_name: str = "okta", bits: str = "256") -> Signer:
    algorithm = RSAPSSAlgorithm(getattr(RSAPSSAlgorithm, f"SHA{bits}"))
    return lambda data: algorithm.sign(data, rsa_key(key_name))


def es(key_name: str) -> Signer:
    algorithm = ECAlgorithm(ECAlgorithm.SHA256)
    return lambda data: algorithm.sign(data, ec_key(key_name))


def hs(secret: bytes, bits: str = "256") -> Signer:
    return lambda data: hmac.new(secret, data, HASHES[bits]).digest()


def unsigned(signature: bytes = b"") -> Signer:
    return lambda data: signature


# The public key in each form a verifier might be tricked into using as an HMAC secret.


def public_pem(key_name: str = "okta") -> bytes:
    return (
        rsa_key(key_name)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def public_pkcs1_pem(key_name: str = "okta") -> bytes:
    return (
        rsa_key(key_name)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
    )


def public_der(key_name: str = "okta") -> bytes:
    return (
        rsa_key(key_name)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def public_jwk_bytes(jwk: dict[str, Any]) -> bytes:
    return json.dumps(jwk).encode()


def self_signed_x5c(key_name: str) -> list[str]:
    """An x5c chain of one self-signed certificate for the attacker's key."""
    key = rsa_key(key_name)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "acme.okta.com")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return [base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()]


def huge_rsa_jwk(kid: str, bits: int, exponent: int = 65537) -> dict[str, Any]:
    """A JWK with a random odd modulus of `bits` bits: no one holds its private key, but a
    verifier that accepts it pays for its size."""
    modulus = secrets.randbits(bits) | (1 << (bits - 1)) | 1
    return {
        "kty": "RSA",
        "kid": kid,
        "use": "sig",
        "alg": "RS256",
        "n": to_base64url_uint(modulus).decode(),
        "e": to_base64url_uint(exponent).decode(),
    }
