"""SECURITY.md names the tests behind each guard: every name must be a test that exists."""

from __future__ import annotations

import ast
import re

from tests.conftest import ROOT


def test_every_test_security_md_names_exists() -> None:
    text = (ROOT / "SECURITY.md").read_text("utf-8")
    named = set(re.findall(r"`(tests/[a-z_]+\.py)(?:::([a-z_0-9]+))?`", text))
    assert len(named) > 40
    for path, function in named:
        source = ROOT / path
        assert source.exists(), path
        if function:
            tree = ast.parse(source.read_text("utf-8"))
            functions = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
            assert function in functions, f"{path}::{function}"


def test_the_docs_document_the_deadline() -> None:
    settings = (ROOT / "docs" / "settings.md").read_text("utf-8")
    assert "| `OKTA_HOOK_DEADLINE_MS` |" in settings
    assert "\n## Deadline and limits\n" in (ROOT / "docs" / "requests.md").read_text("utf-8")
