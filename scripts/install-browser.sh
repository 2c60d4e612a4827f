#!/usr/bin/env bash
# Debian's Chromium and its WebDriver for the browser test (tests/integration/test_ui.py).
# Idempotent and quiet: does nothing when both are installed. Needs root (or sudo) for apt-get.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && [ -x /usr/bin/chromedriver ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-browser.sh: chromium is missing and this user cannot run apt-get" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
echo "==> installing chromium and chromium-driver (apt)"
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-liberation >/dev/null
chromium --version
