"""The request a lookup sends, filled from submitted values, and the JSON paths it reads.

The URL's scheme, host and port are fixed by the policy: a placeholder may stand only in the path
or the query, and each value is percent-encoded whole (a `/`, `?`, `#` or `&` in a value is data,
never structure; `.` and `..` are encoded too, so that no value walks the path). A body template
is JSON whose strings may hold placeholders; values are put in as strings and encoded as JSON.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]{0,63})\}|[{}]")
_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
_INDEX = r"\[[0-9]{1,6}\]"
_PATH = re.compile(rf"(?:{_NAME}|{_INDEX})(?:\.{_NAME}|{_INDEX})*")
_STEP = re.compile(rf"({_NAME})|\[([0-9]{{1,6}})\]")
_DOTS = {".": "%2E", "..": "%2E%2E"}


class MissingValue(LookupError):
    """A value the lookup needs was not submitted; the message names the field only."""


class Field(str):
    """A placeholder's name, among the literal pieces of a compiled template."""


Pieces = tuple[str, ...]  # literal text, and Field names


def compile_text(text: str) -> Pieces:
    """`text` as literal pieces and fields; `{{` and `}}` stand for braces."""
    pieces: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text):
        pieces.append(text[position : match.start()])
        token = match.group(0)
        if match.group(1) is not None:
            pieces.append(Field(match.group(1)))
        elif token in ("{{", "}}"):
            pieces.append(token[0])
        else:
            raise ValueError("a brace that is not a {name} placeholder (write {{ or }} for one)")
        position = match.end()
    pieces.append(text[position:])
    return tuple(piece for piece in pieces if piece)


def fields_of(pieces: Pieces) -> tuple[str, ...]:
    return tuple(str(piece) for piece in pieces if isinstance(piece, Field))


def fill(pieces: Pieces, values: Mapping[str, str], encode: Callable[[str], str]) -> str:
    try:
        return "".join(
            encode(values[piece]) if isinstance(piece, Field) else piece for piece in pieces
        )
    except KeyError as e:
        raise MissingValue(f"no value for {e.args[0]!s}") from None


def url_part(value: str) -> str:
    return _DOTS.get(value) or quote(value, safe="")


@dataclass(frozen=True)
class UrlTemplate:
    """`https://host[:port]/path?query` with {field} placeholders in the path and query."""

    text: str
    host: str = field(init=False)
    port: int = field(init=False)
    origin: str = field(init=False)  # scheme, host and path template: what a log line may show
    _path: Pieces = field(init=False, repr=False)
    _query: Pieces = field(init=False, repr=False)

    def __post_init__(self) -> None:
        try:
            parts = urlsplit(self.text)
            port = parts.port or 443
        except ValueError:
            raise ValueError("the directory URL is not a URL") from None
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError("the directory URL must be https://host/...")
        if parts.username is not None or parts.password is not None:
            raise ValueError("the directory URL holds a user or password: a credential is a secret")
        if "{" in parts.netloc or "}" in parts.netloc:
            raise ValueError("the URL's host is fixed: placeholders go in the path or the query")
        if parts.fragment:
            raise ValueError("the directory URL has a fragment")
        set_ = object.__setattr__
        set_(self, "host", parts.hostname)
        set_(self, "port", port)
        set_(self, "origin", f"https://{parts.netloc}{parts.path}")
        set_(self, "_path", compile_text(parts.path or "/"))
        set_(self, "_query", compile_text(parts.query))

    @property
    def fields(self) -> tuple[str, ...]:
        return fields_of(self._path) + fields_of(self._query)

    def target(self, values: Mapping[str, str]) -> str:
        """The path and query of the request (what follows the host)."""
        path = fill(self._path, values, url_part)
        query = fill(self._query, values, url_part)
        return f"{path}?{query}" if query else path


@dataclass(frozen=True)
class BodyTemplate:
    """A JSON document whose strings may hold {field} placeholders."""

    document: Any
    _compiled: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", _map(self.document, compile_text, str))

    @property
    def fields(self) -> tuple[str, ...]:
        found: list[str] = []
        _map(self._compiled, lambda pieces: found.extend(fields_of(pieces)))
        return tuple(found)

    def fill(self, values: Mapping[str, str]) -> Any:
        return _map(self._compiled, lambda pieces: fill(pieces, values, str))


def _map(document: Any, change: Callable[[Any], Any], leaf: type = tuple) -> Any:
    """`document` with each `leaf` (a string of the template, the pieces of a compiled one)
    changed."""
    if isinstance(document, leaf):
        return change(document)
    if isinstance(document, Mapping):
        return {str(key): _map(value, change, leaf) for key, value in document.items()}
    if isinstance(document, list):
        return [_map(value, change, leaf) for value in document]
    if document is None or isinstance(document, bool | int | float):
        return document
    raise ValueError("the body template holds something that is not JSON")


@dataclass(frozen=True)
class JsonPath:
    """`a.b[0].c` (a leading `$.` is allowed): members by name, list items by index."""

    text: str
    steps: tuple[str | int, ...] = field(init=False)

    def __post_init__(self) -> None:
        text = self.text.removeprefix("$").removeprefix(".")
        if text and not _PATH.fullmatch(text):
            raise ValueError(f"not a JSON path (a.b[0].c): {self.text!r}")
        steps = [int(index) if index else name for name, index in _STEP.findall(text)]
        object.__setattr__(self, "steps", tuple(steps))

    def find(self, document: Any) -> Any:
        """The value at this path, or None when there is none."""
        value = document
        for step in self.steps:
            if isinstance(step, str) and isinstance(value, dict):
                value = value.get(step)
            elif isinstance(step, int) and isinstance(value, list) and step < len(value):
                value = value[step]
            else:
                return None
        return value
