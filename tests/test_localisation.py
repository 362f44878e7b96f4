"""Localised messages: the person's profile locale, then Accept-Language, then the default."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from policy.loader import PolicyError, parse_policy
from policy.locales import accept_language, tag
from tests.conftest import MakeClient
from tests.policy_support import (
    answer,
    audit_lines,
    causes,
    hook_on,
    progressive,
    registration,
    write_policy,
)

FR_SUMMARY = "Nous n'avons pas pu terminer votre inscription. Vérifiez les champs signalés."
FR_EMPLOYEE = "Saisissez un numéro d'employé à 4 chiffres."
EN_SUMMARY = "We couldn't complete your registration. Please review the highlighted fields."
EN_EMPLOYEE = "Enter an employee number with 4 digits."


def messages(client: TestClient, body: dict[str, object], **headers: str) -> tuple[str, str]:
    """(errorSummary, the first cause's errorSummary) of a DENY."""
    result = answer(client, body, **headers)
    return result["error"]["errorSummary"], causes(result)[0][2]


def bad_number(**profile: object) -> dict[str, object]:
    return registration(employeeNumber="12a4", **profile)


def test_default_locale_without_any_hint(example: TestClient) -> None:
    assert messages(example, bad_number()) == (EN_SUMMARY, EN_EMPLOYEE)


@pytest.mark.parametrize("locale", ["fr", "fr_FR", "fr-CA", "FR_be"])
def test_profile_locale_with_language_fallback(example: TestClient, locale: str) -> None:
    assert messages(example, bad_number(locale=locale)) == (FR_SUMMARY, FR_EMPLOYEE)


@pytest.mark.parametrize("locale", ["de_DE", "en_US", "", None, 42, "not a locale!"])
def test_profile_locale_without_a_catalogue_gives_the_default(
    example: TestClient, locale: object
) -> None:
    assert messages(example, bad_number(locale=locale)) == (EN_SUMMARY, EN_EMPLOYEE)


@pytest.mark.parametrize(
    "header",
    ["fr", "fr-CH, en;q=0.9", "de, fr;q=0.8, en;q=0.5", "en;q=0.2, fr;q=0.3", "*, fr;q=0.1"],
)
def test_accept_language_when_the_profile_has_no_locale(example: TestClient, header: str) -> None:
    assert messages(example, bad_number(), **{"Accept-Language": header}) == (
        FR_SUMMARY,
        FR_EMPLOYEE,
    )


@pytest.mark.parametrize("header", ["fr;q=0", "en, fr;q=0.9", "de", "fr;q=2", "*", ""])
def test_accept_language_that_does_not_pick_french(example: TestClient, header: str) -> None:
    assert messages(example, bad_number(), **{"Accept-Language": header}) == (
        EN_SUMMARY,
        EN_EMPLOYEE,
    )


def test_profile_locale_comes_before_accept_language(example: TestClient) -> None:
    body = bad_number(locale="en_US")
    assert messages(example, body, **{"Accept-Language": "fr"}) == (EN_SUMMARY, EN_EMPLOYEE)
    body = bad_number(locale="de_DE")  # no German: the browser's French is next
    assert messages(example, body, **{"Accept-Language": "fr"}) == (FR_SUMMARY, FR_EMPLOYEE)


def test_progressive_reads_the_locale_of_the_current_profile(example: TestClient) -> None:
    body = progressive({"employeeNumber": "12a4"})  # the sample profile is en_US
    assert messages(example, body) == (EN_SUMMARY, EN_EMPLOYEE)
    body = progressive({"employeeNumber": "12a4"}, locale="fr_FR")
    assert messages(example, body) == (FR_SUMMARY, FR_EMPLOYEE)


def test_every_cause_and_the_summary_share_one_locale(example: TestClient) -> None:
    body = registration(email="x@evil-example.com", employeeNumber=..., locale="fr_FR")
    result = answer(example, body)
    assert result["error"]["errorSummary"] == FR_SUMMARY
    assert causes(result) == [
        ("email", "INVALID_EMAIL_DOMAIN", "Seules les adresses example.com peuvent s'inscrire."),
        ("employeeNumber", "MISSING_ATTRIBUTE", "Ce champ est obligatoire."),
    ]


def test_the_locale_is_in_the_audit_line(
    example: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    answer(example, bad_number(locale="fr_CA"))
    answer(example, registration(employeeNumber="1234", locale="fr_CA"))
    denied, allowed = audit_lines(capsys)
    assert denied["locale"] == "fr"
    assert "locale" not in allowed  # no message shown, no locale chosen


PARTIAL = """
default_locale = "en"
[attributes.employeeNumber]
required = ["registration"]
pattern = "[0-9]{4}"
reason = "BAD_NUMBER"
[messages]
BAD_NUMBER = "Four digits, please."
[messages.fr]
DENIED = "Refusé."
[messages.fr-CA]
BAD_NUMBER = "Quatre chiffres, s'il vous plaît."
"""


@pytest.fixture
def partial(make_client: MakeClient, tmp_path: Path) -> TestClient:
    return hook_on(make_client, write_policy(tmp_path, PARTIAL))


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("fr_CA", ("Refusé.", "Quatre chiffres, s'il vous plaît.")),  # fr-ca, then fr
        ("fr_FR", ("Refusé.", "Four digits, please.")),  # fr, then the default locale
        ("fr", ("Refusé.", "Four digits, please.")),
        ("en_GB", ("We couldn't complete your request. Please review the highlighted fields.",
                   "Four digits, please.")),  # the default locale, then the built-ins
    ],
)  # fmt: skip
def test_each_message_falls_back_on_its_own(
    partial: TestClient, locale: str, expected: tuple[str, str]
) -> None:
    assert messages(partial, bad_number(locale=locale)) == expected


