"""Shared set-up for the browser tests: Debian's headless chromium and a local static server."""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags chromium keeps trying to reach outside hosts.
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]


def sync_api() -> Any:
    """Playwright's sync API, or skip the test when Debian chromium is not installed."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing (apt-get install -y chromium)")
    return pytest.importorskip("playwright.sync_api")


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@contextlib.contextmanager
def static_server(directory: Path) -> Iterator[str]:
    """Serve a folder on loopback; yields the base URL without a trailing slash."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_Quiet, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# axe-core: the copy bundled in the PyPI package axe-playwright-python (pinned in pyproject.toml's
# test extras); the tests inject it themselves, they do not use the package's Python wrapper.
AXE_PACKAGE = "axe_playwright_python"
AXE_VERSION = "4.12.1"  # the axe-core in axe-playwright-python 0.1.8
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_script() -> Path:
    """axe.min.js of the pinned package, its version checked (a silent upgrade changes the rules)."""
    package = pytest.importorskip(AXE_PACKAGE)
    script = Path(package.__file__).with_name("axe.min.js")
    head = script.read_text("utf-8")[:200]
    assert f"axe v{AXE_VERSION}" in head, head
    return script


def axe_violations(page: Any, script: Path, impacts: set[str] | None = None) -> list[str]:
    """axe-core's WCAG 2.0/2.1 A and AA violations on the page as it is now, one line each
    (rule, impact, help, the first five elements); ``impacts`` limits them to those impacts.
    The script is injected by the tester, so the context needs ``bypass_csp=True``."""
    # the page as it settles: a CSS transition under way (Material's tabs fade in) is measured
    # half-transparent by the contrast rule, a flake under load (finite animations only, 3 s at most)
    page.evaluate("() => Promise.race([new Promise(r => setTimeout(r, 3000)), Promise.all("
                  "document.getAnimations().filter(a => a.effect && a.effect.getTiming().iterations !== Infinity)"
                  ".map(a => a.finished.catch(() => null)))])")
    page.add_script_tag(path=str(script))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})",
                           WCAG_TAGS)
    return [f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(n["target"][0] if isinstance(n["target"][0], str) else str(n["target"])
                        for n in v["nodes"][:5])
            for v in result["violations"] if impacts is None or v["impact"] in impacts]


def demo_copy(folder: Path) -> Path:
    """The demo case repository of this checkout (67 letters, scripts/make_demo.py) copied into
    `folder` without the code, tests and build output, committed once; its path."""
    import shutil

    import git

    copy = folder / "repo"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(
        ".git", ".venv", "site", "build", ".letterbox-cache", "node_modules", "*.egg-info",
        "__pycache__", ".pytest_cache", ".hypothesis", ".ruff_cache", ".mypy_cache", "bench", "docs",
        "tests", "letterbox", "site_builder"))
    git.Repo.init(copy).git.add("-A")
    git.Repo(copy).index.commit("demo")
    return copy


def demo_keys_env(copy: Path) -> dict[str, str]:
    """The environment in which the office reads the sealed demo letters (the DEMO keys)."""
    return {"LETTERBOX_IDENTITY": str(copy / "demo-keys" / "office-admin"),
            "LETTERBOX_PERIOD_KEYS": str(copy / "demo-keys" / "period-keys")}
