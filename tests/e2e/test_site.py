"""The public board end to end: letters taken through the real CLI, built, every file scanned."""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from letterbox.cli.main import cli
from letterbox.privacy.redact import Writer, needles, squash
from letterbox.store.repository import Repository
from site_builder.build import LeakFound, build_site
from site_builder.scan import scan
from tests.conftest import site_texts

WRITERS = {
    "heat": {"name": "王建国", "phone": "13812345678", "email": "wangjg1980@163.com",
             "address": "安阳市龙安区文明大道188号幸福小区3号楼2单元501室"},
    "road": {"name": "欧阳秀英", "phone": "0372-5912345", "email": "oyxy.home@example.cn",
             "address": "安阳市龙安区中州路66号院2栋1单元302室"},
    "secret": {"name": "赵志强", "phone": "13900001111", "email": "zzq@example.com",
               "address": "龙安区马家镇赵家村5组18号"},
    "open": {"name": "孙丽华", "phone": "13700002222", "email": "slh@example.com",
             "address": "龙安区田村街道光明小区7号楼3单元201室"},
    "follow": {"name": "王建国", "phone": "13812345678", "email": "wangjg1980@163.com",
               "address": "安阳市龙安区文明大道188号幸福小区3号楼2单元501室"},
}
LETTERS = {
    "heat": ("王建国反映幸福小区供暖温度不达标",
             "我是王 建 国，家住幸福小区３号楼２单元５０１室（也就是3-2-501），今年冬天供暖温度只有十五度。"
             "请回电138 1234 5678或一三八一二三四五六七八，邮箱WangJG1980@163.com。"
             "邻居李秀英家（5栋1单元302）也不热，她的车豫ED12345停在楼下。"),
    "road": ("中州路路灯损坏",
             "本人欧阳秀英，电话0372-5912345，住中州路66号院2栋1单元302室。路灯坏了两周，夜间出行不便。"
             "我的身份证号410522198001011237，卡号6222 0212 3456 7890 128（退款用），QQ：85412345。"),
    "secret": ("赵家村宅基地纠纷的机密事项", "赵志强反映宅基地问题，电话13900001111。"),
    "open": ("光明小区电梯故障", "孙丽华反映电梯故障，电话13700002222。"),
    "follow": ("再次反映幸福小区供暖问题", "王建国再次反映：整改后供暖仍不达标，电话13812345678。"),
}


def run(root: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--repo", str(root), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def intake(root: Path, key: str, day: str, follows_up: str | None = None) -> str:
    title, body = LETTERS[key]
    record: dict[str, Any] = {**WRITERS[key], "title": title, "body": body,
                              "submitted_at": f"{day}T09:00:00+08:00"}
    if follows_up:
        record["follows_up"] = follows_up
    path = root.parent / f"{key}.json"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    return json.loads(run(root, "intake", str(path), "--json"))[0]["letter_code"]


def to_unit(root: Path, code: str, day: str, unit: str, reply: str) -> None:
    run(root, "classify", code, "--category", "complaint", "--at", f"{day}T10:00:00+08:00")
    run(root, "transfer", code, "--unit", unit, "--at", f"{day}T11:00:00+08:00")
    run(root, "answer", code, "--head", "局长", "--text", reply, "--at", f"{day}T16:00:00+08:00")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("board") / "cases-repo"
    run(root.parent, "init", str(root))
    cfg = root / "letterbox.yaml"
    cfg.write_text(cfg.read_text("utf-8").replace("iterations: 600000", "iterations: 1000"), "utf-8")
    Repository(root).git.git.commit("-q", "-m", "cfg", "--", "letterbox.yaml",
                                    env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                                         "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"})
    heat = intake(root, "heat", "2026-01-05")
    to_unit(root, heat, "2026-01-05", "zjj", "王建国先生：您好！经查，幸福小区供暖不达标属实，已责成供热公司三日内整改。")
    run(root, "approve", heat, "--at", "2026-01-07T10:00:00+08:00")
    road = intake(root, "road", "2026-01-06")
    run(root, "classify", road, "--category", "consultation", "--at", "2026-01-06T10:00:00+08:00")
    run(root, "reply", road, "--text", "欧阳女士：路灯维修已列入本周计划。", "--at", "2026-01-06T15:00:00+08:00")
    run(root, "publish", road, "--at", "2026-01-06T16:00:00+08:00")
    secret = intake(root, "secret", "2026-01-06")
    to_unit(root, secret, "2026-01-06", "mjz", "已调解。")
    run(root, "approve", secret, "--at", "2026-01-07T10:00:00+08:00")
    run(root, "withhold", secret, "--reason", "privacy", "--at", "2026-01-07T11:00:00+08:00")
    opened = intake(root, "open", "2026-01-07")
    to_unit(root, opened, "2026-01-07", "tc", "正在维修。")
    follow = intake(root, "follow", "2026-02-02", follows_up=heat)
    to_unit(root, follow, "2026-02-02", "zjj", "已再次督促供热公司，室温已达18度。")
    run(root, "approve", follow, "--at", "2026-02-03T10:00:00+08:00")
    return root


