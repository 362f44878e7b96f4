"""Normalisation of a submitted text value before it is checked and stored."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence

_SPACES = re.compile(r"\s+")

# Applied in this order whatever order the policy lists them in, so a list means one thing:
# NFC last, so a value asked to be NFC is NFC even after lower-casing.
STEPS: dict[str, Callable[[str], str]] = {
    "trim": str.strip,
    "collapse_whitespace": lambda value: _SPACES.sub(" ", value),
    "lower": str.lower,
    "nfc": lambda value: unicodedata.normalize("NFC", value),
}


def ordered(names: Sequence[str]) -> tuple[str, ...]:
    """The steps named, in the order they are applied."""
    return tuple(step for step in STEPS if step in names)


def normalize(steps: Sequence[str], value: object) -> object:
    """`value` with each step applied; a value that is not text is left for the type check."""
    if not isinstance(value, str):
        return value
    for step in steps:
        value = STEPS[step](value)
    return value


def composed(steps: Sequence[str]) -> Callable[[str], str]:
    """The steps as one function of text, built once per rule."""
    functions = tuple(STEPS[step] for step in ordered(steps))
    if functions == (str.strip,):
        return str.strip
    if functions == (str.strip, str.lower):
        return lambda value: value.strip().lower()

    def apply(value: str) -> str:
        for function in functions:
            value = function(value)
        return value

    return apply
