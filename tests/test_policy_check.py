"""`python -m tools.policy_check`: valid policies summarised, broken ones refused with a line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from policy.loader import MAX_POLICY_BYTES, PolicyError, load_policy, parse_policy
from policy.policy_lines import line_of
from tests.conftest import POLICIES, ROOT, SHIPPED_POLICIES

SHIPPED = SHIPPED_POLICIES


def run_check(*files: Path | str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.policy_check", *map(str, files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_every_shipped_policy_is_valid() -> None:
    assert {p.name for p in SHIPPED} >= {
        "ssr.toml",
        "progressive.toml",
        "ssr_and_progressive.toml",
        "example_full.toml",
    }
    for path in SHIPPED:
        result = run_check(path)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"{path}: valid\n")
        assert result.stderr == ""


def test_summary_of_the_full_example() -> None:
    result = run_check(POLICIES / "example_full.toml")
    out = result.stdout
    assert result.returncode == 0
    for expected in [
        "rules in shadow mode (logged, not enforced): [attributes.firstName]",
        "email domains: allowed example.com; blocked none",
        "registration (self.service.registration):",
        "    email: required; normalised trim, lower;",
        "matches [0-9]{4} (else INVALID_EMPLOYEE_NUMBER)",
        "(else INVALID_NAME) [SHADOW]",
        'sets userType = "employee"; sets login to the (normalised) email',
        "progressive (progressive.profile):",
        "updatable: employeeNumber; any other attribute: ATTRIBUTE_NOT_UPDATABLE",
        "an attribute with no rule: stored as sent; an object or an array of arrays or objects",
        "    email: not updatable",
        "employeeNumber: required unless already on the profile",
        "messages: default locale en; locales en, fr",
        "    INVALID_NAME: en, fr",
        "    MISSING_ATTRIBUTE: built-in en, fr",
    ]:
        assert expected in out, expected


BROKEN = [
    ("[domains]\nallowed = ['example.com']\n\n[attributes.x]\npatern = '[0-9]'\n", 5, "unknown key 'patern'"),
    ("# comment\n\n[attributes.x]\npattern = '[0-9'\n", 4, "not a valid regular expression"),
    ("[domains]\nallowed = [\n  'example.com',\n  'exa mple.com',\n]\n", 2, "is not a domain name"),
    ("[attributes.email]\ntype = 'email'\n", 2, "needs [domains] allowed or blocked"),
    ("[attributes.x]\nreason = 'CUSTOM'\n", 2, "CUSTOM has no [messages] entry"),
    ("[messages]\nDENIED = 'x'\n\n[messages.fr]\nDENIED = 'y'\nCUSTOM = 'z'\n", 6, "no message in the default locale"),
    ("a = 1\n[domains\nallowed = []\n", 2, "not valid TOML"),
    ("[attributes]\nx = { pattern = '(' }\n", 2, "not a valid regular expression"),
    ("[set.userType]\nvalue = 'e'\non = ['progressive']\n", 3, "not in [progressive] updatable"),
    ("shadow = true\n\ncolour = 'blue'\n", 3, "unknown key 'colour'"),
    ("[lists.l]\nsource = 'gs://acme-lists/o.txt'\nkind = []\n", 3, "kind must be one of"),
    ("[lists.l]\nsource = 'gs://acme-lists/o.txt'\nkind = {}\n", 3, "kind must be one of"),
    ("[lists.l]\nsource = 'gs://acme-lists/o.txt'\nkind = 'domains'\nrefresh_seconds = 1" + "0" * 400 + "\n", 4, "refresh_seconds must be a number"),
    ("[attributes.x]\npattern = '(a)\\1'\n", 2, "RE2 syntax"),
    ("[attributes.x]\npattern = '(?=a)a'\n", 2, "RE2 syntax"),
    ("[attributes.x]\npattern = 'a'\nwhen = " + "{not=" * 20 + "{request_type=['registration']}" + "}" * 20 + "\n", 3, "conditions nest at most 16 levels"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "line", "message"), BROKEN)
def test_broken_policy_is_refused_with_its_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(text)
    result = run_check(path)
    assert result.returncode == 1
    assert result.stdout == ""
    first, status = result.stderr.splitlines()
    assert first.startswith(f"{path}:{line}: ")
    assert message in first
    assert status == f"{path}: INVALID"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version = " + "[" * 2000 + "]" * 2000 + "\n", "not valid TOML: nested too deeply"),
        ("[attributes.x]\npattern = 'a'\n[attributes.x.when" + ".not" * 2000 + "]\nrequest_type = ['registration']\n", "conditions nest at most 16 levels"),
    ],
)  # fmt: skip
def test_a_policy_nested_too_deeply_is_refused_not_recursed_into(text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_policy(text, "p.toml")


def test_a_directory_number_too_large_for_a_float_is_refused() -> None:
    text = (POLICIES / "partners_and_hr.toml").read_text("utf-8")
    assert "timeout_seconds = 1.0" in text
    huge = text.replace("timeout_seconds = 1.0", "timeout_seconds = 1" + "0" * 400)
    with pytest.raises(PolicyError, match="timeout_seconds must be a number of seconds"):
        parse_policy(huge, str(POLICIES / "partners_and_hr.toml"))


def test_a_policy_file_over_the_size_bound_is_not_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    path.write_bytes(b"# " + b"x" * MAX_POLICY_BYTES + b"\n")
    with pytest.raises(PolicyError, match="cannot read: over 1024 KiB"):
        load_policy(path)


def test_one_broken_file_among_several_fails_the_check(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[attributes.x]\nmax_length = 0\n")
    result = run_check(POLICIES / "ssr.toml", broken, tmp_path / "absent.toml")
    assert result.returncode == 1
    assert result.stdout.startswith(f"{POLICIES / 'ssr.toml'}: valid")
    assert f"{broken}:2: [attributes.x] max_length must be a positive integer" in result.stderr
    assert f"{tmp_path / 'absent.toml'}: cannot read: FileNotFoundError" in result.stderr


def test_no_file_is_a_usage_error() -> None:
    result = run_check()
    assert result.returncode == 2
    assert "usage: python -m tools.policy_check" in result.stderr


def test_the_error_at_cold_start_names_the_line_too() -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy("[attributes.x]\n\nmax_length = -1\n", "p.toml")
    assert str(raised.value) == "p.toml:3: [attributes.x] max_length must be a positive integer"
    assert raised.value.line == 3


@pytest.mark.parametrize(
    ("path", "line"),
    [
        (("attributes", "x", "pattern"), 7),
        (("attributes", "x"), 6),
        (("attributes", "y", "reason"), 10),  # dotted key under [attributes]
        (("attributes", "z", "type"), 11),  # inline table: its key line
        (("messages", "fr-CA", "DENIED"), 14),  # quoted header
        (("messages", "fr-CA"), 13),
        (("attributes", "absent", "type"), 5),  # nearest named prefix: [attributes]
        (("domains",), None),  # the word in a multi-line string is not a key
        (("nothing",), None),
    ],
)
def test_line_of_a_key(path: tuple[str, ...], line: int | None) -> None:
    text = "\n".join(
        [
            "shadow = false",  # 1
            'note = """',  # 2
            "[domains]",  # 3
            '"""',  # 4
            "[attributes]",  # 5
            "[attributes.x]",  # 6
            "pattern = '('",  # 7
            "",  # 8
            "[attributes]",  # 9
            "y.reason = 'lower'",  # 10
            "z = { type = 'number' }",  # 11
            "",  # 12
            '[ messages . "fr-CA" ]',  # 13
            "DENIED = ''",  # 14
        ]
    )
    assert line_of(text, path) == line
