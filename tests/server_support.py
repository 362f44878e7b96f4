"""The function served by the real `functions-framework` server process on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

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
        return self.log_path.read_text("utf-8", "replace")

    def post(
        self, body: bytes, headers: Mapping[str, str], timeout: float = 5.0
    ) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(self.url, data=body, method="POST", headers=dict(headers))
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()


@contextmanager
def serve(env: Mapping[str, str], log_dir: Path, startup_seconds: float = 20.0) -> Iterator[Served]:
    """Start `python -m functions_framework` with exactly these OKTA_HOOK_* settings."""
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
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"functions-framework exited:\n{served.log()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"functions-framework did not start:\n{served.log()}"
                    ) from None
                time.sleep(0.05)
        yield served
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
