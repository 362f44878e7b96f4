"""The issuer's keys: discovery, cache, refresh, rotation, outages and floods of unknown kids.

Keys are served over loopback HTTP. Tests of what happens over time drive `RemoteKeys` with a
clock they move by hand; the others go through the function as functions-framework serves it.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from starlette.testclient import TestClient

from auth.bearer import BearerVerifier, Expectations
from auth.caller import Caller
from auth.jwks import (
    REFRESH_DEFAULT_SECONDS,
    REFRESH_MAX_SECONDS,
    REFRESH_MIN_SECONDS,
    RETRY_WITH_KEYS_SECONDS,
    RETRY_WITHOUT_KEYS_SECONDS,
    UNKNOWN_KID_COOLDOWN_SECONDS,
    RemoteKeys,
)
from core.errors import Unauthenticated, Unavailable
from core.json_fetch import Fetched, fetch_json
from tests.clock_support import ManualClock
from tests.conftest import MakeClient, post, sample
from tests.jwt_support import (
    AUDIENCE,
    AUTH_SERVER_PATH,
    CLIENT_ID,
    KID,
    NEW_KID,
    SCOPE,
    KeyServer,
    bearer_env,
    mint,
    okta_claims,
    public_jwk,
)

UNAVAILABLE = {"error": {"code": "unavailable", "message": "The hook is not available."}}
METADATA = AUTH_SERVER_PATH + "/.well-known/oauth-authorization-server"
OPENID = AUTH_SERVER_PATH + "/.well-known/openid-configuration"
KEYS = AUTH_SERVER_PATH + "/v1/keys"


def call(client: TestClient, token: str) -> Any:
    return post(client, sample("progressive"), authorization=f"Bearer {token}")


class CountingFetch:
    """The real fetch, with a record of every URL it was asked for (failures included)."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def __call__(self, url: str, timeout: float) -> Fetched:
        self.urls.append(url)
        return fetch_json(url, timeout)


def verifier(server: KeyServer, clock: ManualClock, fetch: CountingFetch) -> BearerVerifier:
    expect = Expectations(server.issuer, AUDIENCE, (SCOPE,), (CLIENT_ID,), 30)
    return BearerVerifier(expect, RemoteKeys(server.issuer, fetch=fetch, clock=clock))


# Through the function


def test_keys_are_fetched_once_at_cold_start_then_cached(
    make_client: MakeClient, okta: KeyServer
) -> None:
    client = make_client(**bearer_env(okta))
    assert okta.hits == {METADATA: 1, KEYS: 1}
    for _ in range(5):
        assert call(client, mint(okta_claims(okta.issuer))).status_code == 200
    assert okta.hits == {METADATA: 1, KEYS: 1}


def test_key_rotation_at_the_issuer_is_picked_up(make_client: MakeClient, okta: KeyServer) -> None:
    client = make_client(**bearer_env(okta))
    okta.jwks = [public_jwk("okta-next", NEW_KID)]  # Okta rotated: a new key, the old one gone
    assert call(client, mint(okta_claims(okta.issuer), "okta-next", NEW_KID)).status_code == 200
    assert okta.key_fetches() == 2
    # The retired key is no longer trusted.
    assert call(client, mint(okta_claims(okta.issuer))).status_code == 401


def test_jwks_endpoint_down_after_warm_up(make_client: MakeClient, okta: KeyServer) -> None:
    client = make_client(**bearer_env(okta))
    okta.down()
    assert call(client, mint(okta_claims(okta.issuer))).status_code == 200
    # An unknown kid tries the issuer, fails, and is refused; the cached keys keep serving.
    assert call(client, mint(okta_claims(okta.issuer), kid="new-kid")).status_code == 401
    assert call(client, mint(okta_claims(okta.issuer))).status_code == 200


