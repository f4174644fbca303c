#!/usr/bin/env bash
# Install what tests/test_report_browser.py needs: Debian's headless Chromium
# and its driver, a CJK font (so screenshots show Chinese, not boxes), and the
# Selenium Python bindings. Idempotent and quiet: it does nothing when all is
# there, prints only on failure, and exits non-zero when something is missing.
# Usage: bash .ci/install-chromium.sh   (PYTHON=... to pick the interpreter)
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
PY="${PYTHON:-python3}"

# Run a command with its output hidden; show the output and stop if it fails.
quiet() {
    local log
    log="$(mktemp)"
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        echo "install-chromium: failed: $*" >&2
        exit 1
    fi
    rm -f "$log"
}

pkgs=()
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    pkgs+=(chromium chromium-driver)
fi
if ! command -v fc-list >/dev/null 2>&1 || [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
    pkgs+=(fonts-wqy-zenhei)
fi
if [ "${#pkgs[@]}" -gt 0 ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    quiet $SUDO apt-get update
    quiet $SUDO apt-get install -y --no-install-recommends "${pkgs[@]}"
fi

if ! "$PY" -c "import selenium" >/dev/null 2>&1; then
    quiet "$PY" -m pip install --quiet --disable-pip-version-check "selenium>=4.10"
fi

for f in /usr/bin/chromium /usr/bin/chromedriver; do
    if [ ! -x "$f" ]; then
        echo "install-chromium: $f is still missing" >&2
        exit 1
    fi
done
"$PY" -c "import selenium" || { echo "install-chromium: selenium not importable by $PY" >&2; exit 1; }
