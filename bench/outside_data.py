"""Data from outside the policy: `python -m bench.outside_data` prints the figures of
docs/outside_data.md.

1. Import at cold start: google-auth's authorized session (what lists/cloud_storage.py uses) and
   google-cloud-storage's client, each in a fresh interpreter that has already imported what the
   function imports; alone, and after google-cloud-secret-manager (when secrets come from there).
2. A 1,000,000-entry list: load time and memory in a fresh process per kind (read from a file,
   so that making the data does not set the peak), then a second load while the first is held
   (a refresh); and the whole path through the Cloud Storage JSON API on loopback.
3. Membership in a 10-entry and a 1,000,000-entry list, as a rule asks it (`members()` then
   `in`), round by round.
4. The directory: a cached answer, and an uncached one against a bare HTTPS client's round trip
   to the same loopback server.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.stats import Spread, per_op_seconds, ratios

if TYPE_CHECKING:
    from lists.outside_list import OutsideList

ROOT = Path(__file__).resolve().parent.parent
FUNCTION_IMPORTS = (
    "import functions_framework, starlette, jwt; "
    "import cryptography.hazmat.primitives.asymmetric.rsa"
)
SESSION = (
    "import google.auth, google_crc32c; "
    "from google.auth.credentials import AnonymousCredentials; "
    "from google.auth.transport.requests import AuthorizedSession; "
    "AuthorizedSession(AnonymousCredentials())"
)
CLIENT = (
    "from google.auth.credentials import AnonymousCredentials; "
    "from google.cloud import storage; "
    "storage.Client(project='p', credentials=AnonymousCredentials())"
)
SECRET_MANAGER = "from google.cloud import secretmanager_v1"
MEASURE = """
import resource, time
{before}
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
{code}
took = time.perf_counter() - started
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss
print(took * 1000, grown / 1024)
"""


def interleaved(
    ops: dict[str, Callable[[Any], object]], items: list[Any], rounds: int
) -> dict[str, list[float]]:
    """Per round, the median time (µs) of each op's calls, the ops called in turn on each item:
    on a machine shared with other work, a burst of load then falls on every op alike."""
    found: dict[str, list[float]] = {name: [] for name in ops}
    for _ in range(rounds):
        times: dict[str, list[float]] = {name: [] for name in ops}
        for item in items:
            for name, op in ops.items():
                started = time.perf_counter()
                op(item)
                times[name].append(time.perf_counter() - started)
        for name, taken in times.items():
            found[name].append(statistics.median(taken) * 1e6)
    return found


def child(code: str, env: dict[str, str] | None = None) -> list[float]:
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return [float(word) for word in done.stdout.split()]


def line(case: str, spread: Spread, unit: str, note: str = "") -> str:
    digits = 1 if spread.median >= 10 else 2
    figure = f"{spread.median:.{digits}f} {unit}"
    return f"| {case} | {figure} | {spread.p10:.{digits}f}–{spread.p90:.{digits}f} | {note} |"


def imports(rounds: int) -> list[str]:
    cases = {"authorized session": SESSION}
    if importlib.util.find_spec("google.cloud.storage") is not None:
        cases["google-cloud-storage client"] = CLIENT
    found: dict[str, list[list[float]]] = {}
    for _ in range(rounds):
        for name, code in cases.items():
            for after_sm in (False, True):
                before = FUNCTION_IMPORTS + ("; " + SECRET_MANAGER if after_sm else "")
                key = name + (", after Secret Manager's client" if after_sm else "")
                found.setdefault(key, []).append(child(MEASURE.format(before=before, code=code)))
    rows = []
    for key, samples in found.items():
        ms = Spread.of([s[0] for s in samples])
        mib = Spread.of([s[1] for s in samples])
        rows.append(line(f"import + build: {key}", ms, "ms", f"+{mib.median:.1f} MiB peak RSS"))
    if "google-cloud-storage client" not in cases:
        missing = "pip install -r bench/requirements.txt"
        rows.append(f"| google-cloud-storage | not installed | | {missing} |")
    return rows


LOAD = """
import gc, resource, sys, time
from pathlib import Path
from lists import entries
from lists.parse import read_list

def rss():
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096 / 2**20