@pytest.fixture(scope="module")
def site(repo: Path) -> Path:
    run(repo, "build")
    return repo / "site"



def letter_codes(repo: Path) -> dict[str, str]:
    return {str(x.data["title"]): x.code for x in Repository(repo).letters()}


def test_public_letters_have_pages_and_others_do_not(repo: Path, site: Path) -> None:
    codes = letter_codes(repo)
    pages = sorted(p.name for p in (site / "letters").iterdir())
    assert pages == sorted([codes[LETTERS[k][0]] for k in ("heat", "road", "follow")])
    everything = "".join(site_texts(site).values())
    for key in ("secret", "open"):
        assert codes[LETTERS[key][0]] not in everything
        assert "宅基地" not in everything and "电梯故障" not in everything


def _decoded(text: str) -> str:
    if text.lstrip().startswith("{"):
        try:
            return json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            pass
    return text


def test_no_writer_data_anywhere(repo: Path, site: Path) -> None:
    forbidden = set()
    for w in WRITERS.values():
        forbidden.update(needles(Writer.from_data(w)))
        forbidden.update({w["name"], w["phone"], w["email"], w["address"]})
    forbidden |= {"3-2-501", "3号楼2单元501室", "2栋1单元302", "5栋1单元302", "豫ED12345",
                  "410522198001011237", "6222021234567890128", "85412345", "5912345", "李秀英"}
    flat_forbidden = {squash(f) for f in forbidden}
    for rel, text in site_texts(site).items():
        text = _decoded(text)
        for item in forbidden:
            assert item not in text, f"{rel} contains personal data"
        flat = squash(unicodedata.normalize("NFKC", text))
        for item in flat_forbidden:
            assert item not in flat, f"{rel} contains personal data (normalised)"
        assert not any(squash(f) in squash(rel) for f in forbidden)


def test_readable_text_survives(repo: Path, site: Path) -> None:
    code = letter_codes(repo)[LETTERS["heat"][0]]
    page = (site / "letters" / code / "index.html").read_text("utf-8")
    assert "〔姓名〕反映幸福小区供暖温度不达标" in page
    assert "今年冬天供暖温度只有十五度" in page
    assert "〔电话〕" in page and "〔地址〕" in page and "〔邮箱〕" in page and "〔车牌号〕" in page
    assert "区住房和城乡建设局" in page
    assert "2026年1月5日" in page and "2026年1月7日" in page
    follow = letter_codes(repo)[LETTERS["follow"][0]]
    assert f'href="../{follow}/"' in page


def test_letter_facts(repo: Path, site: Path) -> None:
    code = letter_codes(repo)[LETTERS["road"][0]]
    page = (site / "letters" / code / "index.html").read_text("utf-8")
    for fact in ("政策咨询", "区信息中心", "<td>当日办结</td>", "路灯维修已列入本周计划",
                 "〔身份证号〕", "〔银行卡号〕", "〔QQ号〕"):
        assert fact in page
    assert not re.search(r"(?<![\d.])0 个工作日", page)


def test_every_page_links_lookup_and_nothing_remote(site: Path) -> None:
    for rel, text in site_texts(site).items():
        if rel.endswith(".html"):
            assert rel == "lookup/index.html" or re.search(r'href="[./]*lookup/"', text), rel
            assert not re.search(r'(?:src|href)="(?:https?:)?//', text), rel
    assert "<h1" in (site / "lookup" / "index.html").read_text("utf-8")
    assert "在线查询" in (site / "lookup" / "index.html").read_text("utf-8")


