"""Hostile-input support: a hook per policy, the checks every answer must pass, and oracles that
say, independently of the handlers, what each policy may allow."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tests.conftest import BASIC_PASSWORD, BASIC_USER, POLICIES

REGISTRATION = "self.service.registration"
DIGITS = "0123456789"

# An allow-all-but-blocked policy: the domains below (and subdomains of spam.test) are refused,
# every other well-formed address is allowed. bücher.test is written in its A-label form.
BLOCKLIST_POLICY = """
[domains]
blocked = ["blocked.test", "spam.test", "*.spam.test", "xn--bcher-kva.test", "kiss.test"]

[attributes.email]
type = "email"
required = ["registration"]
reason = "INVALID_EMAIL_DOMAIN"

[messages]
DENIED = "Registration refused."
INVALID_EMAIL_DOMAIN = "This email domain cannot register."
"""
BLOCKED = ("blocked.test", "spam.test", "*.spam.test", "xn--bcher-kva.test", "kiss.test")

# `\\d` in a pattern: it must mean 0-9 only, never the digits of other scripts.
BACKSLASH_D_POLICY = """
[attributes.employeeNumber]
required = ["registration", "progressive"]
pattern = "\\\\d{4}"
reason = "INVALID_EMPLOYEE_NUMBER"

[progressive]
updatable = ["employeeNumber"]

[messages]
DENIED = "Registration refused."
INVALID_EMPLOYEE_NUMBER = "Enter four digits."
"""


def basic_env(policy: Path) -> dict[str, str]:
    return {
        "OKTA_HOOK_BASIC_CREDENTIALS": f"{BASIC_USER}:{BASIC_PASSWORD}",
        "OKTA_HOOK_POLICY": str(policy),
    }


def set_at(body: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    """`body` with `value` at `path`, creating objects on the way; a non-object on the way stops
    the walk, leaving the body as it was there."""
    node: Any = body
    for key in path[:-1]:
        if not isinstance(node, dict):
            break
        node = node.setdefault(key, {})
    if isinstance(node, dict):
        node[path[-1]] = value
    return body


def well_formed(response: Any) -> dict[str, Any]:
    """Never a 5xx, a traceback or a body that is not a JSON object."""
    text = response.text
    assert response.status_code < 500, text
    assert response.headers["content-type"] == "application/json"
    assert "Traceback" not in text
    document = json.loads(text)
    assert isinstance(document, dict)
    return document


def allowed(document: Mapping[str, Any]) -> bool:
    actions = [
        c["value"]["registration"]
        for c in document.get("commands", [])
        if c["type"] == "com.okta.action.update"
    ]
    return actions == ["ALLOW"] and "error" not in document


# The oracle: a statement of each policy written from its TOML, sharing no code with handlers/.


def four_ascii_digits(value: object) -> bool:
    return isinstance(value, str) and len(value) == 4 and all(c in DIGITS for c in value)


def _label_ok(label: str) -> bool:
    ok = set("abcdefghijklmnopqrstuvwxyz0123456789-")
    return 1 <= len(label) <= 63 and set(label) <= ok and label[0] != "-" and label[-1] != "-"


ATEXT = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~")


def _atom_ok(atom: str) -> bool:
    return bool(atom) and all(
        c in ATEXT or (not c.isascii() and c.isprintable() and not c.isspace()) for c in atom
    )


def address_domain(value: object) -> str | None:
    """The lower-case ASCII domain of a plain address (`local@domain`), else None: a local part
    of dot-separated atoms (no quoted form, no dot at an end, no two in a row) of at most 64
    bytes, and an ASCII domain of two labels or more."""
    if not isinstance(value, str) or value.count("@") != 1:
        return None
    local, domain = value.split("@")
    if len(local.encode("utf-8", "surrogatepass")) > 64 or not all(map(_atom_ok, local.split("."))):
        return None
    if (
        not domain.isascii()
        or len(domain) > 253
        or len(local.encode("utf-8", "surrogatepass")) + 1 + len(domain) > 254
    ):
        return None
    domain = domain.lower()
    labels = domain.split(".")
    return domain if len(labels) >= 2 and all(_label_ok(label) for label in labels) else None


def delivery_names(domain: str) -> set[str]:
    """Every DNS name a lenient mail system could deliver `domain` to: as written (without a
    final dot), and through IDNA 2003 (NFKC, case folding, ideographic and full-width dots)."""
    names = {domain.lower().rstrip(".")}
    try:
        names.add(domain.encode("idna").decode("ascii").lower().rstrip("."))
    except UnicodeError:
        pass
    return names


def blocked(name: str) -> bool:
    return any(
        name.endswith(entry[1:]) if entry.startswith("*.") else name == entry for entry in BLOCKED
    )


def _blank(value: object) -> bool:
    return value is None or value == ""


def _trim(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


Oracle = Callable[[dict[str, Any]], bool]


def _profiles(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(submitted values, current profile) of a body the hook parsed."""
    data = body["data"]
    if body["requestType"] == REGISTRATION:
        return data.get("userProfile") or {}, {}
    current = ((data.get("context") or {}).get("user") or {}).get("profile") or {}
    return data.get("userProfileUpdate") or {}, current


