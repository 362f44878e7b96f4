"""`python -m tools.policy_check --check-lists`: each list of a policy read once from its source,
as the hook reads it (here the loopback Cloud Storage JSON API), with counts and refusals and
never an entry; and cases that supply the lists' entries and the directory's answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from policy.loader import load_policy
from tests import leak_check
from tests.cloud_storage_support import CloudStorageServer, cloud_storage
from tools import policy_check
from tools.policy_cases import cases_path, run_cases

LOCATION = "gs://acme-hook-lists/partner-domains.txt"
HIDDEN = leak_check.remember("zq81-unseen-partner.example")
POLICY = f"""
[lists.partners]
source = "{LOCATION}"
kind = "domains"

[attributes.email]
type = "email"
required = ["registration"]

[domains]
allowed = {{ list = "partners" }}
"""
CASES = """
[lists.partners]
entries = ["partner.example"]

[[case]]
name = "a partner"
request_type = "registration"
submitted = { email = "sam@partner.example" }
expect = "ALLOW"

[[case]]
name = "no partner"
request_type = "registration"
submitted = { email = "sam@elsewhere.example" }
expect = "DENY"
causes = { email = "INVALID_EMAIL_DOMAIN" }

[[case]]
name = "the list never read: 503"
request_type = "registration"
submitted = { email = "sam@partner.example" }
unread_lists = ["partners"]
expect = "UNAVAILABLE"
"""


@pytest.fixture
def server() -> Iterator[CloudStorageServer]:
    with cloud_storage() as running:
        yield running


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "partners.toml"
    path.write_text(POLICY, "utf-8")
    cases_path(path).write_text(CASES, "utf-8")
    return path


def check(
    policy: Path,
    server: CloudStorageServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *args: str,
) -> tuple[int, str, str]:
    monkeypatch.setenv("OKTA_HOOK_STORAGE_ENDPOINT", server.endpoint)
    status = policy_check.main(["--check-lists", *args, str(policy)])
    out, err = capsys.readouterr()
    return status, out, err


def test_each_list_is_read_once_and_described_without_its_entries(
    policy: Path,
    server: CloudStorageServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    generation = server.put(LOCATION, f"partner.example\n# a comment\n{HIDDEN}\n")
    status, out, err = check(policy, server, monkeypatch, capsys)
    assert (status, err) == (0, "")
    assert (
        f"  list partners ({LOCATION}#{generation}): 2 entries (0 repeated, 1 blank or comment "
        "lines)\n"
    ) in out
    assert f"  cases: 3 in {cases_path(policy)}, passed" in out
    assert HIDDEN not in out
    assert server.calls(LOCATION) == (1, 1)


def test_a_version_the_hook_would_refuse_fails_the_check_with_its_line(
    policy: Path,
    server: CloudStorageServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server.put(LOCATION, f"partner.example\n{HIDDEN} and more\n")
    status, out, err = check(policy, server, monkeypatch, capsys)
    assert status == 1
    assert f"  list partners ({LOCATION}): REFUSED: line 2: not a valid domain name" in out
    assert err.splitlines() == [
        f"{policy}:2: [lists.partners]: the hook would not take it: line 2: not a valid domain "
        "name",
        f"{policy}: INVALID",
    ]
    assert HIDDEN not in out + err


def test_a_shrink_is_judged_against_the_count_the_hook_held(
    policy: Path,
    server: CloudStorageServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server.put(LOCATION, "partner.example\n")
    status, out, err = check(
        policy, server, monkeypatch, capsys, "--previous-entries", "partners=4"
    )
    assert status == 1
    assert "1 entries where there were 4: shrank by 75%, more than the 50% allowed" in err


def test_without_the_option_nothing_is_read(
    policy: Path, server: CloudStorageServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert policy_check.main([str(policy)]) == 0
    assert "  list partners: domains from gs://acme-hook-lists/partner-domains.txt" in (
        capsys.readouterr().out
    )
    assert server.calls(LOCATION) == (0, 0)


@pytest.mark.parametrize(
    ("cases", "message"),
    [
        (CASES.replace('entries = ["partner.example"]', 'entries = ["not a domain"]'), ":2: [lists.partners] entries: line 1: not a valid domain name"),
        (CASES.replace("[lists.partners]", "[lists.others]"), ":2: [lists.others]: the policy has no such list"),
        (CASES.split("[[case]]")[0].replace("[lists.partners]\nentries = [\"partner.example\"]", "") + "[[case]]" + CASES.split("[[case]]")[1], "the case file gives no entries for list partners"),
        (CASES + '\n[[case]]\nname = "x"\nrequest_type = "registration"\nexpect = "ALLOW"\ndirectory = { hr = "unavailable" }\n', "directory hr: the policy has no [directory.hr]"),
        (CASES.replace('expect = "UNAVAILABLE"', 'expect = "ALLOW"'), "the hook answers 503: list partners not read yet"),
        (CASES.replace('unread_lists = ["partners"]\n', ""), "expected UNAVAILABLE (503), got ALLOW"),
    ],
)  # fmt: skip
def test_case_files_give_lists_and_answers_or_say_what_is_missing(
    policy: Path, cases: str, message: str
) -> None:
    cases_path(policy).write_text(cases, "utf-8")
    failures = run_cases(load_policy(policy), cases_path(policy)).failures
    assert any(message in failure for failure in failures), failures
