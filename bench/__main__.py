"""`python -m bench` (or `make bench`): run every section, print the table, write RESULTS.md."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench import audit_write, cold_start, http_load, machine, request, verification
from bench.notes import METHOD, concurrency, limits_of
from bench.stats import Row, Spread

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def figure(spread: Spread, unit: str) -> tuple[str, str]:
    digits = 0 if unit == "req/s" else 1 if spread.median >= 10 else 2
    return (
        f"{spread.median:.{digits}f} {unit}",
        f"{spread.p10:.{digits}f}–{spread.p90:.{digits}f}",
    )


def table(rows: list[Row]) -> str:
    lines = [
        "| § | case | median | p10–p90 | ratio | ratio p10–p90 | ratio to | target | met | note |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        median, spread = figure(row.absolute, row.unit)
        ratio = spread_ratio = ""
        if row.ratio is not None:
            ratio = f"{row.ratio.median:.2f}x"
            spread_ratio = f"{row.ratio.p10:.2f}–{row.ratio.p90:.2f}"
        met = {True: "yes", False: "**no**", None: ""}[row.met]
        lines.append(
            f"| {row.section} | {row.case} | {median} | {spread} | {ratio} | {spread_ratio} | "
            f"{row.reference} | {row.target} | {met} | {row.note} |"
        )
    return "\n".join(lines)


def by_limit(missed: list[Row], rows: list[Row]) -> dict[str, list[str]]:
    """The missed cases grouped under what bounds them, each explanation said once."""
    grouped: dict[str, list[str]] = {}
    for row in missed:
        grouped.setdefault(limits_of(row, rows), []).append(row.case)
    return grouped


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--rounds", type=int, default=15, help="rounds of sections 1-3")
    parser.add_argument("--per-round", type=int, default=200, help="calls per round, sections 1-3")
    parser.add_argument("--cold-rounds", type=int, default=7, help="process starts per case")
    parser.add_argument("--http-rounds", type=int, default=5, help="wrk runs per case and layout")
    parser.add_argument("--http-seconds", type=int, default=3, help="length of one wrk run")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--skip", default="", help="comma-separated sections to leave out: 3, 4 and/or 5"
    )
    args = parser.parse_args()

    about = machine.describe()
    started = time.perf_counter()
    print("sections 1-2: floor and Bearer verification ...", flush=True)
    rows, floors = verification.run(args.rounds, args.per_round)
    skip = set(args.skip.split(","))
    if "3" not in skip:
        print("section 3: whole requests in process ...", flush=True)
        rows += request.run(floors, args.per_round)
        rows += audit_write.run(floors, args.per_round)
    if "4" not in skip:
        print("section 4: cold starts ...", flush=True)
        rows += cold_start.run(args.cold_rounds)
    skipped = ""
    if "5" not in skip:
        print("section 5: HTTP on loopback with wrk ...", flush=True)
        http_rows, skipped = http_load.run(args.http_rounds, args.http_seconds)
        rows += http_rows
    elapsed = time.perf_counter() - started

    shown = table(rows)
    in_flight = ", ".join(map(str, http_load.IN_FLIGHT))
    print()
    print(shown)
    if skipped:
        print(f"\n{skipped}")
    missed = [row for row in rows if row.met is False]
    report = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`python -m bench`); every ratio is taken round by round against",
        "a reference measured in the same run, and the median and p10–p90 are over the rounds.",
        "",
        "## Machine",
        "",
        *[f"- {name}: {value}" for name, value in about.items()],
        f"- rounds: sections 1–3 {args.rounds} × {args.per_round} calls; section 4 "
        f"{args.cold_rounds} starts per case; section 5 {args.http_rounds} × "
        f"{args.http_seconds:g} s per case and layout, and as many with {in_flight} in flight; "
        f"whole run {elapsed:.0f} s",
        "",
        "## Results",
        "",
        shown,
        "",
        *([skipped, ""] if skipped else []),
        "## Targets",
        "",
        f"{sum(row.met is True for row in rows)} met, {len(missed)} missed.",
        "",
        *[
            line
            for text, cases in by_limit(missed, rows).items()
            for line in ("- Missed: " + "; ".join(cases) + f". {text}", "")
        ],  # fmt: skip
        *concurrency(rows),
        METHOD,
    ]
    args.output.write_text("\n".join(report).rstrip() + "\n", "utf-8")
    print(f"\n{len(missed)} target(s) missed; written to {args.output}")


if __name__ == "__main__":
    main()
