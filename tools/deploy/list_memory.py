"""How much memory an instance needs for the lists a policy names, by the figures measured in
docs/outside_data.md (bench/outside_data.py, 1,000,000 entries of each kind), and the `--memory`
to give when the one given is below it.

The function reads every list in gunicorn's master at cold start and forks its workers with
them (service/outside.py): the master keeps its copy, and each worker, once it has refreshed,
holds its own, plus the new version while one is read beside the held one. At the worst moment:
    master: BASE + held;  each of WORKERS workers: BASE + held + read beside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# RSS of a process that imported the function (`import main` with google-auth's session).
BASE_MIB = 51.0
# Per kind, for 1,000,000 entries: the file's size (MB), the entries held (MiB), and what a
# refresh that found a new version reads beside them (MiB: its peak, less what is held).
PER_MILLION: dict[str, tuple[float, float, float]] = {
    "email_addresses": (37.0, 132.0, 152.0),
    "domains": (26.7, 117.0, 168.0),
    "employee_numbers": (8.6, 101.0, 122.0),
    "networks": (14.4, 71.0, 124.0),
    # Not measured: taken as employee numbers, the shortest entries (the most per byte).
    "codes": (8.6, 101.0, 122.0),
}
# The instance sizes Cloud Run offers, and the room kept above an estimate (the figures are
# medians of one machine; the table in docs/outside_data.md rounds the same way).
SIZES_MIB = (512, 1024, 2048, 4096, 8192, 16384, 32768)
MARGIN = 1.25
_MEMORY = re.compile(r"([1-9][0-9]*)(k|M|G|Ki|Mi|Gi)")
_UNITS = {"k": 1e3, "M": 1e6, "G": 1e9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}


@dataclass(frozen=True)
class ListSize:
    name: str
    kind: str
    size_bytes: int
    how: str  # "declared" (the policy's max_bytes) or "measured" (the object's size)

    @property
    def entries(self) -> int:
        return round(self.size_bytes / (PER_MILLION[self.kind][0] * 1e6) * 1_000_000)

    @property
    def held_mib(self) -> float:
        return PER_MILLION[self.kind][1] * self.entries / 1_000_000

    @property
    def refresh_mib(self) -> float:
        return PER_MILLION[self.kind][2] * self.entries / 1_000_000

    def describe(self) -> str:
        return (
            f"list {self.name}: {self.size_bytes / 1e6:.1f} MB ({self.how}), about "
            f"{self.entries:,} {self.kind.replace('_', ' ')}: {self.held_mib:.0f} MiB held, "
            f"{self.refresh_mib:.0f} MiB more while a new version is read"
        )


def memory_mib(memory: str) -> float:
    """`--memory` (512Mi, 1Gi, 2G, ...) in MiB."""
    found = _MEMORY.fullmatch(memory)
    if found is None:
        raise ValueError(f"--memory {memory} is not a size like 512Mi")
    return int(found.group(1)) * _UNITS[found.group(2)] / 2**20


def needed_mib(sizes: list[ListSize], workers: int) -> float:
    held = sum(size.held_mib for size in sizes)
    beside = sum(size.refresh_mib for size in sizes)
    return BASE_MIB + held + workers * (BASE_MIB + held + beside)


def advice(sizes: list[ListSize], workers: int, memory: str) -> list[str]:
    """Warning lines when `memory` is below what the lists need (nothing when it is enough)."""
    if not sizes:
        return []
    needed = needed_mib(sizes, workers)
    if needed * MARGIN <= memory_mib(memory):
        return []
    wanted = next((f for f in SIZES_MIB if f >= needed * MARGIN), SIZES_MIB[-1])
    size = f"{wanted // 1024}Gi" if wanted >= 1024 else f"{wanted}Mi"
    return [
        f"warning: the policy's lists need more memory than --memory {memory}: about "
        f"{needed:.0f} MiB while they are refreshed (WORKERS={workers}: the gunicorn master keeps "
        "its cold-start copy, each worker its own and a new version read beside it; "
        f"docs/outside_data.md has the figures); give --memory {size}",
        *(f"  {s.describe()}" for s in sizes),
    ]
