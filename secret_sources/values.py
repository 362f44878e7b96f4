"""Secret-valued settings: a value that hides itself, and the sources it is read from."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from core.errors import Unavailable
from core.logs import logger


class Secret:
    """A string that never shows itself in a repr, a str() or a log line."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class SecretSource(Protocol):
    """Where one secret-valued setting is read from; `current()` raises `Unavailable`."""

    setting: str

    def current(self) -> Secret: ...


class StaticSecret:
    """A value given directly in the environment (local runs)."""

    def __init__(self, setting: str, value: str) -> None:
        self.setting = setting
        self._secret = Secret(value)

    def current(self) -> Secret:
        return self._secret

    def __repr__(self) -> str:
        return f"StaticSecret({self.setting!r})"


T = TypeVar("T")


class ParsedSecret(Generic[T]):
    """The parsed form of a secret-valued setting, redone only when the source swaps the Secret.

    A malformed new value never replaces a good one: Okta would be locked out by a typo.
    """

    def __init__(self, source: SecretSource, parse: Callable[[str], T]) -> None:
        self._source = source
        self._parse = parse
        self._lock = threading.Lock()
        self._parsed_from: Secret | None = None
        self._rejected: Secret | None = None
        self._value: T | None = None

    def get(self) -> T:
        secret = self._source.current()
        value = self._value
        if value is not None and (secret is self._parsed_from or secret is self._rejected):
            return value
        with self._lock:
            if secret is not self._parsed_from and secret is not self._rejected:
                self._update(secret)
            if self._value is None:
                raise Unavailable(f"{self._source.setting}: no usable value")
            return self._value

    def _update(self, secret: Secret) -> None:
        try:
            self._value = self._parse(secret.reveal())
        except ValueError as e:
            # The message names the setting and the problem, never the value.
            if self._value is None:
                raise Unavailable(f"{self._source.setting}: {e}") from None
            self._rejected = secret
            logger.error(
                "%s: new value refused, the previous one stays: %s",
                self._source.setting,
                e,
                extra={"fields": {"event": "secret", "setting": self._source.setting}},
            )
            return
        self._parsed_from = secret
