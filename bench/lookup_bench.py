"""Lookup index at 10 000 letters: shard size, and the browser lookup time at 600 000 iterations.

    /work/venv/bin/python bench/lookup_bench.py [--repo /work/main]

Builds the site of the repository, then replaces its lookup index with 10 000 synthetic
entries (random 32-byte hashes) plus one real entry for a known pair of codes, and times the
lookup in headless Debian chromium (PBKDF2 → HKDF → one shard → AES-GCM).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from letterbox.core import codes  # noqa: E402
from letterbox.store.repository import Repository  # noqa: E402
from site_builder import lookup_index as li  # noqa: E402
from site_builder.build import build_site  # noqa: E402

ITERATIONS = 600_000
LETTERS = 10_000
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
PAYLOAD = {"status": "transferred", "status_zh": "转办中", "received": "2026-01-05",
           "units": ["区住房和城乡建设局"], "deadline": "2026-02-05", "extension_days": 0,
           "reject_reason": None, "answered": None, "link": None,
           "timeline": [["2026-01-05", "收信"], ["2026-01-05", "分类"], ["2026-01-06", "转办"]]}


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    repo = Repository(args.repo)
    salt = repo.config.salt
    letter, query = "LA-2026-99999", "7KQ4-M2XD-9PW3"
    known = bytes.fromhex(codes.hash_query_code(query, letter, salt, ITERATIONS))
    records = [li.Record(os.urandom(32), ITERATIONS, PAYLOAD) for _ in range(LETTERS - 1)]
    records.append(li.Record(known, ITERATIONS, PAYLOAD))
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        build_site(repo, site)
        start = time.perf_counter()
        meta = li.write_index(site, records, salt)
        written = time.perf_counter() - start
        sizes = {p.stat().st_size for p in (site / "lookup" / "shards").iterdir()}
        print(f"{LETTERS} letters: prefix_bits={meta['prefix_bits']} shards={meta['shards']} "
              f"entries/shard={meta['entries_per_shard']} shard size={sorted(sizes)} bytes "
              f"(limit 65536), index written in {written:.1f}s")
        start = time.perf_counter()
        assert li.lookup(site, letter, query) is not None
        print(f"python lookup: {time.perf_counter() - start:.2f}s")
        handler = functools.partial(Quiet, directory=str(site))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/lookup/"
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page()
            times = []
            for _ in range(args.runs):
                page.goto(url)
                page.fill("#letter-code", letter)
                page.fill("#query-code", query)
                start = time.perf_counter()
                page.click("#lookup-submit")
                page.wait_for_function("() => { const s = document.getElementById('lookup-result')"
                                       ".getAttribute('data-status'); return s && s !== 'loading'; }",
                                       timeout=60_000)
                times.append(time.perf_counter() - start)
                assert page.get_attribute("#lookup-result", "data-status") == "transferred"
            browser.close()
        server.shutdown()
        print(f"browser lookup at {ITERATIONS} iterations: "
              + ", ".join(f"{t:.2f}s" for t in times) + " (target < 2 s)")


if __name__ == "__main__":
    main()