def test_lists_stats_and_measures(site: Path) -> None:
    assert (site / "categories" / "complaint" / "index.html").exists()
    assert (site / "months" / "2026-01" / "index.html").exists()
    stats = json.loads((site / "stats" / "stats.json").read_text("utf-8"))
    assert stats["total"][0]["letters"] == 3
    assert {r["key"] for r in stats["month"]} == {"2026-01", "2026-02"}
    assert "只统计本站公开的来信" in (site / "stats" / "index.html").read_text("utf-8")
    assert "dimension,key,label,letters" in (site / "stats" / "stats.csv").read_text("utf-8")
    measures = (site / "measures" / "index.html").read_text("utf-8")
    assert "第十三条" in measures and "区长信箱" in measures


def test_search_index_is_pagefind_chinese_letters_only(site: Path) -> None:
    import gzip

    assert not (site / "search" / "search_index.json").exists()  # no whole-site index to download
    entry = json.loads(next(site.glob("pagefind-*/pagefind-entry.json")).read_text("utf-8"))
    assert "zh" in entry["languages"] and entry["languages"]["zh"]["page_count"] == 3
    fragments = [gzip.decompress(p.read_bytes()).decode("utf-8", "ignore")
                 for p in next(site.glob("pagefind-*/fragment")).iterdir()]
    assert len(fragments) == 3 and all('"/letters/' in f for f in fragments)
    assert any("供暖" in f for f in fragments)


def test_reproducible(repo: Path, site: Path, tmp_path: Path) -> None:
    other = tmp_path / "again"
    run(repo, "build", "--out", str(other))
    # the lookup index has a fresh build salt, nonces and dummies at every build, by design
    first, second = ({k: v for k, v in site_texts(d).items()
                      if not k.startswith(("lookup/shards/", "lookup/meta.json"))}
                     for d in (site, other))
    assert first == second
    for gz in site.rglob("*.gz"):
        assert gz.read_bytes() == (other / gz.relative_to(site)).read_bytes()


def test_scan_finds_leaks_in_any_form(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text("<p>王&#24314;国 １３８-1234-5678</p>", "utf-8")
    (tmp_path / "b.json").write_text(json.dumps({"t": "幸福小区3号楼2单元501室"}), "utf-8")
    owners = {n: "LA-2026-00001" for n in needles(Writer.from_data(WRITERS["heat"]))}
    found = scan(tmp_path, owners)
    assert {f for f, _ in found} == {"a.html", "b.json"}


def test_scan_follows_files_written_elsewhere_then_moved_into_the_site(tmp_path: Path) -> None:
    """Pagefind's files are searched while it writes them (outside the site), named by their
    place in the site, and not searched again once moved in, unless changed."""
    from site_builder.scan import Scanner

    site, search = tmp_path / "site", tmp_path / "search"
    (site / "letters").mkdir(parents=True)
    (site / "letters" / "a.html").write_text("<p>无</p>", "utf-8")
    index = search / "pagefind"
    index.mkdir(parents=True)
    (index / "f1.json").write_text(json.dumps({"c": "王建国"}, ensure_ascii=False), "utf-8")
    owners = {n: "LA-2026-00001" for n in needles(Writer.from_data(WRITERS["heat"]))}
    with Scanner(site, owners) as scanner:
        scanner.submit(scanner.files())
        scanner.submit(scanner.files(index), search)
        assert scanner.files(index) == []
        (index / "f2.json").write_text("{}", "utf-8")  # written after the first look
        scanner.submit(scanner.files(index), search)
        index.rename(site / "pagefind")
        scanner.moved(index, site / "pagefind")
        assert scanner.files() == []
        (site / "pagefind" / "f2.json").write_text(json.dumps({"c": "13812345678"}), "utf-8")
        assert scanner.files() == [site / "pagefind" / "f2.json"]
        scanner.submit(scanner.files())
        assert {f for f, _ in scanner.result()} == {"pagefind/f1.json", "pagefind/f2.json"}


def test_build_holds_back_letters_whose_output_leaks(repo: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A redaction that lets the writer's name and phone through: every letter's page holds
    its writer's data (or another writer's phone), so each is held back by the scan and the
    board is built again without them; the report names them, never the data."""
    import site_builder.build as build

    class Leaky(build.Redaction):  # redaction that lets the writer's name and phone through
        def batches(self):  # type: ignore[no-untyped-def]
            yield [(i, e.__class__(**{**e.__dict__, "body": "王建国 13812345678"}))
                   for i, e in enumerate(self.entries)]

    monkeypatch.setattr(build, "Redaction", Leaky)
    out = tmp_path / "site"
    report = build_site(Repository(repo), out)
    codes = letter_codes(repo)
    shown = {codes[LETTERS[k][0]] for k in ("heat", "road", "follow")}
    assert {h.code for h in report.held} == shown and {h.stage for h in report.held} == {"scan"}
    assert report.passes == 2 and report.letters == 0
    assert all("王建国" not in h.reason and "138" not in h.reason for h in report.held)
    assert not (out / "letters").exists() or not any((out / "letters").iterdir())
    for rel, content in site_texts(out).items():
        assert "王建国" not in _decoded(content) and "13812345678" not in squash(content), rel


def test_build_stops_on_a_leak_no_letter_answers_for(repo: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The withheld letter's writer's name in a shared page: no letter on the board to hold
    back, so nothing is published (fail closed)."""
    import site_builder.build as build
    from site_builder import render as render_mod

    original = render_mod.render

    def leaky_render(*args, **kwargs):  # type: ignore[no-untyped-def]
        site = original(*args, **kwargs)
        site.files["index.md"] += "\n赵志强\n"  # the withheld letter's writer
        return site

    monkeypatch.setattr(build, "render", leaky_render)
    out = tmp_path / "site"
    with pytest.raises(LeakFound) as info:
        build_site(Repository(repo), out)
    assert "赵志强" not in str(info.value) and "index.html" in str(info.value)
    assert not out.exists()


# --------------------------------------------------------------------------- preview, staff mask/keep

STAFF = {"name": "周志刚", "phone": "13655556666", "email": "zzg@example.com",
         "address": "龙安区马家镇周家村3组7号"}
STAFF_TEXT = ("红星超市门口占道经营", "红星超市门口常年占道经营，李明亮说不归他管。我是周志刚，电话13655556666。")


def _commit_by_hand(root: Path, rel: str) -> None:
    Repository(root).git.git.commit("-q", "-m", "hand edit", "--", rel,
                                    env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                                         "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"})


