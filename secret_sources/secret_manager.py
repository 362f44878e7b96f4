"""A secret read from Google Secret Manager, bounded in time, its checksum verified."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from core.bounded_call import BoundedCall, CallTimedOut, StillStalled
from core.json_fetch import is_allowed_url
from core.per_process import PerProcess
from core.refreshing import Fetched, FetchFailed
from secret_sources.values import MAX_SECRET_BYTES, digest, secret_text

VERSION_NAME = re.compile(
    r"projects/(?:[a-z][a-z0-9-]{4,28}[a-z0-9]|[0-9]{1,20})"
    r"/secrets/[A-Za-z0-9_-]{1,255}"
    r"/versions/(?:latest|[1-9][0-9]{0,18})"
)
VERSION_FORM = "projects/PROJECT/secrets/SECRET/versions/VERSION (VERSION: latest or a number)"

# One attempt may take ATTEMPT_SECONDS; retries (transient errors only) start within
# RETRY_SECONDS; the client's own default retries for up to 60 s. Socket timeouts do not bound a
# server that drips bytes, so the read runs in a thread and is given up on after READ_SECONDS, or
# sooner when the request's deadline is nearer.
ATTEMPT_SECONDS = 1.0
RETRY_SECONDS = 0.6
READ_SECONDS = ATTEMPT_SECONDS + RETRY_SECONDS
# The JSON of the largest version (64 KiB, base64) and its name fit well within this.
MAX_RESPONSE_BYTES = 4 * MAX_SECRET_BYTES


class ResponseRefused(Exception):
    """The API answered with a redirect or a body too large to be a secret version."""


def parse_version_name(text: str) -> str:
    """A secret version's resource name, checked; raises ValueError (without echoing `text`,
    which may be a value put in the wrong variable)."""
    name = text.strip()
    if not VERSION_NAME.fullmatch(name):
        raise ValueError(f"not a secret version name; expected {VERSION_FORM}")
    return name


def parse_endpoint(text: str) -> str:
    """host[:port] or https://host[:port]; http://host:port to loopback only (an emulator or a
    test server, read without TLS or credentials). Anything else is refused here, once, rather
    than at every read."""
    endpoint = text.strip().rstrip("/")
    if "://" in endpoint and not endpoint.startswith(("http://", "https://")):
        raise ValueError("the endpoint's scheme must be http or https")
    url = endpoint if "://" in endpoint else f"https://{endpoint}"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (a port out of range raises here)
    except ValueError:
        parts = None
    if (
        parts is None
        or not endpoint.isascii()
        or not endpoint.isprintable()
        or " " in endpoint
        or parts.path
        or parts.query
        or parts.fragment
    ):
        raise ValueError("not an endpoint; expected host[:port], https://host[:port] or http://…")
    if not is_allowed_url(url):
        raise ValueError(
            "the endpoint must be https, with no user or password (http:// only to loopback)"
        )
    return endpoint


class SecretManagerVersion:
    """`NAME_SECRET=projects/P/secrets/S/versions/V`: one version (`latest` follows rotation),
    read through a client shared by every setting of the same endpoint."""

    def __init__(self, setting: str, name: str, endpoint: str | None) -> None:
        self.name = setting
        self.where = parse_version_name(name)
        self.fields: Mapping[str, object] = {"setting": setting, "source": self.where}
        self._endpoint = endpoint
        self._calls: BoundedCall[Fetched[str]] = BoundedCall(f"read {setting}")

    def __repr__(self) -> str:
        return f"SecretManagerVersion({self.name!r}, {self.where!r})"

    def fetch(self, budget: float, known: object) -> Fetched[str]:
        budget = min(budget, READ_SECONDS)
        try:
            return self._calls.run(lambda: self._read(budget), budget)
        except StillStalled:
            raise self._error("an earlier read is still waiting for an answer") from None
        except CallTimedOut:
            raise self._error(f"no answer within {budget:.3g} s") from None

    def _read(self, budget: float) -> Fetched[str]:
        try:
            access = _clients.get(self._endpoint)
            response = access.client.access_secret_version(
                name=self.where,
                retry=access.retry.with_timeout(min(RETRY_SECONDS, budget)),
                timeout=min(ATTEMPT_SECONDS, budget),
            )
            payload = response.payload
            data = bytes(payload.data)
            has_checksum = "data_crc32c" in payload
            checksum = int(payload.data_crc32c)
            origin = str(response.name) or self.where
        except Exception as e:
            # The boundary of the library: whatever it raises is a failed read, named ours.
            raise self._error(_describe(e)) from e
        if not has_checksum:
            raise self._error("the response carries no CRC32C checksum")
        if access.crc32c(data) != checksum:
            raise self._error("the payload's CRC32C checksum does not match")
        try:
            text = secret_text(data)
        except ValueError as e:
            raise self._error(str(e)) from None
        return Fetched(text, origin, tag=digest(text))

    def _error(self, cause: str) -> FetchFailed:
        return FetchFailed(f"{self.name}: cannot read {self.where}: {cause}")


class _Access:
    """The client for one endpoint, with the call's retry policy and the checksum function."""

    def __init__(self, endpoint: str | None) -> None:
        # Imported here, only when a secret is read from Secret Manager: ~0.2 s of cold start.
        import google_crc32c
        from google.api_core import retry as retries
        from google.cloud import secretmanager_v1

        options: dict[str, Any] = {}
        if endpoint is not None:
            options["client_options"] = {"api_endpoint": endpoint}
        if endpoint is not None and endpoint.startswith("http://"):
            # A local emulator or test server: REST without TLS, so anonymous credentials.
            from google.auth.credentials import AnonymousCredentials

            options["credentials"] = AnonymousCredentials()  # type: ignore[no-untyped-call]
        # REST everywhere: the transport the tests exercise is the one deployed.
        self.client = secretmanager_v1.SecretManagerServiceClient(transport="rest", **options)
        self.retry = retries.Retry(
            predicate=retries.if_transient_error,
            initial=0.1,
            multiplier=2.0,
            maximum=0.4,
            timeout=RETRY_SECONDS,
        )
        self.crc32c = google_crc32c.value
        # The API never redirects, and a secret is small: anything else is refused before
        # `requests` follows it or reads it whole.
        # The REST transport's `requests` session (a private attribute; the tests pin it down).
        transport: Any = self.client._transport
        transport._session.hooks["response"].append(_checked_response)


