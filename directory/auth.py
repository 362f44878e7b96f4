"""How a lookup proves who calls: a bearer token or an API key kept in a secret, or a Google ID
token for a Cloud Run service behind IAM; each value read through the refreshing mechanism, so
a rotated secret or an expiring token is replaced without a redeploy."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from core import strict_json
from core.bounded_call import BoundedCall, CallTimedOut, StillStalled
from core.refreshing import Clock, Fetched, FetchFailed, Refreshing, Schedule
from secret_sources.values import Secret

# An ID token lives an hour; it is replaced this long before it expires.
ID_TOKEN_MARGIN_SECONDS = 300.0
ID_TOKEN_FETCH_SECONDS = 2.0
MIN_ID_TOKEN_REFRESH_SECONDS = 60.0


class Auth(Protocol):
    """The headers that prove who calls; may raise Unavailable (no secret yet) or WouldBlock."""

    describe: str  # for a log line: the scheme and where it comes from, never the value

    def headers(self) -> Mapping[str, str]: ...


class NoAuth:
    describe = "none"

    def headers(self) -> Mapping[str, str]:
        return {}


class SecretHeader:
    """`header: [scheme ]value`, the value a refreshed secret."""

    def __init__(
        self, header: str, secret: Refreshing[str, Secret], scheme: str | None, describe: str
    ) -> None:
        self._header = header
        self._secret = secret
        self._prefix = f"{scheme} " if scheme else ""
        self.describe = describe

    def __repr__(self) -> str:
        return f"SecretHeader({self.describe!r})"

    def headers(self) -> Mapping[str, str]:
        return {self._header: self._prefix + self._secret.current().reveal()}


def bearer_token(secret: Refreshing[str, Secret]) -> SecretHeader:
    return SecretHeader("Authorization", secret, "Bearer", f"bearer token {secret.source.name}")


def api_key(header: str, secret: Refreshing[str, Secret]) -> SecretHeader:
    return SecretHeader(header, secret, None, f"API key header {header} {secret.source.name}")


Mint = Callable[[str, float], str]  # (audience, seconds) -> a signed ID token


def _mint_on_google(audience: str, seconds: float) -> str:
    """An ID token for `audience` from the metadata server (or the local credentials)."""
    import google.auth.transport.requests
    import google.oauth2.id_token

    request = google.auth.transport.requests.Request()
    token = google.oauth2.id_token.fetch_id_token(request, audience)  # type: ignore[no-untyped-call]
    return str(token)


def _expires_in(token: str, now: float) -> float:
    try:
        payload = token.split(".")[1]
        claims = strict_json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"]) - now
    except (IndexError, ValueError, KeyError, TypeError):
        raise ValueError("not a JWT with an exp claim") from None


class IdTokenSource:
    """A Google ID token for `audience`, as a refreshed value; re-read before it expires."""

    def __init__(self, audience: str, mint: Mint, wall_clock: Clock) -> None:
        self.name = f"ID token for {audience}"
        self.fields: Mapping[str, object] = {"audience": audience}
        self._audience = audience
        self._mint = mint
        self._wall_clock = wall_clock
        self._calls: BoundedCall[str] = BoundedCall("ID token")

    def fetch(self, budget: float, known: object) -> Fetched[str]:
        try:
            token = self._calls.run(lambda: self._mint(self._audience, budget), budget)
            left = _expires_in(token, self._wall_clock())
        except (StillStalled, CallTimedOut):
            raise FetchFailed(f"{self.name}: no token within {budget:.3g} s") from None
        except ValueError as e:
            raise FetchFailed(f"{self.name}: {e}") from None
        except Exception as e:  # the boundary of google-auth
            raise FetchFailed(f"{self.name}: {type(e).__name__}") from None
        refresh = max(left - ID_TOKEN_MARGIN_SECONDS, MIN_ID_TOKEN_REFRESH_SECONDS)
        return Fetched(token, "the metadata server", refresh_seconds=refresh)


def google_id_token(
    audience: str,
    *,
    mint: Mint = _mint_on_google,
    clock: Clock = time.monotonic,
    wall_clock: Clock = time.time,
) -> SecretHeader:
    """`Authorization: Bearer <ID token>` for a Cloud Run service behind IAM (`audience` is
    its URL); `mint` is injectable for tests."""
    schedule = Schedule(
        refresh_seconds=3000.0,
        retry=lambda failures, _has: min(2.0 ** (failures - 1), 60.0),
        fetch_seconds=ID_TOKEN_FETCH_SECONDS,
        wait_seconds=ID_TOKEN_FETCH_SECONDS,
        kind="directory credential",
        event="directory",
    )
    token = Refreshing(IdTokenSource(audience, mint, wall_clock), Secret, schedule, clock=clock)
    return SecretHeader("Authorization", token, "Bearer", f"Google ID token for {audience}")