def test_preview_and_staff_redaction_end_to_end(tmp_path: Path) -> None:
    root = tmp_path / "cases-repo"
    run(tmp_path, "init", str(root))
    record = {**STAFF, "title": STAFF_TEXT[0], "body": STAFF_TEXT[1],
              "submitted_at": "2026-03-02T09:00:00+08:00"}
    (tmp_path / "l.json").write_text(json.dumps(record, ensure_ascii=False), "utf-8")
    code = json.loads(run(root, "intake", str(tmp_path / "l.json"), "--json"))[0]["letter_code"]

    # not closed yet: previewed all the same, and said not to be on the board
    view = json.loads(run(root, "preview", code, "--json"))
    assert view["on_board"] is False and view["status"] == "received"
    assert "周志刚" not in json.dumps(view["public"], ensure_ascii=False)
    by_text = {m["original"]: m for m in view["masked"]}
    assert by_text["周志刚"]["source"] == "writer" and by_text["周志刚"]["mask"] == "〔姓名〕"
    assert by_text["13655556666"]["kind"] == "phone"
    assert by_text["李明亮"]["source"] == "names"  # masked until staff keep it
    assert "红星超市" in view["public"]["body"]

    run(root, "classify", code, "--category", "complaint", "--at", "2026-03-02T10:00:00+08:00")
    run(root, "reply", code, "--text", "已通知城管到红星超市门口处理。", "--at", "2026-03-02T15:00:00+08:00")

    # staff edit the case file by hand, commit it, and validate
    rel = Repository(root).path_of(code).as_posix()
    path = root / rel
    text = path.read_text("utf-8")
    block = "redaction:\n  mask:\n  - 红星超市\n  keep:\n  - 李明亮\n  - 周志刚\n"
    path.write_text(text.replace("history:\n", block + "history:\n", 1), "utf-8")
    _commit_by_hand(root, rel)
    run(root, "validate")

    view = json.loads(run(root, "preview", code, "--json"))
    assert view["on_board"] is True and view["redaction"]["mask"] == ["红星超市"]
    assert view["public"]["title"] == "〔已隐去〕门口占道经营"
    assert view["public"]["reply"] == "已通知城管到〔已隐去〕门口处理。"
    assert "李明亮说不归他管" in view["public"]["body"]
    assert "周志刚" not in view["public"]["body"]  # keep never unmasks the writer
    sources = {m["original"]: m["source"] for m in view["masked"]}
    assert sources["红星超市"] == "staff" and "李明亮" not in sources
    human = run(root, "preview", code)
    assert "办公室指定隐去" in human and "〔已隐去〕门口占道经营" in human

    run(root, "build")
    page = (root / "site" / "letters" / code / "index.html").read_text("utf-8")
    assert "〔已隐去〕门口占道经营" in page and "李明亮说不归他管" in page
    for rel_file, content in site_texts(root / "site").items():
        assert "红星超市" not in _decoded(content), rel_file
        assert "周志刚" not in _decoded(content), rel_file


