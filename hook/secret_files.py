"""A secret read from a file: a Cloud Functions secret volume mount, read again on refresh."""

from __future__ import annotations

import threading
from pathlib import Path

from hook.secret_cache import MAX_SECRET_BYTES, Reading, SecretReadError, decode_secret

# A mounted secret is fetched from Secret Manager on every read of the file, so a read can
# stall like any remote call; it is waited for this long, in a thread of its own.
READ_SECONDS = 1.0


class SecretFile:
    """Reads `path` whole on every `read()`; the caching is `RefreshingSecret`'s."""

    def __init__(self, setting: str, path: Path) -> None:
        if not path.is_absolute():
            raise ValueError("the path must be absolute")
        self.setting = setting
        self.path = path
        self.where = str(path)
        self._stalled: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"SecretFile({self.setting!r}, {self.where!r})"

    def read(self) -> Reading:
        if self._stalled is not None and self._stalled.is_alive():
            # At most one thread waits on a stalled file; later reads fail at once.
            raise self._error("an earlier read is still waiting on the file")
        outcome: list[bytes | OSError] = []
        reader = threading.Thread(
            target=self._read_into, args=(outcome,), name=f"read {self.setting}", daemon=True
        )
        reader.start()
        reader.join(READ_SECONDS)
        if reader.is_alive():
            self._stalled = reader
            raise self._error(f"no answer within {READ_SECONDS:g} s")
        [result] = outcome
        if isinstance(result, OSError):
            raise self._error(result.strerror or type(result).__name__)
        return Reading(decode_secret(result, self._error), self.where)

    def _read_into(self, outcome: list[bytes | OSError]) -> None:
        try:
            with self.path.open("rb") as file:
                outcome.append(file.read(MAX_SECRET_BYTES + 1))
        except OSError as e:
            outcome.append(e)

    def _error(self, cause: str) -> SecretReadError:
        return SecretReadError(f"{self.setting}: cannot read file {self.where}: {cause}")
