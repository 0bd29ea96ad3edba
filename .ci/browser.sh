#!/usr/bin/env bash
# CI: Debian's Chromium and its WebDriver for the real-browser test
# (tests/tests/browser.rs), which fails when they are missing and CI is set.
set -euo pipefail

if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
    echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo installed)"
    exit 0
fi

# Root in a CI container, sudo elsewhere; `env` because sudo drops the environment.
as_root=(env DEBIAN_FRONTEND=noninteractive)
if [[ $(id -u) -ne 0 ]]; then
    as_root=(sudo env DEBIAN_FRONTEND=noninteractive)
fi
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q chromium chromium-driver
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo installed)"
