"""The part of Cloud Logging's query language that our metric filters use, evaluated on a log entry
(as Cloud Logging stores it), to show which lines a metric or an alert counts.

Supported: comparisons `path = "text"`, `!=`, `>`, `>=`, `<`, `<=` (numbers, and severities in
their order), `=~` / `!~` (regular expressions), `path:*` (the field is present), `path:"text"`
(the value contains the text); `AND`, `OR`, `NOT`, a space (AND) and parentheses; and
`EXTRACT(path)` for label and value extractors. Anything else is refused, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Entry = dict[str, Any]
SEVERITIES = (
    "DEFAULT", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY"
)  # fmt: skip
_TOKEN = re.compile(
    r"""\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<op>>=|<=|!=|=~|!~|=|>|<|:)|(?P<paren>[()])"""
    r"""|(?P<star>\*)|(?P<word>[A-Za-z0-9_.\-/@$]+))"""
)
_MISSING = object()


class QueryError(ValueError):
    """The filter is outside the supported subset."""


@dataclass
class Query:
    text: str
    test: Callable[[Entry], bool]
    fields: set[str] = field(default_factory=set)

    def matches(self, entry: Entry) -> bool:
        return self.test(entry)


def compile_query(text: str) -> Query:
    tokens = _tokens(text)
    parser = _Parser(tokens)
    test = parser.or_expr()
    if parser.position != len(tokens):
        raise QueryError(f"unexpected {tokens[parser.position][1]!r} in {text!r}")
    return Query(text, test, parser.fields)


def value_at(entry: Entry, path: str) -> Any:
    """The value at a dotted path, or `_MISSING`."""
    node: Any = entry
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def extract(expression: str, entry: Entry) -> str | None:
    """What `EXTRACT(path)` gives a label for this entry: the value as text, None when absent."""
    match = re.fullmatch(r"EXTRACT\(([A-Za-z0-9_.]+)\)", expression.strip())
    if not match:
        raise QueryError(f"only EXTRACT(path) is supported, not {expression!r}")
    value = value_at(entry, match.group(1))
    if value is _MISSING or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def extracted_field(expression: str) -> str:
    match = re.fullmatch(r"EXTRACT\(([A-Za-z0-9_.]+)\)", expression.strip())
    if not match:
        raise QueryError(f"only EXTRACT(path) is supported, not {expression!r}")
    return match.group(1)


def _tokens(text: str) -> list[tuple[str, str]]:
    found = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise QueryError(f"cannot read {text[position : position + 20]!r}")
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.position = 0
        self.fields: set[str] = set()

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise QueryError("the filter ends too soon")
        self.position += 1
        return token

    def or_expr(self) -> Callable[[Entry], bool]:
        terms = [self.and_expr()]
        while self.peek() == ("word", "OR"):
            self.take()
            terms.append(self.and_expr())
        return lambda entry: any(term(entry) for term in terms)

    def and_expr(self) -> Callable[[Entry], bool]:
        terms = [self.unary()]
        while (token := self.peek()) is not None and token not in (("paren", ")"), ("word", "OR")):
            if token == ("word", "AND"):
                self.take()
            terms.append(self.unary())
        return lambda entry: all(term(entry) for term in terms)

    def unary(self) -> Callable[[Entry], bool]:
        token = self.take()
        if token == ("word", "NOT"):
            inner = self.unary()
            return lambda entry: not inner(entry)
        if token == ("paren", "("):
            inner = self.or_expr()
            if self.take() != ("paren", ")"):
                raise QueryError("a parenthesis is not closed")
            return inner
        if token[0] != "word":
            raise QueryError(f"expected a field, not {token[1]!r}")
        path = token[1]
        kind, op = self.take()
        if kind != "op":
            raise QueryError(f"expected an operator after {path}, not {op!r}")
        self.fields.add(path)
        if op == ":" and self.peek() == ("star", "*"):
            self.take()
            return lambda entry: value_at(entry, path) is not _MISSING
        kind, raw = self.take()
        if kind not in ("string", "word"):
            raise QueryError(f"expected a value after {path}{op}, not {raw!r}")
        literal = _unquote(raw) if kind == "string" else raw
        return _comparison(path, op, literal, quoted=kind == "string")


def _unquote(raw: str) -> str:
    return re.sub(r"\\(.)", r"\1", raw[1:-1])


def _comparison(path: str, op: str, literal: str, *, quoted: bool) -> Callable[[Entry], bool]:
    def test(entry: Entry) -> bool:
        value = value_at(entry, path)
        if value is _MISSING or isinstance(value, dict | list):
            return op == "!=" and value is _MISSING
        if op == ":":
            return literal.lower() in _text(value).lower()
        if op in ("=~", "!~"):
            found = re.search(literal, _text(value)) is not None
            return found if op == "=~" else not found
        ordered = _ordered(path, value, literal, quoted)
        if ordered is None:
            equal = _text(value) == literal
            if op in ("=", "!="):
                return equal if op == "=" else not equal
            return False
        left, right = ordered
        return {
            "=": left == right, "!=": left != right, ">": left > right,
            ">=": left >= right, "<": left < right, "<=": left <= right,
        }[op]  # fmt: skip

    return test


def _ordered(path: str, value: Any, literal: str, quoted: bool) -> tuple[float, float] | None:
    """Both sides as numbers, when they are numbers or severities."""
    if path == "severity" and str(value).upper() in SEVERITIES and literal.upper() in SEVERITIES:
        return float(SEVERITIES.index(str(value).upper())), float(SEVERITIES.index(literal.upper()))
    if isinstance(value, bool) or quoted:
        return None
    if isinstance(value, int | float):
        try:
            return float(value), float(literal)
        except ValueError:
            return None
    return None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