def test_preview_of_a_withheld_letter_says_so(repo: Path) -> None:
    code = letter_codes(repo)[LETTERS["secret"][0]]
    view = json.loads(run(repo, "preview", code, "--json"))
    assert view["on_board"] is False and view["not_public_reason"] == "已决定不公开"
    assert "赵志强" not in json.dumps(view["public"], ensure_ascii=False)


# --------------------------------------------------------------------------- Open311

OPEN311_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code",
                  "description", "agency_responsible", "service_notice", "requested_datetime",
                  "updated_datetime", "expected_datetime", "address", "media_url",
                  "extended_attributes"}


def test_open311_requests_json(repo: Path, site: Path) -> None:
    requests = json.loads((site / "requests.json").read_text("utf-8"))
    codes = letter_codes(repo)
    by_id = {r["service_request_id"]: r for r in requests}
    assert sorted(by_id) == sorted(codes[LETTERS[k][0]] for k in ("heat", "road", "follow"))
    heat = by_id[codes[LETTERS["heat"][0]]]
    assert set(heat) == OPEN311_FIELDS
    assert heat["status"] == "closed" and heat["service_name"] == "求助投诉"
    assert heat["description"] == "〔姓名〕反映幸福小区供暖温度不达标"
    assert heat["agency_responsible"] == "区住房和城乡建设局"
    assert heat["requested_datetime"] == "2026-01-05T09:00:00+08:00"
    assert heat["updated_datetime"] == "2026-01-07T10:00:00+08:00"
    ext = heat["extended_attributes"]
    assert ext["status"] == "closed" and ext["status_zh"] == "已办结" and ext["category"] == "complaint"
    assert ext["unit"] == "区住房和城乡建设局" and ext["deadline"] and ext["on_time"] is True
    road = by_id[codes[LETTERS["road"][0]]]
    assert road["service_name"] == "政策咨询" and road["agency_responsible"] == "区信息中心"
    flat = json.dumps(requests, ensure_ascii=False)
    assert "body" not in flat and "writer" not in flat and "reply" not in flat
    for w in WRITERS.values():
        assert not any(n in squash(flat) for n in needles(Writer.from_data(w)))


def test_leak_scan_covers_requests_json_and_pagefind(repo: Path, site: Path, tmp_path: Path) -> None:
    import gzip
    import shutil

    from site_builder.scan import writer_needles

    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    planted = json.loads((copy / "requests.json").read_text("utf-8"))
    planted[0]["description"] = "欧阳秀英"  # written \uXXXX-escaped below: the scan decodes it
    (copy / "requests.json").write_text(json.dumps(planted), "utf-8")
    fragment = sorted(next(copy.glob("pagefind-*/fragment")).iterdir())[0]
    fragment.write_bytes(gzip.compress(gzip.decompress(fragment.read_bytes()) + "王建国".encode()))
    found = scan(copy, writer_needles(Repository(repo)))
    assert [f for f, _ in found] == [fragment.relative_to(copy).as_posix(), "requests.json"]


# --------------------------------------------------------------------------- redaction cache


