"""Fetching and reading key sets: HTTPS only, bounded in time and size, unusable keys skipped."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from auth.keys import JwksFormatError, parse_jwks
from core.json_fetch import (
    MAX_DOCUMENT_BYTES,
    FetchError,
    cache_max_age,
    fetch_json,
    is_allowed_url,
)
from tests.jwt_support import KeyServer, public_ec_jwk, public_jwk


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://acme.okta.com/oauth2/default/v1/keys", True),
        ("http://127.0.0.1:8080/keys", True),
        ("http://localhost/keys", True),
        ("http://[::1]:9000/keys", True),
        ("http://acme.okta.com/oauth2/default/v1/keys", False),
        ("http://127.0.0.1.example.com/keys", False),
        ("http://10.0.0.1/keys", False),
        ("ftp://acme.okta.com/keys", False),
        ("file:///etc/passwd", False),
        ("https://user:pass@acme.okta.com/keys", False),
        ("https://acme.okta.com/keys#frag", False),
        ("https:///keys", False),
        ("acme.okta.com/keys", False),
        ("https://[not-an-ip/keys", False),
    ],
)
def test_only_https_or_loopback(url: str, allowed: bool) -> None:
    assert is_allowed_url(url) is allowed


def test_fetch_reads_the_document_and_its_cache_lifetime(okta: KeyServer) -> None:
    fetched = fetch_json(okta.jwks_uri, 0.5)
    assert fetched.document == {"keys": okta.jwks}
    assert fetched.max_age == 3600


def test_redirect_to_plain_http_is_refused(okta: KeyServer) -> None:
    okta.redirects["/moved"] = "http://keys.example/oauth2/default/v1/keys"
    with pytest.raises(FetchError, match="redirect to a URL that is not HTTPS"):
        fetch_json(okta.origin + "/moved", 0.5)


def test_redirect_within_loopback_is_followed(okta: KeyServer) -> None:
    okta.redirects["/moved"] = okta.jwks_uri
    assert fetch_json(okta.origin + "/moved", 0.5).document == {"keys": okta.jwks}


def test_oversized_document_is_refused(okta: KeyServer) -> None:
    okta.jwks = [{"kid": "x" * MAX_DOCUMENT_BYTES}]
    with pytest.raises(FetchError, match="over 131072 bytes"):
        fetch_json(okta.jwks_uri, 0.5)


def test_http_error_is_refused(okta: KeyServer) -> None:
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch_json(okta.origin + "/nothing-here", 0.5)


def test_plain_http_elsewhere_is_never_requested() -> None:
    with pytest.raises(FetchError, match="not an HTTPS URL"):
        fetch_json("http://keys.example/keys", 0.5)


def test_unreachable_host_is_a_fetch_error(okta: KeyServer) -> None:
    url = okta.jwks_uri
    okta.down()
    with pytest.raises(FetchError, match="URLError"):
        fetch_json(url, 0.5)


def test_silent_server_times_out() -> None:
    # Accepts the connection (the kernel does) and never answers.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(FetchError, match="timed out|no complete answer within 0.20 s"):
            fetch_json(f"http://127.0.0.1:{port}/keys", 0.2)
        assert time.monotonic() - started < 2.0  # generous: the budget is 0.2 s


def test_server_that_drips_bytes_is_cut_off_at_the_deadline() -> None:
    # Every byte arrives well within the socket timeout; only the overall deadline stops it.
    stop = threading.Event()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def drip() -> None:
            connection, _ = listener.accept()
            with connection:
                connection.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                for _ in range(60):  # at most 3 s, so a regression fails rather than hangs
                    if stop.wait(0.05):
                        return
                    connection.sendall(b"x")

        server = threading.Thread(target=drip)
        server.start()
        started = time.monotonic()
        try:
            with pytest.raises(FetchError, match="no complete answer within 0.30 s"):
                fetch_json(f"http://127.0.0.1:{listener.getsockname()[1]}/keys", 0.3)
            elapsed = time.monotonic() - started
        finally:
            stop.set()
            server.join()
    assert elapsed < 1.5  # generous: the budget is 0.3 s


@pytest.mark.parametrize(
    ("value", "max_age"),
    [
        ("", None),
        ("max-age=3600", 3600),
        ("public, max-age=120, must-revalidate", 120),
        ('max-age="60"', 60),
        ("s-maxage=10", None),
        ("no-store", 0),
        ("private, no-cache", 0),
        ("no-cache=Set-Cookie, max-age=300", 0),
        ("max-age=-1", None),
    ],
)
def test_cache_control(value: str, max_age: int | None) -> None:
    assert cache_max_age(value) == max_age


def test_rsa_key_without_alg_verifies_the_rs_family() -> None:
    jwk = public_jwk("okta", "k1", alg=None)
    assert sorted(parse_jwks({"keys": [jwk]}, "test")["k1"].by_algorithm) == [
        "RS256",
        "RS384",
        "RS512",
    ]


def test_key_alg_narrows_to_one_algorithm() -> None:
    jwk = public_jwk("okta", "k1", alg="PS256")
    assert list(parse_jwks({"keys": [jwk]}, "test")["k1"].by_algorithm) == ["PS256"]


def test_ec_key_verifies_its_curve_only() -> None:
    assert list(parse_jwks({"keys": [public_ec_jwk("gw", "e1")]}, "test")["e1"].by_algorithm) == [
        "ES256"
    ]


def weak_rsa_jwk() -> dict[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": "weak", "use": "sig"}


@pytest.mark.parametrize(
    "jwk",
    [
        public_jwk("okta", "enc", use="enc"),
        public_jwk("okta", "ops", key_ops=["encrypt"]),
        public_jwk("okta", "hs", alg="HS256"),
        public_jwk("okta", "es", alg="ES256"),
        public_jwk("okta", None),
        {**public_jwk("okta", "priv"), "d": "AQAB"},
        {"kty": "oct", "kid": "sym", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ"},
        {
            "kty": "OKP",
            "kid": "ed",
            "crv": "Ed25519",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
        },
        {"kty": "EC", "kid": "k1", "crv": "secp256k1", "x": "AA", "y": "AA"},
        {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
        "not an object",
    ],
)
def test_unusable_keys_are_skipped(jwk: Any) -> None:
    good = public_jwk("okta", "good")
    assert list(parse_jwks({"keys": [jwk, good]}, "test")) == ["good"]


def test_weak_rsa_key_is_skipped() -> None:
    with pytest.raises(JwksFormatError, match="test: no usable signing key"):
        parse_jwks({"keys": [weak_rsa_jwk()]}, "test")


@pytest.mark.parametrize("document", [{}, {"keys": {}}, [], {"keys": []}, "keys"])
def test_not_a_jwks(document: Any) -> None:
    with pytest.raises(JwksFormatError):
        parse_jwks(document, "test")
