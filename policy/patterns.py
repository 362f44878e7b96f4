"""A policy's `pattern`, matched by RE2 in time linear in the value's length.

The value comes from a person signing up. Python's `re` backtracks: a pattern such as `(a+)+$`
takes exponential time on a value of a few dozen characters and, holding the interpreter, would
stop every request of the worker. RE2 has no backtracking, so no pattern can do that; it has no
backreferences or lookaround either, and the policy check refuses them. Its `\\d`, `\\w`, `\\s`
and `\\b` are ASCII (0-9, never other scripts' digits), as the policy language promises.
"""

from __future__ import annotations

from collections.abc import Callable

import re2  # type: ignore[import-untyped]

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a refused pattern is the loader's error, not a line on stderr
_OPTIONS.never_capture = True  # only whether the whole value matches is asked


class PatternError(ValueError):
    """Not a pattern RE2 takes; the message says why, never quoting a value."""


def full_match(pattern: str) -> Callable[[str], bool]:
    """The test that a whole text matches `pattern`."""
    try:
        compiled = re2.compile(pattern, _OPTIONS)
    except re2.error as e:
        reason = e.args[0] if e.args else "refused"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(f"{reason} (RE2 syntax: no backreferences or lookaround)") from None
    return lambda text: compiled.fullmatch(text) is not None
