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
# The distribution was called "letterbox" until issue 15 (a name that belongs to another project on
# the public registry): drop such an install so the two do not share the `letterbox` command.
if .venv/bin/python -m pip show -q letterbox >/dev/null 2>&1; then
  .venv/bin/python -m pip uninstall -q -y letterbox
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extra}"
# The project's own modules compiled once (an editable install leaves them as source): a shell
# with PYTHONDONTWRITEBYTECODE set would otherwise compile ~50 modules at every command's start
# (0.5-1 s each time; docs/scale.md).
.venv/bin/python -m compileall -q -j 0 letterbox site_builder >/dev/null