def _checked_response(response: Any, *args: Any, **kwargs: Any) -> Any:
    if response.is_redirect:
        response.close()
        raise ResponseRefused(f"HTTP {response.status_code} redirect, not followed")
    data = response.raw.read(MAX_RESPONSE_BYTES + 1, decode_content=True)
    if len(data) > MAX_RESPONSE_BYTES:
        response.close()
        raise ResponseRefused(f"a response body over {MAX_RESPONSE_BYTES} bytes")
    response._content = data
    response._content_consumed = True
    return response


# One client per endpoint and process.
_clients: PerProcess[str | None, _Access] = PerProcess(_Access)


def _describe(error: Exception) -> str:
    """What went wrong, from the library's error; only messages known not to carry data."""
    if isinstance(error, ImportError):
        return f"the Secret Manager client cannot be imported ({error.name})"
    if isinstance(error, ResponseRefused):
        return str(error)
    from google.api_core import exceptions as api_errors
    from google.auth import exceptions as auth_errors
    from requests import RequestException

    if isinstance(error, api_errors.RetryError):
        cause = error.cause
        last = f"; last error: {_describe(cause)}" if isinstance(cause, Exception) else ""
        return f"gave up retrying{last}"
    if isinstance(error, api_errors.GoogleAPICallError):
        message = str(error.message)
        if error.response is not None:
            # Over REST the message starts with "GET <url>: "; the server's words follow.
            message = message.split(": ", 1)[-1]
        return f"{error.code} {message}"[:300]
    if isinstance(error, RequestException | auth_errors.GoogleAuthError):
        return f"{type(error).__name__}: {error}"[:300]
    return type(error).__name__