data = Path(sys.argv[1]).read_bytes()
gc.collect()
base, peak0 = rss(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
started = time.perf_counter()
first = read_list(data, entries.{kind}, max_bytes=1 << 30)
took = time.perf_counter() - started
gc.collect()
held = rss() - base
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base
second = read_list(data, entries.{kind}, max_bytes=1 << 30)
refresh_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base
print(took, held, peak, refresh_peak, len(data) / 2**20, len(first))
"""


def entries_of(kind: str, count: int) -> list[str]:
    if kind == "EMAIL_ADDRESSES":
        return [f"person.{i:07d}@partner{i % 5000}.example.com" for i in range(count)]
    if kind == "DOMAINS":
        return [f"partner-{i:07d}.example.com" for i in range(count)]
    if kind == "EMPLOYEE_NUMBERS":
        return [f"E{i:07d}" for i in range(count)]
    return [f"{10 + i // 65536}.{i // 256 % 256}.{i % 256}.0/24" for i in range(count)]


def loads(rounds: int, count: int) -> list[str]:
    rows = []
    for kind in ("EMAIL_ADDRESSES", "DOMAINS", "EMPLOYEE_NUMBERS", "NETWORKS"):
        with tempfile.NamedTemporaryFile(suffix=".txt") as file:
            file.write("".join(f"{e}\n" for e in entries_of(kind, count)).encode())
            file.flush()
            samples = [_load(kind, file.name) for _ in range(rounds)]
        took = Spread.of([s[0] for s in samples])
        held = Spread.of([s[1] for s in samples])
        peak = Spread.of([s[2] for s in samples])
        refresh = Spread.of([s[3] for s in samples])
        note = (
            f"{samples[0][4]:.1f} MB file; held {held.median:.0f} MiB, peak while loading "
            f"{peak.median:.0f} MiB, peak of a refresh beside the held list "
            f"{refresh.median:.0f} MiB (RSS above the process before)"
        )
        rows.append(line(f"load {count:,} {kind.lower().replace('_', ' ')}", took, "s", note))
    return rows


def _load(kind: str, path: str) -> list[float]:
    done = subprocess.run(
        [sys.executable, "-c", LOAD.replace("{kind}", kind), path],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return [float(word) for word in done.stdout.split()]


def through_cloud_storage(count: int) -> list[str]:
    from lists import entries
    from lists.outside_list import Endpoints, ListSettings, OutsideList
    from tests.cloud_storage_support import cloud_storage

    data = "".join(f"{e}\n" for e in entries_of("EMAIL_ADDRESSES", count)).encode()
    times = []
    with cloud_storage() as server:
        server.put("gs://bench/list.txt", data)
        for _ in range(3):
            settings = ListSettings(
                "bench", "gs://bench/list.txt", entries.EMAIL_ADDRESSES, max_bytes=1 << 30
            )
            outside = OutsideList(settings, endpoints=Endpoints(storage=server.endpoint))
            started = time.perf_counter()
            assert outside.load(120)
            times.append(time.perf_counter() - started)
    return [
        line(
            f"cold-start load of {count:,} email addresses through the JSON API on loopback",
            Spread.of(times),
            "s",
            "metadata, media of that generation, CRC32C, parse",
        )
    ]


def membership(rounds: int, per_round: int, count: int) -> list[str]:
    """A list's check alone (`members()` then `in`), and inside the in-process work of a
    request (Okta's body parsed, the policy's decision, the answer built and checked)."""
    from lists import entries
    from lists.outside_list import Endpoints, ListSettings, OutsideList
    from okta_wire.contract import checked_body
    from okta_wire.request import parse_hook_request
    from okta_wire.response import okta_response
    from service.app import load_app
    from tests.cloud_storage_support import cloud_storage

    app = load_app({"OKTA_HOOK_BASIC_CREDENTIALS": "bench:bench-password-only"})
    sample = json.loads((ROOT / "tests" / "samples" / "okta_ssr_request.json").read_text())
    lists = {}
    with cloud_storage() as server:
        for size in (10, count):
            values = entries_of("EMAIL_ADDRESSES", size)
            server.put(f"gs://bench/{size}.txt", "".join(f"{e}\n" for e in values))
            settings = ListSettings(
                f"l{size}", f"gs://bench/{size}.txt", entries.EMAIL_ADDRESSES, max_bytes=1 << 30
            )
            outside = OutsideList(settings, endpoints=Endpoints(storage=server.endpoint))
            assert outside.load(120)
            rng = random.Random(size)
            # Fresh strings, made in order, as a request's parsed body brings them.
            emails = [
                (rng.choice(values) if i % 2 else f"someone.{i}@elsewhere.example")
                .encode()
                .decode()
                for i in range(per_round)
            ]
            bodies = []
            for email in emails[: per_round // 10]:
                sample["data"]["userProfile"]["email"] = email
                bodies.append(json.dumps(sample).encode())
            lists[size] = (outside, emails, bodies)

    def request(outside: OutsideList) -> Callable[[bytes], object]:
        def answer(body: bytes) -> object:
            hook = parse_hook_request(body)
            decision = app.decide(hook)
            listed = hook.submitted.get("email") in outside.members()
            return checked_body(okta_response(decision), decision.request_type), listed

        return answer

    checks: dict[int, list[float]] = {10: [], count: []}
    for _ in range(rounds):
        for size, (outside, emails, _) in lists.items():
            checks[size].append(per_op_seconds(asking(outside), emails) * 1e6)
    # The same bodies for both lists (half of them members of the long one), call by call.
    both = interleaved(
        {str(size): request(outside) for size, (outside, _, _) in lists.items()},
        lists[count][2],
        rounds,
    )
    requests = {size: both[str(size)] for size in lists}
    check_ratio = Spread.of(ratios(checks[count], checks[10]))
    request_ratio = Spread.of(ratios(requests[count], requests[10]))
    return [
        line("list check, 10 entries (members() then `in`)", Spread.of(checks[10]), "µs"),
        line(
            f"list check, {count:,} entries",
            Spread.of(checks[count]),
            "µs",
            f"ratio to 10 entries {check_ratio.median:.2f}x "
            f"({check_ratio.p10:.2f}–{check_ratio.p90:.2f}); half members, half not",
        ),
        line("request work + a 10-entry list check", Spread.of(requests[10]), "µs"),
        line(
            f"request work + a {count:,}-entry list check",
            Spread.of(requests[count]),
            "µs",
            f"ratio {request_ratio.median:.2f}x ({request_ratio.p10:.2f}–{request_ratio.p90:.2f})"
            "; target <= 1.1",
        ),
    ]


def asking(outside: OutsideList) -> Callable[[str], bool]:
    """What a rule does with a list: the last good one, then one membership test."""

    def ask(value: str) -> bool:
        return value in outside.members()

    return ask


SERVE_DIRECTORY = """
import sys
from pathlib import Path
from tests.directory_support import DirectoryServer
server = DirectoryServer(Path(sys.argv[1]), Path(sys.argv[2]))
server.records = {
    f"E{i}": {"email": f"p{i}@example.com", "department": "Sales"} for i in range(50)
}
server.start()
print(server.port, flush=True)
sys.stdin.read()
"""


def directory(rounds: int, per_round: int) -> list[str]:
    """The directory server runs in a process of its own: in this one, its threads would take
    the interpreter's lock in turns with the client being measured."""
    import http.client
    import ssl

    from directory.client import Directory
    from directory.rule import judge_lookup
    from directory.settings import DirectorySettings, Match
    from directory.templates import JsonPath, UrlTemplate
    from tests.directory_support import authority

    with tempfile.TemporaryDirectory() as folder:
        ca = authority(Path(folder), "bench")
        cert, key = ca.issue(Path(folder), "directory", ["localhost"])
        served = subprocess.Popen(
            [sys.executable, "-c", SERVE_DIRECTORY, str(cert), str(key)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert served.stdout is not None
            port = int(served.stdout.readline())

            def made(cache: int) -> Directory:
                return Directory(
                    DirectorySettings(
                        "bench",
                        UrlTemplate(f"https://localhost:{port}/people/{{number}}"),
                        match=(Match(JsonPath("email"), "email"),),
                        copy={"department": JsonPath("department")},
                        cache_entries=cache,
                        ca_bundle=str(ca.cert_path),
                    )
                )

            cached, uncached = made(10_000), made(0)
            submitted = [{"number": f"E{i}", "email": f"p{i}@example.com"} for i in range(50)]
            for values in submitted:
                judge_lookup(cached, values)
            context = ssl.create_default_context(cafile=str(ca.cert_path))
            # As careful a client as the lookup: a timeout on its socket, kept alive.
            bare = http.client.HTTPSConnection("localhost", port, context=context, timeout=2.0)

            def raw(values: dict[str, str]) -> None:
                bare.request("GET", f"/people/{values['number']}", headers={"Accept": "*/*"})
                bare.getresponse().read()

            hits = [
                per_op_seconds(lambda v: judge_lookup(cached, v), submitted * 200) * 1e6
                for _ in range(rounds)
            ]
            timed = interleaved(
                {"bare": raw, "lookup": lambda v: judge_lookup(uncached, v)},
                submitted * max(per_round // 2000, 4),
                rounds,
            )
            round_trips, calls = timed["bare"], timed["lookup"]
            bare.close()
            cached.close()
            uncached.close()
        finally:
            assert served.stdin is not None
            served.stdin.close()
            served.wait(10)
    over = Spread.of([c - r for c, r in zip(calls, round_trips, strict=True)])
    ratio = Spread.of(ratios(calls, round_trips))
    return [
        line("directory: a cached answer (judge_lookup)", Spread.of(hits), "µs", "target <= 20 µs"),
        line(
            "directory: bare HTTPS round trip, kept alive (http.client)",
            Spread.of(round_trips),
            "µs",
            "the server in a process of its own",
        ),
        line(
            "directory: an uncached answer (judge_lookup, kept alive)",
            Spread.of(calls),
            "µs",
            f"{over.median:.0f} µs ({over.p10:.0f}–{over.p90:.0f}) over the bare round trip, "
            f"ratio {ratio.median:.2f}x",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.outside_data", description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--per-round", type=int, default=20_000)
    parser.add_argument("--skip", default="", help="comma-separated sections to leave out")
    args = parser.parse_args()
    skip = set(args.skip.split(","))
    rows = ["| case | median | p10–p90 | note |", "| --- | --- | --- | --- |"]
    if "1" not in skip:
        rows += imports(args.rounds)
    if "2" not in skip:
        rows += loads(max(args.rounds // 2, 1), args.entries)
        rows += through_cloud_storage(args.entries)
    if "3" not in skip:
        rows += membership(args.rounds * 2, args.per_round, args.entries)
    if "4" not in skip:
        rows += directory(args.rounds, args.per_round)
    print("\n".join(rows))
    print(json.dumps({"python": sys.version.split()[0], "load": os.getloadavg()}))


if __name__ == "__main__":
    main()
