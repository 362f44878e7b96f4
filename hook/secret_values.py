"""Secret-valued settings: a value that hides itself, and the sources it is read from."""

from __future__ import annotations

from typing import Protocol


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
