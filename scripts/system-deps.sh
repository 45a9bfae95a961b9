#!/usr/bin/env bash
# Installs the system packages Hearth needs (Debian/Ubuntu): mosquitto (the MQTT broker the tests
# start, and a broker for a fresh home), libportaudio2 (microphone and speaker through
# sounddevice), python3-venv, openssl (the tests make TLS certificates with it), systemd (its
# systemd-analyze checks the unit), iproute2 (the loopback-only test brings lo up), and chromium
# with chromium-driver (the dashboard's browser tests drive it headless), espeak-ng (voices that
# hearth bench --realtime and its test speak the held-out commands in). As root,
# missing ones are installed with apt-get; otherwise the exact command is printed and the script
# fails.
set -euo pipefail

missing=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
if ! { ldconfig -p 2>/dev/null || true; } | grep -q 'libportaudio\.so\.2'; then
  missing+=(libportaudio2)
fi
command -v openssl >/dev/null 2>&1 || missing+=(openssl)   # the TLS tests make certificates
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)   # the unit is verified
command -v ip >/dev/null 2>&1 || missing+=(iproute2)   # the loopback-only test brings lo up
command -v chromium >/dev/null 2>&1 || missing+=(chromium)   # the dashboard's browser tests
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)   # held-out voices for the bench
python="${PYTHON:-python3}"
"$python" -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Hearth needs these system packages: ${missing[*]}" >&2
  echo "Install them with:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "No apt-get here: install ${missing[*]} with this system's package manager." >&2
  exit 1
fi
echo "Installing system packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
