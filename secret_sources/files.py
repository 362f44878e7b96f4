"""A secret read from a file: a Cloud Functions secret volume mount, read again on refresh."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from core.bounded_call import BoundedCall, CallTimedOut, StillStalled
from core.refreshing import Fetched, FetchFailed
from secret_sources.values import MAX_SECRET_BYTES, digest, secret_text

# A mounted secret is fetched from Secret Manager on every read of the file, so a read can
# stall like any remote call; it is waited for this long (less when the request's deadline is
# nearer), in a thread of its own.
READ_SECONDS = 1.0


class SecretFile:
    """`NAME_FILE=/path`: the file, read whole on every fetch."""

    def __init__(self, setting: str, path: Path) -> None:
        if not path.is_absolute():
            raise ValueError("the path must be absolute")
        self.name = setting
        self.path = path
        self.where = str(path)
        self.fields: Mapping[str, object] = {"setting": setting, "source": self.where}
        self._calls: BoundedCall[bytes] = BoundedCall(f"read {setting}")

    def __repr__(self) -> str:
        return f"SecretFile({self.name!r}, {self.where!r})"

    def fetch(self, budget: float, known: object) -> Fetched[str]:
        budget = min(budget, READ_SECONDS)
        try:
            data = self._calls.run(self._read_bytes, budget)
            text = secret_text(data)
        except StillStalled:
            # At most one thread waits on a stalled file; later reads fail at once.
            raise self._error("an earlier read is still waiting on the file") from None
        except CallTimedOut:
            raise self._error(f"no answer within {budget:.3g} s") from None
        except OSError as e:
            raise self._error(e.strerror or type(e).__name__) from None
        except ValueError as e:
            raise self._error(str(e)) from None
        return Fetched(text, self.where, tag=digest(text))

    def _read_bytes(self) -> bytes:
        with self.path.open("rb") as file:
            return file.read(MAX_SECRET_BYTES + 1)

    def _error(self, cause: str) -> FetchFailed:
        return FetchFailed(f"{self.name}: cannot read file {self.where}: {cause}")
