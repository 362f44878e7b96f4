"""Lists in Cloud Storage and Secret Manager through the real clients, against loopback servers
that speak the APIs: cold start, refresh on the manual clock, and every way a version is refused
while the last good list stays."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import pytest

from core.errors import Unavailable
from core.refreshing import FetchFailed
from lists import entries
from lists.check import check_list
from lists.cloud_storage import CloudStorageObject, NotRead, parse_location
from lists.outside_list import Endpoints, ListSettings, OutsideList
from lists.parse import Layout
from tests import leak_check
from tests.clock_support import ManualClock
from tests.cloud_storage_support import ACCOUNT, CloudStorageServer, cloud_storage
from tests.secret_manager_support import secret_manager

LOCATION = "gs://hook-lists/partners/allowed domains.txt"
# An entry no log line may show (the suite's leak check looks for it in every line).
HIDDEN = leak_check.remember("zq81-hidden-partner.example")
PARTNERS = f"# partner domains\npartner.example\n*.subsidiary.example\n{HIDDEN}\n"
REFRESH = 60.0


@pytest.fixture(scope="module")
def running() -> Iterator[CloudStorageServer]:
    with cloud_storage() as server:
        yield server


@pytest.fixture
def server(running: CloudStorageServer) -> CloudStorageServer:
    running.objects.clear()
    running.metadata_calls.clear()
    running.media_calls.clear()
    running.not_modified = 0
    running.fault = None
    running.delay = 0.0
    return running


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def partners(
    server: CloudStorageServer,
    clock: ManualClock,
    *,
    max_bytes: int = 1 << 20,
    max_shrink: float = 0.5,
) -> OutsideList:
    made = ListSettings(
        "partner_domains",
        LOCATION,
        entries.DOMAINS,
        max_bytes=max_bytes,
        max_shrink=max_shrink,
        refresh_seconds=REFRESH,
    )
    return OutsideList(made, endpoints=Endpoints(storage=server.endpoint), clock=clock)


def refreshed(outside: OutsideList, clock: ManualClock, seconds: float = REFRESH) -> None:
    """Move the clock on, let a request find the list due, and wait for the background read."""
    clock.advance(seconds)
    try:
        outside.members()
    except Unavailable:
        pass
    assert outside.idle(10)


def unavailable(outside: OutsideList) -> str:
    with pytest.raises(Unavailable) as raised:
        outside.members()
    assert raised.value.status == 503
    return raised.value.reason


def test_loaded_at_cold_start_through_the_json_api(
    server: CloudStorageServer, clock: ManualClock
) -> None:
    server.put(LOCATION, PARTNERS)
    outside = partners(server, clock)
    assert outside.load()
    members = outside.members()
    assert "partner.example" in members
    assert "a.subsidiary.example" in members
    assert "other.example" not in members
    assert server.calls(LOCATION) == (1, 1)


def test_an_unchanged_object_costs_one_metadata_call_a_refresh(
    server: CloudStorageServer, clock: ManualClock
) -> None:
    server.put(LOCATION, PARTNERS)
    outside = partners(server, clock)
    outside.load()
    clock.advance(REFRESH - 1)
    outside.members()
    assert server.calls(LOCATION) == (1, 1)  # not due yet: no call at all
    for _ in range(3):
        refreshed(outside, clock)
    assert server.calls(LOCATION) == (4, 1)
    assert server.not_modified == 3


def test_a_change_is_followed_within_the_refresh_interval(
    server: CloudStorageServer, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    server.put(LOCATION, PARTNERS)
    outside = partners(server, clock)
    outside.load()
    generation = server.put(LOCATION, PARTNERS + "new-partner.example\n")
    assert "new-partner.example" not in outside.members()
    caplog.clear()
    refreshed(outside, clock)
    assert "new-partner.example" in outside.members()
    assert server.calls(LOCATION) == (2, 2)
    assert [r.getMessage() for r in caplog.records] == [
        f"list partner_domains read again from {LOCATION}#{generation}"
    ]


def test_never_loaded_is_unavailable_then_loaded_once_the_object_exists(
    server: CloudStorageServer, clock: ManualClock
) -> None:
    outside = partners(server, clock)
    assert not outside.load()
    assert not outside.loaded()
    assert unavailable(outside) == (
        f"list partner_domains not read yet (partner_domains: cannot read {LOCATION}: "
        "HTTP 404, no such object)"
    )
    server.put(LOCATION, PARTNERS)
    clock.advance(4)
    assert unavailable(outside)  # within the first backoff (5 s): not asked again
    assert outside.idle(10)
    assert server.calls(LOCATION) == (1, 0)
    refreshed(outside, clock, 1)
    assert outside.loaded()
    assert "partner.example" in outside.members()


@pytest.mark.parametrize(
    ("fault", "cause"),
    [
        ("error-500", "HTTP 500"),
        ("error-503", "HTTP 503"),
        ("error-403", "HTTP 403, permission denied (the function's service account needs "
                      "roles/storage.objectViewer)"),
        ("bad-crc", "the media's CRC32C does not match the object's"),
        ("huge", "an answer over the {size} bytes expected"),
        ("short", "{half} bytes of media where the metadata says {size}"),
        ("redirect", "HTTP 302 redirect, not followed"),
        ("garbage", "the metadata is not an object's"),
        ("media-404", "the media of generation {generation}: HTTP 404, no such object"),
    ],
)  # fmt: skip
def test_a_failed_read_keeps_the_last_good_list(
    server: CloudStorageServer,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
    fault: str,
    cause: str,
) -> None:
    server.put(LOCATION, PARTNERS)
    outside = partners(server, clock)
    outside.load()
    new = PARTNERS + "new-partner.example\n"
    generation = server.put(LOCATION, new)
    server.fault = fault
    caplog.clear()
    refreshed(outside, clock)
    assert "partner.example" in outside.members()
    assert "new-partner.example" not in outside.members()
    [record] = caplog.records
    assert record.levelno == logging.ERROR
    assert record.getMessage() == (
        f"list partner_domains not read: partner_domains: cannot read {LOCATION}: "
        f"{cause.format(generation=generation, size=len(new), half=len(new) // 2)}; "
        "serving the last value"
    )
    assert ACCOUNT not in record.getMessage()
    server.fault = None
    refreshed(outside, clock, 5)  # the first retry comes 5 s later, and recovers
    assert "new-partner.example" in outside.members()


@pytest.mark.parametrize(
    ("data", "reason", "downloaded"),
    [
        ("partner.example\nnot a domain\n", "line 2: not a valid domain name", True),
        ("partner.example\n\xff", "line 2: not UTF-8", True),
        ("", "empty", False),
        ("# all gone\n", "no entries (1 blank or comment lines)", True),
        ("x.example\n" * 200, "2000 bytes, over the limit of 1024", False),
    ],
)
def test_a_bad_version_is_refused_said_once_and_never_downloaded_again(
    server: CloudStorageServer,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
    data: str,
    reason: str,
    downloaded: bool,
) -> None:
    server.put(LOCATION, PARTNERS)
    outside = partners(server, clock, max_bytes=1024)
    outside.load()
    server.put(LOCATION, data.encode("latin-1"))
    caplog.clear()
    refreshed(outside, clock)
    assert "partner.example" in outside.members()
    assert [r.getMessage() for r in caplog.records] == [
        f"partner_domains: new value refused, the previous one stays: {reason}"
    ]
    assert server.calls(LOCATION) == (2, 2 if downloaded else 1)
    caplog.clear()
    refreshed(outside, clock)  # the same generation again: one metadata call, nothing said
    assert server.calls(LOCATION) == (3, 2 if downloaded else 1)
    assert caplog.records == []
    server.put(LOCATION, PARTNERS + "fixed.example\n")
    refreshed(outside, clock, REFRESH)
    assert "fixed.example" in outside.members()


def test_a_list_that_shrank_by_more_than_allowed_is_refused(
    server: CloudStorageServer, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    lines = [f"p{i}.example\n" for i in range(100)]
    server.put(LOCATION, "".join(lines))
    outside = partners(server, clock, max_shrink=0.5)
    outside.load()
    server.put(LOCATION, "".join(lines[:33]))  # an upload cut short
    caplog.clear()
    refreshed(outside, clock)
    assert len(outside.members()) == 100
    assert [r.getMessage() for r in caplog.records] == [
        "partner_domains: new value refused, the previous one stays: 33 entries where there "
        "were 100: shrank by 67%, more than the 50% allowed"
    ]
    server.put(LOCATION, "".join(lines[:66]))
    refreshed(outside, clock, REFRESH)
    assert len(outside.members()) == 66  # within the bound: taken


def test_a_never_loaded_list_takes_whatever_is_well_formed(
    server: CloudStorageServer, clock: ManualClock
) -> None:
    server.put(LOCATION, "one.example\n")  # nothing to compare with: no shrink to judge
    outside = partners(server, clock)
    assert outside.load()
    assert len(outside.members()) == 1


def test_a_compressed_object_is_refused_without_download(
    server: CloudStorageServer, clock: ManualClock
) -> None:
    server.put(LOCATION, PARTNERS)
    server.fault = "gzip"
    outside = partners(server, clock)
    assert not outside.load()
    assert unavailable(outside).endswith(
        "stored compressed (Content-Encoding); store the list as plain text)"
    )
    assert server.calls(LOCATION) == (1, 0)


def test_a_csv_column_from_cloud_storage(server: CloudStorageServer, clock: ManualClock) -> None:
    location = "gs://hook-lists/hr/staff.csv"
    server.put(location, "name,employee_id\nJane,E0001\nJohn,E0002\n")
    settings = ListSettings(
        "staff", location, entries.EMPLOYEE_NUMBERS, layout=Layout("employee_id")
    )
    outside = OutsideList(settings, endpoints=Endpoints(storage=server.endpoint), clock=clock)
    assert outside.load()
    assert "E0002" in outside.members()


def source(server: CloudStorageServer) -> CloudStorageObject:
    return CloudStorageObject(
        "partner_domains", LOCATION, max_bytes=1 << 20, endpoint=server.endpoint
    )


@pytest.mark.parametrize("fault", ["hang", "slow", "drip"])
def test_a_read_is_given_up_on_at_its_budget(server: CloudStorageServer, fault: str) -> None:
    server.put(LOCATION, PARTNERS)
    server.fault, server.delay = fault, 2.0 if fault == "slow" else 0.05
    started = time.monotonic()
    with pytest.raises(FetchFailed) as raised:
        source(server).fetch(0.5, None)
    assert time.monotonic() - started < 0.5 + 0.75  # a busy machine's scheduling on top
    assert str(raised.value).startswith(f"partner_domains: cannot read {LOCATION}: ")
    # Whichever gives up first: the socket's wait, the read loop, or the thread's bound.
    assert str(raised.value).endswith(
        ("no complete answer within 0.5 s", "the body took too long", "no answer (ReadTimeout)")
    )


@pytest.mark.parametrize("fault", ["hang", "drip"])
def test_a_read_given_up_on_leaves_no_thread_behind(server: CloudStorageServer, fault: str) -> None:
    server.put(LOCATION, PARTNERS)
    server.fault, server.delay = fault, 0.05
    with pytest.raises(FetchFailed):
        source(server).fetch(0.3, None)
    # The socket's own wait and the read loop end the worker soon after the budget.
    waited = time.monotonic() + 3.0
    while [t for t in threading.enumerate() if t.name == "read partner_domains"]:
        assert time.monotonic() < waited, "a read thread outlived its budget by 3 s"
        time.sleep(0.05)


def test_a_closed_port_is_a_failed_read(server: CloudStorageServer) -> None:
    read = CloudStorageObject("l", LOCATION, max_bytes=1024, endpoint="http://127.0.0.1:9")
    with pytest.raises(FetchFailed) as raised:
        read.fetch(2.0, None)
    assert str(raised.value) == f"l: cannot read {LOCATION}: no answer (ConnectionError)"


def test_the_conditional_read_and_the_generation_pinned_media(server: CloudStorageServer) -> None:
    generation = server.put(LOCATION, PARTNERS)
    read = source(server)
    fetched = read.fetch(2.0, None)
    assert fetched is not None
    assert (fetched.raw, fetched.tag) == (PARTNERS.encode(), generation)
    assert fetched.origin == f"{LOCATION}#{generation}"
    assert read.fetch(2.0, generation) is None
    assert server.not_modified == 1
    over = CloudStorageObject("l", LOCATION, max_bytes=10, endpoint=server.endpoint).fetch(
        2.0, None
    )
    assert over is not None
    assert over.raw == NotRead(f"{len(PARTNERS)} bytes, over the limit of 10")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gs://b-1/o", ("b-1", "o")),
        ("gs://my.bucket/dir/with space/ü.txt", ("my.bucket", "dir/with space/ü.txt")),
    ],
)
def test_locations(text: str, expected: tuple[str, str]) -> None:
    assert parse_location(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("s3://b/o", "not a gs://bucket/object location"),
        ("https://storage.googleapis.com/b/o", "not a gs://bucket/object location"),
        ("gs://b", "the bucket is not a bucket name"),
        ("gs://B/o", "the bucket is not a bucket name"),
        ("gs://ab/o", "the bucket is not a bucket name"),
        ("gs://b../o", "the bucket is not a bucket name"),
        ("gs://bucket/", "the object name is empty"),
        ("gs://bucket/a\nb", "control characters"),
        ("gs://bucket/" + "x" * 1025, "too long"),
        ("gs://bucket/..", "not one Cloud Storage allows"),
    ],
)
def test_malformed_locations(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_location(text)


def test_a_list_in_secret_manager_through_the_secret_source(clock: ManualClock) -> None:
    # Imported first: the client's import is not what a read's time bound is tested on here.
    import google.cloud.secretmanager_v1  # noqa: F401

    with secret_manager() as sm:
        version = sm.add_version("invitation-codes", "INVITE-1\nINVITE-2\n")
        name = version.rsplit("/", 2)[0] + "/versions/latest"
        settings = ListSettings("invitations", name, entries.CODES, refresh_seconds=REFRESH)
        outside = OutsideList(
            settings, endpoints=Endpoints(secret_manager=sm.endpoint), clock=clock
        )
        assert outside.load()
        assert "INVITE-2" in outside.members()
        assert "invite-2" not in outside.members()
        sm.add_version("invitation-codes", "INVITE-1\nINVITE-2\nINVITE-3\n")
        refreshed(outside, clock)
        assert "INVITE-3" in outside.members()
        sm.add_version("invitation-codes", "INVITE-1\n")  # shrank by two thirds: refused
        refreshed(outside, clock)
        assert len(outside.members()) == 3
        assert sm.total_reads() == 3


def test_a_location_that_is_neither_is_refused_without_quoting_it() -> None:
    settings = ListSettings("l", "/secret/path/or/a/value", entries.CODES)
    with pytest.raises(ValueError, match="neither") as raised:
        OutsideList(settings)
    assert "/secret/path" not in str(raised.value)


def test_the_policy_check_reads_the_same_source_once(server: CloudStorageServer) -> None:
    generation = server.put(LOCATION, PARTNERS + "partner.example\n\n")
    settings = ListSettings("partner_domains", LOCATION, entries.DOMAINS)
    endpoints = Endpoints(storage=server.endpoint)
    report = check_list(settings, endpoints=endpoints)
    assert report.ok
    assert report.describe() == (
        f"list partner_domains ({LOCATION}#{generation}): 3 entries "
        "(1 repeated, 2 blank or comment lines)"
    )
    shrunk = check_list(settings, endpoints=endpoints, previous_entries=10)
    assert shrunk.describe() == (
        f"list partner_domains ({LOCATION}): REFUSED: 3 entries where there were 10: "
        "shrank by 70%, more than the 50% allowed"
    )
    server.put(LOCATION, "partner.example\nbad entry\n")
    assert check_list(settings, endpoints=endpoints).describe() == (
        f"list partner_domains ({LOCATION}): REFUSED: line 2: not a valid domain name"
    )
    server.fault = "error-403"
    refused = check_list(settings, endpoints=endpoints)
    assert not refused.ok
    assert refused.problem is not None
    assert ACCOUNT not in refused.problem


def test_a_rule_that_fails_open_allows_while_no_list_was_ever_read(
    server: CloudStorageServer, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    outside = partners(server, clock)
    assert not outside.load()
    caplog.clear()
    assert outside.members_for("partner_domains_allowed", fail_open=True) is None
    assert [r.getMessage() for r in caplog.records] == [
        f"list partner_domains not read yet (partner_domains: cannot read {LOCATION}: HTTP 404, "
        "no such object); rule partner_domains_allowed fails open: allowed"
    ]
    with pytest.raises(Unavailable):
        outside.members_for("partner_domains_blocked", fail_open=False)
    server.put(LOCATION, PARTNERS)
    refreshed(outside, clock, 5)
    members = outside.members_for("partner_domains_allowed", fail_open=True)
    assert members is not None
    assert "partner.example" in members
