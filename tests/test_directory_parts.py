"""The directory lookup's parts on their own: templates and JSON paths, the settings' checks, how
an answer is judged, the cache, the breaker and the ID token, on the manual clock."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest

from core.errors import Unavailable
from directory.answers import Answer, BadAnswer, Outcome, judge
from directory.auth import google_id_token
from directory.breaker import Breaker
from directory.cache import AnswerCache
from directory.settings import DirectorySettings, Match
from directory.templates import BodyTemplate, JsonPath, MissingValue, UrlTemplate
from tests import leak_check
from tests.clock_support import ManualClock

URL = UrlTemplate("https://hr.example/api/people/{number}?email={email}")


@pytest.mark.parametrize(
    ("values", "target"),
    [
        ({"number": "E1", "email": "a@b.example"}, "/api/people/E1?email=a%40b.example"),
        ({"number": "a/b", "email": "x&admin=1"}, "/api/people/a%2Fb?email=x%26admin%3D1"),
        ({"number": "..", "email": "."}, "/api/people/%2E%2E?email=%2E"),
        ({"number": "?#", "email": " +"}, "/api/people/%3F%23?email=%20%2B"),
        ({"number": "é", "email": "\u0000"}, "/api/people/%C3%A9?email=%00"),
    ],
)
def test_values_are_percent_encoded_whole(values: dict[str, str], target: str) -> None:
    assert URL.target(values) == target


def test_the_url_template_parts() -> None:
    url = UrlTemplate("https://hr.example:8443/v1/{a}/x?q={b}&lit={{c}}")
    assert (url.host, url.port, url.fields) == ("hr.example", 8443, ("a", "b"))
    assert url.origin == "https://hr.example:8443/v1/{a}/x"
    assert url.target({"a": "1", "b": "2"}) == "/v1/1/x?q=2&lit={c}"
    with pytest.raises(MissingValue, match="no value for b"):
        url.target({"a": "1"})


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("http://hr.example/{a}", "must be https://host/"),
        ("https://{host}.example/", "host is fixed"),
        ("https://hr.example:{port}/", "not a URL"),
        ("https://user:pw@hr.example/", "user or password"),
        ("https://user@hr.example/", "user or password"),
        ("https:///path", "must be https://host/"),
        ("https://hr.example/{a", "brace that is not a {name} placeholder"),
        ("https://hr.example/a}", "brace that is not a {name} placeholder"),
        ("https://hr.example/{1a}", "brace that is not a {name} placeholder"),
        ("https://hr.example/#{a}", "has a fragment"),
        ("https://hr.example:99999/", "not a URL"),
        ("ftp://hr.example/", "must be https://host/"),
    ],
)
def test_url_templates_refused(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        UrlTemplate(text)


def test_a_body_template_is_filled_as_json_strings() -> None:
    body = BodyTemplate({"query": {"number": "{n}", "tags": ["x-{n}", 1, None, True]}, "k": 2.5})
    assert body.fields == ("n", "n")
    filled = body.fill({"n": '"}, "admin": true, {"'})
    assert filled["query"]["number"] == '"}, "admin": true, {"'
    assert json.loads(json.dumps(filled)) == filled
    assert filled["query"]["tags"][1:] == [1, None, True]
    with pytest.raises(ValueError, match="not JSON"):
        BodyTemplate({"a": {1, 2}})


@pytest.mark.parametrize(
    ("path", "document", "found"),
    [
        ("", {"a": 1}, {"a": 1}),
        ("$", [1], [1]),
        ("a.b", {"a": {"b": "x"}}, "x"),
        ("$.a.b", {"a": {"b": "x"}}, "x"),
        ("results[0].email", {"results": [{"email": "e"}]}, "e"),
        ("results[1]", {"results": [{}]}, None),
        ("a[0][1]", {"a": [[1, 2]]}, 2),
        ("a.b", {"a": ["b"]}, None),
        ("a", [1], None),
        ("snake_case.kebab-case", {"snake_case": {"kebab-case": 3}}, 3),
    ],
)
def test_json_paths(path: str, document: Any, found: Any) -> None:
    assert JsonPath(path).find(document) == found


@pytest.mark.parametrize("path", ["a..b", "a.", "[x]", "a[-1]", "a b", ".a.b.", "a.[0]x"])
def test_json_paths_refused(path: str) -> None:
    with pytest.raises(ValueError, match="not a JSON path"):
        JsonPath(path)


def settings(**changes: Any) -> DirectorySettings:
    values: dict[str, Any] = {
        "name": "hr",
        "url": URL,
        "match": (Match(JsonPath("email"), "email", ignore_case=True),),
        "copy": {"department": JsonPath("dept"), "costCenter": JsonPath("cc")},
    }
    values.update(changes)
    return DirectorySettings(**values)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"timeout_seconds": 3.0}, "timeout_seconds"),
        ({"found": frozenset({200}), "not_found": frozenset({200})}, "distinct"),
        ({"found": frozenset()}, "distinct"),
        ({"not_found": frozenset({302})}, "2xx or 4xx"),
        ({"found": frozenset({500})}, "2xx or 4xx"),
        ({"copy": {"not an attribute": JsonPath("a")}}, "profile attribute"),
        ({"negative_ttl_seconds": -1}, "TTL"),
        ({"failures_to_open": 0}, "failures_to_open"),
    ],
)
def test_settings_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        settings(**changes)


def test_the_key_is_every_value_the_lookup_uses() -> None:
    made = settings(body=BodyTemplate({"site": "{site}"}))
    assert made.fields == ("email", "number", "site")
    assert made.key({"number": 7, "email": "a@b.example", "site": "x", "other": "y"}) == (
        "a@b.example",
        "7",
        "x",
    )
    with pytest.raises(MissingValue, match="no value for site"):
        made.key({"number": "7", "email": "a@b.example"})


SUBMITTED = {"email": "Jane@Example.com", "number": "E1"}


@pytest.mark.parametrize(
    ("status", "body", "answer"),
    [
        (200, {"email": "jane@example.com", "dept": "Sales", "cc": 42},
         Answer(Outcome.FOUND, {"department": "Sales", "costCenter": "42"})),
        (200, {"email": "jane@example.com", "dept": "Sales"},
         Answer(Outcome.FOUND, {"department": "Sales"}, missing=("costCenter",))),
        (200, {"email": "jane@example.com", "dept": "a\nb", "cc": True},
         Answer(Outcome.FOUND, {}, missing=("department", "costCenter"))),
        (200, {"email": "other@example.com", "dept": "Sales"},
         Answer(Outcome.MISMATCH, mismatched=("email",))),
        (200, {"dept": "Sales"}, Answer(Outcome.MISMATCH, mismatched=("email",))),
        (200, {"email": ["jane@example.com"]}, Answer(Outcome.MISMATCH, mismatched=("email",))),
        (200, {}, Answer(Outcome.NOT_FOUND)),
        (200, [], Answer(Outcome.NOT_FOUND)),
        (200, None, Answer(Outcome.NOT_FOUND)),
        (404, "not even json", Answer(Outcome.NOT_FOUND)),
    ],
)  # fmt: skip
def test_answers_judged(status: int, body: Any, answer: Answer) -> None:
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    assert judge(settings(), status, data, SUBMITTED) == answer


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (500, b"{}", "HTTP 500"),
        (401, b"{}", "HTTP 401"),
        (200, b"<html>", "HTTP 200 with a body that is not valid JSON (line 1, column 1)"),
        (200, b'{"a": 1, "a": 2}', "HTTP 200 with a body that repeats a key"),
        (200, b"\xff", "HTTP 200 with a body that is not UTF-8 text"),
    ],
)
def test_answers_that_are_failures(status: int, body: bytes, reason: str) -> None:
    with pytest.raises(BadAnswer) as raised:
        judge(settings(), status, body, SUBMITTED)
    assert str(raised.value) == reason


def test_an_answers_repr_shows_no_value() -> None:
    secret = leak_check.remember("Dept-Qx9-Secret")
    answer = Answer(Outcome.FOUND, {"department": secret})
    assert secret not in repr(answer)


def test_the_cache_expires_and_drops_the_least_recently_used() -> None:
    clock = ManualClock()
    cache: AnswerCache[str, int] = AnswerCache(2, clock)
    cache.put("a", 1, 10)
    cache.put("b", 2, 20)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3, 20)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    clock.advance(10)
    assert cache.get("a") is None
    assert cache.get("c") == 3
    cache.put("d", 4, 0)  # a TTL of 0: not cached
    assert cache.get("d") is None
    none: AnswerCache[str, int] = AnswerCache(0, clock)
    none.put("a", 1, 10)
    assert none.get("a") is None


def test_the_breaker_on_the_manual_clock() -> None:
    clock = ManualClock()
    breaker = Breaker("hr", 2, 30.0, clock)
    breaker.failed()
    assert breaker.admit()
    assert not breaker.is_open()
    breaker.failed()
    assert breaker.is_open()
    assert not breaker.admit()  # one probe at a time
    clock.advance(29.9)
    assert not breaker.admit()
    clock.advance(0.1)
    assert breaker.admit()  # the probe
    assert not breaker.admit()
    assert breaker.is_open()
    breaker.failed()
    assert not breaker.admit()
    clock.advance(30)
    assert breaker.admit()
    breaker.succeeded()
    assert breaker.admit()
    assert not breaker.is_open()
    breaker.failed()  # one failure after closing: the count started again
    assert breaker.admit()


def token(exp: float) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part({'aud': 'x', 'exp': exp})}.c2lnbmF0dXJl"


def test_a_google_id_token_is_minted_once_and_again_before_it_expires() -> None:
    clock, wall = ManualClock(), ManualClock()
    wall.now = 1_800_000_000.0
    minted: list[tuple[str, float]] = []

    def mint(audience: str, seconds: float) -> str:
        minted.append((audience, seconds))
        return token(wall.now + 3600)

    auth = google_id_token("https://hr-abc.a.run.app", mint=mint, clock=clock, wall_clock=wall)
    first = auth.headers()["Authorization"]
    assert first.startswith("Bearer eyJ")
    assert auth.headers()["Authorization"] == first
    assert [audience for audience, _ in minted] == ["https://hr-abc.a.run.app"]
    clock.advance(3600 - 300 - 1)
    wall.advance(3600 - 300 - 1)
    assert auth.headers()["Authorization"] == first
    clock.advance(1)
    wall.advance(1)
    assert auth.headers()["Authorization"] != first
    assert len(minted) == 2
    assert "Bearer" not in repr(auth)
    assert "eyJ" not in repr(auth)


def test_an_id_token_that_cannot_be_minted_is_unavailable() -> None:
    def mint(audience: str, seconds: float) -> str:
        raise RuntimeError("metadata server unreachable")

    auth = google_id_token("https://hr-abc.a.run.app", mint=mint, clock=ManualClock())
    with pytest.raises(Unavailable) as raised:
        auth.headers()
    assert "RuntimeError" in raised.value.reason

    def not_a_jwt(audience: str, seconds: float) -> str:
        return "opaque"

    with pytest.raises(Unavailable, match="not a JWT with an exp claim"):
        google_id_token("https://a.example", mint=not_a_jwt, clock=ManualClock()).headers()