def test_redaction_cache_and_pool(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    import site_builder.redact_stage as stage
    from letterbox.core.clock import work_calendar
    from letterbox.privacy.redact import keep_words
    from site_builder.select import select

    r = Repository(repo)
    entries = select(r.letters(), r.config, work_calendar(r.root))
    keep = keep_words(r.config)
    db = tmp_path / ".letterbox-cache" / "redaction.sqlite3"
    first, stats = stage.redact_entries(entries, keep, db, workers=1)
    assert stats == {"cached": 0, "redacted": 3}
    assert (db.parent / ".gitignore").read_text("utf-8").strip().endswith("*")
    again, stats = stage.redact_entries(entries, keep, db, workers=1)
    assert stats == {"cached": 3, "redacted": 0} and again == first
    changed = [replace(entries[0], body=entries[0].body + "再次致电13912345678。"), *entries[1:]]
    out, stats = stage.redact_entries(changed, keep, db, workers=1)
    assert stats == {"cached": 2, "redacted": 1} and "〔电话〕" in out[0].body
    staff = [replace(entries[1], mask=("路灯",)), *entries[2:]]
    assert stage.redact_entries(staff, keep, db, workers=1)[1] == {"cached": 1, "redacted": 1}
    monkeypatch.setattr(stage, "POOL_MIN", 0)
    monkeypatch.setattr(stage, "CHUNK", 1)
    pooled, stats = stage.redact_entries(entries, keep, None, workers=2)  # spawn, one ONNX thread each
    assert pooled == first and stats["redacted"] == 3
    assert all(e.writer == stage.Writer() for e in pooled)


def test_kept_checks_are_bound_to_what_they_checked(repo: Path, tmp_path: Path) -> None:
    """The leak check kept by an earlier build holds only for the very texts it checked: a
    public text changed in the cache (here: the writer's phone put back) is checked again and
    the letter stopped. The other writers' names found in an entry are kept until a name is
    new: then the entry is searched again."""
    import sqlite3
    from dataclasses import replace

    import site_builder.redact_stage as stage
    from letterbox.core.clock import work_calendar
    from letterbox.core.letter import Letter
    from letterbox.privacy.redact import UnsafeLetter, keep_words
    from site_builder.select import select

    r = Repository(repo)
    letters = r.letters()
    entries = select(letters, r.config, work_calendar(r.root))
    keep = keep_words(r.config)
    db = tmp_path / ".letterbox-cache" / "redaction.sqlite3"
    first, _ = stage.redact_entries(entries, keep, db, workers=1)
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*) FROM checked").fetchone()[0] == len(entries)
    again, stats = stage.redact_entries(entries, keep, db, workers=1)
    assert again == first and stats["cached"] == len(entries)
    key = stage.entry_key(entries[0], keep)
    phone = entries[0].writer.phone
    assert phone
    with sqlite3.connect(db) as con:
        (parts,) = con.execute("SELECT parts FROM redacted WHERE key = ?", (key,)).fetchone()
        title, body, reply = json.loads(parts)
        con.execute("UPDATE redacted SET parts = ? WHERE key = ?",
                    (json.dumps([title, body + phone, reply], ensure_ascii=False), key))
    with pytest.raises(UnsafeLetter, match=entries[0].code):
        stage.redact_entries(entries, keep, db, workers=1)

    # other writers' names: kept, and searched again when a new name comes
    plain = stage.with_other_writers(entries, letters, keep)
    assert stage.with_other_writers(entries, letters, keep, db) == plain
    assert stage.with_other_writers(entries, letters, keep, db) == plain  # from the cache
    word = next(w for w in (entries[0].body[k:k + 3] for k in range(len(entries[0].body)))
                if len(w) == 3 and all("\u4e00" <= c <= "\u9fff" for c in w))
    stranger = Letter(letters[0].path, {**letters[0].data, "letter_code": "LA-2026-99999",
                                        "writer": {"name": word, "phone": "13900001111"}})
    masked = stage.with_other_writers(entries, [*letters, stranger], keep, db)
    assert word in masked[0].mask and word not in plain[0].mask
    assert masked == stage.with_other_writers(entries, [*letters, stranger], keep)
    assert replace(masked[0], mask=plain[0].mask) == plain[0]