def test_unknown_kid_flood_is_bounded(make_client: MakeClient, okta: KeyServer) -> None:
    client = make_client(**bearer_env(okta))
    for n in range(50):
        token = mint(okta_claims(okta.issuer), key_name="attacker", kid=f"forged-{n}")
        assert call(client, token).status_code == 401
    assert okta.key_fetches() == 2  # cold start, then one refetch for the whole flood
    assert call(client, mint(okta_claims(okta.issuer))).status_code == 200


def test_no_keys_at_cold_start_is_503(
    make_client: MakeClient, okta: KeyServer, capsys: pytest.CaptureFixture[str]
) -> None:
    okta.down()
    client = make_client(**bearer_env(okta))
    response = call(client, mint(okta_claims(okta.issuer)))
    assert (response.status_code, response.json()) == (503, UNAVAILABLE)
    assert "no signing keys for http://127.0.0.1:" in capsys.readouterr().out


def test_metadata_from_openid_configuration(make_client: MakeClient, okta: KeyServer) -> None:
    okta.metadata_paths = {"/.well-known/openid-configuration"}
    client = make_client(**bearer_env(okta))
    assert call(client, mint(okta_claims(okta.issuer))).status_code == 200
    assert okta.hits == {METADATA: 1, OPENID: 1, KEYS: 1}


def test_okta_keys_endpoint_when_there_is_no_metadata(
    make_client: MakeClient, okta: KeyServer
) -> None:
    okta.metadata_paths = set()
    client = make_client(**bearer_env(okta))
    assert call(client, mint(okta_claims(okta.issuer))).status_code == 200
    assert okta.hits == {METADATA: 1, OPENID: 1, KEYS: 1}


@pytest.mark.parametrize(
    ("changes", "logged"),
    [
        ({"issuer": "https://evil.example/oauth2/default"}, "not the configured one"),
        ({"issuer": None}, "not the configured one"),
        ({"jwks_uri": "http://keys.example/keys"}, "has no HTTPS jwks_uri"),
    ],
)
def test_metadata_that_cannot_be_trusted_is_503(
    make_client: MakeClient,
    okta: KeyServer,
    capsys: pytest.CaptureFixture[str],
    changes: dict[str, Any],
    logged: str,
) -> None:
    okta.metadata_changes = changes
    client = make_client(**bearer_env(okta))
    assert call(client, mint(okta_claims(okta.issuer))).status_code == 503
    assert logged in capsys.readouterr().out
    assert okta.key_fetches() == 0


def test_jwks_uri_setting_skips_discovery(make_client: MakeClient, okta: KeyServer) -> None:
    client = make_client(**bearer_env(okta, OKTA_HOOK_JWKS_URI=okta.jwks_uri))
    assert call(client, mint(okta_claims(okta.issuer))).status_code == 200
    assert okta.hits == {KEYS: 1}


# Over time, with a clock moved by hand


def test_refresh_on_schedule_picks_up_rotation(okta: KeyServer) -> None:
    clock, fetch = ManualClock(), CountingFetch()
    bearer = verifier(okta, clock, fetch)
    bearer.load()
    okta.jwks = [public_jwk("okta-next", NEW_KID)]
    clock.advance(REFRESH_DEFAULT_SECONDS - 1)
    assert bearer.verify(mint(okta_claims(okta.issuer))).subject == CLIENT_ID
    assert okta.key_fetches() == 1
    clock.advance(1)
    assert bearer.verify(mint(okta_claims(okta.issuer), "okta-next", NEW_KID)).subject == CLIENT_ID
    assert okta.key_fetches() == 2
    with pytest.raises(Unauthenticated, match="no key 'okta-key-1'"):
        bearer.verify(mint(okta_claims(okta.issuer)))  # the refresh dropped the old key


