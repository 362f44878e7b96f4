"""The full example policy served by functions-framework on loopback, seen through the preview."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.conftest import BASIC_PASSWORD, BASIC_USER
from tests.policy_support import EXAMPLE
from tests.server_support import Served, serve
from tools import preview

AUTH = f"{BASIC_USER}:{BASIC_PASSWORD}"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    env = {"OKTA_HOOK_BASIC_CREDENTIALS": AUTH, "OKTA_HOOK_POLICY": str(EXAMPLE)}
    with serve(env, tmp_path_factory.mktemp("served")) as server:
        yield server


def run_preview(served: Served, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert preview.main([*argv, "--url", served.url, "--basic", AUTH]) == 0
    return capsys.readouterr().out


def test_preview_shows_normalised_values_and_values_set_on_allow(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run_preview(
        served, capsys, "registration", "--email", " Rosario.Jones@Example.COM",
        "--employee-number", "1234 ", "firstName=R2D2",
    )  # fmt: skip
    assert out.endswith(
        "decision: ALLOW\n"
        '  sets email = "rosario.jones@example.com"\n'
        '  sets employeeNumber = "1234"\n'
        '  sets userType = "employee"\n'
        '  sets login = "rosario.jones@example.com"\n'
    )
    # The shadowed rule on firstName is in the log line, not in the answer.
    audit = [json.loads(line) for line in served.log().splitlines() if '"status": 200' in line]
    assert audit[-1]["shadow_reasons"] == [{"attribute": "firstName", "reason": "INVALID_NAME"}]
    assert "R2D2" not in served.log()


@pytest.mark.parametrize(
    "hint", [["locale=fr_FR"], ["--accept-language", "de-CH, fr;q=0.8, en;q=0.5"]]
)
def test_preview_shows_french_messages(
    served: Served, capsys: pytest.CaptureFixture[str], hint: list[str]
) -> None:
    out = run_preview(served, capsys, "registration", "--employee-number", "12a4", *hint)
    assert out.endswith(
        "decision: DENY\n"
        "  data.userProfile.employeeNumber: INVALID_EMPLOYEE_NUMBER: "
        "Saisissez un numéro d'employé à 4 chiffres.\n"
    )
    assert "Nous n'avons pas pu terminer votre inscription." in out
