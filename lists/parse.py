"""A list's bytes read into its entries: one a line, or one column of a CSV file; refused whole,
with the line numbers of what is wrong (never an entry), rather than half read."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from lists.entries import Kind, Members

# The default size limit; a list of 1,000,000 email addresses is about 25 MB.
MAX_BYTES = 64 * 1024 * 1024
SHOWN_LINES = 5  # line numbers named in a refusal; the rest are counted
_BOM = "\ufeff"


class ListRefused(ValueError):
    """The bytes are not a list of this kind; the message names lines and counts, never entries."""


@dataclass(frozen=True)
class Layout:
    """One entry a line (blank lines and lines starting with `#` skipped), or the column
    `csv_column` of a CSV file whose first line names the columns (empty cells skipped)."""

    csv_column: str | None = None

    def describe(self) -> str:
        return f"CSV column {self.csv_column!r}" if self.csv_column else "one entry a line"


LINES = Layout()


@dataclass(frozen=True)
class ListValue:
    """The entries of one version of a list, with what was counted while reading it."""

    members: Members
    lines: int  # entries read, a repeated one counted each time
    skipped: int  # blank lines, comments, empty cells

    def __contains__(self, value: object) -> bool:
        return value in self.members

    def __len__(self) -> int:
        return len(self.members)

    def __repr__(self) -> str:
        return f"ListValue({len(self)} entries)"


def read_list(
    data: bytes | str, kind: Kind[Any], layout: Layout = LINES, *, max_bytes: int = MAX_BYTES
) -> ListValue:
    """The list in `data`, or ListRefused: over `max_bytes`, not UTF-8, not CSV, a malformed
    entry, or no entry at all."""
    size = len(data)
    if size > max_bytes:
        raise ListRefused(f"{size} bytes, over the limit of {max_bytes}")
    text = _text(data) if isinstance(data, bytes) else data
    text = text.removeprefix(_BOM)
    if not text or text.isspace():
        raise ListRefused("empty")
    if layout.csv_column is None:
        # The common case at full speed: one pass with no line numbers, taken again with them
        # only when an entry is refused.
        stripped = [line.strip() for line in _split(text)]
        cells = [cell for cell in stripped if cell and cell[0] != "#"]
        try:
            entries = list(map(kind.read, cells))
        except ValueError:
            pass
        else:
            return _value(kind, entries, len(stripped) - len(cells))
    rows = _csv_cells(text, layout.csv_column) if layout.csv_column else _lines(text)
    entries = []
    bad: list[int] = []
    skipped = 0
    read = kind.read
    append = entries.append
    for number, cell in rows:
        if not cell:
            skipped += 1
            continue
        try:
            append(read(cell))
        except ValueError:
            bad.append(number)
    if bad:
        raise ListRefused(_bad_lines(bad, kind.what))
    return _value(kind, entries, skipped)


def _value(kind: Kind[Any], entries: list[Any], skipped: int) -> ListValue:
    if not entries:
        raise ListRefused(f"no entries ({skipped} blank or comment lines)")
    return ListValue(kind.hold(entries), len(entries), skipped)


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        # The codec's message quotes the bytes; ours names the line.
        line = data.count(b"\n", 0, e.start) + 1
        raise ListRefused(f"line {line}: not UTF-8") from None


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, entry) for each line; comments and blank lines as an empty entry."""
    for number, line in enumerate(_split(text), 1):
        entry = line.strip()
        yield number, "" if entry.startswith("#") else entry


def _split(text: str) -> list[str]:
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # what follows the last line break is not a line
    return lines


def _csv_cells(text: str, column: str) -> Iterator[tuple[int, str]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise ListRefused("empty")
        names = [name.strip() for name in header]
        if column not in names:
            raise ListRefused(f"line 1: no column named {column!r}")
        index = names.index(column)
        for row in reader:
            if not row:
                yield reader.line_num, ""
            elif index >= len(row):
                raise ListRefused(f"line {reader.line_num}: no cell in column {column!r}")
            else:
                yield reader.line_num, row[index].strip()
    except csv.Error:
        raise ListRefused(f"line {reader.line_num}: not CSV") from None


def _bad_lines(numbers: list[int], what: str) -> str:
    shown = ", ".join(str(n) for n in numbers[:SHOWN_LINES])
    more = f" and {len(numbers) - SHOWN_LINES} more" if len(numbers) > SHOWN_LINES else ""
    noun = "line" if len(numbers) == 1 else "lines"
    return f"{noun} {shown}{more}: not a valid {what}"


def shrink_guard(max_shrink: float) -> Callable[[ListValue, ListValue], None]:
    """A `check` for Refreshing: a new version with fewer than (1 - max_shrink) of the last good
    one's entries is refused, so that a truncated upload neither denies everyone (an allow list)
    nor lets everyone in (a block list). 1.0 turns the guard off."""
    if not 0.0 < max_shrink <= 1.0:
        raise ValueError("max_shrink must be above 0 and at most 1")

    def check(new: ListValue, old: ListValue) -> None:
        refusal = shrink_refusal(len(new), len(old), max_shrink)
        if refusal is not None:
            raise ListRefused(refusal)

    return check


def shrink_refusal(new: int, old: int, max_shrink: float) -> str | None:
    """Why `new` entries may not replace `old` ones, or None when they may."""
    if new >= old * (1.0 - max_shrink):
        return None
    return (
        f"{new} entries where there were {old}: shrank by {1.0 - new / old:.0%}, "
        f"more than the {max_shrink:.0%} allowed"
    )
