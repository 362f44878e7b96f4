"""A secret read from a file: a Cloud Functions secret volume mount, read again on refresh."""

from __future__ import annotations

from pathlib import Path

from core.bounded_call import BoundedCall, CallTimedOut, StillStalled
from core.deadline import time_left
from secret_sources.refreshing import MAX_SECRET_BYTES, Reading, SecretReadError, decode_secret

# A mounted secret is fetched from Secret Manager on every read of the file, so a read can
# stall like any remote call; it is waited for this long (less when the request's deadline is
# nearer), in a thread of its own.
READ_SECONDS = 1.0


class SecretFile:
    """Reads `path` whole on every `read()`; the caching is `RefreshingSecret`'s."""

    def __init__(self, setting: str, path: Path) -> None:
        if not path.is_absolute():
            raise ValueError("the path must be absolute")
        self.setting = setting
        self.path = path
        self.where = str(path)
        self._calls: BoundedCall[bytes] = BoundedCall(f"read {setting}")

    def __repr__(self) -> str:
        return f"SecretFile({self.setting!r}, {self.where!r})"

    def read(self) -> Reading:
        budget = time_left(READ_SECONDS)
        try:
            data = self._calls.run(self._read_bytes, budget)
        except StillStalled:
            # At most one thread waits on a stalled file; later reads fail at once.
            raise self._error("an earlier read is still waiting on the file") from None
        except CallTimedOut:
            raise self._error(f"no answer within {budget:.3g} s") from None
        except OSError as e:
            raise self._error(e.strerror or type(e).__name__) from None
        return Reading(decode_secret(data, self._error), self.where)

    def _read_bytes(self) -> bytes:
        with self.path.open("rb") as file:
            return file.read(MAX_SECRET_BYTES + 1)

    def _error(self, cause: str) -> SecretReadError:
        return SecretReadError(f"{self.setting}: cannot read file {self.where}: {cause}")
