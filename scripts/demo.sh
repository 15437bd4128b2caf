#!/usr/bin/env bash
# Install letterbox into .venv and run the main job on the bundled demo case repository:
# validate the letters, list them, show the deadline table, then build and serve the public site.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export PATH="$PWD/.venv/bin:$PATH"
letterbox --repo . validate
letterbox --repo . list
if letterbox --help | grep -q " deadlines "; then
  letterbox --repo . deadlines --fail-on never
fi
if letterbox --help | grep -q " build "; then
  letterbox --repo . build
  exec letterbox --repo . serve
fi
