"""A company directory on loopback HTTPS, with a CA made for the run, and faults on demand.

`GET /people/{number}?email=...` answers the record of that employee number (200) or 404;
`POST /search` with `{"employeeNumber": ...}` answers `{"results": [record]}` or an empty list.
Every request must carry `Authorization: Bearer <token>` when `token` is set (401 otherwise).
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HANG_LIMIT_SECONDS = 10.0


@dataclass(frozen=True)
class Authority:
    """A CA's certificate file, and what it signs with."""

    cert_path: Path
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def issue(self, directory: Path, name: str, hosts: list[str]) -> tuple[Path, Path]:
        """A server certificate for `hosts` (names or IP addresses): (cert file, key file)."""
        key = ec.generate_private_key(ec.SECP256R1())
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )
        cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return cert_path, key_path


def authority(directory: Path, name: str) -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} test CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    path = directory / f"{name}-ca.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return Authority(path, cert, key)


class DirectoryServer:
    """The records by employee number; `calls` counts requests by path (query left out).

    `fault`: None, "500", "slow" (answers after `delay`), "hang", "drip" (the answer a byte at a
    time, `delay` apart), "huge" (a body of `huge_bytes`), "redirect-same", "redirect-other",
    "bad-json", "close" (closes the connection without an answer)."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.calls: Counter[str] = Counter()
        self.token: str | None = None
        self.tokens_seen: list[str] = []
        self.fault: str | None = None
        self.delay = 0.0
        self.huge_bytes = 1024 * 1024
        self.released = threading.Event()
        self.connections = 0
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(cert, key)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.port = 0

    def url(self, host: str = "localhost") -> str:
        return f"https://{host}:{self.port}"

    def total(self) -> int:
        return sum(self.calls.values())

    def start(self) -> None:
        owner = self
        handler = type("Handler", (_Handler,), {"owner": self})

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self) -> tuple[socket.socket, Any]:
                raw, address = super().get_request()
                raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with owner._lock:
                    owner.connections += 1
                # The handshake happens in the request's thread, on its first read.
                wrapped = owner._context.wrap_socket(
                    raw, server_side=True, do_handshake_on_connect=False
                )
                return wrapped, address

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # refused handshakes and clients that gave up: what the tests do

        self._server = Server(("127.0.0.1", 0), handler)
        self.port = self._server.server_address[1]
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self.released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    owner: DirectoryServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(HANG_LIMIT_SECONDS)

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        owner = self.owner
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with owner._lock:
            owner.calls[parts.path] += 1
        authorization = self.headers.get("Authorization", "")
        owner.tokens_seen.append(authorization)
        fault = owner.fault
        if fault == "hang":
            owner.released.wait(HANG_LIMIT_SECONDS)
            return
        if fault == "close":
            self.close_connection = True
            return
        if fault == "slow":
            time.sleep(owner.delay)
        if owner.token is not None and authorization != f"Bearer {owner.token}":
            return self._send(401, {"error": "unauthorized"})
        if fault == "500":
            return self._send(500, {"error": "internal"})
        if fault in ("redirect-same", "redirect-other"):
            host = "localhost" if fault == "redirect-same" else "127.0.0.1"
            self.send_response(302)
            self.send_header("Location", f"https://{host}:{owner.port}/elsewhere{parts.path}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        status, document = self._lookup(parts.path, parts.query, body)
        if fault == "bad-json":
            return self._write(status, b'{"employeeNumber": "E1", "email": ')
        if fault == "huge":
            padding = "x" * owner.huge_bytes
            return self._write(status, json.dumps({**document, "padding": padding}).encode())
        return self._send(status, document)

    def _lookup(self, path: str, query: str, body: bytes) -> tuple[int, dict[str, Any]]:
        records = self.owner.records
        if path.startswith("/people/"):
            number = unquote(path.removeprefix("/people/"))
            record = records.get(number)
            return (200, record) if record is not None else (404, {"error": "not found"})
        if path == "/search":
            number = json.loads(body or b"{}").get("employeeNumber")
            found = [records[number]] if number in records else []
            return 200, {"results": found}
        if path.startswith("/elsewhere"):
            return 200, {"employeeNumber": "redirected"}
        return 404, {"error": f"no route {path} {parse_qs(query) and 'with query'}"}

    def _send(self, status: int, document: dict[str, Any]) -> None:
        self._write(status, json.dumps(document).encode())

    def _write(self, status: int, data: bytes) -> None:
        phrase = self.responses.get(status, ("",))[0]
        head = (
            f"HTTP/1.1 {status} {phrase}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n"
        )
        raw = head.encode() + data
        if self.owner.fault != "drip":
            # The status, headers and body in one write, as a production server sends them.
            self.wfile.write(raw)
            return
        try:  # the whole answer, status line first, a byte at a time
            for i in range(len(raw)):
                if self.owner.released.wait(self.owner.delay):
                    return
                self.wfile.write(raw[i : i + 1])
                self.wfile.flush()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def directory_server(cert: Path, key: Path) -> Iterator[DirectoryServer]:
    server = DirectoryServer(cert, key)
    server.start()
    try:
        yield server
    finally:
        server.close()
