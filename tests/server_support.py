"""The function served by the real `functions-framework` server process on loopback."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from urllib.parse import urlsplit

from tests import leak_check

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        """What the process has written, once its writer thread has caught up."""
        return settled(self.log_path)

    def post(
        self, body: bytes, headers: Mapping[str, str], timeout: float = 5.0
    ) -> tuple[int, Message, bytes]:
        """The status, the headers (names in any case) and the body of one POST."""
        request = urllib.request.Request(self.url, data=body, method="POST", headers=dict(headers))
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()


def settled(path: Path, quiet_seconds: float = 0.05, at_most: float = 2.0) -> str:
    """The text of a log file that a process writes through a writer thread: read once it has
    not grown for `quiet_seconds` (a line is written within microseconds of its request)."""
    deadline = time.monotonic() + at_most
    size = -1
    while True:
        current = path.stat().st_size if path.exists() else 0
        if current == size or time.monotonic() > deadline:
            return path.read_text("utf-8", "replace") if path.exists() else ""
        size = current
        time.sleep(quiet_seconds)


@dataclass(frozen=True)
class RawAnswer:
    status: int  # 0 when no status line came back
    text: str  # what came back, status line and headers included
    seconds: float  # from the first byte sent to the end of the answer


def raw_post(
    url: str,
    head: Mapping[str, str],
    body: Iterable[bytes] = (),
    *,
    timeout: float = 20.0,
) -> RawAnswer:
    """POST over a plain socket, sending `body` chunk by chunk as it is (no framing added), and
    read whatever answer comes back, even when the server closes before the body is all sent:
    a client whose body is refused early still gets its answer."""
    lines = [f"{name}: {value}" for name, value in head.items()]
    block = ("".join(f"{line}\r\n" for line in lines) + "\r\n").encode("latin-1")
    return raw_exchange(url, itertools.chain([block], body), timeout=timeout)


def raw_exchange(url: str, pieces: Iterable[bytes], *, timeout: float = 20.0) -> RawAnswer:
    """A POST's request line and Host header, then `pieces` as they are (the rest of the header
    block and the body, or a header block that never ends), and whatever answer comes back."""
    parts = urlsplit(url)
    started = time.monotonic()
    with socket.create_connection((parts.hostname or "", parts.port or 80), timeout) as sock:
        sock.sendall(f"POST {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n".encode())
        try:
            for chunk in pieces:
                sock.sendall(chunk)
        except OSError:
            pass  # the server stopped reading: its answer is read below
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
                if b"\r\n\r\n" in received and _complete(received):
                    break
        except OSError:
            pass
    text = received.decode("latin-1")
    status = int(text[9:12]) if text.startswith("HTTP/1.1 ") and text[9:12].isdigit() else 0
    return RawAnswer(status, text, time.monotonic() - started)


def _complete(received: bytes) -> bool:
    head, _, rest = received.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(rest) >= int(value)
    return False


# The last line of a cold start (service/app.py's load_app), whichever way it went.
COLD_START_DONE = ('"message": "hook ready"', '"message": "hook refuses every request')


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _cold_start_done(log_path: Path) -> bool:
    """The worker has built the app: the master binds the port before it forks the worker, so
    a test that changed a dependency as soon as the port answered could reach the cold start."""
    text = log_path.read_text("utf-8", "replace") if log_path.exists() else ""
    return any(line in text for line in COLD_START_DONE)


@contextmanager
def serve(env: Mapping[str, str], log_dir: Path, startup_seconds: float = 20.0) -> Iterator[Served]:
    """Start `python -m functions_framework` with exactly these OKTA_HOOK_* settings; ready once
    its worker has made the cold start."""
    port = free_port()
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("OKTA_HOOK_")}
    child_env.update(env)
    log_path = log_dir / f"functions-framework-{port}.log"
    leak_check.SERVER_LOGS.append(log_path)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "functions_framework", "--target", "registration_hook",
             "--source", str(ROOT / "main.py"), "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=child_env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    served = Served(f"http://127.0.0.1:{port}/", process, log_path)
    try:
        deadline = time.monotonic() + startup_seconds
        while not (_listening(port) and _cold_start_done(log_path)):
            if process.poll() is not None:
                raise RuntimeError(f"functions-framework exited:\n{served.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"functions-framework did not start:\n{served.log()}")
            time.sleep(0.05)
        yield served
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
