"""The monitoring files against real lines of the served function: a broken policy is an error
Error Reporting groups and its alert counts; every field a metric reads is one the function
writes; ordinary lines are not counted as errors."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.error_report import REPORTED_ERROR_EVENT
from tests import monitoring_support as ms
from tests.conftest import BASIC_PASSWORD, BASIC_USER, basic
from tests.logging_query import compile_query, extract, extracted_field
from tests.policy_support import EXAMPLE, registration
from tests.server_support import serve

REVISION = {"K_SERVICE": ms.FUNCTION, "K_REVISION": f"{ms.FUNCTION}-00003-xyz"}
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


@dataclass
class Run:
    answers: list[tuple[int, dict[str, Any]]]
    lines: list[dict[str, Any]]

    def entries(self) -> list[dict[str, Any]]:
        return [ms.log_entry(line) for line in self.lines]

    def audit(self) -> list[dict[str, Any]]:
        return [ms.log_entry(line) for line in self.lines if line.get("event") == "request"]


def _headers(**more: str) -> dict[str, str]:
    return {"Content-Type": "application/json", "Authorization": basic(), **more}


def _post(served: Any, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    status, _, raw = served.post(json.dumps(body).encode(), headers)
    return status, json.loads(raw)


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """A deploy whose policy has a typo: every sign-up gets a 503."""
    base = tmp_path_factory.mktemp("broken")
    policy = base / "policy.toml"
    policy.write_text("[attributes.employeeNumber]\npatern = '[0-9]{4}'\n", "utf-8")
    env = {
        "OKTA_HOOK_BASIC_CREDENTIALS": f"{BASIC_USER}:{BASIC_PASSWORD}",
        "OKTA_HOOK_POLICY": str(policy),
        "GOOGLE_CLOUD_PROJECT": ms.PROJECT,
        **REVISION,
    }
    with serve(env, base) as served:
        traced = _headers(traceparent=f"00-{TRACE_ID}-00f067aa0ba902b7-01")
        answers = [_post(served, registration(), traced)]
        yield Run(answers, ms.served_lines(served.log()))


@pytest.fixture(scope="module")
def working(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """The full example policy (a rule in shadow mode), with debugContext on: an allow, a deny
    that a shadowed rule would also have denied, Okta's retry of it, a progressive update and a
    caller without credentials."""
    base = tmp_path_factory.mktemp("working")
    policy = base / "policy.toml"
    policy.write_text('version = "2024-06-01"\n' + EXAMPLE.read_text("utf-8"), "utf-8")
    env = {
        "OKTA_HOOK_BASIC_CREDENTIALS": f"{BASIC_USER}:{BASIC_PASSWORD}",
        "OKTA_HOOK_POLICY": str(policy),
        "OKTA_HOOK_DEBUG_CONTEXT": "true",
        "GOOGLE_CLOUD_PROJECT": ms.PROJECT,
        **REVISION,
    }
    allow = registration(employeeNumber="1234")
    allow["eventId"] = "event-allow"
    deny = registration(email="rosario@evil-example.com", firstName="R2D2", employeeNumber="1234")
    deny["eventId"] = "event-deny"
    progressive = registration()
    progressive.update(requestType="progressive.profile", eventId="event-progressive")
    progressive["data"]["userProfileUpdate"] = {"employeeNumber": "5678"}
    progressive["data"]["context"] = {"user": {"profile": {"employeeNumber": "1234"}}}
    with serve(env, base) as served:
        answers = [
            _post(served, allow, _headers()),
            _post(served, deny, _headers()),
            _post(served, deny, _headers()),  # Okta's retry
            _post(served, progressive, _headers()),
            _post(served, allow, {"Content-Type": "application/json"}),
        ]
        yield Run(answers, ms.served_lines(served.log()))


def test_a_broken_policy_is_grouped_by_error_reporting_and_counted_by_its_alert(
    broken: Run,
) -> None:
    assert [status for status, _ in broken.answers] == [503]
    [refusal] = [line for line in broken.lines if line.get("refusal")]
    # Error Reporting: a ReportedErrorEvent under the function and its revision, the message
    # naming the file and line, never a value.
    assert refusal["@type"] == REPORTED_ERROR_EVENT
    assert refusal["serviceContext"] == {"service": ms.FUNCTION, "version": REVISION["K_REVISION"]}
    assert refusal["message"].startswith("hook refuses every request: ")
    assert ":2: " in refusal["message"]
    assert refusal["context"]["reportLocation"]["filePath"] == "service/app.py"
    # The alert's first condition counts the config-refusals metric, whose filter matches it.
    alert = ms.rendered("policy")["unavailable"]
    first, second = (c["conditionThreshold"] for c in alert["conditions"])
    assert f'metric.type="{ms.metric_type("config-refusals")}"' in first["filter"]
    metrics = ms.metrics()
    assert compile_query(metrics["config-refusals"]["filter"]).matches(ms.log_entry(refusal))
    # Its 503 answers are reported too, and counted by the condition on 503s.
    [answer] = broken.audit()
    assert answer["jsonPayload"]["@type"] == REPORTED_ERROR_EVENT
    assert answer["trace"] == f"projects/{ms.PROJECT}/traces/{TRACE_ID}"
    assert answer["spanId"] == "00f067aa0ba902b7"
    assert answer["traceSampled"] is True
    errors = metrics["errors-5xx"]
    assert compile_query(errors["filter"]).matches(answer)
    assert f'metric.type="{ms.metric_type("errors-5xx")}"' in second["filter"]
    assert 'metric.label.status="503"' in second["filter"]
    assert extract(errors["labelExtractors"]["status"], answer) == "503"
    assert extract(errors["labelExtractors"]["error"], answer) == "unavailable"


def test_ordinary_lines_are_neither_refusals_nor_errors(working: Run) -> None:
    metrics = ms.metrics()
    refusals = compile_query(metrics["config-refusals"]["filter"])
    errors = compile_query(metrics["errors-5xx"]["filter"])
    assert working.entries()
    for entry in working.entries():
        assert not refusals.matches(entry), entry
        assert not errors.matches(entry), entry
        assert "@type" not in entry["jsonPayload"]
    # Another function's lines are not counted either.
    other = [ms.log_entry(line, service="another-function") for line in working.lines]
    assert not any(compile_query(metrics["decisions"]["filter"]).matches(e) for e in other)


def test_every_field_a_metric_reads_is_written_by_the_served_function(
    working: Run, broken: Run
) -> None:
    for name, metric in ms.metrics().items():
        # The lines it is about: the refusal for config-refusals, else the audit lines.
        if name == "config-refusals":
            lines = [ms.log_entry(line) for line in broken.lines if line.get("event") == "config"]
        else:
            lines = working.audit() + broken.audit()
        query = compile_query(metric["filter"])
        matched = [entry for entry in lines if query.matches(entry)]
        assert matched, f"{name}: no served line matches {metric['filter']}"
        read = {f for f in query.fields if f.startswith("jsonPayload.")}
        read |= {extracted_field(e) for e in metric.get("labelExtractors", {}).values()}
        if "valueExtractor" in metric:
            read.add(extracted_field(metric["valueExtractor"]))
        for path in read:
            key = path.removeprefix("jsonPayload.")
            assert any(key in entry["jsonPayload"] for entry in matched), f"{name}: {path}"
        for label, expression in metric.get("labelExtractors", {}).items():
            assert any(extract(expression, entry) for entry in matched), f"{name}: {label}"
    # Each metric counts what it says, on the served lines.
    audit = working.audit()

    def count(name: str) -> int:
        return sum(compile_query(ms.metrics()[name]["filter"]).matches(e) for e in audit)

    assert (count("requests"), count("decisions"), count("reasons")) == (5, 4, 2)
    assert (count("shadow-reasons"), count("retries"), count("latency")) == (2, 1, 5)
    latency = ms.metrics()["latency"]["valueExtractor"]
    assert all(float(extract(latency, e) or "nan") >= 0 for e in audit)
    shadowed = [e for e in audit if "shadow_codes" in e["jsonPayload"]]
    assert extract("EXTRACT(jsonPayload.shadow_codes)", shadowed[0]) == "firstName:INVALID_NAME"


def test_the_served_answers_carry_debug_context(working: Run, tmp_path: Path) -> None:
    statuses = [status for status, _ in working.answers]
    assert statuses == [200, 200, 200, 200, 401]
    allowed, denied, retried, progressive, _ = (body for _, body in working.answers)
    text = 'version = "2024-06-01"\n' + EXAMPLE.read_text("utf-8")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    assert denied["debugContext"]["reasons"] == "INVALID_EMAIL_DOMAIN"
    assert denied["debugContext"]["shadowReasons"] == "firstName:INVALID_NAME"
    for body in (allowed, denied, retried, progressive):
        assert body["debugContext"]["policyDigest"] == digest
        assert body["debugContext"]["policyVersion"] == "2024-06-01"
    assert "debugContext" not in working.answers[-1][1]
