"""Case files beside policies: every shipped policy's cases pass and see each rule both ways;
a failing case, a broken case file and a broken policy are each reported as FILE:LINE."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from policy.loader import PolicyError, load_policy, parse_policy
from tests.conftest import POLICIES, ROOT, SHIPPED_POLICIES
from tools.policy_cases import cases_path, coverage_gaps, load_cases, run_cases
from tools.policy_check import check_for_deploy, check_policy_file

EVERY_RULE = ROOT / "tests" / "policies" / "every_rule.toml"


def run_check(*args: Path | str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.policy_check", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("path", [*SHIPPED_POLICIES, EVERY_RULE], ids=lambda p: p.name)
def test_every_shipped_policy_has_cases_that_pass_and_cover_each_rule_both_ways(path: Path) -> None:
    assert cases_path(path).exists(), f"{path.name} has no case file"
    report = check_policy_file(path, require_cases=True, require_coverage=True)
    assert report.errors == []
    assert report.cases >= 5


def test_the_deploy_check_passes_the_shipped_policies() -> None:
    for path in SHIPPED_POLICIES:
        assert check_for_deploy(path) == []


def copy_with_cases(tmp_path: Path, name: str = "example_org") -> tuple[Path, Path]:
    policy = tmp_path / f"{name}.toml"
    shutil.copy(POLICIES / f"{name}.toml", policy)
    cases = cases_path(policy)
    shutil.copy(cases_path(POLICIES / f"{name}.toml"), cases)
    return policy, cases


def test_a_failing_case_is_reported_with_its_line_and_fails_the_check(tmp_path: Path) -> None:
    policy, cases = copy_with_cases(tmp_path)
    text = cases.read_text("utf-8")
    # The employee number rule loosened in the policy: the case that needs it fails.
    policy.write_text(policy.read_text("utf-8").replace('"[0-9]{6}"', '"[0-9]{2,6}"'), "utf-8")
    result = run_check(policy)
    assert result.returncode == 1
    header = (
        text.split("\n").index(
            "[[case]]",
            text.split("\n").index(
                'name = "a contractor who gives a number must give a well-formed one"'
            )
            - 1,
        )
        + 1
    )
    assert result.stderr.splitlines() == [
        f"{cases}:{header}: case 'a contractor who gives a number must give a well-formed one': "
        "expected DENY, got ALLOW",
        f"{policy}: INVALID",
    ]
    assert "cases: 21 in" in result.stdout
    assert ", failed" in result.stdout
    assert check_for_deploy(policy) == result.stderr.splitlines()[:1]


def test_wrong_causes_messages_updates_and_shadowed_are_each_reported(tmp_path: Path) -> None:
    policy, cases = copy_with_cases(tmp_path)
    text = cases.read_text("utf-8")
    text = text.replace(
        'causes = { email = "DISPOSABLE_EMAIL_DOMAIN" }', 'causes = { email = "INVALID_EMAIL" }'
    )
    text = text.replace("Vous devez avoir 18 ans", "Il faut 18 ans")
    text = text.replace(
        'updates = { employeeNumber = "654321" }', 'updates = { employeeNumber = " 654321 " }'
    )
    text = text.replace('shadowed = { age = "UNLIKELY_AGE" }', "shadowed = {}")
    cases.write_text(text, "utf-8")
    outcome = run_cases(load_policy(policy), cases)
    assert outcome.cases == 21
    problems = [line.split("': ", 1)[1] for line in outcome.failures]
    assert problems == [
        "expected the message of age 'Il faut 18 ans ou plus pour vous inscrire.', got "
        "'Vous devez avoir 18 ans ou plus pour vous inscrire.'",
        'expected causes {"email": "INVALID_EMAIL"}, got {"email": "DISPOSABLE_EMAIL_DOMAIN"}',
        'expected shadowed {}, got {"age": "UNLIKELY_AGE"}',
        'expected updates {"employeeNumber": " 654321 "}, got {"employeeNumber": "654321"}',
    ]


def test_a_rule_no_case_fails_is_a_note_or_with_require_coverage_an_error(tmp_path: Path) -> None:
    policy, cases = copy_with_cases(tmp_path)
    text = cases.read_text("utf-8")
    kept = [block for block in text.split("[[case]]") if "ana@yopmail.com" not in block]
    cases.write_text("[[case]]".join(kept), "utf-8")
    line = policy.read_text("utf-8").splitlines().index("deny = true") + 1
    gap = f"{policy}:{line}: [disposable_domains] deny is never seen failing by a case"
    result = run_check(policy)
    assert result.returncode == 0
    assert f"  note: {gap}" in result.stdout.splitlines()
    result = run_check("--require-coverage", policy)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [gap, f"{policy}: INVALID"]
    assert coverage_gaps(
        load_policy(policy), policy.read_text("utf-8"), run_cases(load_policy(policy), cases)
    ) == [gap]


def test_a_policy_without_cases(tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text("[attributes.x]\nmax_length = 3\n", "utf-8")
    assert run_check(policy).returncode == 0  # cases run when there are some
    assert run_check("--require-cases", policy).returncode == 1
    assert check_for_deploy(policy) == [
        f"{policy}: no test cases: write {tmp_path / 'p.cases.toml'} (see docs/policy.md)"
    ]


BROKEN_CASES = [
    ("[[case]]\nname = 'a'\nrequest_type = 'registration'\nexpect = 'DENY'\n", 4, "a DENY case names its causes"),
    ("[[case]]\nname = 'a'\nrequest_type = 'signup'\nexpect = 'ALLOW'\n", 3, "request_type must be"),
    ("[[case]]\nname = 'a'\nrequest_type = 'registration'\nexpect = 'allow'\n", 4, "expect must be 'ALLOW', 'DENY' or 'UNAVAILABLE' (503)"),
    ("[[case]]\nname = 'a'\nrequest_type = 'registration'\nexpect = 'ALLOW'\n\n[[case]]\nname = 'b'\nrequest_type = 'registration'\nexpect = 'ALLOW'\ncolour = 1\n", 10, "case 2: unknown key 'colour'"),
    ("[[case]]\nname = 'a'\nrequest_type = 'registration'\nexpect = 'ALLOW'\ncurrent_profile = {}\n", 5, "current_profile is read on progressive requests only"),
    ("[[case]]\nname = 'a'\nrequest_type = 'registration'\nexpect = 'ALLOW'\ncauses = { x = 'Y' }\n", 5, "causes go with expect = 'DENY'"),
    ("[[case]]\nname = 'a'\nrequest_type = 'registration'\nexpect = 'ALLOW'\nsubmitted = { when = 1979-05-27 }\n", 5, "values must be JSON values"),
    ("[[case]]\nname = 'a'\nrequest_type = 'registration'\nexpect = 'ALLOW'\n[[case]]\nname = 'a'\nrequest_type = 'registration'\nexpect = 'ALLOW'\n", 5, "case 'a' is named twice"),
    ("[[case]]\nname = 'a'\nrequest_type = ['registration']\nexpect = 'ALLOW'\n", 3, "request_type must be"),
    ("[[case]]\nname = 'a'\nrequest_type = {}\nexpect = 'ALLOW'\n", 3, "request_type must be"),
    ("[[case]]\nname = 'a'\nrequest_type = 'registration'\nexpect = ['ALLOW']\n", 4, "expect must be"),
    ("[[case]]\nname = 'a'\nrequest_type = 'registration'\nexpect = 'ALLOW'\ndirectory = { hr = { status = 1e999 } }\n", 5, "an HTTP status, 100 to 599"),
    ("[[case]]\nname = 'a'\nrequest_type = 'registration'\nexpect = 'ALLOW'\ndirectory = { hr = { status = 'x' } }\n", 5, "an HTTP status, 100 to 599"),
    ("[[case]]\nname = 'a'\nrequest_type = 'registration'\nexpect = 'ALLOW'\ndirectory = { hr = { body = 1979-05-27 } }\n", 5, "the body must be a JSON value"),
    ("[[case]]\nname = 'a'\nrequest_type = 'registration'\nexpect = 'ALLOW'\ndirectory = { hr = ['unavailable'] }\n", 5, "a canned answer is"),
    ("[[case]\n", 1, "not valid TOML"),
    ("cases = []\n", 1, "unknown key 'cases'"),
    ("", 1, "no [[case]]"),
]  # fmt: skip


def test_a_case_file_nested_too_deeply_is_refused_not_recursed_into(tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text("[attributes.x]\nmax_length = 3\n", "utf-8")
    cases_path(policy).write_text("x = " + "[" * 2000 + "]" * 2000 + "\n", "utf-8")
    result = run_check(policy)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{cases_path(policy)}: not valid TOML: nested too deeply",
        f"{policy}: INVALID",
    ]


@pytest.mark.parametrize(("text", "line", "message"), BROKEN_CASES)
def test_a_broken_case_file_is_refused_with_its_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text("[attributes.x]\nmax_length = 3\n", "utf-8")
    cases = cases_path(policy)
    cases.write_text(text, "utf-8")
    result = run_check(policy)
    assert result.returncode == 1
    first, status = result.stderr.splitlines()
    assert first.startswith(f"{cases}:{line}: "), first
    assert message in first
    assert status == f"{policy}: INVALID"


def test_a_case_runs_through_okta_s_request_parsing(tmp_path: Path) -> None:
    cases = tmp_path / "c.cases.toml"
    cases.write_text(
        "[[case]]\nname = 'x'\nrequest_type = 'registration'\nip_address = '203.0.113.5'\n"
        "submitted = { email = 'a@example.com' }\nexpect = 'ALLOW'\n",
        "utf-8",
    )
    (case,) = load_cases(cases)
    assert b'"ipAddress": "203.0.113.5"' in case.body
    assert b'"userProfile": {"email": "a@example.com"}' in case.body


# A broken policy of the new kinds: FILE:LINE and what is wrong.
BROKEN = [
    ("[attributes.x]\ntype = 'integer'\nmin = 10\nmax = 5\n", 3, "min 10 is over max 5: no value can pass"),
    ("[attributes.x]\nmin_length = 4\nmax_length = 2\n", 2, "min_length 4 is over max_length 2"),
    ("[attributes.x]\ntype = 'boolean'\n\nmin = 1\n", 4, "unknown key 'min'"),
    ("[attributes.x]\ntype = 'array'\n", 2, "an array needs items"),
    ("[attributes.x]\nnormalize = ['lower']\none_of = ['FR']\n", 3, "'FR' can never match a value normalised with lower"),
    ("[attributes.x]\ntype = 'integer'\nnormalize = ['trim']\n", 3, "normalize applies to text"),
    ("[attributes.x]\nrequired_when = { request_type = 'registration' }\n", 2, "required_when without required can never apply"),
    ("[attributes.x]\n\nwhen = { attribute = 'nobody', equals = 'a' }\n", 3, "names nobody, an unknown attribute"),
    ("[attributes.c]\ntype = 'integer'\n[attributes.x]\nwhen = { attribute = 'c', equals = 'a' }\n", 4, "'a' can never equal c"),
    ("[attributes.c]\ntype = 'array'\nitems = 'string'\n[attributes.x]\nwhen = { attribute = 'c', equals = 'a' }\n", 5, "compares c, an array"),
    ("[attributes.x]\nwhen = { email_domain = ['a.example'] }\n", 2, "email_domain reads [attributes.email]"),
    ("[attributes.x]\nrequired = ['registration']\nrequired_when = { request_type = 'progressive' }\n", 3, "can never hold where the requirement is judged (registration)"),
    ("[attributes.x]\ntype = 'string'\n\n[[attributes.x.rules]]\nmax_length = 3\n\n[[attributes.x.rules]]\nwhen = { request_type = 'progressive' }\nmin_length = 2\n", 8, "can never hold where the rule min_length is judged (registration)"),
    ("[attributes.x]\nwhen = { not = { request_type = ['registration', 'progressive'] } }\n", 2, "can never hold"),
    ("[attributes.x]\n[[attributes.x.rules]]\nreason = 'X'\n", 2, "checks nothing"),
    ("[attributes.x]\nmax_length = 3\n[set.x]\nvalue = 'a'\non = ['registration']\n", 3, "x also has [attributes.x]"),
    ("[network]\nblocked = ['10.0.0.1/8']\n", 2, "'10.0.0.1/8' is not a CIDR range (the range is 10.0.0.0/8)"),
    ("[network]\nblocked = ['::ffff:10.0.0.0/104']\n", 2, "is IPv4-mapped"),
    ("[network]\nallowed = ['banana']\n", 2, "'banana' is not a CIDR range"),
    ("[network]\nshadow = true\n", 1, "[network] needs allowed or blocked ranges"),
    ("[network]\nblocked = ['10.0.0.0/8']\nreason = 'CUSTOM'\n", 3, "[network] reason CUSTOM has no [messages] entry"),
    ("[disposable_domains]\ndeny = true\n", 1, "can never apply: no attribute has type = \"email\""),
    ("[attributes.email]\ntype = 'email'\n[disposable_domains]\nallowed = ['a.com']\n", 3, "needs deny = true"),
    ("[attributes.x]\n[[attributes.x.rules]]\nmax_length = 1\n[[attributes.x.rules]]\nmax_length = 2\nreason = 'NOT_LISTED'\n", 6, "reason NOT_LISTED has no [messages] entry"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "line", "message"), BROKEN)
def test_a_broken_policy_names_its_line(text: str, line: int, message: str) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy(text, "p.toml")
    assert str(raised.value).startswith(f"p.toml:{line}: "), str(raised.value)
    assert message in str(raised.value)


DISPOSABLE_IMPORT = (
    "import sys; from pathlib import Path; from policy.loader import load_policy; "
    "load_policy(Path(sys.argv[1])); print('disposable_email_domains' in sys.modules)"
)


@pytest.mark.parametrize(
    ("name", "imported"), [("ssr.toml", "False"), ("example_org.toml", "True")]
)
def test_the_disposable_list_is_imported_only_for_a_policy_that_uses_it(
    name: str, imported: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", DISPOSABLE_IMPORT, str(POLICIES / name)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == imported
