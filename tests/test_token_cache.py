"""The cache of verified Bearer tokens: it may answer only what a full check would also accept."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine

from auth.bearer import BearerVerifier, Expectations
from auth.caller import Caller
from auth.jwks import RemoteKeys
from auth.static_keys import PinnedKeys, parse_jwks_text
from auth.token_cache import TokenCache, Verified
from core.errors import Forbidden, Unauthenticated
from secret_sources.files import SecretFile
from secret_sources.setting import SecretSetting
from tests.clock_support import ManualClock
from tests.jwt_support import (
    AUDIENCE,
    CLIENT_ID,
    KID,
    NEW_KID,
    OTHER_CLIENT_ID,
    SCOPE,
    KeyServer,
    mint,
    okta_claims,
    public_jwk,
)

LEEWAY = 30


class WallClock:
    """The process's wall clock, stopped at a whole second and moved only when the test says:
    PyJWT's claim checks and the token cache read the same time."""

    def __init__(self, traveller: Any) -> None:
        self._traveller = traveller

    @property
    def now(self) -> float:
        return time.time()

    @now.setter
    def now(self, value: float) -> None:
        self._traveller.move_to(value)


@pytest.fixture
def wall() -> Iterator[WallClock]:
    with time_machine.travel(float(int(time.time())), tick=False) as traveller:
        yield WallClock(traveller)


def verifier(
    okta: KeyServer, wall: WallClock, keys_clock: ManualClock | None = None, leeway: int = LEEWAY
) -> BearerVerifier:
    okta.jwks = [public_jwk("okta", KID), public_jwk("okta-next", NEW_KID)]  # current and next
    keys = RemoteKeys(okta.issuer, clock=keys_clock or ManualClock())
    expect = Expectations(okta.issuer, AUDIENCE, (SCOPE,), (CLIENT_ID,), leeway)
    made = BearerVerifier(expect, keys)
    made.load()
    return made


def entry(caller: Caller, not_before: float, expires: float) -> Verified:
    return Verified(caller, KID, "RS256", object(), not_before, expires)


# The cache alone


def test_an_entry_answers_only_inside_its_window() -> None:
    clock = ManualClock()
    cache = TokenCache(clock=clock)
    caller = Caller("bearer", "client")
    cache.put("token", entry(caller, clock.now - 10, clock.now + 60))
    assert cache.get("token") is not None
    assert cache.get("token").caller is caller  # type: ignore[union-attr]
    assert cache.get("other token") is None
    clock.advance(60)
    assert cache.get("token") is None
    assert len(cache) == 0  # dropped, not kept


def test_an_entry_not_yet_valid_is_not_answered() -> None:
    clock = ManualClock()
    cache = TokenCache(clock=clock)
    cache.put("token", entry(Caller("bearer", "c"), clock.now - 1, clock.now + 60))
    clock.advance(-2)
    assert cache.get("token") is None


def test_an_entry_already_past_its_time_is_never_stored() -> None:
    clock = ManualClock()
    cache = TokenCache(clock=clock)
    cache.put("token", entry(Caller("bearer", "c"), clock.now - 60, clock.now))
    assert len(cache) == 0


def test_the_least_recently_used_entry_goes_first() -> None:
    clock = ManualClock()
    cache = TokenCache(capacity=2, clock=clock)
    for token in ("a", "b"):
        cache.put(token, entry(Caller("bearer", token), clock.now, clock.now + 60))
    assert cache.get("a") is not None  # "b" is now the oldest use
    cache.put("c", entry(Caller("bearer", "c"), clock.now, clock.now + 60))
    assert len(cache) == 2
    assert cache.get("b") is None
    assert cache.get("a") is not None
    assert cache.get("c") is not None


def test_many_threads_never_grow_it_past_its_capacity() -> None:
    clock = ManualClock()
    cache = TokenCache(capacity=64, clock=clock)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(2000):
                token = f"{worker}-{i % 300}"
                cache.put(token, entry(Caller("bearer", token), clock.now, clock.now + 60))
                found = cache.get(token)
                assert found is None or found.caller.subject == token
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(cache) <= 64


# Through the Bearer verifier


def test_the_same_token_again_is_answered_from_the_cache(okta: KeyServer, wall: WallClock) -> None:
    bearer = verifier(okta, wall)
    token = mint(okta_claims(okta.issuer))
    first = bearer.verify(token)
    assert bearer.verify(token) is first  # the cached Caller, not a new verification
    assert bearer.verify(f"  {token} ") is first


def test_a_cached_token_past_exp_is_verified_again_and_refused_past_the_leeway(
    okta: KeyServer,
    wall: WallClock,
) -> None:
    bearer = verifier(okta, wall)
    token = mint(okta_claims(okta.issuer, iat=int(wall.now), exp=int(wall.now) + 60))
    first = bearer.verify(token)
    wall.now += 60  # at exp: the cache no longer answers; the full check still grants the leeway
    inside_leeway = bearer.verify(token)
    assert inside_leeway is not first
    assert inside_leeway == first
    wall.now += LEEWAY
    with pytest.raises(Unauthenticated, match="ExpiredSignatureError"):
        bearer.verify(token)


