"""Where an issuer publishes its keys: authorization server metadata, then Okta's keys endpoint."""

from __future__ import annotations

import time
from collections.abc import Callable

from core.json_fetch import Fetched, FetchError, is_allowed_url
from core.logs import logger

Fetch = Callable[[str, float], Fetched]

METADATA_PATHS = ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration")
OKTA_KEYS_PATH = "/v1/keys"


class DiscoveryError(Exception):
    """The issuer's key location cannot be trusted or found; the message is safe to log."""


def locate_jwks(issuer: str, fetch: Fetch, timeout: float, deadline: float) -> str:
    """The `jwks_uri` of the issuer's metadata, or Okta's `{issuer}/v1/keys` when there is none.

    A metadata document that names another issuer stops the search: it means the setting is
    wrong, and falling back would hide that.
    """
    base = issuer.rstrip("/")
    for path in METADATA_PATHS:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DiscoveryError(f"no time left to read {issuer}'s metadata")
        url = base + path
        try:
            fetched = fetch(url, min(timeout, remaining))
        except FetchError as e:
            logger.info(
                "no authorization server metadata: %s", e, extra={"fields": {"event": "keys"}}
            )
            continue
        return _jwks_uri(fetched, issuer, url)
    return base + OKTA_KEYS_PATH


def _jwks_uri(fetched: Fetched, issuer: str, url: str) -> str:
    named = fetched.document.get("issuer")
    if named != issuer:
        raise DiscoveryError(f"{url} names issuer {str(named)[:200]!r}, not the configured one")
    jwks_uri = fetched.document.get("jwks_uri")
    if not isinstance(jwks_uri, str) or not is_allowed_url(jwks_uri):
        raise DiscoveryError(f"{url} has no HTTPS jwks_uri")
    return jwks_uri
