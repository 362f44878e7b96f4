"""The syntax of an email address the hook accepts, and its domain.

A dot-atom local part (RFC 5322 section 3.4.1, with UTF-8 letters as RFC 6531 allows): one or
more atoms of letters, digits and ! # $ % & ' * + - / = ? ^ _ ` { | } ~ joined by single dots, so
no dot at either end and no two dots in a row, at most 64 bytes of UTF-8. No quoted local part
("john doe"@example.com), no comment, no space. Then one @ and an ASCII domain of at least two
labels (an IDN in its xn-- form), at most 253 characters, with no final dot; 254 bytes in all.
"""

from __future__ import annotations

import re

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# Two labels or more, each of 1-63 letters, digits and inner hyphens.
_DOMAIN = re.compile(rf"(?:{_LABEL}\.)+{_LABEL}", re.ASCII)
_ATOM_ASCII = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~"
)
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM_ASCII = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*", re.ASCII)
MAX_LOCAL_BYTES = 64
MAX_DOMAIN_CHARS = 253
MAX_ADDRESS_BYTES = 254


def _atom_char(char: str) -> bool:
    if char in _ATOM_ASCII:
        return True
    # Letters and symbols of other scripts; never a space, a control or an invisible character.
    return not char.isascii() and char.isprintable() and not char.isspace()


def local_part_ok(local: str) -> bool:
    if local.isascii():
        return len(local) <= MAX_LOCAL_BYTES and _DOT_ATOM_ASCII.fullmatch(local) is not None
    if not local or len(local.encode("utf-8", "surrogatepass")) > MAX_LOCAL_BYTES:
        return False
    if local[0] == "." or local[-1] == "." or ".." in local:
        return False
    return all(char == "." or _atom_char(char) for char in local)


def email_domain(value: str) -> str | None:
    """The lower-cased domain of a well-formed address, or None when it is not one."""
    local, at, domain = value.partition("@")
    if not at or "@" in domain or not local_part_ok(local):
        return None
    # Only ASCII domains: a lookalike in another script must never pass for an allowed name.
    if not domain.isascii() or len(domain) > MAX_DOMAIN_CHARS:
        return None
    if len(local.encode("utf-8", "surrogatepass")) + 1 + len(domain) > MAX_ADDRESS_BYTES:
        return None
    domain = domain.lower()
    return domain if _DOMAIN.fullmatch(domain) else None