@pytest.mark.parametrize(
    ("cache_control", "interval"),
    [
        (None, REFRESH_DEFAULT_SECONDS),
        ("max-age=7200", 7200),
        ("public, max-age=60", REFRESH_MIN_SECONDS),
        ("max-age=31536000", REFRESH_MAX_SECONDS),
        ("no-store", REFRESH_MIN_SECONDS),
        ("no-cache, max-age=7200", REFRESH_MIN_SECONDS),
        ("max-age=soon", REFRESH_DEFAULT_SECONDS),
    ],
)
def test_refresh_follows_cache_control_within_bounds(
    okta: KeyServer, cache_control: str | None, interval: int
) -> None:
    okta.cache_control = cache_control
    clock, fetch = ManualClock(), CountingFetch()
    bearer = verifier(okta, clock, fetch)
    bearer.load()
    clock.advance(interval - 1)
    bearer.verify(mint(okta_claims(okta.issuer)))
    assert okta.key_fetches() == 1
    clock.advance(1)
    bearer.verify(mint(okta_claims(okta.issuer)))
    assert okta.key_fetches() == 2


def test_failed_refresh_keeps_serving_and_backs_off(okta: KeyServer) -> None:
    clock, fetch = ManualClock(), CountingFetch()
    bearer = verifier(okta, clock, fetch)
    bearer.load()
    okta.down()
    clock.advance(REFRESH_DEFAULT_SECONDS)
    for _ in range(10):
        assert bearer.verify(mint(okta_claims(okta.issuer))).subject == CLIENT_ID
    assert len(fetch.urls) == 3  # discovery and keys at load, then one failed attempt
    clock.advance(RETRY_WITH_KEYS_SECONDS)
    bearer.verify(mint(okta_claims(okta.issuer)))
    assert len(fetch.urls) == 4


def test_no_keys_at_all_is_unavailable_until_a_retry_succeeds(okta: KeyServer) -> None:
    okta.jwks = []  # the issuer answers, but with no usable key
    clock, fetch = ManualClock(), CountingFetch()
    bearer = verifier(okta, clock, fetch)
    with pytest.raises(Unavailable, match="no usable signing key"):
        bearer.load()
    okta.jwks = [public_jwk("okta", KID)]
    clock.advance(RETRY_WITHOUT_KEYS_SECONDS - 1)
    with pytest.raises(Unavailable):
        bearer.verify(mint(okta_claims(okta.issuer)))
    assert okta.key_fetches() == 1
    clock.advance(1)
    assert bearer.verify(mint(okta_claims(okta.issuer))).subject == CLIENT_ID
    assert okta.key_fetches() == 2


def test_unknown_kid_refetch_cooldown(okta: KeyServer) -> None:
    clock, fetch = ManualClock(), CountingFetch()
    bearer = verifier(okta, clock, fetch)
    bearer.load()
    for step in (0, UNKNOWN_KID_COOLDOWN_SECONDS - 1):
        clock.advance(step)
        with pytest.raises(Unauthenticated):
            bearer.verify(mint(okta_claims(okta.issuer), kid=f"forged-{step}"))
    assert okta.key_fetches() == 2
    clock.advance(1)
    with pytest.raises(Unauthenticated):
        bearer.verify(mint(okta_claims(okta.issuer), kid="forged-later"))
    assert okta.key_fetches() == 3


def test_threads_meeting_a_new_kid_share_one_fetch(okta: KeyServer) -> None:
    clock, fetch = ManualClock(), CountingFetch()
    bearer = verifier(okta, clock, fetch)
    bearer.load()
    okta.jwks = [public_jwk("okta", KID), public_jwk("okta-next", NEW_KID)]
    token = mint(okta_claims(okta.issuer), "okta-next", NEW_KID)
    start = threading.Barrier(16)
    callers: list[Caller | Exception] = []

    def request() -> None:
        start.wait()
        try:
            callers.append(bearer.verify(token))
        except Exception as e:  # collected, so the assertion below shows it
            callers.append(e)

    threads = [threading.Thread(target=request) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [getattr(c, "subject", c) for c in callers] == [CLIENT_ID] * 16
    assert okta.key_fetches() == 2
