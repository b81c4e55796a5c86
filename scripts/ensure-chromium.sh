#!/usr/bin/env bash
# Debian's chromium for the browser tests (tests/web/), installed with apt when missing; never a
# browser downloaded by Playwright. Run by `make test`.
set -eu
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-chromium: /usr/bin/chromium is missing; run: sudo apt-get install -y chromium" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y chromium || { apt-get update && apt-get install -y chromium; }
fi
