#!/usr/bin/env bash
# Install everything (Python packages into .venv; Debian chromium for the browser tests, a CJK font
# for the PDF notices and openssh-client for signed commits when running as root) and run the
# whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh test
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "warning: could not install chromium; browser tests will be skipped" >&2
fi
if ! command -v ssh-keygen >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  # git signs commits with SSH keys through ssh-keygen (the roster tests sign every step)
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-client >/dev/null) \
    || echo "warning: could not install openssh-client; signing tests will fail" >&2
fi
if { [ -z "$(fc-list :lang=zh 2>/dev/null)" ] || ! ldconfig -p | grep -q libpangoft2-1.0.so.0 \
      || ! ldconfig -p | grep -q libharfbuzz-subset.so.0; } \
    && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  # letterbox notice --pdf: WeasyPrint lays out with Pango and draws the notices with a CJK font
  # (tests/e2e/test_notice_pdf.py)
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 >/dev/null) \
    || echo "warning: could not install fonts-wqy-microhei and Pango; the PDF notice tests will fail" >&2
fi
lint=()
for d in letterbox site_builder scripts bench tests; do [ -d "$d" ] && lint+=("$d"); done
.venv/bin/ruff check "${lint[@]}"
.venv/bin/mypy letterbox --ignore-missing-imports --follow-imports=silent
exec .venv/bin/python -m pytest -q "$@"
