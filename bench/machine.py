"""What the benchmark ran on: CPU, cores, memory, OS, Python, package versions, date."""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

PACKAGES = (
    "functions-framework",
    "starlette",
    "uvicorn",
    "uvicorn-worker",
    "uvloop",
    "gunicorn",
    "flask",
    "werkzeug",
    "PyJWT",
    "cryptography",
    "google-cloud-secret-manager",
    "okta-jwt-verifier",
)


def _first(path: str, prefix: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip() if ":" in line else line.split("=", 1)[1]
    except OSError:
        return None
    return None


def uvicorn_choice() -> str:
    """What uvicorn's "auto" settings pick in the served processes: the optional packages when
    they can be imported."""
    parser = "httptools" if importlib.util.find_spec("httptools") else "h11"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return f"HTTP parser {parser}, event loop {loop}"


def describe() -> dict[str, str]:
    memory = _first("/proc/meminfo", "MemTotal")
    if memory and memory.endswith("kB"):
        memory = f"{int(memory.split()[0]) / 1024 / 1024:.1f} GiB"
    os_name = (_first("/etc/os-release", "PRETTY_NAME=") or platform.system()).strip('"')
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    wrk = shutil.which("wrk")
    wrk_version = "not installed"
    if wrk:
        shown = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
        wrk_version = (shown.stdout or shown.stderr).split("Copyright")[0].strip()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _first("/proc/cpuinfo", "model name") or platform.processor() or "unknown",
        "cores": str(os.cpu_count()),
        "memory": memory or "unknown",
        "os": f"{os_name}, kernel {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "packages": ", ".join(versions),
        "uvicorn worker": uvicorn_choice(),
        "wrk": wrk_version,
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
