"""A list's bytes into entries: the layouts, the default kinds, and every refusal, which names
lines and counts but never an entry."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from lists import entries
from lists.parse import LINES, Layout, ListRefused, ListValue, read_list, shrink_guard

PARTNERS = (
    b"# partner domains\npartner.example\n\n  *.subsidiary.example  \r\nPartner-Two.example\n"
)


def refusal(data: bytes | str, kind: entries.Kind[Any], layout: Layout = LINES) -> str:
    with pytest.raises(ListRefused) as raised:
        read_list(data, kind, layout, max_bytes=1024)
    return str(raised.value)


def test_one_entry_a_line_with_comments_blank_lines_and_spaces() -> None:
    value = read_list(PARTNERS, entries.DOMAINS)
    assert (len(value), value.lines, value.skipped) == (3, 3, 2)
    assert "partner.example" in value
    assert "partner-two.example" in value  # entries and lookups are lower-cased
    assert "PARTNER.example" in value
    assert "a.subsidiary.example" in value
    assert "deep.a.subsidiary.example" in value
    assert "subsidiary.example" not in value  # `*.name` is a subdomain of name, not name
    assert "example" not in value
    assert "notpartner.example" not in value
    assert None not in value


def test_a_repeated_entry_is_counted_once_as_an_entry() -> None:
    value = read_list("a.example\na.example\nb.example", entries.DOMAINS)
    assert (len(value), value.lines) == (2, 3)


def test_a_byte_order_mark_is_not_part_of_the_first_entry() -> None:
    assert "a.example" in read_list("\ufeffa.example\n".encode(), entries.DOMAINS)


def test_a_csv_column_by_name() -> None:
    data = (
        b"name,employee_id,email\n"
        b'"Doe, Jane",E0001,jane@example.com\n'
        b"Roe,E0002,\n"
        b'"Multi\nline",E0003,x@example.com\n'
        b"\n"
        b"Blank,,b@example.com\n"
    )
    numbers = read_list(data, entries.EMPLOYEE_NUMBERS, Layout("employee_id"))
    assert (len(numbers), numbers.skipped) == (3, 2)
    assert "E0003" in numbers
    assert "e0003" not in numbers  # employee numbers match exactly
    emails = read_list(data, entries.EMAIL_ADDRESSES, Layout("email"))
    assert "Jane@Example.COM" in emails
    assert len(emails) == 3


@pytest.mark.parametrize(
    ("data", "layout", "expected"),
    [
        (b"", Layout(), "empty"),
        (b" \n\n\t\n", Layout(), "empty"),
        (b"# nothing yet\n\n# really\n", Layout(), "no entries (3 blank or comment lines)"),
        (b"a.example\nb.example\xff\nc.example\n", Layout(), "line 2: not UTF-8"),
        (b"a.example\nnot a domain\nc.example\n", Layout(), "line 2: not a valid domain name"),
        (b"a,b\n1,2\n", Layout("c"), "line 1: no column named 'c'"),
        (b"", Layout("c"), "empty"),
        (b"a,b\nx.example,1\ny.example\n", Layout("b"), "line 3: no cell in column 'b'"),
        (b'a\n"unclosed\n', Layout("a"), "line 2: not CSV"),
        (b"a\nq.example\n\x00\n", Layout("a"), "line 3: not a valid domain name"),
    ],
)
def test_refusals(data: bytes, layout: Layout, expected: str) -> None:
    assert refusal(data, entries.DOMAINS, layout) == expected


def test_malformed_lines_are_named_by_number_never_quoted() -> None:
    lines = ["ok.example"] * 3 + [f"bad entry {i}" for i in range(8)] + ["ok2.example"]
    message = refusal("\n".join(lines), entries.DOMAINS)
    assert message == "lines 4, 5, 6, 7, 8 and 3 more: not a valid domain name"


def test_over_the_size_limit_is_refused_before_it_is_read() -> None:
    assert refusal(b"a.example\n" * 200, entries.DOMAINS) == ("2000 bytes, over the limit of 1024")


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        (entries.DOMAINS, ["a.example", "*.b.example", "xn--bcher-kva.example"],
         ["a", "a..example", "-a.example", "a.example.", "*.", "b\u00fccher.example", "a@b.example", "*.*.a.example"]),
        (entries.EMAIL_ADDRESSES, ["a@b.example", "First.Last+tag@Sub.Example.com", "o'neil@b.example"],
         ["a@b", "@b.example", "a@", "a..b@c.example", ".a@c.example", "a.@c.example", "a b@c.example", "a@b@c.example", "a" * 65 + "@b.example"]),
        (entries.EMPLOYEE_NUMBERS, ["E0001", "12345", "ab-12_3.x"],
         ["-E1", "E 1", "E1/2", "x" * 65, "\u0661\u0662"]),
        (entries.CODES, ["INVITE-2026!", "x" * 256],
         ["with space", "x" * 257, "caf\u00e9"]),
        (entries.NETWORKS, ["10.0.0.0/8", "192.0.2.1", "2001:db8::/32", "0.0.0.0/0"],
         ["10.0.0.1/8", "10.0.0.0/33", "300.1.1.1", "example", "2001:db8::/129"]),
    ],
)  # fmt: skip
def test_default_kinds(kind: entries.Kind[Any], good: list[str], bad: list[str]) -> None:
    assert len(read_list("\n".join(good), kind)) == len(good)
    for entry in bad:
        message = refusal(f"{good[0]}\n{entry}\n", kind)
        assert message == f"line 2: not a valid {kind.what}", entry
        assert len(entry) < 4 or entry not in message


def test_networks_by_prefix_length_and_version() -> None:
    data = "10.0.0.0/8\n192.0.2.0/24\n198.51.100.7\n2001:db8::/32\n"
    value = read_list(data, entries.NETWORKS)
    for inside in ["10.255.0.1", "192.0.2.200", "198.51.100.7", "2001:db8:1::1", "::ffff:10.1.2.3"]:
        assert inside in value, inside
    for outside in ["11.0.0.1", "192.0.3.1", "198.51.100.8", "2001:db9::1", "not an address", ""]:
        assert outside not in value, outside
    assert ipaddress.ip_address("10.0.0.1") in value
    assert len(value) == 4


def test_everything_and_nothing() -> None:
    assert "203.0.113.9" in read_list("0.0.0.0/0", entries.NETWORKS)
    assert "2001:db8::1" not in read_list("0.0.0.0/0", entries.NETWORKS)


def test_a_policy_kind_is_used_as_given() -> None:
    seen: list[str] = []

    def read(text: str) -> str:
        seen.append(text)
        if text == "refused":
            raise ValueError(f"{text!r} quoted: a message the list never repeats")
        return text.upper()

    kind = entries.Kind("partner code", read, entries.Exact)
    assert "ABC" in read_list("abc\n", kind)
    assert refusal("abc\nrefused\n", kind) == "line 2: not a valid partner code"


def value_of(count: int) -> ListValue:
    return read_list("\n".join(f"e{i}" for i in range(count)), entries.EMPLOYEE_NUMBERS)


@pytest.mark.parametrize(
    ("before", "after", "max_shrink", "refused"),
    [
        (100, 50, 0.5, False),
        (100, 49, 0.5, True),
        (100, 200, 0.5, False),
        (100, 89, 0.1, True),
        (100, 90, 0.1, False),
        (100, 1, 1.0, False),
        (1, 1, 0.5, False),
    ],
)
def test_shrink_guard(before: int, after: int, max_shrink: float, refused: bool) -> None:
    check = shrink_guard(max_shrink)
    if not refused:
        check(value_of(after), value_of(before))
        return
    with pytest.raises(ListRefused) as raised:
        check(value_of(after), value_of(before))
    shrank = f"{1 - after / before:.0%}"
    assert str(raised.value) == (
        f"{after} entries where there were {before}: shrank by {shrank}, "
        f"more than the {max_shrink:.0%} allowed"
    )


@pytest.mark.parametrize("max_shrink", [0.0, -0.1, 1.5])
def test_shrink_guard_bounds(max_shrink: float) -> None:
    with pytest.raises(ValueError, match="max_shrink"):
        shrink_guard(max_shrink)


def test_read_a_chunk_at_a_time_with_lines_numbered_across_chunks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("lists.parse.CHUNK_BYTES", 8)
    lines = [f"p{i}.example" for i in range(30)]
    value = read_list("\n".join(lines) + "\n", entries.DOMAINS)
    assert (len(value), value.lines, value.skipped) == (30, 30, 0)
    assert all(line in value for line in lines)
    assert refusal("\n".join([*lines[:20], "bad entry", *lines[20:]]), entries.DOMAINS) == (
        "line 21: not a valid domain name"
    )
    broken = ("\n".join(lines[:25]) + "\n\xff\n").encode("latin-1")
    with pytest.raises(ListRefused, match="^line 26: not UTF-8$"):
        read_list(broken, entries.DOMAINS)
    csv_data = "id,note\n" + 'E1,"two\nlines"\nE2,x\n' * 3
    value = read_list(csv_data, entries.EMPLOYEE_NUMBERS, Layout("id"))
    assert (len(value), value.lines) == (2, 6)


def test_a_last_line_without_a_line_break_is_read() -> None:
    assert len(read_list("a.example\nb.example", entries.DOMAINS)) == 2
    assert read_list("a.example\n\n", entries.DOMAINS).skipped == 1
