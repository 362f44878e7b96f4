"""The cold start reads every verifier's secrets, even when one of them cannot be read."""

from __future__ import annotations

from pathlib import Path

import pytest

from auth.basic import BasicVerifier, parse_credentials
from auth.caller import Caller
from auth.gate import Gate
from core.errors import Unauthenticated, Unavailable
from service.settings import secret_source


class CountingVerifier:
    """A second scheme that counts its loads and fails them when told to."""

    scheme = "Counted"
    challenge = "Counted"

    def __init__(self, failure: str | None = None) -> None:
        self.loads = 0
        self.failure = failure

    def load(self) -> None:
        self.loads += 1
        if self.failure:
            raise Unavailable(self.failure)

    def verify(self, credentials: str) -> Caller:
        raise Unauthenticated("not used here")


def unreadable_basic(tmp_path: Path) -> BasicVerifier:
    env = {"OKTA_HOOK_BASIC_CREDENTIALS_FILE": str(tmp_path / "not-mounted")}
    source = secret_source(env, "OKTA_HOOK_BASIC_CREDENTIALS")
    assert source is not None
    return BasicVerifier(source.reading(parse_credentials))


def test_a_failing_verifier_does_not_stop_the_others_from_loading(tmp_path: Path) -> None:
    other = CountingVerifier()
    with pytest.raises(Unavailable) as raised:
        Gate([unreadable_basic(tmp_path), other]).load()
    assert other.loads == 1
    assert raised.value.reason.startswith("OKTA_HOOK_BASIC_CREDENTIALS: no value read yet (")


def test_every_failure_is_reported(tmp_path: Path) -> None:
    with pytest.raises(Unavailable) as raised:
        Gate([unreadable_basic(tmp_path), CountingVerifier("keys not read")]).load()
    assert raised.value.reason.endswith("No such file or directory); keys not read")