def test_a_regional_catalogue_serves_its_language(make_client: MakeClient, tmp_path: Path) -> None:
    text = "[messages.fr-CA]\nMISSING_ATTRIBUTE = 'Champ requis.'\n"
    text += "[attributes.employeeNumber]\nrequired = ['registration']\n"
    client = hook_on(make_client, write_policy(tmp_path, text))
    assert messages(client, registration(locale="fr_FR"))[1] == "Champ requis."


def test_default_locale_other_than_english(make_client: MakeClient, tmp_path: Path) -> None:
    text = (
        "default_locale = 'fr'\n[messages]\nDENIED = 'Refusé.'\n[messages.en]\nDENIED = 'No.'\n"
        "[attributes.employeeNumber]\nrequired = ['registration']\n"
    )
    client = hook_on(make_client, write_policy(tmp_path, text))
    # Flat [messages] are in the default locale; codes it does not translate use the built-ins.
    assert messages(client, registration()) == ("Refusé.", "This field is required.")
    assert messages(client, registration(locale="en_US")) == ("No.", "This field is required.")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[messages.fr]\nCUSTOM = 'x'", "[messages.fr] CUSTOM has no message in the default locale en"),
        ("[attributes.x]\nreason = 'CUSTOM'\n[messages.fr]\nCUSTOM = 'x'", "CUSTOM has no message in the default locale"),
        ("[messages.'f r']\nDENIED = 'x'", "'f r' is not a locale"),
        ("[messages.fr_CA]\nDENIED = 'x'\n[messages.fr-ca]\nDENIED = 'y'", "[messages.fr-ca] repeats [messages.fr_CA]"),
        ("[messages]\nDENIED = 'x'\n[messages.en]\nDENIED = 'y'", "DENIED is given twice"),
        ("[messages.fr]\nDENIED = ''", "[messages.fr] DENIED must be a non-empty string"),
        ("[messages.fr]\nlower = 'x'", "'lower' is not a reason code"),
        ("[messages.DENIED]\nFR = 'x'", "'DENIED' is not a locale"),
        ("default_locale = 'en US'", "default_locale must be a locale"),
        ("default_locale = 3", "default_locale must be a locale"),
    ],
)  # fmt: skip
def test_broken_catalogues_are_refused(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy(text, "p.toml")
    assert message in str(raised.value)


def test_flat_messages_stay_the_default_locale() -> None:
    policy = parse_policy("[messages]\nDENIED = 'Old style.'\n[messages.fr]\nDENIED = 'Nouveau.'")
    assert policy.message("DENIED") == "Old style."
    assert policy.catalogue.messages(["fr-be"])("DENIED") == "Nouveau."


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", ["fr-ch", "fr", "en", "de"]),
        ("en;q=0.5, fr", ["fr", "en"]),
        ("en;q=0.5,fr;q=0.5", ["en", "fr"]),  # equal weights keep their order
        ("fr ; Q=0.4 , de;q=1.000", ["de", "fr"]),
        ("fr;q=0, en", ["en"]),
        ("fr;q=1.5, en;q=0.1234, de;q=abc, es;q=.5, it;q=0.05", ["it"]),
        ("x1, 12, fr-, en", ["en"]),
        ("", []),
        (None, []),
        ("fr," * 3000, []),  # an absurd header is ignored whole
    ],
)
def test_accept_language_parsing(header: str | None, expected: list[str]) -> None:
    assert accept_language(header) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("fr_FR", "fr-fr"),
        ("EN", "en"),
        ("zh_Hant_TW", "zh-hant-tw"),
        ("f", None),
        ("fr@x", None),
        ("french", None),
    ],
)
def test_locale_tags(value: str, expected: str | None) -> None:
    assert tag(value) == expected
