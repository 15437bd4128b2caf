#!/usr/bin/env bash
# Create .venv (if needed) and install letterbox with pinned dependencies. Pass "test" for the
# test tools too. Needs only python3 (with its venv module).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
extra=""
[ "${1:-}" = "test" ] && extra="[test]"
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extra}"
