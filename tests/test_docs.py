"""Every command the README and docs/ give: each make target and variable exists, each option of
deploy.sh and of our modules exists, and the commands that need nothing outside this machine run
as written."""

from __future__ import annotations

import dataclasses
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tools.deploy.options import Options, flag

PAGES = [ROOT / "README.md", ROOT / "SECURITY.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"```(?:sh|bash|shell)\n(.*?)```", re.S)
INLINE = re.compile(r"`((?:make|\./deploy\.sh|python -m|\.venv/bin/python -m) [^`]+)`")
DEPLOY_OPTIONS = {flag(f.name) for f in dataclasses.fields(Options)} | {"--help", "-h"}
MAKEFILE = (ROOT / "Makefile").read_text("utf-8")


def commands() -> list[tuple[str, str]]:
    """(page, command) for each command line of the pages: fenced shell blocks and inline code."""
    found = []
    for page in PAGES:
        text = page.read_text("utf-8")
        lines: list[str] = []
        for block in FENCE.findall(text):
            joined = block.replace("\\\n", " ")
            lines += [line for line in joined.splitlines() if line.strip()]
        lines += INLINE.findall(text)
        for line in lines:
            command = line.split(" #", 1)[0].strip()
            for part in re.split(r"\s*(?:&&|\|)\s*", command):
                if part.startswith(("make ", "./deploy.sh", "python -m", ".venv/bin/python -m")):
                    found.append((page.name, part))
    return found


COMMANDS = commands()


def test_the_pages_give_commands() -> None:
    assert len(COMMANDS) > 20
    assert {page for page, _ in COMMANDS} >= {"README.md", "deploy.md", "policy.md"}


def words(command: str) -> list[str]:
    return shlex.split(command.replace("~/", "/home/user/"))


@pytest.mark.parametrize(
    ("page", "command"), [c for c in COMMANDS if c[1].startswith("make ")], ids=str
)
def test_each_make_target_and_variable_exists(page: str, command: str) -> None:
    for word in words(command)[1:]:
        if word.startswith("-"):
            continue
        if "=" in word:
            name = word.split("=", 1)[0]
            assert re.search(rf"\$\({name}\)|\b{name} \?=", MAKEFILE), f"{page}: {name}"
        else:
            assert re.search(rf"^{re.escape(word)}:", MAKEFILE, re.M), f"{page}: make {word}"


@pytest.mark.parametrize(
    ("page", "command"), [c for c in COMMANDS if c[1].startswith("./deploy.sh")], ids=str
)
def test_each_deploy_option_exists(page: str, command: str) -> None:
    for word in words(command)[1:]:
        if word.startswith("-"):
            assert word.split("=", 1)[0] in DEPLOY_OPTIONS, f"{page}: {word}"


def module_of(command: str) -> tuple[str, list[str]]:
    argv = words(command)
    index = argv.index("-m")
    return argv[index + 1], argv[index + 2 :]


MODULE_COMMANDS = [c for c in COMMANDS if "python -m" in c[1]]
_helps: dict[str, str] = {}


def help_of(module: str) -> str:
    if module not in _helps:
        done = subprocess.run(
            [sys.executable, "-m", module, "--help"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"python -m {module} --help: {done.stderr[-500:]}"
        _helps[module] = done.stdout
    return _helps[module]


@pytest.mark.parametrize(("page", "command"), MODULE_COMMANDS, ids=str)
def test_each_module_and_its_options_exist(page: str, command: str) -> None:
    module, arguments = module_of(command)
    if module in ("pytest",):
        return
    text = help_of(module)
    for word in arguments:
        if word.startswith("--"):
            assert word.split("=", 1)[0] in text, f"{page}: python -m {module} {word}"


@pytest.mark.parametrize(
    "command",
    [
        "python -m tools.policy_check policies/example_org.toml",
        "python -m tools.policy_check policies/ssr_and_progressive.toml",
    ],
)
def test_the_policy_check_runs_as_written(command: str) -> None:
    done = subprocess.run(
        [sys.executable, *words(command)[1:]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "cases:" in done.stdout
    assert "passed" in done.stdout


def test_the_readme_s_plan_runs_as_written(tmp_path: Path) -> None:
    """The README's --plan line, with the credentials file it makes, on a machine with no gcloud,
    no credentials and no network: it ends with the plan."""
    [plan] = [c for p, c in COMMANDS if p == "README.md" and "--plan" in c]
    home = tmp_path / "home"
    home.mkdir()
    (home / "okta-hook-basic.txt").write_text("okta:a-password-made-for-this-test\n")
    bare = tmp_path / "bin"  # no gcloud, no curl: only what deploy.sh itself calls
    bare.mkdir()
    for tool in ("dirname",):
        (bare / tool).symlink_to(shutil.which(tool) or f"/usr/bin/{tool}")
    env = {"HOME": str(home), "PATH": str(bare), "PYTHON": sys.executable}
    argv = shlex.split(plan.replace("~/", f"{home}/"))
    done = subprocess.run(
        [shutil.which("bash") or "/bin/bash", str(ROOT / "deploy.sh"), *argv[1:]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "gcloud functions deploy okta-registration-hook" in done.stdout
    assert "nothing was run" in done.stdout.splitlines()[-1]


GCLOUD = re.compile(
    r"`(gcloud [a-z-]+(?: [a-z-]+)*)((?: --?[a-z0-9-]+(?:[ =][^ `-][^ `]*)?)*)[^`]*`"
)


@pytest.mark.skipif(shutil.which("gcloud") is None, reason="gcloud is not installed")
def test_each_gcloud_command_of_the_readme_has_its_flags() -> None:
    readme = (ROOT / "README.md").read_text("utf-8").replace("\n", " ")
    found = GCLOUD.findall(readme)
    assert found
    for group, flags in found:
        words_of = [w for w in group.split() if not w.startswith("okta-registration-hook")]
        done = subprocess.run(
            [*words_of, "--help"], capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, group
        for option in re.findall(r"--[a-z0-9-]+", flags):
            assert option in done.stdout, f"{group} {option}"
