"""Where in a policy's text a key is: the line of its table header or of `key =`."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator

_KEY = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')"""
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_HEADER = re.compile(rf"\s*(\[\[?)\s*({_DOTTED})\s*\]\]?\s*(?:#.*)?")
_ASSIGN = re.compile(rf"\s*({_DOTTED})\s*=")
_PART = re.compile(_KEY)
_AT_LINE = re.compile(r"\(at line (\d+), column \d+\)")


def _parts(dotted: str) -> tuple[str, ...]:
    return tuple(part.strip("\"'") for part in _PART.findall(dotted))


def _indexed(path: tuple[str, ...], arrays: dict[tuple[str, ...], int]) -> tuple[str, ...]:
    """`path` with the index of the current element after each array of tables it is under:
    the second `[[attributes.age.rules]]` is ("attributes", "age", "rules", "1")."""
    for length in range(len(path), 0, -1):
        if path[:length] in arrays:
            return (*path[:length], str(arrays[path[:length]]), *path[length:])
    return path


def _keys(text: str) -> Iterator[tuple[int, tuple[str, ...]]]:
    """(line number, full key path) of each table header and each `key =` line."""
    table: tuple[str, ...] = ()
    arrays: dict[tuple[str, ...], int] = {}
    in_string = False
    # TOML ends lines at \n (or \r\n) only: str.splitlines would also split at U+2028 and others,
    # and every line number after one would be wrong.
    for number, line in enumerate(text.split("\n"), start=1):
        # Lines inside a multi-line string are text, not keys.
        quotes = line.count('"""') + line.count("'''")
        if in_string:
            in_string = quotes % 2 == 0
            continue
        if quotes % 2 == 1:
            in_string = True
        header = _HEADER.fullmatch(line)
        if header:
            table = _parts(header.group(2))
            if header.group(1) == "[[":
                arrays[table] = arrays.get(table, -1) + 1
                table = (*table, str(arrays[table]))
            else:
                table = _indexed(table, arrays)
            yield number, table
            continue
        assign = _ASSIGN.match(line)
        if assign:
            yield number, table + _parts(assign.group(1))


def line_of(text: str, path: tuple[str, ...]) -> int | None:
    """The first line that names `path`, else the one naming its longest named prefix."""
    best: tuple[int, int] | None = None  # (-depth, line)
    for number, keys in _keys(text):
        if keys and path[: len(keys)] == keys:
            candidate = (-len(keys), number)
            if best is None or candidate < best:
                best = candidate
    return best[1] if best else None


def syntax_error_line(error: tomllib.TOMLDecodeError, text: str) -> int:
    lineno = getattr(error, "lineno", None)  # Python 3.14 and later
    if isinstance(lineno, int):
        return lineno
    match = _AT_LINE.search(str(error))
    # "at end of document": the last line.
    return int(match.group(1)) if match else max(1, len(text.rstrip("\n").split("\n")))
