"""The query evaluator the monitoring tests use, on its own: what it matches and what it refuses."""

from __future__ import annotations

from typing import Any

import pytest

from tests.logging_query import QueryError, compile_query, extract

ENTRY: dict[str, Any] = {
    "resource": {"type": "cloud_run_revision", "labels": {"service_name": "hook"}},
    "severity": "ERROR",
    "jsonPayload": {
        "message": "okta registration hook - 503",
        "event": "request",
        "status": 503,
        "latency_ms": 1.5,
        "retry": True,
        "reason_codes": "INVALID_EMAIL,INVALID_NAME",
        "nested": {"a": 1},
    },
}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('resource.type="cloud_run_revision"', True),
        ('resource.type="cloud_run"', False),
        ('resource.labels.service_name="hook" AND jsonPayload.event="request"', True),
        ('resource.labels.service_name="hook" jsonPayload.event="config"', False),
        ('jsonPayload.event="config" OR jsonPayload.status=503', True),
        ('NOT jsonPayload.event="request"', False),
        ('NOT (jsonPayload.event="config" OR jsonPayload.status=200)', True),
        ("jsonPayload.status>=500", True),
        ("jsonPayload.status>503", False),
        ("jsonPayload.status<=503", True),
        ("jsonPayload.status<500", False),
        ("jsonPayload.status!=200", True),
        ("jsonPayload.latency_ms>1", True),
        ('jsonPayload.status="503"', True),  # a quoted number compares as text
        ("jsonPayload.retry=true", True),
        ("jsonPayload.retry=false", False),
        ("jsonPayload.reason_codes:*", True),
        ("jsonPayload.shadow_codes:*", False),
        ("jsonPayload.nested:*", True),
        ('jsonPayload.reason_codes:"invalid_name"', True),
        ('jsonPayload.message=~"^okta registration hook "', True),
        ('jsonPayload.message!~"hook"', False),
        ("severity>=ERROR", True),
        ("severity>ERROR", False),
        ("severity>=WARNING", True),
        ("severity=ERROR", True),
        ('jsonPayload.missing!="x"', True),
        ('jsonPayload.missing="x"', False),
        ("jsonPayload.missing>=1", False),
    ],
)
def test_matches(query: str, expected: bool) -> None:
    assert compile_query(query).matches(ENTRY) is expected


def test_the_fields_a_query_names() -> None:
    query = compile_query('a.b="x" AND (c:* OR NOT d.e>=3)')
    assert query.fields == {"a.b", "c", "d.e"}


@pytest.mark.parametrize(
    "query", ['a.b="x" AND', "(a=1", "a", "a = = 1", "= 1", 'a="x")', "a=1 OR", "a ~ 1"]
)
def test_what_it_cannot_read_is_refused(query: str) -> None:
    with pytest.raises(QueryError):
        compile_query(query)


def test_extract() -> None:
    assert extract("EXTRACT(jsonPayload.status)", ENTRY) == "503"
    assert extract("EXTRACT(jsonPayload.retry)", ENTRY) == "true"
    assert extract("EXTRACT(jsonPayload.latency_ms)", ENTRY) == "1.5"
    assert extract("EXTRACT(jsonPayload.missing)", ENTRY) is None
    assert extract("EXTRACT(jsonPayload.nested)", ENTRY) is None
    with pytest.raises(QueryError):
        extract('REGEXP_EXTRACT(jsonPayload.message, "(\\d+)")', ENTRY)
