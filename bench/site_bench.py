"""Benchmark the public board: build the site for generated public letters (not a test).

    python bench/site_bench.py [--sizes 1000,10000] [--keep DIR] [--no-browser]

For each size: a fresh case repository (`letterbox init`) with that many closed letters written
directly as case files (valid histories: receive → classify → reply, or → transfer → answer →
approve; about 600 characters with personal data inside), then

- a full build with an empty redaction cache (seconds, pages/s, stage times, site size);
- a second full build with the cache warm (nothing changed);
- a build after changing one letter's body;
- the bytes a visitor downloads for a letter page and for one search (供暖), measured in
  headless chromium (all responses of the page, then those the search adds) when
  /usr/bin/chromium and Playwright are there, else counted from the files.

Targets of issue 5 on a 2-core machine: 10 000 letters in under 60 s; one search downloads
under 300 KB at 10 000 letters.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from letterbox.letter import Letter, letter_path  # noqa: E402
from letterbox.repository import Repository  # noqa: E402
from letterbox.scaffold import init_repository  # noqa: E402
from site_builder.build import build_site  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "建国秀英志强丽华明亮桂兰海涛晓燕国庆文斌静怡德胜淑芬立新春梅玉兰宏伟子涵浩然"
PLACES = ["幸福小区", "阳光花园", "锦绣家园", "红旗小区", "铁西花园", "滨河花园", "建安小区", "华强城小区"]
ROADS = ["文明大道", "中州路", "红旗路", "东风路", "人民大道", "黄河路", "解放路", "光明路"]
TOPICS = [
    ("供暖温度不达标", "今年冬天{place}供暖温度只有十五度，老人孩子冻得受不了，多次向供热公司反映无果。"),
    ("路灯损坏", "{road}的路灯损坏多日，夜间出行很不方便，电动车和行人都容易出事故。"),
    ("楼道堆放杂物", "{place}楼道长期堆放杂物，存在消防隐患，物业一直推脱不管。"),
    ("噪音扰民", "{road}附近工地夜间施工，噪音超过七十分贝，严重影响居民休息。"),
    ("停车难", "{place}停车位严重不足，车辆乱停堵塞消防通道，希望规划增加停车位。"),
    ("拖欠工资", "我们在{road}一处工地干活，工程结束三个月了工资还没结清，请求帮助讨薪。"),
    ("垃圾清运不及时", "{place}门口的垃圾桶经常满溢，夏天气味难闻，希望增加清运次数。"),
    ("公交线路调整", "建议在{road}增设公交站点，方便群众出行，特别是老人和学生。"),
]
# Sentences built from parts, so that letters rarely share a sentence (as real ones).
WHO = ["周边居民", "小区业主", "我们几户人家", "楼里的老人", "附近商户", "上下学的孩子", "过往司机", "村里群众"]
SINCE = ["已经持续{n}个月", "从{n}月份开始", "前后反映了{n}次", "拖了{n}周", "至少有{n}天"]
FEEL = ["意见很大", "苦不堪言", "很不方便", "非常担心安全", "多次拨打热线也没有结果", "找物业也没人管"]
ASK = ["希望有关部门尽快处理", "请求派人到{place}现场查看", "建议{road}沿线统一整治",
       "恳请街道协调解决", "希望给群众一个满意的答复", "请尽快公布整改时限"]
EXTRA = ["去年{n}月也出现过类似情况", "社区网格员来看过{n}次", "我们可以提供{n}张照片",
         "附近还有一所小学和{n}个幼儿园", "{road}{n}号附近情况最严重", "晚上{n}点以后尤其明显"]
REPLY = ("经调查核实，您反映的“{title}”问题属实。我单位已于近日组织人员到{where}现场查看，"
         "制定了整改方案，预计两周内完成整改。整改期间我们将加强巡查，确保群众安全。"
         "感谢您对我区工作的关心和支持，如有疑问请拨打本单位值班电话。")


def _name(rng: random.Random, writer: bool) -> str:
    """Writers and the neighbours they mention never share a surname: a neighbour's name the
    tagger misses must not be some other writer's name, or the leak scan stops the build (as it
    should; that is a test, not a benchmark)."""
    half = len(SURNAMES) // 2
    surnames = SURNAMES[:half] if writer else SURNAMES[half:]
    return rng.choice(surnames) + "".join(rng.sample(GIVEN, 2))


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def make_letter(i: int, rng: random.Random, prefix: str, units: list[str], tz: Any) -> Letter:
    """One closed public letter with personal data of the writer and a neighbour in the text."""
    day = datetime(2025, 1, 6, 8, 30, tzinfo=tz) + timedelta(days=(i * 7) // 10 % 690)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    code = f"{prefix}-{day.year:04d}-{i + 1:05d}"
    topic, sentence = TOPICS[i % len(TOPICS)]
    place, road = rng.choice(PLACES), rng.choice(ROADS)
    name, neighbour = _name(rng, True), _name(rng, False)
    phone = f"13{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"
    building = f"{rng.randint(1, 30)}号楼{rng.randint(1, 6)}单元{rng.randint(1, 30)}0{rng.randint(1, 4)}室"
    address = f"安阳市龙安区{road}{rng.randint(1, 300)}号{place}{building}"
    title = f"{place if '{place}' in sentence else road}{topic}"
    def sentence_() -> str:
        n = rng.randint(2, 12)
        return (f"{rng.choice(EXTRA)}，{rng.choice(WHO)}{rng.choice(SINCE)}，{rng.choice(FEEL)}，"
                f"{rng.choice(ASK)}。").format(n=n, place=place, road=road)

    body = "".join([
        f"我是{name}，家住{place}{building}。", sentence.format(place=place, road=road),
        *(sentence_() for _ in range(6)), f"邻居{neighbour}家也是一样。",
        *(sentence_() for _ in range(5)), f"联系电话{phone[:3]} {phone[3:7]} {phone[7:]}，谢谢！",
    ])
    category = ("complaint", "consultation", "suggestion")[i % 3]
    t = day
    history: list[dict[str, Any]] = [
        {"at": _stamp(t), "actor": "信息中心 王静", "action": "receive", "details": {"channel": "web"}},
        {"at": _stamp(t + timedelta(hours=2)), "actor": "信息中心 王静", "action": "classify",
         "details": {"category": category}}]
    unit = units[i % len(units)]
    if i % 4 == 0:  # a direct reply by the office
        history.append({"at": _stamp(t + timedelta(hours=5)), "actor": "信息中心 王静",
                        "action": "reply", "details": {"text": REPLY.format(title=title, where=place)}})
        letter_units: list[str] = []
        mode = None
    else:
        history += [
            {"at": _stamp(t + timedelta(hours=4)), "actor": "信息中心 王静", "action": "transfer",
             "details": {"units": [unit], "mode": "ordinary"}},
            {"at": _stamp(t + timedelta(days=1, hours=6)), "actor": "承办单位联络员", "action": "answer",
             "details": {"text": REPLY.format(title=title, where=place), "head": "单位主要负责人",
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


def make_repo(root: Path, n: int, seed: int = 5) -> Repository:
    init_repository(root)
    repo = Repository(root)
    config = repo.config
    units = [u.code for u in config.units]
    rng = random.Random(seed)
    for i in range(n):
        letter = make_letter(i, rng, config.prefix, units, config.tz)
        path = root / letter.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(letter.to_yaml(), encoding="utf-8")
    return repo


def change_one(repo: Repository) -> None:
    path = repo.root / repo.letter_paths()[len(repo.letter_paths()) // 2]
    text = path.read_text("utf-8")
    path.write_text(text.replace("希望有关部门尽快处理", "恳请有关部门尽快处理", 1), "utf-8")


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
        repo = Repository(cases) if reused else make_repo(cases, n)
        print(f"\n== {n} letters ({'reused' if reused else 'generated'} in {time.perf_counter() - started:.1f} s)")
        out = tmp / "site"
        first = "full build, cache as left" if reused else "full build, empty cache"
        for label, prepare in ((first, None), ("full build, warm cache", None),
                               ("after changing one letter", change_one)):
            if prepare:
                prepare(repo)
            started = time.perf_counter()
            report = build_site(Repository(repo.root), out)
            seconds = time.perf_counter() - started
            pages = sum(1 for _ in out.rglob("index.html"))
            stages = ", ".join(f"{k} {v:.1f}" for k, v in report.timings.items())
            print(f"{label:28s} {seconds:6.1f} s  {pages / seconds:6.0f} pages/s  ({pages} pages; {stages})")
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

