"""Check policy files before they are deployed, say what each one allows and denies, and what
the Okta org needs for it (form inputs, attribute permissions, the user profile policy's settings).

python -m tools.policy_check policies/example_full.toml [more.toml ...]

Exit status 0 when every file is a valid policy; 1 when one is not (the error names its line).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from policy.loader import PolicyError, load_policy
from policy.summary import describe
from tools.okta_steps import okta_steps


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
    args = parser.parse_args(argv)
    domains = [d.strip() for d in args.allowed_email_domains.split(",") if d.strip()]
    if args.allowed_email_domains.strip() and not domains:
        print("OKTA_HOOK_ALLOWED_EMAIL_DOMAINS names nothing", file=sys.stderr)
        return 1
    invalid = 0
    for path in args.files:
        try:
            policy = load_policy(path)
            if domains:
                policy = policy.with_allowed_domains(domains)
        except PolicyError as e:
            print(f"{e}\n{path}: INVALID", file=sys.stderr)
            invalid += 1
            continue
        print("\n".join(describe(policy)))
        print("\n".join(okta_steps(policy).lines()))
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main())
