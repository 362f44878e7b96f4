"""A list's bytes read into its entries: one a line, or one column of a CSV file; refused whole,
with the line numbers of what is wrong (never an entry), rather than half read."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from lists.entries import Kind, Members

# The default size limit; a list of 1,000,000 email addresses is about 25 MB.
MAX_BYTES = 64 * 1024 * 1024
SHOWN_LINES = 5  # line numbers named in a refusal; the rest are counted
_BOM = b"\xef\xbb\xbf"
CHUNK_BYTES = 1024 * 1024


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
    entry, or no entry at all.

    Read a chunk at a time and held as it is read: no list of every line is ever made, so that
    a long list costs little more than its entries while it is read."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > max_bytes:
        raise ListRefused(f"{len(raw)} bytes, over the limit of {max_bytes}")
    raw = raw.removeprefix(_BOM)
    if not raw or raw.isspace():
        raise ListRefused("empty")
    if layout.csv_column is None:
        # At full speed first, with no line numbers; read again with them only when an entry
        # is refused.
        counts = [0, 0]  # entries, and blank or comment lines
        try:
            members = kind.hold(_entries(raw, kind.read, counts))
        except ListRefused:
            raise
        except ValueError:
            pass
        else:
            return _value(members, counts[0], counts[1])
    if layout.csv_column is None:
        rows = _numbered(raw)
    else:
        rows = _csv_cells(raw, layout.csv_column)
    entries: list[Any] = []
    bad: list[int] = []
    skipped = 0
    for number, cell in rows:
        if not cell:
            skipped += 1
            continue
        try:
            entries.append(kind.read(cell))
        except ValueError:
            bad.append(number)
    if bad:
        raise ListRefused(_bad_lines(bad, kind.what))
    return _value(kind.hold(entries), len(entries), skipped)


def _value(members: Members, entries: int, skipped: int) -> ListValue:
    if not entries:
        raise ListRefused(f"no entries ({skipped} blank or comment lines)")
    return ListValue(members, entries, skipped)


def _lines(data: bytes) -> Iterator[str]:
    """Each line's text without its line break."""
    return itertools.chain.from_iterable(_chunks(data))


def _chunks(data: bytes) -> Iterator[list[str]]:
    """The lines of about CHUNK_BYTES at a time, decoded."""
    start, size, before = 0, len(data), 0
    while start < size:
        end = data.find(b"\n", min(start + CHUNK_BYTES, size - 1))
        end = size if end < 0 else end
        chunk = data[start:end]
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError as e:
            # The codec's message quotes the bytes; ours names the line.
            line = before + chunk.count(b"\n", 0, e.start) + 1
            raise ListRefused(f"line {line}: not UTF-8") from None
        lines = text.split("\n")
        before += len(lines)
        yield lines
        start = end + 1


def _entries(data: bytes, read: Callable[[str], Any], counts: list[int]) -> Iterator[Any]:
    """Every entry read, a chunk at a time: the loop over entries runs in C (chain, map)."""

    def chunks() -> Iterator[Iterator[Any]]:
        for lines in _chunks(data):
            stripped = [line.strip() for line in lines]
            cells = [cell for cell in stripped if cell and cell[0] != "#"]
            counts[0] += len(cells)
            counts[1] += len(stripped) - len(cells)
            yield map(read, cells)

    return itertools.chain.from_iterable(chunks())


def _numbered(data: bytes) -> Iterator[tuple[int, str]]:
    """(line number, entry) for each line; comments and blank lines as an empty entry."""
    for number, line in enumerate(_lines(data), 1):
        entry = line.strip()
        yield number, "" if entry.startswith("#") else entry


def _csv_cells(data: bytes, column: str) -> Iterator[tuple[int, str]]:
    reader = csv.reader((line + "\n" for line in _lines(data)), strict=True)
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
