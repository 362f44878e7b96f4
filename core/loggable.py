"""Text from a caller, as a log line may show it: short and plain, or not at all.

A kid, an alg, an eventId, a Content-Type or an attribute name is whatever the caller wrote:
one that could be an address, a password or a token pasted in the wrong place is replaced by a
marker. The rule is one character class, so that every such value is judged the same way.
"""

from __future__ import annotations

import re

_PLAIN = re.compile(r"[A-Za-z0-9._~:/+=-]{1,64}")
NOT_SHOWN = "(not shown)"


def plain(value: object) -> str | None:
    """`value` itself when it is short and plain text (never with an `@`), else None."""
    if isinstance(value, str) and _PLAIN.fullmatch(value):
        return value
    return None


def shown(value: object) -> str:
    """`'value'` when it is short and plain, else `(not shown)`: for a value inside a message."""
    found = plain(value)
    return repr(found) if found is not None else NOT_SHOWN


def field(value: object) -> str:
    """The value itself when it is short and plain, else `(not shown)`: for a log field."""
    found = plain(value)
    return found if found is not None else NOT_SHOWN
