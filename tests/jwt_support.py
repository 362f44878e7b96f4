"""Tokens minted the way Okta mints them, and an authorization server's key endpoints on loopback."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

AUTH_SERVER_PATH = "/oauth2/default"
AUDIENCE = "api://default"
SCOPE = "hooks.registration"
CLIENT_ID = "0oa1hookclient1d8"
OTHER_CLIENT_ID = "0oa2otherclient9x"
KID = "okta-key-1"
NEW_KID = "okta-key-2"


@cache
def rsa_key(name: str) -> rsa.RSAPrivateKey:
    """A 2048-bit key per name, made once per test run."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@cache
def ec_key(name: str) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_jwk(name: str, kid: str | None, **members: Any) -> dict[str, Any]:
    """The public half of `rsa_key(name)` as Okta's keys endpoint lists it."""
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(rsa_key(name).public_key(), as_dict=True)
    jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
    jwk.update(members)
    return {k: v for k, v in jwk.items() if v is not None}


def public_ec_jwk(name: str, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = ECAlgorithm.to_jwk(ec_key(name).public_key(), as_dict=True)
    jwk.update({"kid": kid, "use": "sig"})
    return jwk


def okta_claims(issuer: str, **changes: Any) -> dict[str, Any]:
    """An Okta access token's claims for a client credentials grant; `None` removes a claim."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "ver": 1,
        "jti": "AT.5xZbXvP9Q2rAn0d3kR7sLmT1uWcYeH4iJgFoKqBnE",
        "iss": issuer,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 3600,
        "cid": CLIENT_ID,
        "scp": [SCOPE],
        "sub": CLIENT_ID,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def mint(
    claims: dict[str, Any],
    key_name: str = "okta",
    kid: str | None = KID,
    algorithm: str = "RS256",
    **header: Any,
) -> str:
    """Sign as Okta does: RS256 with the `kid` of the signing key in the header."""
    headers = {"kid": kid, **header} if kid is not None else header
    return jwt.encode(claims, rsa_key(key_name), algorithm=algorithm, headers=headers)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def assemble(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A token built by hand, for headers and signatures no honest library would produce."""
    head = b64url(json.dumps(header).encode())
    body = b64url(json.dumps(claims).encode())
    return f"{head}.{body}.{b64url(signature)}"


def signing_input(token: str) -> bytes:
    return token.rsplit(".", 1)[0].encode("ascii")


def sign_by_hand(header: dict[str, Any], claims: dict[str, Any], key_name: str = "okta") -> str:
    """RS256 over exactly this header: PyJWT's encoder would drop or fix some members."""
    unsigned = assemble(header, claims)
    signature = RSAAlgorithm(RSAAlgorithm.SHA256).sign(signing_input(unsigned), rsa_key(key_name))
    return assemble(header, claims, signature)


class KeyServer:
    """An Okta authorization server's metadata and keys endpoints, served over loopback HTTP.

    Counts requests per path, can rotate its keys, stop listing metadata, and be taken down.
    """

    def __init__(self, jwks: list[dict[str, Any]]) -> None:
        self.jwks = jwks
        self.hits: Counter[str] = Counter()
        self.cache_control: str | None = "max-age=3600, must-revalidate"
        self.metadata_paths = {"/.well-known/oauth-authorization-server"}
        self.metadata_changes: dict[str, Any] = {}
        self.redirects: dict[str, str] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        self._up = True

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def issuer(self) -> str:
        return self.origin + AUTH_SERVER_PATH

    @property
    def jwks_uri(self) -> str:
        return self.issuer + "/v1/keys"

    def key_fetches(self) -> int:
        with self._lock:
            return self.hits[AUTH_SERVER_PATH + "/v1/keys"]

    def total_hits(self) -> int:
        with self._lock:
            return sum(self.hits.values())

    def down(self) -> None:
        if self._up:
            self._up = False
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()

    def _answer(self, path: str) -> tuple[int, dict[str, Any] | None]:
        with self._lock:
            self.hits[path] += 1
        if path == AUTH_SERVER_PATH + "/v1/keys":
            return 200, {"keys": self.jwks}
        for suffix in self.metadata_paths:
            if path == AUTH_SERVER_PATH + suffix:
                metadata = {
                    "issuer": self.issuer,
                    "jwks_uri": self.jwks_uri,
                    "token_endpoint": self.issuer + "/v1/token",
                }
                return 200, {**metadata, **self.metadata_changes}
        return 404, None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path in server.redirects:
                    self.send_response(302)
                    self.send_header("Location", server.redirects[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status, document = server._answer(self.path)
                body = json.dumps(document or {"errorCode": "E0000022"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if server.cache_control is not None:
                    self.send_header("Cache-Control", server.cache_control)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@contextmanager
def key_server(*jwks: dict[str, Any]) -> Iterator[KeyServer]:
    server = KeyServer(list(jwks) or [public_jwk("okta", KID)])
    try:
        yield server
    finally:
        server.down()


def bearer_env(server: KeyServer, **changes: str) -> dict[str, str]:
    """The settings of a hook that accepts Okta's tokens from `server`'s authorization server."""
    env = {
        "OKTA_HOOK_ISSUER": server.issuer,
        "OKTA_HOOK_SCOPES": SCOPE,
        "OKTA_HOOK_CLIENT_IDS": CLIENT_ID,
    }
    env.update(changes)
    return env
