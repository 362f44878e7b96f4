"""HTTP Basic: the header secret of Okta's inline hook guide, with rotation over several lines."""

from __future__ import annotations

import binascii
import hashlib
import hmac
import unicodedata
from base64 import b64decode

from auth.caller import Caller
from core.errors import Unauthenticated
from core.refreshing import Refreshing

CHALLENGE = 'Basic realm="okta-registration-hook", charset="UTF-8"'
MAX_CREDENTIALS_CHARS = 4096
# Control characters, line and paragraph separators, format characters and lone surrogates.
_CONTROL = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


Digests = tuple[tuple[bytes, bytes], ...]


class CredentialsFormatError(ValueError):
    """A line of the credentials setting is not `user:password`."""


def credential_lines(text: str) -> list[tuple[str, str]]:
    """Each `user:password` line, taken exactly: lines end at \n or \r\n only, a password runs
    to the end of its line (spaces and further `:` included), blank lines and `#` comments are
    skipped. Any other control or line-separator character (\v, \f, U+0085, U+2028 ...) refuses
    the whole setting, naming the line, never its content: split there, a password would be cut
    short and its tail read as another user."""
    pairs = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.removesuffix("\r")
        if any(unicodedata.category(c) in _CONTROL for c in line):
            raise CredentialsFormatError(f"line {number} holds a control character")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        user, sep, password = line.partition(":")
        if not sep or not user or not password:
            raise CredentialsFormatError(f"line {number} is not user:password")
        if user != user.strip():
            # An indented line is a mistake, not a user whose name starts with spaces.
            raise CredentialsFormatError(f"line {number}: the user starts or ends with white space")
        pairs.append((user, password))
    if not pairs:
        raise CredentialsFormatError("no user:password line")
    return pairs


def parse_credentials(text: str) -> Digests:
    """Digests of each `user:password` line of `credential_lines`."""
    return tuple((_digest(user), _digest(password)) for user, password in credential_lines(text))


def _digest(value: str) -> bytes:
    # Fixed-length digests keep compare_digest from leaking the secret's length.
    return hashlib.sha256(value.encode("utf-8")).digest()


class BasicVerifier:
    scheme = "Basic"
    challenge = CHALLENGE

    def __init__(self, credentials: Refreshing[str, Digests]) -> None:
        """`credentials`: the setting's value parsed by `parse_credentials`, kept fresh; a
        malformed new value keeps the last one."""
        self._credentials = credentials

    def __repr__(self) -> str:
        return f"BasicVerifier({self._credentials.source.name})"

    def load(self) -> None:
        """Read and parse the credentials now (cold start); raises `Unavailable`."""
        self._credentials.current()

    def verify(self, credentials: str) -> Caller:
        pairs = self._credentials.current()
        user, password = _decode(credentials)
        user_digest, password_digest = _digest(user), _digest(password)
        matched = False
        for known_user, known_password in pairs:
            # Every line is compared, so the time does not say which line matched.
            same_user = hmac.compare_digest(user_digest, known_user)
            same_password = hmac.compare_digest(password_digest, known_password)
            matched |= same_user and same_password
        if not matched:
            raise Unauthenticated("basic: unknown user or wrong password", challenges=(CHALLENGE,))
        return Caller(scheme="basic", subject=user)


def _decode(credentials: str) -> tuple[str, str]:
    def refuse(reason: str) -> Unauthenticated:
        return Unauthenticated(f"basic: {reason}", challenges=(CHALLENGE,))

    if not credentials or len(credentials) > MAX_CREDENTIALS_CHARS:
        raise refuse("credentials missing or too long")
    try:
        decoded = b64decode(credentials.encode("ascii"), validate=True).decode("utf-8")
    except (UnicodeError, binascii.Error):
        raise refuse("credentials are not base64 of UTF-8 text") from None
    user, sep, password = decoded.partition(":")
    if not sep:
        raise refuse("credentials have no ':'")
    return user, password
