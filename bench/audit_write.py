"""Section 3, the audit line: what writing it costs the event loop, through the writer thread (as
served, `core.logs.configure()`) and written synchronously (`configure(background=False)`).

stdout is a pipe that another process (`cat`) drains, as Cloud Run's agent reads a function's
stdout. Each call of `Audit.write` is timed on its own: the median is what a request waits for,
the 99th percentile shows when the writer thread held the GIL. A second figure divides a batch,
with the wait for the writer to catch up, by its lines: everything a line costs in any thread.
Last, the reader is stopped (SIGSTOP) while the batch is written: the pipe fills up, the writer
thread blocks in its write, and the loop must not.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
import statistics
import subprocess
import time
from collections.abc import Iterator

from auth.caller import Caller
from bench.stats import Row, Spread, quantile, ratios
from core import logs
from okta_wire.models import Decision, HookRequest, RequestType
from service.audit import Audit

SECTION = "3 request"
HEADERS = {"X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1;o=1"}


def filled(count: int) -> list[Audit]:
    """Audits of an allowed registration by Basic, as the hook fills them."""
    request = HookRequest(RequestType.REGISTRATION, "04Dmt8BcT_aEgM", {"email": "a@example.com"})
    decision = Decision(RequestType.REGISTRATION, True, email_domain="example.com")
    made = []
    for _ in range(count):
        audit = Audit.start(HEADERS, "bench-project")
        audit.caller(Caller(scheme="basic", subject="okta-bench"))
        audit.request(request, retry=False)
        audit.decision(decision, "0123456789ab", None)
        made.append(audit)
    return made


@contextlib.contextmanager
def piped_stdout() -> Iterator[subprocess.Popen[bytes]]:
    reader = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    assert reader.stdin is not None
    try:
        with (
            open(reader.stdin.fileno(), "w", encoding="utf-8", closefd=False) as sink,
            contextlib.redirect_stdout(sink),
        ):
            yield reader
    finally:
        reader.stdin.close()
        reader.wait(timeout=10)


def handlers() -> dict[str, logging.Handler]:
    """The two handlers `logs.configure` makes, each made once (a writer thread each)."""
    made = {}
    for name, background in (("writer thread", True), ("synchronous", False)):
        logs.logger.handlers = []
        logs.configure(background=background)
        (made[name],) = logs.logger.handlers
    return made


def calls(count: int, status: int = 200) -> tuple[list[float], float]:
    """Seconds of each `Audit.write`, and of the batch with the wait for the lines, per line."""
    made = filled(count)
    each = []
    gc.collect()
    started = time.perf_counter()
    for audit in made:
        before = time.perf_counter()
        audit.write(status)
        each.append(time.perf_counter() - before)
    logs.flush()
    return each, (time.perf_counter() - started) / count


def run(floors: list[float], per_round: int) -> list[Row]:
    saved = logs.logger.handlers[:]
    median: dict[str, list[float]] = {}
    p99: dict[str, list[float]] = {}
    whole: dict[str, list[float]] = {}
    try:
        made = handlers()
        with piped_stdout() as reader:
            for _ in floors:
                for name, handler in made.items():
                    logs.logger.handlers = [handler]
                    each, per_line = calls(per_round)
                    median.setdefault(name, []).append(statistics.median(each))
                    p99.setdefault(name, []).append(quantile(each, 0.99))
                    whole.setdefault(name, []).append(per_line)
                # The reader stops; the writer thread blocks on the full pipe, the loop goes on.
                logs.logger.handlers = [made["writer thread"]]
                os.kill(reader.pid, signal.SIGSTOP)
                try:
                    made_audits = filled(per_round)
                    each = []
                    for audit in made_audits:
                        before = time.perf_counter()
                        audit.write(200)
                        each.append(time.perf_counter() - before)
                finally:
                    os.kill(reader.pid, signal.SIGCONT)
                logs.flush()
                median.setdefault("stopped", []).append(statistics.median(each))
                p99.setdefault("stopped", []).append(quantile(each, 0.99))
    finally:
        logs.logger.handlers = saved

    def row(name: str, case: str, note: str) -> Row:
        return Row(
            SECTION, case, "µs", Spread.of([v * 1e6 for v in median[name]]), "floor",
            Spread.of(ratios(median[name], floors)), note=note,
        )  # fmt: skip

    def micro(values: list[float]) -> str:
        return f"{Spread.of(values).median * 1e6:.1f} µs"

    return [
        row(
            "writer thread",
            "audit line, writer thread (as served): Audit.write on the loop, median call",
            f"p99 call {micro(p99['writer thread'])}; with the writer's own work "
            f"{micro(whole['writer thread'])} a line",
        ),
        row(
            "synchronous",
            "audit line, written synchronously: Audit.write on the loop, median call",
            f"p99 call {micro(p99['synchronous'])}; {micro(whole['synchronous'])} a line",
        ),
        row(
            "stopped",
            "audit line, writer thread, the pipe's reader stopped: on the loop, median call",
            f"p99 call {micro(p99['stopped'])}; a synchronous write would wait for the reader",
        ),
    ]
