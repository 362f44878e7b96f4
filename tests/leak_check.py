"""Every log line the suite makes, scanned at the end for credentials, tokens and addresses."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from core.logs import LOGGER_NAME, CloudLoggingFormatter

# Shapes that must never be logged, whatever test produced them.
PATTERNS = {
    # A JOSE header and what follows it; `e30` ({}) is the shortest claims segment.
    "a JWT": re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{3,}"),
    "a Basic credential": re.compile(r"Basic\s+[A-Za-z0-9+/]{6,}=*"),
    "a full email address": re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"),
}

# Secret values the tests configure; test modules add theirs with `remember`.
KNOWN_SECRETS: set[str] = set()
# Log files of server processes the tests started.
SERVER_LOGS: list[Path] = []


def remember(secret: str) -> str:
    KNOWN_SECRETS.add(secret)
    return secret


class Collector(logging.Handler):
    """Keeps every record of the hook's logger, formatted as it is written in production."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(CloudLoggingFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def install() -> Collector:
    collector = Collector()
    logging.getLogger(LOGGER_NAME).addHandler(collector)
    return collector


def server_log_lines() -> int:
    return sum(
        len(path.read_text("utf-8", "replace").splitlines())
        for path in SERVER_LOGS
        if path.exists()
    )


def findings(lines: list[str]) -> list[str]:
    found = []
    for path in SERVER_LOGS:
        if path.exists():
            lines = lines + path.read_text("utf-8", "replace").splitlines()
    for line in lines:
        for what, pattern in PATTERNS.items():
            if pattern.search(line):
                found.append(f"{what}: {line[:300]}")
        for secret in KNOWN_SECRETS:
            if secret and secret in line:
                found.append(f"a configured secret: {line[:300]}")
    return found
