"""A secret given directly in the environment (local runs and tests): read once, never again."""

from __future__ import annotations

from collections.abc import Mapping

from core.refreshing import Fetched
from secret_sources.values import digest


class EnvironmentValue:
    """`NAME=value`: the value itself."""

    def __init__(self, setting: str, value: str) -> None:
        self.name = setting
        self.where = "the environment"
        self.fields: Mapping[str, object] = {"setting": setting, "source": self.where}
        self._value = value

    def __repr__(self) -> str:
        return f"EnvironmentValue({self.name!r})"

    def fetch(self, budget: float, known: object) -> Fetched[str]:
        return Fetched(self._value, self.where, tag=digest(self._value))