def _employee_number_ok(submitted: dict[str, Any], current: dict[str, Any], trim: bool) -> bool:
    number = submitted.get("employeeNumber")
    number = _trim(number) if trim else number
    if _blank(number):
        return not _blank(current.get("employeeNumber"))  # required: the profile keeps one
    return four_ascii_digits(number)


def may_allow_ssr(body: dict[str, Any]) -> bool:
    submitted, _ = _profiles(body)
    if body["requestType"] != REGISTRATION:
        return not submitted  # nothing is updatable
    return address_domain(submitted.get("email")) == "example.com"


def may_allow_progressive(body: dict[str, Any]) -> bool:
    submitted, current = _profiles(body)
    if body["requestType"] == REGISTRATION:
        number = submitted.get("employeeNumber")
        return _blank(number) or four_ascii_digits(number)
    return set(submitted) <= {"employeeNumber"} and _employee_number_ok(
        submitted, current, trim=False
    )


def may_allow_ssr_and_progressive(body: dict[str, Any]) -> bool:
    submitted, current = _profiles(body)
    if body["requestType"] == REGISTRATION:
        number = submitted.get("employeeNumber")  # optional at sign-up, checked when given
        return address_domain(submitted.get("email")) == "example.com" and (
            _blank(number) or four_ascii_digits(number)
        )
    return set(submitted) <= {"employeeNumber"} and _employee_number_ok(
        submitted, current, trim=False
    )


def may_allow_example_full(body: dict[str, Any]) -> bool:
    submitted, current = _profiles(body)
    if body["requestType"] == REGISTRATION:
        email = _trim(submitted.get("email"))
        email = email.lower() if isinstance(email, str) else email
        return address_domain(email) == "example.com" and four_ascii_digits(
            _trim(submitted.get("employeeNumber"))
        )
    return set(submitted) <= {"employeeNumber"} and _employee_number_ok(
        submitted, current, trim=True
    )


def may_allow_blocklist(body: dict[str, Any]) -> bool:
    submitted, _ = _profiles(body)
    if body["requestType"] != REGISTRATION:
        return not submitted
    email = submitted.get("email")
    domain = address_domain(email)
    if domain is None:
        return False
    return not any(blocked(name) for name in delivery_names(str(email).split("@")[1]))


def may_allow_backslash_d(body: dict[str, Any]) -> bool:
    submitted, current = _profiles(body)
    if body["requestType"] == REGISTRATION:
        return four_ascii_digits(submitted.get("employeeNumber"))
    return set(submitted) <= {"employeeNumber"} and _employee_number_ok(
        submitted, current, trim=False
    )


AGENCIES = ("agency-one.example", "agency-two.example")
ORG_BLOCKED = (ipaddress.ip_network("203.0.113.0/24"), ipaddress.ip_network("2001:db8:bad::/48"))


def _disposable(domain: str) -> bool:
    from disposable_email_domains import blocklist

    if domain == "mailinator.com":  # the policy's own allow list
        return False
    labels = domain.split(".")
    return any(".".join(labels[i:]) in blocklist for i in range(len(labels) - 1))


def _org_network_ok(body: dict[str, Any]) -> bool:
    """example_org's [network] blocked: an absent address passes, a malformed one does not."""
    context = body["data"].get("context") or {}
    address = (context.get("request") or {}).get("ipAddress") if isinstance(context, dict) else None
    if address is None or address == "":
        return True
    try:
        parsed = ipaddress.ip_address(address) if isinstance(address, str) else None
    except ValueError:
        return False
    if parsed is None or "%" in str(address):
        return False
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    return not any(parsed in network for network in ORG_BLOCKED)


def _whole_number(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if value == int(value) else None


def may_allow_example_org(body: dict[str, Any]) -> bool:
    submitted, _ = _profiles(body)
    if not _org_network_ok(body):
        return False
    number = _trim(submitted.get("employeeNumber"))
    six_digits = isinstance(number, str) and len(number) == 6 and all(c in DIGITS for c in number)
    if body["requestType"] != REGISTRATION:
        return set(submitted) <= {"employeeNumber"} and (_blank(number) or six_digits)
    email = _trim(submitted.get("email"))
    domain = address_domain(email.lower() if isinstance(email, str) else email)
    if domain is None or _disposable(domain):
        return False
    age = _whole_number(submitted.get("age"))
    country = _trim(submitted.get("countryCode"))
    if submitted.get("consent") is not True or age is None or age < 18:
        return False
    if country not in ("CA", "DE", "FR", "GB", "US"):
        return False
    return six_digits or (domain in AGENCIES and _blank(number))


SHIPPED: dict[str, tuple[Path, Oracle]] = {
    "ssr": (POLICIES / "ssr.toml", may_allow_ssr),
    "progressive": (POLICIES / "progressive.toml", may_allow_progressive),
    "ssr_and_progressive": (POLICIES / "ssr_and_progressive.toml", may_allow_ssr_and_progressive),
    "example_full": (POLICIES / "example_full.toml", may_allow_example_full),
    "example_org": (POLICIES / "example_org.toml", may_allow_example_org),
}