def test_without_leeway_a_cached_token_is_refused_at_exp(okta: KeyServer, wall: WallClock) -> None:
    bearer = verifier(okta, wall, leeway=0)
    token = mint(okta_claims(okta.issuer, iat=int(wall.now), exp=int(wall.now) + 60))
    bearer.verify(token)
    wall.now += 60
    with pytest.raises(Unauthenticated, match="ExpiredSignatureError"):
        bearer.verify(token)


def test_nbf_holds_for_a_cached_token_when_the_clock_steps_back(
    okta: KeyServer, wall: WallClock
) -> None:
    bearer = verifier(okta, wall)
    nbf = int(wall.now) + 10  # accepted now thanks to the leeway
    token = mint(okta_claims(okta.issuer, iat=int(wall.now), nbf=nbf))
    bearer.verify(token)
    wall.now = nbf - LEEWAY - 5
    with pytest.raises(Unauthenticated, match="ImmatureSignatureError"):
        bearer.verify(token)


def test_a_key_rotation_that_removes_the_key_evicts(okta: KeyServer, wall: WallClock) -> None:
    keys_clock = ManualClock()
    bearer = verifier(okta, wall, keys_clock)
    token = mint(okta_claims(okta.issuer))
    bearer.verify(token)
    okta.jwks = [public_jwk("okta-next", NEW_KID)]  # the old key is withdrawn
    keys_clock.advance(3600)  # the next request refreshes the key set
    with pytest.raises(Unauthenticated, match="no key 'okta-key-1'"):
        bearer.verify(token)


def test_a_key_set_read_again_voids_the_entry_but_the_token_still_passes(
    okta: KeyServer,
    wall: WallClock,
) -> None:
    keys_clock = ManualClock()
    bearer = verifier(okta, wall, keys_clock)
    token = mint(okta_claims(okta.issuer))
    first = bearer.verify(token)
    keys_clock.advance(3600)
    again = bearer.verify(token)
    assert again is not first
    assert again == first
    assert bearer.verify(token) is again


def test_a_pinned_key_set_replaced_without_the_key_evicts(tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [public_jwk("okta", KID)]}))
    clock = ManualClock()
    setting = SecretSetting("OKTA_HOOK_JWKS", SecretFile("OKTA_HOOK_JWKS", path), 60, clock)
    issuer = "https://example.okta.com/oauth2/default"
    expect = Expectations(issuer, AUDIENCE, (SCOPE,), (CLIENT_ID,), LEEWAY)
    bearer = BearerVerifier(expect, PinnedKeys(setting.reading(parse_jwks_text(setting.name))))
    bearer.load()
    token = mint(okta_claims(issuer))
    bearer.verify(token)
    path.write_text(json.dumps({"keys": [public_jwk("okta-next", NEW_KID)]}))
    clock.advance(61)
    with pytest.raises(Unauthenticated, match="no key 'okta-key-1'"):
        bearer.verify(token)


def test_the_same_payload_with_another_signature_is_not_a_hit(
    okta: KeyServer, wall: WallClock
) -> None:
    bearer = verifier(okta, wall)
    claims = okta_claims(okta.issuer)
    genuine = mint(claims)
    bearer.verify(genuine)
    forged = mint(claims, key_name="attacker")
    assert forged.rsplit(".", 1)[0] == genuine.rsplit(".", 1)[0]
    with pytest.raises(Unauthenticated, match="InvalidSignatureError"):
        bearer.verify(forged)


def test_a_signature_spelled_differently_is_not_a_hit(okta: KeyServer, wall: WallClock) -> None:
    bearer = verifier(okta, wall)
    genuine = mint(okta_claims(okta.issuer))
    bearer.verify(genuine)
    # The last character of a 256-byte signature carries 4 unused bits: the same bytes, another
    # string. It is another cache key, and the full check refuses the non-canonical form.
    last = genuine[-1]
    respelled = genuine[:-1] + ("B" if last == "A" else "A")
    with pytest.raises(Unauthenticated):
        bearer.verify(respelled)


@pytest.mark.parametrize(
    ("claims", "refusal"),
    [
        ({"scp": ["other.scope"]}, Forbidden),
        ({"cid": OTHER_CLIENT_ID, "sub": OTHER_CLIENT_ID}, Forbidden),
    ],
)
def test_a_refused_token_is_never_cached(
    okta: KeyServer, wall: WallClock, claims: dict[str, object], refusal: type[Exception]
) -> None:
    bearer = verifier(okta, wall)
    token = mint(okta_claims(okta.issuer, **claims))
    for _ in range(2):
        with pytest.raises(refusal):
            bearer.verify(token)
    assert len(bearer._cache) == 0


def test_many_distinct_tokens_stay_within_the_bound(okta: KeyServer) -> None:
    keys = RemoteKeys(okta.issuer)
    expect = Expectations(okta.issuer, AUDIENCE, (SCOPE,), (CLIENT_ID,), LEEWAY)
    bearer = BearerVerifier(expect, keys, cache_capacity=8)
    bearer.load()
    tokens = [mint(okta_claims(okta.issuer, jti=f"AT.{i}")) for i in range(20)]
    for token in tokens:
        bearer.verify(token)
    assert len(bearer._cache) == 8
    assert bearer.verify(tokens[0]).details["jti"] == "AT.0"  # evicted, verified again
