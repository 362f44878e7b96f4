"""The gate every request passes: the Authorization scheme picks one enabled verifier."""

from __future__ import annotations

from collections.abc import Sequence

from auth.caller import Caller, Verifier
from core.errors import Unauthenticated, Unavailable

MAX_AUTHORIZATION_CHARS = 16384
# Schemes a caller may send by mistake, named in the log. Any other first word is not named: it
# may be a password or an address pasted without a scheme.
KNOWN_SCHEMES = frozenset(
    {"basic", "bearer", "digest", "dpop", "hoba", "mutual", "negotiate", "ntlm", "oauth",
     "ssws", "token", "jwt", "aws4-hmac-sha256", "scram-sha-256"}
)  # fmt: skip


class Gate:
    def __init__(self, verifiers: Sequence[Verifier]) -> None:
        if not verifiers:
            raise ValueError("a gate needs at least one verifier")
        self._by_scheme = {v.scheme.lower(): v for v in verifiers}
        self._challenges = tuple(v.challenge for v in verifiers)

    @property
    def schemes(self) -> tuple[str, ...]:
        return tuple(v.scheme for v in self._by_scheme.values())

    def load(self) -> None:
        """Warm every verifier at cold start, so the first request does not pay for it."""
        failures = []
        for verifier in self._by_scheme.values():
            # One store that cannot be read must not leave the others unread.
            try:
                verifier.load()
            except Unavailable as e:
                failures.append(e.reason)
        if failures:
            raise Unavailable("; ".join(failures))

    def authenticate(self, authorization: str | None) -> Caller:
        if not authorization or not authorization.strip():
            raise Unauthenticated("no Authorization header", challenges=self._challenges)
        if len(authorization) > MAX_AUTHORIZATION_CHARS:
            raise Unauthenticated("Authorization header too long", challenges=self._challenges)
        scheme, _, credentials = authorization.strip().partition(" ")
        verifier = self._by_scheme.get(scheme.lower())
        if verifier is None:
            # A scheme that is not configured is refused, never downgraded to another one.
            named = repr(scheme) if scheme.lower() in KNOWN_SCHEMES else "(not a known scheme)"
            raise Unauthenticated(f"scheme {named} is not enabled", challenges=self._challenges)
        return verifier.verify(credentials.strip())