def test_letter_cache_rereads_changed_files(repo: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    import site_builder.build as build

    copy = tmp_path / "copy"
    shutil.copytree(repo, copy)
    r = Repository(copy)
    db = tmp_path / ".letterbox-cache" / "letters.sqlite3"
    plain = r.letters()
    first = build.read_letters(r, workers=1, cache=db).letters
    assert [(x.path, x.data) for x in first] == [(x.path, x.data) for x in plain]
    path = copy / plain[0].path
    path.write_text(path.read_text("utf-8").replace(str(plain[0].data["title"]), "新的标题", 1), "utf-8")
    monkeypatch.setattr(build, "READ_POOL_MIN", 0)  # the one changed file, parsed in the pool
    again = build.read_letters(r, workers=2, cache=db).letters
    assert again[0].data["title"] == "新的标题"
    assert [(x.path, x.data) for x in again[1:]] == [(x.path, x.data) for x in plain[1:]]


def test_stats_are_the_analysis_figures_of_published_letters(repo: Path, site: Path) -> None:
    """Per unit, month and in total: `analyse` over the published letters only (the withheld
    letter to mjz and the open one to tc count nowhere), and hand-computed for zjj."""
    from letterbox.core.clock import work_calendar
    from letterbox.reports.analysis import analyse

    stats = json.loads((site / "stats" / "stats.json").read_text("utf-8"))
    units = {r["key"]: r for r in stats["unit"]}
    r = Repository(repo)
    assert set(units) == {"zjj", r.config.office_code}  # not mjz (withheld) nor tc (open)
    # heat: received Mon 5 Jan, approved Wed 7 Jan; follow: Mon 2 Feb → Tue 3 Feb; both in time
    assert units["zjj"]["letters"] == 2 and units["zjj"]["on_time_rate"] == 1.0
    assert units["zjj"]["median_working_days"] == 1.5
    codes = letter_codes(repo)
    published = [x for x in r.letters() if x.code in {codes[LETTERS[k][0]] for k in ("heat", "road", "follow")}]
    cal = work_calendar(r.root)
    last = date(2026, 2, 28)
    for key, row in units.items():
        mine = [x for x in published if key in (x.state().units or (r.config.office_code,))]
        a = analyse(mine, r.config, cal, date(2026, 1, 1), last)
        assert (row["closed"], row["on_time_rate"], row["median_working_days"], row["p90_working_days"]) \
            == (a.closed, a.on_time_rate, a.median_days, a.p90_days), key
    total = analyse(published, r.config, cal, date(2026, 1, 1), last).public_figures()
    assert stats["total"][0]["on_time_rate"] == total["on_time_rate"]
    assert stats["total"][0]["median_working_days"] == total["median_working_days"]
    assert [(m["key"], m["letters"]) for m in stats["month"]] == \
        [(c["key"], c["letters"]) for c in total["by_month"]]
    # February has no withheld letter: the CLI's figures for it are the site's February row
    feb = json.loads(run(repo, "analyse", "--from", "2026-02-01", "--to", "2026-02-28", "--json"))
    row = next(m for m in stats["month"] if m["key"] == "2026-02")
    assert (row["closed"], row["on_time_rate"], row["median_working_days"]) == \
        (feb["closed"], feb["on_time_rate"], feb["median_working_days"])
    csv_rows = (site / "stats" / "stats.csv").read_text("utf-8").splitlines()
    assert f"unit,zjj,{units['zjj']['label']},2,2,2,0,0,1.0,1.5," in "\n".join(csv_rows)


# --------------------------------------------------------------------------- letter pages without Markdown

_TEXT = st.text(alphabet=st.sampled_from(list(
    "ab1 王供暖\\`*_{}[]()#+-.!|~><&\"'=:;/@$%^?,\u00a0\u3000\t\x02\x03\u200b\n\r\x0c\u2028")) | st.characters(),
    max_size=40)


@functools.cache
def _fast_letters() -> tuple[Any, Any]:
    from site_builder.render import FIELDS, MARKDOWN_EXTENSIONS, letter_markdown
    from site_builder.shell import LetterContent, converter

    md = converter(MARKDOWN_EXTENSIONS)
    return md, LetterContent(md, letter_markdown, FIELDS)


@settings(max_examples=300, deadline=None)
@given(title=_TEXT, body=_TEXT, reply=_TEXT, unit=_TEXT, label=_TEXT)
def test_fast_letter_content_is_what_markdown_makes(title: str, body: str, reply: str, unit: str,
                                                     label: str) -> None:
    """shell.LetterContent puts the fields into HTML converted once; Python-Markdown on the
    letter's own Markdown must give the same bytes, whatever the text holds."""
    from site_builder.render import letter_markdown, one_line
    from site_builder.shell import convert

    fields = {"title": one_line(title) or "题", "code": "LA-2026-00001",
              "category_label": one_line(label), "category": "complaint",
              "received": "2026年1月2日", "answered": "2026年1月5日", "reply_by": one_line(unit),
              "days": "3 个工作日（按期办结）", "body": body, "reply": reply}
    md, fast = _fast_letters()
    assert fast.content(fields) == convert(md, letter_markdown(fields))[0]
