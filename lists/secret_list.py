"""A list kept in a Secret Manager secret (a short one: invitation codes), read by the secret
source every secret uses: its checksum verified, bounded in time."""

from __future__ import annotations

from collections.abc import Mapping

from core.refreshing import Fetched
from secret_sources.secret_manager import SecretManagerVersion


class SecretList:
    """`projects/P/secrets/S/versions/V` as the raw bytes of the list `name`."""

    def __init__(self, name: str, version: str, endpoint: str | None = None) -> None:
        self._secret = SecretManagerVersion(name, version, endpoint)
        self.name = name
        self.where = self._secret.where
        self.fields: Mapping[str, object] = {"list": name, "source": self.where}

    def __repr__(self) -> str:
        return f"SecretList({self.name!r}, {self.where!r})"

    def fetch(self, budget: float, known: object) -> Fetched[bytes]:
        fetched = self._secret.fetch(budget, known)
        return Fetched(fetched.raw.encode("utf-8"), fetched.origin, tag=fetched.tag)
