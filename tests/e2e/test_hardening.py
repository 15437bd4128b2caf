"""Issue 14, point 6 and the site's settings: control and bidi-override characters never reach
a staff terminal or a public page as they are; the Content-Security-Policy is in every page;
the lookup index shares no id between two builds; the site's look comes from mkdocs.yml."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
import yaml

from letterbox.core.textsafe import UNSAFE
from letterbox.ops.scaffold import init_repository
from site_builder import lookup_index as li
from site_builder.settings import default_text
from tests.conftest import Repo, submission

A, B = "LA-2026-00001", "LA-2026-00002"
ROOT = Path(__file__).resolve().parents[2]
# what a web form or an intake file may carry: ESC sequences (colour, window title, clear
# screen), a bell, backspaces, DEL and C1 controls, bidi overrides, isolates and marks
NASTY_TITLE = "路灯\x1b[31m不亮\u202e了\x07"
NASTY_BODY = ("文昌大道路灯\x1b]0;owned\x07不亮\x08\x08，\u2066夜间\u2069出行\u200f不便\x7f\x9b2J。\r\n"
              "第二段\u202a说明\u202c。")


def at(day: int, hour: int) -> str:
    return f"2026-03-{day:02d}T{hour:02d}:00:00+08:00"


@pytest.fixture
def nasty(case_repo: Repo) -> Repo:
    case_repo.intake(submission(1, title=NASTY_TITLE, body=NASTY_BODY), submission(2))
    case_repo.run("classify", A, "--category", "complaint", "--at", at(2, 10))
    case_repo.run("reply", A, "--text", "已修复\u202e。\x1b[2J", "--at", at(2, 11))
    return case_repo


def test_staff_terminal_gets_them_escaped(nasty: Repo) -> None:
    assert nasty.letter(A)["title"] == NASTY_TITLE  # the case file keeps what was sent
    for args in (["show", A], ["list"], ["show", A, "--writer"]):
        result = nasty.run(*args)
        assert not UNSAFE.search(result.stdout), (args, result.stdout)
        assert "\\u001b[31m" in result.stdout and "\\u202e" in result.stdout
    show = nasty.run("show", A).stdout
    assert "\\u2066夜间\\u2069" in show and "第二段" in show and "\\u000d" not in show


def test_staff_json_is_the_same_data_inert(nasty: Repo) -> None:
    for args in (["show", A, "--json"], ["list", "--json"]):
        stdout = nasty.run(*args).stdout
        assert not UNSAFE.search(stdout)
    view = json.loads(nasty.run("show", A, "--json").stdout)
    assert view["title"] == NASTY_TITLE and view["body"] == NASTY_BODY


def test_markup_in_a_title_is_shown_as_typed(case_repo: Repo) -> None:
    case_repo.intake(submission(1, title="[bold red]紧急[/] 路灯"))
    assert "[bold red]紧急[/] 路灯" in case_repo.run("show", A).stdout


def site_texts(site: Path) -> dict[str, str]:
    """The files made of the letters' text: pages, data files, search records."""
    out = {}
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        rel = path.relative_to(site).as_posix()
        if path.suffix in (".html", ".json", ".csv") or rel.startswith("pagefind-") and "/fragment/" in rel:
            data = path.read_bytes()
            out[rel] = (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode("utf-8")
    return out


def test_public_pages_drop_them(nasty: Repo) -> None:
    nasty.run("build")
    site = nasty.path / "site"
    texts = site_texts(site)
    page = texts[f"letters/{A}/index.html"]
    assert "路灯[31m不亮了" in page and "owned不亮，夜间出行不便2J。" in page and "已修复。[2J" in page
    assert "第二段说明。" in page
    requests = json.loads(texts["requests.json"])
    assert requests[0]["description"] == "路灯[31m不亮了"
    fragments = [t for rel, t in texts.items() if rel.startswith("pagefind-") and "/fragment/" in rel]
    assert any("夜间出行不便" in t.replace("\u200b", "") for t in fragments)  # Pagefind's word breaks
    for rel, text in texts.items():
        assert not UNSAFE.search(text.replace("\n", "").replace("\t", "")), rel


# -- Content-Security-Policy -------------------------------------------------------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)


def test_every_page_has_the_policy_and_no_inline_script(nasty: Repo) -> None:
    cfg = nasty.path / "letterbox.yaml"
    cfg.write_text(cfg.read_text("utf-8") + "intake_url: https://xzxx.example.gov.cn/svc/\n", "utf-8")
    nasty.commit_all("intake_url")
    nasty.run("build")
    site = nasty.path / "site"
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 10 and (site / "404.html") in pages and (site / "write" / "index.html") in pages
    for page in pages:
        text = page.read_text("utf-8")
        policy = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', text)
        assert len(policy) == 1, page
        assert text.index("Content-Security-Policy") < text.index("<script"), page  # first in head
        assert "script-src 'self' 'wasm-unsafe-eval';" in policy[0]
        assert "unsafe-inline" not in policy[0].split("script-src")[1].split(";")[0]
        assert "connect-src 'self' https://xzxx.example.gov.cn;" in policy[0]
        assert INLINE_SCRIPT.findall(text) == [], page
        assert not re.search(r"<[a-z][^>]*\son[a-z]+=", text, re.I), page  # no inline handler
    theme = site / "assets" / "javascripts"
    assert (theme / "letterbox-base.js").is_file() and (theme / "letterbox-content.js").is_file()


def test_serve_answers_like_the_nginx_sample(case_repo: Repo) -> None:
    """`letterbox serve`'s handler: the policy header everywhere, the site's 404 page (status
    404) where there is no page, e.g. a letter taken down."""
    import http.server
    import threading
    import urllib.error
    import urllib.request

    from letterbox.cli.site import board_handler

    case_repo.run("build")
    site = case_repo.path / "site"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), board_handler(site, "default-src 'self'"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with urllib.request.urlopen(base + "/") as answer:
            assert answer.status == 200
            assert answer.headers["Content-Security-Policy"] == "default-src 'self'"
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(base + f"/letters/{A}/")
        assert missing.value.code == 404
        assert missing.value.headers["Content-Security-Policy"] == "default-src 'self'"
        assert missing.value.read() == (site / "404.html").read_bytes()
    finally:
        server.shutdown()
        server.server_close()


def test_nginx_sample_sends_the_same_policy() -> None:
    from letterbox.core.config import default_config_text, parse_config
    from site_builder.settings import content_security_policy

    deploy = (ROOT / "docs" / "deploy.md").read_text("utf-8")
    config = parse_config(default_config_text("ab" * 16))
    header = content_security_policy(config, header=True)
    assert f'add_header Content-Security-Policy "{header}" always;' in deploy
    assert "error_page 404 /404.html;" in deploy


# -- lookup ids fresh in every build ----------------------------------------------------------


def ids(site: Path) -> set[bytes]:
    meta = json.loads((site / "lookup" / "meta.json").read_text("utf-8"))
    size = meta["entry_bytes"]
    out = set()
    for shard in (site / "lookup" / "shards").iterdir():
        data = shard.read_bytes()
        out.update(data[k:k + li.ID_BYTES] for k in range(0, len(data), size))
    return out


def test_two_builds_share_no_lookup_id(case_repo: Repo, tmp_path: Path) -> None:
    accepted = case_repo.intake(*(submission(n) for n in range(1, 6)))
    case_repo.run("build", "--out", str(tmp_path / "one"))
    case_repo.run("build", "--out", str(tmp_path / "two"))
    first, second = ids(tmp_path / "one"), ids(tmp_path / "two")
    assert len(first) >= 5 and len(second) >= 5
    assert first & second == set()  # real entries too: nothing tells the number of letters
    for letter in accepted:
        for site in ("one", "two"):
            entry = li.lookup(tmp_path / site, letter["letter_code"], letter["query_code"])
            assert entry is not None and entry["status"] == "received"


# -- mkdocs.yml -------------------------------------------------------------------------------


def test_init_writes_the_default_mkdocs_yml(tmp_path: Path) -> None:
    init_repository(tmp_path / "new")
    assert (tmp_path / "new" / "mkdocs.yml").read_text("utf-8") == default_text()
    assert (ROOT / "mkdocs.yml").read_text("utf-8") == default_text()  # this repository's own


def test_a_theme_setting_in_mkdocs_yml_shows_in_the_site(case_repo: Repo) -> None:
    case_repo.intake(submission(1))
    case_repo.run("classify", A, "--category", "complaint", "--at", at(2, 10))
    case_repo.run("reply", A, "--text", "已修复。", "--at", at(2, 11))
    settings = yaml.safe_load((case_repo.path / "mkdocs.yml").read_text("utf-8"))
    settings["theme"]["palette"] = [  # a light/dark toggle, red and amber
        {"scheme": "default", "primary": "red", "accent": "amber",
         "toggle": {"icon": "material/brightness-7", "name": "切换到深色模式"}},
        {"scheme": "slate", "primary": "red", "accent": "amber",
         "toggle": {"icon": "material/brightness-4", "name": "切换到浅色模式"}}]
    settings["extra_css"] = ["assets/board.css", "assets/local.css"]
    settings["nav"] = [{"别的": "index.md"}]  # the build's: ignored
    (case_repo.path / "assets").mkdir()
    (case_repo.path / "assets" / "local.css").write_text(".md-header { border-bottom: 3px solid; }\n",
                                                         "utf-8")
    (case_repo.path / "mkdocs.yml").write_text(yaml.safe_dump(settings, allow_unicode=True), "utf-8")
    case_repo.commit_all("红色页眉")
    case_repo.run("build")
    site = case_repo.path / "site"
    for page in (site / "index.html", site / "letters" / A / "index.html"):
        text = page.read_text("utf-8")
        assert 'data-md-color-primary="red"' in text and 'data-md-color-accent="amber"' in text
        assert "assets/local.css" in text and "在线查询" in text and "别的" not in text
        assert "切换到深色模式" in text and "letterbox-palette.js" in text  # its script, as a file
    assert (site / "assets" / "local.css").read_text("utf-8").startswith(".md-header")


@pytest.mark.parametrize(("text", "words"), [
    ("theme: [\n", "不是有效的 YAML"),
    ("theme:\n  name: readthedocs\n", "theme.name 应为 material"),
    ("markdown_extensions:\n  - toc:\n      permalink: true\n", "markdown_extensions"),
    ("extra_css:\n  - https://cdn.example.com/x.css\n", "不能引用其他网站"),
    ("extra_css:\n  - assets/missing.css\n", "找不到"),
    ("plugins:\n  - search\n", "不能设置 plugins"),
    ("plugins:\n  - social\n  - privacy\n", "从互联网下载"),
    ("theme:\n  name: material\n  font:\n    text: Roboto\n", "theme.font"),
    ("extra:\n  analytics:\n    provider: google\n    property: G-XXXX\n", "extra.analytics"),
    ("extra:\n  footer:\n    beian: 1\n", "没有 beian 这一项"),
    ("extra:\n  footer:\n    links:\n      - {name: 区政府, url: 'javascript:alert(1)'}\n", "links 第 1 项"),
])
def test_a_wrong_mkdocs_yml_is_named(case_repo: Repo, text: str, words: str) -> None:
    (case_repo.path / "mkdocs.yml").write_text(text, "utf-8")
    result = case_repo.run("build", expect=1)
    assert "mkdocs.yml" in result.stderr and words in result.stderr, result.stderr
    assert not (case_repo.path / "site").exists()


def test_without_mkdocs_yml_the_default_is_used(case_repo: Repo) -> None:
    (case_repo.path / "mkdocs.yml").unlink()
    case_repo.run("build")
    assert "navigation.tabs" in (case_repo.path / "site" / "index.html").read_text("utf-8")


def test_the_footer_and_the_404_page(case_repo: Repo) -> None:
    """Every page's footer: 主办单位 and the office from letterbox.yaml (its public phone and
    place), the record numbers and links of mkdocs.yml's extra.footer; the 404 page in Chinese."""
    config = case_repo.path / "letterbox.yaml"  # init's public_contacts: the office's phone and room
    settings = yaml.safe_load((case_repo.path / "mkdocs.yml").read_text("utf-8"))
    settings["extra"]["footer"] = {"site_code": "4105060001", "icp": "豫ICP备00000000号-1",
                                   "police": "豫公网安备 41050602000001号",
                                   "links": [{"name": "龙安区人民政府网", "url": "https://www.example.gov.cn/"}]}
    (case_repo.path / "mkdocs.yml").write_text(yaml.safe_dump(settings, allow_unicode=True), "utf-8")
    case_repo.commit_all("页脚")
    case_repo.run("build")
    site = case_repo.path / "site"
    government = yaml.safe_load(config.read_text("utf-8"))["government"]
    for page in (site / "index.html", site / "lookup" / "index.html", site / "404.html"):
        foot = page.read_text("utf-8").split('class="md-copyright board-footer"', 1)[1]
        for words in (f"主办单位：{government}", "承办：区信息中心", "联系电话：0372-3199001",
                      "地址：文明大道1号3楼302室", "网站标识码：4105060001", "豫ICP备00000000号-1",
                      "豫公网安备 41050602000001号", 'href="https://www.example.gov.cn/"', "龙安区人民政府网",
                      'href="https://beian.miit.gov.cn/"'):
            assert words in foot, (page, words)
        assert "Material for MkDocs" not in foot
    missing = (site / "404.html").read_text("utf-8")
    assert "<title>页面不存在（404）" in missing and "Not found" not in missing
    assert "返回首页" in missing and "在线查询" in missing
    measures = (site / "measures" / "index.html").read_text("utf-8")  # article 4(2) names 汉台区
    district = yaml.safe_load(config.read_text("utf-8"))["district"]
    note = measures.index('class="editor-note"')
    assert measures.index("汉台区") < note and "原文如此" in measures[note:note + 200]
    assert f"对{district}各方面工作" in measures[note:note + 300]
