#!/usr/bin/env bash
# A real Wyoming satellite for the tests of satellites as rooms (tests/e2e/test_satellites.py),
# in its own virtual environment: wyoming-satellite 1.0.0 pins wyoming==1.4.1, which Hearth's own
# environment does not use.
#
# Usage: scripts/setup-satellite.sh [VENV]   (default: .venv-satellite at the top of the repository)
# Exit codes: 0 ready (at once when it already is); anything else: the installation failed.
set -euo pipefail

SATELLITE_VERSION="1.0.0"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-$ROOT/.venv-satellite}"
STAMP="$VENV/.installed-$SATELLITE_VERSION"

if [[ -f "$STAMP" && -x "$VENV/bin/python" ]]; then
    exit 0
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "wyoming-satellite==$SATELLITE_VERSION"
"$VENV/bin/python" -m wyoming_satellite --help >/dev/null  # its console script is broken in 1.0.0
touch "$STAMP"
