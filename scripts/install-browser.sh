#!/usr/bin/env bash
# Debian's Chromium and its WebDriver for the browser test (tests/integration/test_ui.py).
# Idempotent and quiet: does nothing when both are installed. Needs root (or sudo) for apt-get.
# The fonts cover the scripts the seed outlets write in (Latin, Cyrillic, Arabic/Persian) for screenshots.
set -euo pipefail
PACKAGES=(chromium chromium-driver fonts-liberation fonts-dejavu-core)
if command -v chromium >/dev/null 2>&1 && [ -x /usr/bin/chromedriver ] \
        && dpkg-query -W -f='${Status}\n' "${PACKAGES[@]}" 2>/dev/null | grep -cx 'install ok installed' \
        | grep -qx "${#PACKAGES[@]}"; then
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
$SUDO apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
chromium --version
