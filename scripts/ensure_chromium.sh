#!/usr/bin/env bash
# Debian's chromium, for the report's browser test (tests/unit/report/test_browser.py drives it with
# Playwright; no browser is downloaded). Installed with apt-get when missing; apt-get needs root, so
# anyone else is told, in one sentence, what to install (the test then skips, and fails under CI).
set -euo pipefail
chromium="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$chromium" ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: $chromium is missing: install Debian's chromium ('sudo apt-get install chromium') for the report's browser test." >&2
  exit 0
fi
echo "installing Debian's chromium (the report's browser test)" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
