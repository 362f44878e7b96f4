"""A secret value that never shows itself, and the text a secret's bytes must be."""

from __future__ import annotations

import hashlib

# Secret Manager holds at most 64 KiB per version.
MAX_SECRET_BYTES = 64 * 1024


class Secret:
    """A string that never shows itself in a repr, a str() or a log line."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def secret_text(data: bytes) -> str:
    """The text of a secret's bytes, without the line break a file or `echo` leaves at its end;
    raises ValueError with a message that never quotes the value."""
    if len(data) > MAX_SECRET_BYTES:
        raise ValueError("larger than 64 KiB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        # The codec's message quotes a byte of the value; ours does not.
        raise ValueError("not UTF-8 text") from None
    text = text.removesuffix("\n").removesuffix("\r")
    if not text.strip():
        raise ValueError("empty")
    return text


def digest(text: str) -> str:
    """What tells one value from another without holding it: the tag of a fetched secret."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
