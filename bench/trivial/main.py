"""The framework's own ceiling: a functions-framework function that answers constant JSON."""

from __future__ import annotations

import flask
import functions_framework

BODY = b'{"commands":[{"type":"com.okta.action.update","value":{"registration":"ALLOW"}}]}'


@functions_framework.http
def constant(request: flask.Request) -> flask.Response:
    return flask.Response(BODY, status=200, content_type="application/json")
