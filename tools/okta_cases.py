"""A request a policy allows and one it denies, made from Okta's documented samples and decided by
the function's own code: what deploy sends through Okta to check the deployed hook end to end.

A policy whose case file lists its own cases (an allowed and a denied one) should be checked with
those: `candidates` is where they come in, first.
"""

from __future__ import annotations

import copy
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import Unavailable
from okta_wire.request import parse_hook_request
from policy.loader import Policy
from service.app import HANDLERS
from service.settings import PROJECT_ROOT

SAMPLES = PROJECT_ROOT / "tests" / "samples"
SAMPLE_FILES = {
    "registration": SAMPLES / "okta_ssr_request.json",
    "progressive": SAMPLES / "okta_progressive_request.json",
}
OTHER_DOMAIN = "rosario.jones@not-allowed.invalid"
# Edits of the samples, each with what it shows: the first the policy allows, and the first it
# denies, are the two cases.
EDITS: tuple[tuple[str, str, Mapping[str, Any]], ...] = (
    ("registration", "Okta's sign-up sample", {}),
    ("registration", "Okta's sign-up sample with employee number 1234",
     {"employeeNumber": "1234"}),
    ("progressive", "Okta's progressive profile sample", {}),
    (
        "registration",
        "Okta's sign-up sample from another email domain",
        {"email": OTHER_DOMAIN, "login": OTHER_DOMAIN},
    ),
    ("registration", "Okta's sign-up sample with employee number 12a4", {"employeeNumber": "12a4"}),
    ("progressive", "Okta's progressive profile sample with employee number 12a4",
     {"employeeNumber": "12a4"}),
    ("progressive", "Okta's progressive profile sample changing nickName",
     {"nickName": "Ro", "employeeNumber": "1234"}),
    ("registration", "Okta's sign-up sample without an email", {"email": None, "login": None}),
)  # fmt: skip


@dataclass(frozen=True)
class Case:
    what: str
    body: dict[str, Any]
    allowed: bool  # as the function decides it under the policy
    reasons: tuple[str, ...]  # each denial's reason, as `attribute: REASON`


def sample(kind: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SAMPLE_FILES[kind].read_text(encoding="utf-8"))
    return document


def edited(kind: str, edits: Mapping[str, Any]) -> dict[str, Any]:
    """Okta's sample of this kind with `edits` in the object Okta fills for it (a None value
    removes the attribute), and a fresh eventId: a repeated one reads as Okta's retry."""
    document = copy.deepcopy(sample(kind))
    submitted = document["data"]["userProfile" if kind == "registration" else "userProfileUpdate"]
    for name, value in edits.items():
        if value is None:
            submitted.pop(name, None)
        else:
            submitted[name] = value
    document["eventId"] = fresh_event_id()
    return document


def fresh_event_id() -> str:
    return secrets.token_urlsafe(16)


def decide(policy: Policy, body: Mapping[str, Any]) -> Case:
    """The policy's decision of `body`; Unavailable when it depends on a list or a directory
    answer, which only the deployed function reads."""
    request = parse_hook_request(json.dumps(body).encode())
    decision = HANDLERS[request.request_type](policy, request, None, None)
    reasons = tuple(f"{c.attribute}: {c.reason}" for c in decision.causes)
    return Case("", dict(body), decision.allowed, reasons)


def candidates() -> Iterable[tuple[str, dict[str, Any]]]:
    for kind, what, edits in EDITS:
        yield what, edited(kind, edits)


def allowed_and_denied(
    policy: Policy, given: Iterable[tuple[str, dict[str, Any]]] = ()
) -> tuple[Case | None, Case | None]:
    """The first case the policy allows and the first it denies, `given` ones first."""
    allowed = denied = None
    for what, body in [*given, *candidates()]:
        try:
            case = decide(policy, body)
        except Unavailable:
            continue  # decided by a list or the directory: not known before the function runs
        case = Case(what, case.body, case.allowed, case.reasons)
        if case.allowed and allowed is None:
            allowed = case
        elif not case.allowed and denied is None:
            denied = case
        if allowed and denied:
            break
    return allowed, denied


def decision_of(answer: Any) -> tuple[str, tuple[str, ...]]:
    """ALLOW or DENY, and the reasons, as Okta reads a registration hook's answer: an `error`
    object denies; else the last `com.okta.action.update` decides; ALLOW by default."""
    if not isinstance(answer, dict):
        return "NO ANSWER", ()
    error = answer.get("error")
    causes = error.get("errorCauses", []) if isinstance(error, dict) else []
    reasons = tuple(
        f"{str(c.get('location', '')).removeprefix('data.userProfile.')}: {c.get('reason')}"
        for c in causes
        if isinstance(c, dict)
    )
    if error is not None:
        return "DENY", reasons
    verdict = "ALLOW"
    for command in answer.get("commands") or []:
        if isinstance(command, dict) and command.get("type") == "com.okta.action.update":
            value = command.get("value")
            if isinstance(value, dict) and value.get("registration") in ("ALLOW", "DENY"):
                verdict = value["registration"]
    return verdict, reasons
