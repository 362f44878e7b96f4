"""The ASGI path's own ceiling: `@functions_framework.aio.http` functions that answer constant JSON.

The same three as `main.py` on the WSGI path, served by uvicorn workers under gunicorn as the
hook is: `constant` does nothing else, `reads_body` also reads and parses the JSON body,
`reads_and_logs` also writes one JSON log line of an audit line's size (on the loop, to stdout).
"""

from __future__ import annotations

import json
import logging
import sys

import functions_framework.aio
from starlette.requests import Request
from starlette.responses import Response

BODY = b'{"commands":[{"type":"com.okta.action.update","value":{"registration":"ALLOW"}}]}'
LINE = {"severity": "INFO", "message": "request", "fields": "x" * 400}

log = logging.getLogger("bench.trivial")
log.addHandler(logging.StreamHandler(sys.stdout))
log.setLevel(logging.INFO)
log.propagate = False


def _answer() -> Response:
    return Response(BODY, status_code=200, media_type="application/json")


@functions_framework.aio.http
async def constant(request: Request) -> Response:
    return _answer()


@functions_framework.aio.http
async def reads_body(request: Request) -> Response:
    json.loads(await request.body())
    return _answer()


@functions_framework.aio.http
async def reads_and_logs(request: Request) -> Response:
    json.loads(await request.body())
    log.info(json.dumps(LINE))
    return _answer()
