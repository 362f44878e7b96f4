#!/usr/bin/env bash
# Deploys the Okta registration inline hook as a 2nd-gen Cloud Function, the same way every time,
# and prints (or creates) the Okta inline hook that points at it. `./deploy.sh --help` explains it.
#
# The work is done in Python by tools/deploy (python -m tools.deploy), which checks the settings
# with the function's own code. This only finds a Python 3.11 or newer to run it: $PYTHON, else
# .venv/bin/python when present, else python3.
set -euo pipefail

die() {
  printf 'deploy.sh: error: %s\n' "$*" >&2
  exit 1
}

# Secret files are read relative to where deploy.sh was started; everything else is the checkout.
export DEPLOY_STARTED_IN=$PWD
cd "$(dirname "${BASH_SOURCE[0]}")"

if [[ -z ${PYTHON:-} ]]; then
  if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
command -v "$PYTHON" >/dev/null || die "no Python ($PYTHON): set PYTHON to Python 3.11 or newer"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
  die "$PYTHON is older than Python 3.11 (set PYTHON)"

exec "$PYTHON" -m tools.deploy "$@"
