"""Check policy files before they are deployed: say what each one allows and denies, what the
Okta org needs for it (form inputs, attribute permissions, the user profile policy's settings),
and run the test cases beside it (`<policy>.cases.toml`).

python -m tools.policy_check policies/example_full.toml [more.toml ...]
python -m tools.policy_check --check-lists policies/partners.toml   # reads each [lists.NAME]

Exit status 0 when every file is a valid policy whose cases all pass (and, with --check-lists,
whose every list would be taken by the hook); 1 otherwise. Each error reads FILE:LINE: what is
wrong (the line of the key, table or case at fault).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lists.check import check_list
from lists.outside_list import Endpoints
from policy.loader import Policy, PolicyError, load_policy
from policy.policy_lines import line_of
from policy.summary import describe
from service.settings import ConfigError, secret_manager_endpoint, storage_endpoint
from tools.okta_steps import okta_steps
from tools.policy_cases import cases_path, coverage_gaps, run_cases


@dataclass
class Report:
    """The check of one policy file: its summary, its errors, and notes that do not fail it."""

    policy: Policy | None = None
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cases: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def check_policy_file(
    path: Path,
    allowed_email_domains: Sequence[str] = (),
    *,
    require_cases: bool = False,
    require_coverage: bool = False,
) -> Report:
    """The policy at `path` loaded (with the domains that would replace its [domains] allowed),
    and its cases run when there are any (or required): a case that fails is an error, and so is
    a rule no case sees both passing and failing when `require_coverage` is set."""
    report = Report()
    try:
        policy = load_policy(path)
        if allowed_email_domains:
            policy = policy.with_allowed_domains(allowed_email_domains)
    except PolicyError as e:
        report.errors.append(str(e))
        return report
    report.policy = policy
    cases = cases_path(path)
    if not cases.exists():
        if require_cases:
            report.errors.append(f"{path}: no test cases: write {cases} (see docs/policy.md)")
        return report
    outcome = run_cases(policy, cases)
    report.cases = outcome.cases
    report.errors += outcome.failures
    if not outcome.failures:
        gaps = coverage_gaps(policy, path.read_text(encoding="utf-8"), outcome)
        (report.errors if require_coverage else report.notes).extend(gaps)
    return report


def check_lists(
    policy: Policy, endpoints: Endpoints, previous: Mapping[str, int] | None = None
) -> tuple[list[str], list[str]]:
    """Each list of the policy read once from its source, as the hook reads it: a line per list
    (its version and counts, never an entry), and the errors of those the hook would refuse.
    `previous`: entry counts the hook last held, by list, to judge a shrink as it would."""
    lines, errors = [], []
    text = Path(policy.source).read_text(encoding="utf-8") if Path(policy.source).exists() else ""
    for name, declared in policy.lists.items():
        report = check_list(
            declared.settings, endpoints=endpoints, previous_entries=(previous or {}).get(name)
        )
        lines.append(f"  {report.describe()}")
        if not report.ok:
            line = line_of(text, ("lists", name))
            where = f"{policy.source}:{line}" if line is not None else policy.source
            errors.append(f"{where}: [lists.{name}]: the hook would not take it: {report.problem}")
    return lines, errors


def check_for_deploy(path: Path, allowed_email_domains: Sequence[str] = ()) -> list[str]:
    """What stops a deploy of the policy at `path`, as `FILE:LINE: ...` lines; empty when none.

    The policy must load (with OKTA_HOOK_ALLOWED_EMAIL_DOMAINS applied, as the function will) and
    have a case file whose every case passes."""
    return check_policy_file(path, allowed_email_domains, require_cases=True).errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.policy_check",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument(
        "--allowed-email-domains",
        default="",
        metavar="LIST",
        help="comma-separated; checked and applied as OKTA_HOOK_ALLOWED_EMAIL_DOMAINS would be",
    )
    parser.add_argument(
        "--require-cases", action="store_true", help="a policy without a case file is an error"
    )
    parser.add_argument(
        "--require-coverage",
        action="store_true",
        help="a rule no case sees both passing and failing is an error (else a note)",
    )
    parser.add_argument(
        "--check-lists",
        action="store_true",
        help="read each [lists.NAME] from its bucket or secret once (credentials and network "
        "needed: Application Default Credentials) and say whether the hook would take it",
    )
    parser.add_argument(
        "--previous-entries",
        action="append",
        default=[],
        metavar="NAME=COUNT",
        help="with --check-lists: the entries list NAME held (the count the hook logged), to "
        "judge a shrink as the hook would",
    )
    args = parser.parse_args(argv)
    domains = [d.strip() for d in args.allowed_email_domains.split(",") if d.strip()]
    if args.allowed_email_domains.strip() and not domains:
        print("OKTA_HOOK_ALLOWED_EMAIL_DOMAINS names nothing", file=sys.stderr)
        return 1
    try:
        # Where the lists are read: Google's APIs, or OKTA_HOOK_*_ENDPOINT as the function has it.
        endpoints = Endpoints(storage_endpoint(os.environ), secret_manager_endpoint(os.environ))
        previous = _counts(args.previous_entries)
    except (ConfigError, ValueError) as e:
        print(e, file=sys.stderr)
        return 1
    invalid = 0
    for path in args.files:
        report = check_policy_file(
            path,
            domains,
            require_cases=args.require_cases,
            require_coverage=args.require_coverage,
        )
        if report.policy is not None:
            print("\n".join(describe(report.policy)))
            print("\n".join(okta_steps(report.policy).lines()))
        if report.cases:
            status = "failed" if report.errors else "passed"
            print(f"  cases: {report.cases} in {cases_path(path)}, {status}")
        if args.check_lists and report.policy is not None:
            lines, errors = check_lists(report.policy, endpoints, previous)
            print("\n".join(lines or ["  lists: none to check"]))
            report.errors += errors
        for note in report.notes:
            print(f"  note: {note}")
        if not report.ok:
            print("\n".join(report.errors) + f"\n{path}: INVALID", file=sys.stderr)
            invalid += 1
    return 1 if invalid else 0


def _counts(given: list[str]) -> dict[str, int]:
    counts = {}
    for item in given:
        name, _, count = item.partition("=")
        if not name or not count.isdigit():
            raise ValueError(f"--previous-entries {item!r}: write NAME=COUNT")
        counts[name] = int(count)
    return counts


if __name__ == "__main__":
    sys.exit(main())
