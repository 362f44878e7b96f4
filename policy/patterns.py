"""A policy's `pattern`, matched by RE2 in time linear in the value's length.

The value comes from a person signing up. Python's `re` backtracks: a pattern such as `(a+)+$`
takes exponential time on a value of a few dozen characters and, holding the interpreter, would
stop every request of the worker. RE2 has no backtracking, so no pattern can do that; it has no
backreferences or lookaround either, and the policy check refuses them. Its `\\d`, `\\w`, `\\s`
and `\\b` are ASCII (0-9, never other scripts' digits), as the policy language promises.

The function always has RE2 (requirements.txt). Where the pinned packages are not installed
(`./deploy.sh --plan` under a bare python3), patterns are checked with Python's `re` instead,
refusing what RE2 refuses, and `ENGINE` says so for the plan to show.
"""

from __future__ import annotations

import re
from collections.abc import Callable

try:
    import re2  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - the suite runs with the pinned packages
    re2 = None

ENGINE = "RE2" if re2 is not None else "Python's re (google-re2 is not installed here)"
# What RE2 refuses and Python's `re` takes: backreferences and lookaround.
_NOT_RE2 = re.compile(r"\\[1-9]|\(\?P=|\(\?<?[=!]|\\g<")


class PatternError(ValueError):
    """Not a pattern RE2 takes; the message says why, never quoting a value."""


def full_match(pattern: str) -> Callable[[str], bool]:
    """The test that a whole text matches `pattern`."""
    if re2 is None:  # pragma: no cover - see the module's note
        return _checked_with_re(pattern)
    options = re2.Options()
    options.log_errors = False  # a refused pattern is the loader's error, not a line on stderr
    options.never_capture = True  # only whether the whole value matches is asked
    try:
        compiled = re2.compile(pattern, options)
    except re2.error as e:
        reason = e.args[0] if e.args else "refused"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(f"{reason} (RE2 syntax: no backreferences or lookaround)") from None
    return lambda text: compiled.fullmatch(text) is not None


def _checked_with_re(pattern: str) -> Callable[[str], bool]:  # pragma: no cover
    if _NOT_RE2.search(pattern):
        raise PatternError("RE2 syntax: no backreferences or lookaround")
    try:
        compiled = re.compile(pattern, re.ASCII)
    except re.error as e:
        raise PatternError(str(e)) from None
    return lambda text: compiled.fullmatch(text) is not None
