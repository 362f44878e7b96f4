"""What the deploy prints: lines, step headers, commands as a shell would read them, refusals."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence

PROG = "deploy.sh"
_PLAIN_WORD = re.compile(r"[A-Za-z0-9_./:=@%+,-]+")


class Refused(Exception):
    """The deploy stops here; the message says why and never holds a secret."""


class CommandFailed(Exception):
    """A command failed and has said why on its own; the deploy exits with its status."""

    def __init__(self, status: int) -> None:
        super().__init__(f"exit status {status}")
        self.status = status


def say(line: str = "") -> None:
    print(line)


def step(title: str) -> None:
    print(f"\n==> {title}")


def error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


def quote(word: str) -> str:
    """A word as a shell would need it written."""
    if _PLAIN_WORD.fullmatch(word):
        return word
    return "'" + word.replace("'", "'\\''") + "'"


def cmdline(argv: Sequence[str]) -> str:
    return " ".join(quote(word) for word in argv)
