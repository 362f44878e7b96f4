"""The directory lookup against a real HTTPS server on loopback, trusted through a CA made for the
run: each answer the directory can give, each way it can fail, the cache, one call for
concurrent lookups, the circuit breaker, and the event loop's WouldBlock."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from core import deadline
from core.errors import Unavailable
from core.refreshing import Fetched, FetchFailed, WouldBlock, no_waiting
from directory.answers import Outcome
from directory.auth import Auth, bearer_token
from directory.client import Directory, DirectoryUnavailable
from directory.rule import Judgement, judge_lookup
from directory.settings import DirectorySettings, Match
from directory.templates import BodyTemplate, JsonPath, UrlTemplate
from secret_sources.environment import EnvironmentValue
from secret_sources.setting import SecretSetting
from secret_sources.values import Secret
from tests import leak_check
from tests.clock_support import ManualClock
from tests.directory_support import DirectoryServer, authority, directory_server

NUMBER = leak_check.remember("E-Zq81-0001")
EMAIL = "jane.doe@example.com"
DEPARTMENT = leak_check.remember("Dept-Zq81-Finance")
MANAGER = leak_check.remember("E-Zq81-0002")
TOKEN = leak_check.remember("directory-token-Vb73")
RECORD = {
    "employeeNumber": NUMBER,
    "work": {"email": "Jane.Doe@Example.com", "department": DEPARTMENT},
    "manager": {"employeeNumber": MANAGER},
}
SUBMITTED = {"employee_number": NUMBER, "email": EMAIL}
TIMEOUT = 2.0  # generous: the machine running the tests may be busy
SHORT = 0.5  # for the faults that are given up on at the timeout
POSITIVE_TTL, NEGATIVE_TTL = 300.0, 30.0
OPEN_SECONDS = 30.0


@dataclass(frozen=True)
class Certificates:
    ca: Path
    other_ca: Path
    good: tuple[Path, Path]  # localhost and 127.0.0.1, by the CA
    stranger: tuple[Path, Path]  # localhost, by another CA
    misnamed: tuple[Path, Path]  # other.example, by the CA


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    folder = tmp_path_factory.mktemp("tls")
    ca, other = authority(folder, "company"), authority(folder, "other")
    return Certificates(
        ca.cert_path,
        other.cert_path,
        ca.issue(folder, "directory", ["localhost", "127.0.0.1"]),
        other.issue(folder, "stranger", ["localhost"]),
        ca.issue(folder, "misnamed", ["other.example"]),
    )


@pytest.fixture(scope="module")
def running(certificates: Certificates) -> Iterator[DirectoryServer]:
    with directory_server(*certificates.good) as server:
        yield server


@pytest.fixture
def server(running: DirectoryServer) -> DirectoryServer:
    running.records = {NUMBER: RECORD}
    running.calls.clear()
    running.tokens_seen.clear()
    running.token = None
    running.fault = None
    running.delay = 0.0
    running.released.clear()
    return running


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


_MADE: list[Directory] = []


@pytest.fixture(autouse=True)
def _close_directories() -> Iterator[None]:
    yield
    while _MADE:
        _MADE.pop().close()


def settings(
    server: DirectoryServer, certificates: Certificates, **changes: object
) -> DirectorySettings:
    values: dict[str, object] = {
        "name": "employee_check",
        "url": UrlTemplate(server.url() + "/people/{employee_number}?email={email}"),
        "match": (Match(JsonPath("work.email"), "email", ignore_case=True),),
        "copy": {"department": JsonPath("work.department"),
                 "managerId": JsonPath("$.manager.employeeNumber")},
        "timeout_seconds": TIMEOUT,
        "positive_ttl_seconds": POSITIVE_TTL,
        "negative_ttl_seconds": NEGATIVE_TTL,
        "failures_to_open": 3,
        "open_seconds": OPEN_SECONDS,
        "ca_bundle": str(certificates.ca),
    }  # fmt: skip
    values.update(changes)
    return DirectorySettings(**values)  # type: ignore[arg-type]


def directory(
    server: DirectoryServer,
    certificates: Certificates,
    clock: ManualClock,
    auth: Auth | None = None,
    **changes: object,
) -> Directory:
    made = Directory(settings(server, certificates, **changes), auth, clock=clock)
    _MADE.append(made)
    return made


def failure(found: Directory, submitted: dict[str, str] = SUBMITTED) -> str:
    with pytest.raises(Unavailable) as raised:
        judge_lookup(found, submitted)
    assert raised.value.status == 503
    return raised.value.reason


def test_a_record_that_matches_is_allowed_with_its_values_copied(
    server: DirectoryServer, certificates: Certificates, clock: ManualClock
) -> None:
    judged = judge_lookup(directory(server, certificates, clock), SUBMITTED)
    assert judged == Judgement(
        True, "directory_found", {"department": DEPARTMENT, "managerId": MANAGER}
    )
    assert server.calls == {f"/people/{NUMBER}": 1}


def test_a_record_of_another_email_is_a_mismatch(
    server: DirectoryServer, certificates: Certificates, clock: ManualClock
) -> None:
    judged = judge_lookup(
        directory(server, certificates, clock), {**SUBMITTED, "email": "someone@example.com"}
    )
    assert judged == Judgement(False, "directory_mismatch")


def test_case_counts_unless_the_match_ignores_it(
    server: DirectoryServer, certificates: Certificates, clock: ManualClock
) -> None:
    strict = (Match(JsonPath("work.email"), "email"),)
    found = directory(server, certificates, clock, match=strict)
    assert found.lookup(SUBMITTED).outcome is Outcome.MISMATCH
    assert found.lookup({**SUBMITTED, "email": "Jane.Doe@Example.com"}).outcome is Outcome.FOUND


def test_no_record_is_not_found(
    server: DirectoryServer, certificates: Certificates, clock: ManualClock
) -> None:
    judged = judge_lookup(
        directory(server, certificates, clock), {**SUBMITTED, "employee_number": "E-404"}
    )
    assert judged == Judgement(False, "directory_not_found")


def test_a_value_the_record_lacks_is_not_copied_and_said_by_name(
    server: DirectoryServer,
    certificates: Certificates,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.records = {NUMBER: {**RECORD, "manager": None}}
    judged = judge_lookup(directory(server, certificates, clock), SUBMITTED)
    assert judged.values == {"department": DEPARTMENT}
    assert [r.getMessage() for r in caplog.records] == [
        "directory employee_check: the record has no value to copy for managerId"
    ]


def test_values_are_encoded_whole_into_the_path_and_query(
    server: DirectoryServer, certificates: Certificates, clock: ManualClock
) -> None:
    found = directory(server, certificates, clock)
    assert found.lookup({"employee_number": "../admin?x=1#", "email": EMAIL}).outcome is (
        Outcome.NOT_FOUND
    )
    assert found.lookup({"employee_number": "..", "email": EMAIL}).outcome is Outcome.NOT_FOUND
    assert set(server.calls) == {"/people/..%2Fadmin%3Fx%3D1%23", "/people/%2E%2E"}


def test_a_post_search_with_the_record_inside_the_answer(
    server: DirectoryServer, certificates: Certificates, clock: ManualClock
) -> None:
    found = directory(
        server,
        certificates,
        clock,
        url=UrlTemplate(server.url() + "/search"),
        body=BodyTemplate({"employeeNumber": "{employee_number}", "active": True}),
        record=JsonPath("results[0]"),
    )
    assert found.settings.fields == ("email", "employee_number")
    assert found.lookup(SUBMITTED).values["department"] == DEPARTMENT
    assert found.lookup({**SUBMITTED, "employee_number": "E-x"}).outcome is Outcome.NOT_FOUND
    assert server.calls == {"/search": 2}


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("500", "HTTP 500"),
        ("bad-json", "HTTP 200 with a body that is not valid JSON (line 1, column 35)"),
        ("huge", "an answer over 65536 bytes"),
        ("redirect-same", "HTTP 302 redirect to the same host, not followed"),
        ("redirect-other", "HTTP 302 redirect to another host, not followed"),
        ("close", "connection failed (RemoteDisconnected)"),
    ],
)
def test_a_failed_call_is_a_503_while_the_rule_fails_closed(
    server: DirectoryServer,
    certificates: Certificates,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
    fault: str,
    reason: str,
) -> None:
    server.fault = fault
    assert failure(directory(server, certificates, clock)) == f"directory employee_check: {reason}"
    assert "/elsewhere" not in "".join(server.calls)  # no redirect followed
    [record] = caplog.records
    assert record.getMessage().startswith(f"directory employee_check: {reason} after ")
    fields = record.fields  # type: ignore[attr-defined]
    assert fields["directory"] == f"{server.url()}/people/{{employee_number}}"


@pytest.mark.parametrize("fault", ["slow", "hang", "drip"])
def test_a_slow_hanging_or_dripping_directory_is_given_up_on_at_the_timeout(
    server: DirectoryServer, certificates: Certificates, clock: ManualClock, fault: str
) -> None:
    server.fault, server.delay = fault, 1.0 if fault == "slow" else 0.05
    found = directory(server, certificates, clock, timeout_seconds=SHORT)
    started = time.monotonic()
    reason = failure(found)
    took = time.monotonic() - started
    assert SHORT - 0.05 < took < SHORT + 0.75, took  # a busy machine's scheduling on top
    assert reason in (
        "directory employee_check: no complete answer by the deadline",
        "directory employee_check: no answer in time (socket timeout)",
    )


def test_the_request_deadline_bounds_the_call(
    server: DirectoryServer, certificates: Certificates, clock: ManualClock
) -> None:
    server.fault = "hang"
    found = directory(server, certificates, clock, timeout_seconds=2.0)
    started = time.monotonic()
    with deadline.within(deadline.Deadline.after(0.3)), pytest.raises(Unavailable):
        judge_lookup(found, SUBMITTED)
    assert time.monotonic() - started < 0.3 + 0.75


@pytest.mark.parametrize(
    ("which", "reason"),
    [
        ("stranger", "TLS: the certificate was refused (unable to get local issuer certificate)"),
        ("misnamed", "TLS: the certificate was refused (Hostname mismatch, certificate is not "
                     "valid for 'localhost'.)"),
        ("system", "TLS: the certificate was refused (unable to get local issuer certificate)"),
    ],
)  # fmt: skip
def test_tls_is_verified(
    certificates: Certificates, clock: ManualClock, which: str, reason: str
) -> None:
    cert = certificates.good if which == "system" else getattr(certificates, which)
    with directory_server(*cert) as other:
        other.records = {NUMBER: RECORD}
        ca_bundle = None if which == "system" else str(certificates.ca)
        found = directory(other, certificates, clock, ca_bundle=ca_bundle)
        assert failure(found) == f"directory employee_check: {reason}"
        assert other.total() == 0  # refused before a request was sent


def test_recovery_after_failures(
    server: DirectoryServer, certificates: Certificates, clock: ManualClock
) -> None:
    found = directory(server, certificates, clock)
    server.fault = "500"
    for _ in range(2):
        failure(found)
    server.fault = None
    assert judge_lookup(found, SUBMITTED).allow
    server.fault = "500"
    for number in ("E-1", "E-2"):  # the count started again: the circuit stays closed
        failure(found, {**SUBMITTED, "employee_number": number})
    assert server.total() == 5


def test_answers_are_cached_found_ones_longer(
    server: DirectoryServer, certificates: Certificates, clock: ManualClock
) -> None:
    found = directory(server, certificates, clock)
    missing = {**SUBMITTED, "employee_number": "E-404"}
    for _ in range(3):
        assert found.lookup(SUBMITTED).outcome is Outcome.FOUND
        assert found.lookup(missing).outcome is Outcome.NOT_FOUND
    assert server.total() == 2
    clock.advance(NEGATIVE_TTL)
    found.lookup(SUBMITTED)
    found.lookup(missing)
    assert server.calls == {f"/people/{NUMBER}": 1, "/people/E-404": 2}
    clock.advance(POSITIVE_TTL - NEGATIVE_TTL)
    found.lookup(SUBMITTED)
    assert server.calls[f"/people/{NUMBER}"] == 2


def test_failures_are_not_cached(
    server: DirectoryServer, certificates: Certificates, clock: ManualClock
) -> None:
    found = directory(server, certificates, clock)
    server.fault = "500"
    failure(found)
    server.fault = None
    assert found.lookup(SUBMITTED).outcome is Outcome.FOUND
    assert server.total() == 2


def test_one_call_for_concurrent_lookups_of_the_same_values(
    server: DirectoryServer, certificates: Certificates, clock: ManualClock
) -> None:
    server.fault, server.delay = "slow", 0.2
    found = directory(server, certificates, clock)
    answers: list[object] = []
    start = threading.Barrier(8)

    def look() -> None:
        start.wait()
        answers.append(found.lookup(SUBMITTED).outcome)

    threads = [threading.Thread(target=look) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert answers == [Outcome.FOUND] * 8
    assert server.total() == 1
    other = {**SUBMITTED, "employee_number": "E-404"}
    assert found.lookup(other).outcome is Outcome.NOT_FOUND  # other values: their own call
    assert server.total() == 2


def test_concurrent_lookups_share_a_failure_too(
    server: DirectoryServer, certificates: Certificates, clock: ManualClock
) -> None:
    server.fault, server.delay = "slow", 0.2
    server.token = "not what is sent"
    found = directory(server, certificates, clock)
    failures: list[str] = []
    start = threading.Barrier(4)

    def look() -> None:
        start.wait()
        try:
            found.lookup(SUBMITTED)
        except DirectoryUnavailable as e:
            failures.append(str(e))

    threads = [threading.Thread(target=look) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert failures == ["directory employee_check: HTTP 401"] * 4
    assert server.total() == 1


def test_the_circuit_opens_after_failures_in_a_row_and_a_probe_closes_it(
    server: DirectoryServer,
    certificates: Certificates,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    found = directory(server, certificates, clock)
    server.fault = "500"
    for _ in range(3):
        failure(found)
    assert caplog.records[-1].getMessage() == (
        "directory employee_check: 3 failed calls in a row; no call for 30 s"
    )
    # Open: no call; fail-closed denies at once with "try again later".
    assert judge_lookup(found, SUBMITTED) == Judgement(
        False, "directory_unavailable", try_later=True
    )
    assert server.total() == 3
    clock.advance(OPEN_SECONDS)
    failure(found)  # the probe, failing: open again
    assert server.total() == 4
    assert caplog.records[-1].getMessage() == (
        "directory employee_check: the probe failed; no call for 30 s"
    )
    assert judge_lookup(found, SUBMITTED).try_later
    clock.advance(OPEN_SECONDS)
    server.fault = None
    assert judge_lookup(found, SUBMITTED).allow  # the probe succeeds: closed
    assert caplog.records[-1].getMessage() == "directory employee_check answers again: calls resume"
    assert judge_lookup(found, {**SUBMITTED, "employee_number": "E-404"}).reason == (
        "directory_not_found"
    )
    assert server.total() == 6


def test_cached_answers_are_served_while_the_circuit_is_open(
    server: DirectoryServer, certificates: Certificates, clock: ManualClock
) -> None:
    found = directory(server, certificates, clock)
    assert judge_lookup(found, SUBMITTED).allow
    server.fault = "500"
    for number in ("E-1", "E-2", "E-3"):
        failure(found, {**SUBMITTED, "employee_number": number})
    assert judge_lookup(found, SUBMITTED).allow
    assert judge_lookup(found, {**SUBMITTED, "employee_number": "E-4"}).try_later


def test_fail_open_allows_and_says_so(
    server: DirectoryServer,
    certificates: Certificates,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.fault = "500"
    found = directory(server, certificates, clock, fail_open=True)
    assert judge_lookup(found, SUBMITTED) == Judgement(
        True, "directory_unavailable", failed_open=True
    )
    assert caplog.records[-1].levelno == logging.WARNING
    assert caplog.records[-1].getMessage() == (
        "directory employee_check: HTTP 500; the rule fails open: allowed"
    )
    server.fault = None
    assert judge_lookup(found, {**SUBMITTED, "employee_number": "E-404"}).allow is False


def test_on_the_event_loop_only_a_cached_answer_or_an_open_circuit_answers(
    server: DirectoryServer, certificates: Certificates, clock: ManualClock
) -> None:
    found = directory(server, certificates, clock)
    with no_waiting(), pytest.raises(WouldBlock):
        judge_lookup(found, SUBMITTED)
    assert server.total() == 0
    judge_lookup(found, SUBMITTED)  # in a thread, as the edge does after WouldBlock
    with no_waiting():
        assert judge_lookup(found, SUBMITTED).allow
    server.fault = "500"
    for number in ("E-1", "E-2", "E-3"):
        failure(found, {**SUBMITTED, "employee_number": number})
    with no_waiting():
        assert judge_lookup(found, {**SUBMITTED, "employee_number": "E-5"}).try_later


def test_connections_are_kept_alive(
    server: DirectoryServer, certificates: Certificates, clock: ManualClock
) -> None:
    found = directory(server, certificates, clock)
    before = server.connections
    for number in range(5):
        found.lookup({**SUBMITTED, "employee_number": f"E-{number}"})
    assert server.connections - before == 1


def test_a_bearer_token_from_a_secret(
    server: DirectoryServer, certificates: Certificates, clock: ManualClock
) -> None:
    server.token = TOKEN
    secret = SecretSetting("DIRECTORY_TOKEN", EnvironmentValue("DIRECTORY_TOKEN", TOKEN), 300.0)
    found = directory(server, certificates, clock, bearer_token(secret.reading(Secret)))
    assert judge_lookup(found, SUBMITTED).allow
    assert server.tokens_seen == [f"Bearer {TOKEN}"]
    wrong = SecretSetting("DIRECTORY_TOKEN", EnvironmentValue("DIRECTORY_TOKEN", "wrong"), 300.0)
    refused = directory(server, certificates, clock, bearer_token(wrong.reading(Secret)))
    assert failure(refused) == "directory employee_check: HTTP 401"


def test_a_failed_secret_read_is_not_the_directorys_failure(
    server: DirectoryServer, certificates: Certificates, clock: ManualClock
) -> None:
    secret = SecretSetting("DIRECTORY_TOKEN", _Failing(), 300.0, clock)
    found = directory(server, certificates, clock, bearer_token(secret.reading(Secret)))
    for _ in range(5):  # more than failures_to_open, and each one a 503: the circuit stays closed
        assert "no value read yet" in failure(found)
    assert server.total() == 0


class _Failing:
    name = "DIRECTORY_TOKEN"
    fields: Mapping[str, object] = {"setting": "DIRECTORY_TOKEN"}

    def fetch(self, budget: float, known: object) -> Fetched[str]:
        raise FetchFailed("DIRECTORY_TOKEN: cannot read it")
