#!/usr/bin/env bash
# A real Home Assistant for the acceptance tests (pytest -m ha), in its own virtual environment:
# homeassistant at the pinned version, and the Python requirements of every integration the
# tests set up, pinned by Home Assistant's own package_constraints.txt, so that it starts with
# --skip-pip and never installs anything at run time.
#
# Usage: scripts/setup-ha.sh [VENV]        (default: .venv-ha at the top of the repository)
# Exit codes: 0 ready (at once when it already is); 69 no Python 3.13 on this machine (the
# newest Home Assistant for Python 3.13.0 is 2025.4.4; later ones need 3.13.2 or 3.14);
# anything else: the installation failed.
set -euo pipefail

HA_VERSION="2025.4.4"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-$ROOT/.venv-ha}"
STAMP="$VENV/.installed-$HA_VERSION"

# The integrations the tests load: what Home Assistant sets up whatever the configuration says
# (bootstrap's default and core integrations; the frontend among them, without which it starts
# in recovery mode), the ones the test configuration names, and the MQTT entity platforms.
# Their manifests' dependencies are followed below.
INTEGRATIONS="homeassistant persistent_notification logger system_log network analytics
application_credentials backup frontend hardware system_health automation person scene script
tag zone counter input_boolean input_button input_datetime input_number input_select input_text
schedule timer http api auth websocket_api onboarding config energy recorder mqtt sensor
binary_sensor light switch fan cover lock climate button number select text event"

if [[ -f "$STAMP" && -x "$VENV/bin/hass" ]]; then
    exit 0
fi

python313() {
    local candidate root=""
    command -v pyenv >/dev/null 2>&1 && root="$(pyenv root)"
    for candidate in "${PYTHON313:-}" $(ls -d "$root"/versions/3.13*/bin/python3.13 \
        "$HOME"/.pyenv/versions/3.13*/bin/python3.13 2>/dev/null | sort -rV) \
        "$(command -v python3.13 || true)"; do
        if [[ -n "$candidate" && -x "$candidate" ]] &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

if ! PY="$(python313)"; then
    echo "setup-ha.sh: no Python 3.13 here (set PYTHON313=/path/to/python3.13)" >&2
    exit 69
fi
started_s=$(date +%s)
echo "Installing Home Assistant $HA_VERSION into $VENV with $PY (a few minutes, about 800 MB)"
[[ -x "$VENV/bin/python" ]] || "$PY" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check --quiet)
"${PIP[@]}" install "homeassistant==$HA_VERSION"

REQUIREMENTS="$VENV/.requirements.txt"
INTEGRATIONS="$INTEGRATIONS" "$VENV/bin/python" - "$REQUIREMENTS" <<'PY'
import json
import os
import sys
from pathlib import Path

import homeassistant.components as components

folder = Path(components.__path__[0])
pending, seen, requirements = os.environ["INTEGRATIONS"].split(), set(), set()
while pending:
    domain = pending.pop()
    if domain not in seen:
        seen.add(domain)
        manifest = json.loads((folder / domain / "manifest.json").read_text())
        pending.extend(manifest.get("dependencies", []))
        requirements.update(manifest.get("requirements", []))
Path(sys.argv[1]).write_text("".join(f"{r}\n" for r in sorted(requirements)))
PY
CONSTRAINTS="$("$VENV/bin/python" -c 'import homeassistant, pathlib; print(pathlib.Path(homeassistant.__file__).with_name("package_constraints.txt"))')"
[[ -s "$REQUIREMENTS" ]] && "${PIP[@]}" install -r "$REQUIREMENTS" -c "$CONSTRAINTS"

# Every requirement present at its pinned version, or the tests would fail in obscure ways.
"$VENV/bin/python" - "$REQUIREMENTS" <<'PY'
import sys
from importlib import metadata
from pathlib import Path

wrong = []
for line in Path(sys.argv[1]).read_text().split():
    name, _, version = line.partition("==")
    try:
        found = metadata.version(name)
    except metadata.PackageNotFoundError:
        found = "missing"
    if version and found != version:
        wrong.append(f"{line} ({found})")
if wrong:
    sys.exit("setup-ha.sh: requirements not installed: " + ", ".join(wrong))
PY

touch "$STAMP"
echo "Home Assistant $HA_VERSION ready in $VENV after $(( $(date +%s) - started_s )) s"
