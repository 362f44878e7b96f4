"""The deployed path checked end to end: Okta's `POST /api/v1/inlineHooks/{id}/execute` sends a
request the policy allows and one it denies through the hook as Okta calls it (its URL, its
authentication), and each answer must be the policy's decision."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from policy.loader import Policy
from tools.deploy.okta_api import OktaApi
from tools.deploy.output import Refused, say
from tools.okta_cases import Case, allowed_and_denied, decision_of, fresh_event_id
from tools.policy_cases import cases_path, load_cases

HOOKS = "/api/v1/inlineHooks"


def policy_cases(policy: Policy) -> list[tuple[str, dict[str, Any]]]:
    """The requests of the policy's own case file, when it has one, as Okta would send them."""
    path = cases_path(Path(policy.source))
    if not path.exists():
        return []
    return [
        (
            f"case '{case.name}' of {path.name}",
            {**json.loads(case.body), "eventId": fresh_event_id()},
        )
        for case in load_cases(path)
    ]


def verify(okta: OktaApi, hook_id: str, policy: Policy) -> None:
    allowed, denied = allowed_and_denied(policy, policy_cases(policy))
    cases = [case for case in (allowed, denied) if case is not None]
    for expected, case in (("allowed", allowed), ("denied", denied)):
        if case is None:
            say(f"note: no request that the policy {expected} could be made from Okta's samples")
    wrong = []
    for case in cases:
        answer = okta.probe(f"{HOOKS}/{hook_id}/execute", json.dumps(case.body).encode())
        if answer is None:  # a dry run or a plan
            say(f"body: {case.what}, which the policy {_verdict(case)}:")
            say(json.dumps(case.body))
            continue
        if answer.status != "200":
            # Okta answers 400 when the hook cannot be reached, refuses its credentials, or
            # answers out of Okta's format.
            raise answer.failure(f"the execute of {case.what}")
        got, reasons = decision_of(answer.document)
        expected = "ALLOW" if case.allowed else "DENY"
        shown = f" ({'; '.join(reasons)})" if reasons else ""
        verdict = "as the policy decides" if got == expected else f"but the policy says {expected}"
        say(f"execute: {case.what}: {got}{shown}, {verdict}")
        if got != expected:
            wrong.append(case.what)
    if wrong:
        raise Refused(
            "the deployed hook answered otherwise than the policy decides for: "
            + "; ".join(wrong)
            + " (is the function deployed with this policy?)"
        )


def _verdict(case: Case) -> str:
    return "allows" if case.allowed else "denies (" + "; ".join(case.reasons) + ")"
