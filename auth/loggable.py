"""Values read from a token before it is trusted, as a log line may show them: short and plain.

A kid or alg is whatever the caller wrote: one that could be an address, a password or a
token pasted in the wrong place is not shown at all.
"""

from __future__ import annotations

import re

_PLAIN = re.compile(r"[A-Za-z0-9._~:/+=-]{1,64}")


def shown(value: object) -> str:
    """`'value'` when it is short and plain (never with an `@`), else `(not shown)`."""
    if isinstance(value, str) and _PLAIN.fullmatch(value):
        return repr(value)
    return "(not shown)"
