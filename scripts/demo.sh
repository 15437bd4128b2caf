#!/usr/bin/env bash
# Install letterbox into .venv and run the main job on the bundled demo case repository:
# validate the letters, list them, show the deadline table, then build and serve the public site.
# Try 在线查询 with a demo letter code and its query code from scripts/demo_query_codes.json.
#
# The demo letters are sealed (docs/encryption.md). They are opened with the DEMO keys in
# demo-keys/ — public on purpose, fictional letters only; never use them for real letters
# (demo-keys/README.md). A real office keeps its keys outside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export PATH="$PWD/.venv/bin:$PATH"
export LETTERBOX_IDENTITY="$PWD/demo-keys/office-admin"       # DEMO office key: reads every letter
export LETTERBOX_PERIOD_KEYS="$PWD/demo-keys/period-keys"     # DEMO period key of 2026
letterbox --repo . validate
letterbox --repo . list
letterbox --repo . deadlines --fail-on never
# Build the public site into site/ and preview it on http://127.0.0.1:8000/ (Ctrl-C stops).
exec letterbox --repo . serve
