"""Benchmark the public board: build the site for generated public letters (not a test).

    python bench/site_bench.py [--sizes 1000,10000] [--keep DIR] [--no-browser]

For each size: a fresh case repository (`letterbox init`) with that many closed letters written
directly as case files (valid histories: receive → classify → reply, or → transfer → answer →
approve; about 600 characters with personal data inside) and committed, then

- a full build with an empty redaction cache (seconds, pages/s, stage times, site size);
- a second build with the cache warm (nothing changed: incremental, issue 17);
- a build after changing one letter's body, committed (incremental: the files written are
  counted);
- the bytes a visitor downloads for a letter page and for one search (供暖), measured in
  headless chromium (all responses of the page, then those the search adds) when
  /usr/bin/chromium and Playwright are there, else counted from the files.

Each build prints its wall and CPU seconds (this process and its workers, MkDocs, Pagefind;
"own": this process alone, the steadier figure) and the load average before it: the machine
may be shared.

Targets of issue 5 on a 2-core machine: 10 000 letters in under 60 s; one search downloads
under 300 KB at 10 000 letters.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import letter_text  # noqa: E402  (bench/, next to this file)

from letterbox.core.letter import Letter, letter_path  # noqa: E402
from letterbox.ops.scaffold import init_repository  # noqa: E402
from letterbox.store.repository import Repository  # noqa: E402
from site_builder.build import build_site  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "建国秀英志强丽华明亮桂兰海涛晓燕国庆文斌静怡德胜淑芬立新春梅玉兰宏伟子涵浩然"
PLACES = ["幸福小区", "阳光花园", "锦绣家园", "红旗小区", "铁西花园", "滨河花园", "建安小区", "华强城小区"]
ROADS = ["文明大道", "中州路", "红旗路", "东风路", "人民大道", "黄河路", "解放路", "光明路"]
def _name(rng: random.Random, writer: bool) -> str:
    """Writers and the neighbours they mention never share a surname: a neighbour's name the
    tagger misses must not be some other writer's name, or the leak scan stops the build (as it
    should; that is a test, not a benchmark)."""
    half = len(SURNAMES) // 2
    surnames = SURNAMES[:half] if writer else SURNAMES[half:]
    return rng.choice(surnames) + "".join(rng.sample(GIVEN, 2))


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def make_letter(i: int, rng: random.Random, prefix: str, units: list[str], tz: Any,
                unit_names: dict[str, str] | None = None) -> Letter:
    """One closed public letter with personal data of the writer and a neighbour in the text."""
    day = datetime(2025, 1, 6, 8, 30, tzinfo=tz) + timedelta(days=(i * 7) // 10 % 690)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    code = f"{prefix}-{day.year:04d}-{i + 1:05d}"
    topic = letter_text.TOPICS[i % len(letter_text.TOPICS)]
    category = ("complaint", "consultation", "suggestion")[i % 3]
    place, road = rng.choice(PLACES), rng.choice(ROADS)
    name, neighbour = _name(rng, True), _name(rng, False)
    phone = f"13{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"
    building = f"{rng.randint(1, 30)}号楼{rng.randint(1, 6)}单元{rng.randint(1, 30)}0{rng.randint(1, 4)}室"
    address = f"安阳市龙安区{road}{rng.randint(1, 300)}号{place}{building}"
    title = letter_text.title(rng, topic, place=place, road=road, kind=category)
    body = letter_text.body(rng, topic=topic, kind=category, place=place, road=road,
                            building=building, writer_name=name, neighbour=neighbour, phone=phone)
    unit = units[i % len(units)]
    direct = i % 4 == 0  # a direct reply by the office
    answer = letter_text.reply(rng, topic, title=title, place=place, road=road,
                               unit=None if direct else (unit_names or {}).get(unit),
                               received=day.date())
    t = day
    history: list[dict[str, Any]] = [
        {"at": _stamp(t), "actor": "信息中心 王静", "action": "receive", "details": {"channel": "web"}},
        {"at": _stamp(t + timedelta(hours=2)), "actor": "信息中心 王静", "action": "classify",
         "details": {"category": category}}]
    if direct:
        history.append({"at": _stamp(t + timedelta(hours=5)), "actor": "信息中心 王静",
                        "action": "reply", "details": {"text": answer}})
        letter_units: list[str] = []
        mode = None
    else:
        history += [
            {"at": _stamp(t + timedelta(hours=4)), "actor": "信息中心 王静", "action": "transfer",
             "details": {"units": [unit], "mode": "ordinary"}},
            {"at": _stamp(t + timedelta(days=1, hours=6)), "actor": "承办单位联络员", "action": "answer",
             "details": {"text": answer, "head": "单位主要负责人",
                         "unit": unit, "contacted": True}},
            {"at": _stamp(t + timedelta(days=1, hours=8)), "actor": "信息中心 王静",
             "action": "approve", "details": {}}]
        letter_units, mode = [unit], "ordinary"
    data = {
        "schema_version": 1, "letter_code": code,
        "query_hash": {"algorithm": "pbkdf2-sha256", "iterations": 600000,
                       "hash": f"{rng.getrandbits(256):064x}"},
        "submitted_at": _stamp(day), "channel": "web",
        "writer": {"name": name, "phone": phone, "address": address,
                   "email": f"writer{i:05d}@example.com"},
        "title": title, "body": body, "follows_up": None, "status": "closed",
        "category": category, "units": letter_units, "mode": mode, "publication": None,
        "history": history,
    }
    return Letter(letter_path(code, day), data)


# How the redaction stage splits a text into clauses (letterbox.privacy.names).
CLAUSE = re.compile(r"[^，,、：:；;。！？!?\s“”\"‘’'《》〈〉「」『』（）()【】\[\]…]+")


def letter_texts(letter: Letter) -> list[str]:
    """Title, body and reply texts of a letter."""
    replies = [h["details"]["text"] for h in letter.data["history"]
               if h["action"] in ("reply", "answer")]
    return [letter.data["title"], letter.data["body"], *replies]


def clause_figures(texts: list[str]) -> tuple[int, int]:
    """(distinct clauses, clauses) in the texts."""
    clauses = [c for text in texts for c in CLAUSE.findall(text)]
    return len(set(clauses)), len(clauses)


def make_repo(root: Path, n: int, seed: int = 5, texts: list[str] | None = None) -> Repository:
    """A case repository of `n` closed letters; their texts are added to `texts` if given."""
    init_repository(root)
    repo = Repository(root)
    config = repo.config
    units = [u.code for u in config.units]
    names = {u.code: u.name for u in config.units}
    rng = random.Random(seed)
    for i in range(n):
        letter = make_letter(i, rng, config.prefix, units, config.tz, names)
        if texts is not None:
            texts += letter_texts(letter)
        path = root / letter.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(letter.to_yaml(), encoding="utf-8")
    return repo


def commit(root: Path, message: str) -> None:
    """Commit the case files (a real repository's letters are committed: the lookup index's
    refresh follows git)."""
    if not subprocess.run(["git", "status", "--porcelain", "--", "cases"], cwd=root, check=True,
                          capture_output=True, text=True).stdout.strip():
        return
    subprocess.run(["git", "add", "-A", "cases"], cwd=root, check=True)
    subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "commit",
                    "-q", "-m", message], cwd=root, check=True)


def change_one(repo: Repository) -> None:
    """Add a sentence to the body of the letter in the middle (every body has 联系电话)."""
    path = repo.root / repo.letter_paths()[len(repo.letter_paths()) // 2]
    text = path.read_text("utf-8")
    changed = text.replace("联系电话", "补充一下，写信以后情况还是没有改善。联系电话", 1)
    if changed == text:
        raise SystemExit(f"change_one: nothing to change in {path}")
    path.write_text(changed, "utf-8")


# --------------------------------------------------------------------------- measuring


def site_bytes(site: Path) -> int:
    return sum(p.stat().st_size for p in site.rglob("*") if p.is_file())


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def browser_bytes(site: Path, letter_url: str) -> dict[str, int] | None:
    """Bytes of every response for one letter page, then for a search typed on it."""
    if not CHROMIUM.exists():
        return None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    sizes: dict[str, int] = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = browser.new_context().new_page()

            def count(response: Any) -> None:
                try:
                    sizes.setdefault(response.url, len(response.body()))
                except Exception:  # noqa: BLE001  (redirects have no body)
                    pass

            page.on("response", count)
            page.goto(base + letter_url, wait_until="networkidle")
            letter = sum(sizes.values())
            seen = set(sizes)  # the theme's CSS and JS: cached by the browser from now on
            search(page, base)
            page.wait_for_load_state("networkidle")
            new = {u: n for u, n in sizes.items() if u not in seen}
            index = {u: n for u, n in new.items() if "/pagefind/" in u}
            result = {"letter_page": letter, "search": sum(new.values()), "search_requests": len(new),
                      "search_index": sum(index.values())}
            browser.close()
            return result
    finally:
        server.shutdown()
        server.server_close()


def search(page: Any, base: str) -> None:
    """Go from the letter page to the search page, type 供暖 and wait for the results."""
    from site_builder.render import SEARCH_INPUT, SEARCH_PAGE, SEARCH_RESULT

    page.goto(base + SEARCH_PAGE)
    box = page.locator(SEARCH_INPUT)
    box.wait_for(state="visible")
    box.click()
    box.fill("供暖")
    box.press("End")
    page.locator(SEARCH_RESULT).first.wait_for(timeout=60000)


def run(n: int, keep: Path | None, browser: bool, reuse: Path | None = None) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f"site-bench-{n}-"))
    try:
        started = time.perf_counter()
        cases = reuse / f"cases-{n}" if reuse else tmp / "cases"
        reused = cases.exists()
        texts: list[str] = []
        repo = Repository(cases) if reused else make_repo(cases, n, texts=texts)
        commit(cases, f"bench: {n} letters")
        print(f"\n== {n} letters ({'reused' if reused else 'generated'} in {time.perf_counter() - started:.1f} s)")
        if texts:
            distinct, total = clause_figures(texts)
            print(f"distinct clauses: {distinct} of {total} ({100 * distinct / total:.1f}%) "
                  "in titles, bodies and replies")
        out = tmp / "site"
        first = "full build, cache as left" if reused else "full build, empty cache"
        for label, prepare in ((first, None), ("full build, warm cache", None),
                               ("after changing one letter", change_one)):
            if prepare:
                prepare(repo)
                commit(repo.root, "bench: one letter changed")
            load = os.getloadavg()[0]
            started, cpu = time.perf_counter(), os.times()
            report = build_site(Repository(repo.root), out)
            seconds = time.perf_counter() - started
            now = os.times()
            used = (now.user + now.system + now.children_user + now.children_system
                    - cpu.user - cpu.system - cpu.children_user - cpu.children_system)
            own = now.user + now.system - cpu.user - cpu.system  # this process alone
            pages = sum(1 for _ in out.rglob("index.html"))
            stages = ", ".join(f"{k} {v:.1f}" for k, v in report.timings.items())
            print(f"{label:28s} {seconds:6.1f} s  CPU {used:6.1f} s (own {own:5.1f})  load {load:4.1f}  "
                  f"{pages / seconds:6.0f} pages/s  ({pages} pages, "
                  f"{report.changed} of {report.files} files written; {stages})")
        print(f"site size: {site_bytes(out) / 1e6:.1f} MB in {report.files} files")
        first = sorted((out / "letters").iterdir())[0].name
        measured = browser_bytes(out, f"letters/{first}/") if browser else None
        if measured:
            print(f"a visitor downloads: letter page {measured['letter_page'] / 1e3:.0f} KB "
                  f"(HTML, theme CSS/JS; uncompressed); one search (供暖), from a letter page: "
                  f"{measured['search'] / 1e3:.0f} KB in {measured['search_requests']} requests "
                  f"(search page and script, of which Pagefind {measured['search_index'] / 1e3:.0f} KB)")
        else:
            html = (out / "letters" / first / "index.html").stat().st_size
            print(f"letter page HTML: {html / 1e3:.0f} KB (no browser: assets and search not measured)")
        if keep:
            target = keep / f"site-{n}"
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(out, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--keep", type=Path, help="copy each built site here")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--reuse", type=Path, help="keep the generated case repositories (and their "
                        "redaction cache) here and reuse them: the first build is then warm")
    args = parser.parse_args()
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1790000000")
    print(f"site bench on {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    for n in (int(x) for x in args.sizes.split(",")):
        run(n, args.keep, not args.no_browser, args.reuse)


if __name__ == "__main__":
    main()

