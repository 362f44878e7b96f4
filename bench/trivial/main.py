"""The framework's own ceiling: functions-framework functions that answer constant JSON.

`constant` does nothing else. The other two do what any real hook must and `constant` does not,
so that the distance between `constant` and the hook can be told apart: `reads_body` reads and
parses the JSON body, `reads_and_logs` also writes one JSON log line of an audit line's size.
"""

from __future__ import annotations

import json
import logging
import sys

import flask
import functions_framework

BODY = b'{"commands":[{"type":"com.okta.action.update","value":{"registration":"ALLOW"}}]}'
LINE = {"severity": "INFO", "message": "request", "fields": "x" * 400}

log = logging.getLogger("bench.trivial")
log.addHandler(logging.StreamHandler(sys.stdout))
log.setLevel(logging.INFO)
log.propagate = False


def _answer() -> flask.Response:
    return flask.Response(BODY, status=200, content_type="application/json")


@functions_framework.http
def constant(request: flask.Request) -> flask.Response:
    return _answer()


@functions_framework.http
def reads_body(request: flask.Request) -> flask.Response:
    json.loads(request.stream.read(64 * 1024 + 1))
    return _answer()


@functions_framework.http
def reads_and_logs(request: flask.Request) -> flask.Response:
    json.loads(request.stream.read(64 * 1024 + 1))
    log.info(json.dumps(LINE))
    return _answer()
