"""The incremental board (issue 17): after each kind of change, a build that keeps the last
build's output and remakes only what changed gives the very bytes of a build from scratch
(but for the lookup index, whose salt and nonces are fresh by design), and its leak scan still
finds a new writer's data in a file it did not remake."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from letterbox.core.errors import LetterboxError
from letterbox.store.repository import Repository
from site_builder import lookup_index as li
from site_builder.build import BuildReport, LeakFound, build_site
from site_builder.incremental import MANIFEST, STATE_DIR, stamps
from site_builder.redact_stage import CACHE_DIR
from site_builder.scan import PIECES_DIR, Pieces
from site_builder.tools import part_dir, search_part
from tests.e2e.test_lookup_refresh import check_index
from tests.e2e.test_site import _commit_by_hand, intake, run, to_unit


def files_of(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes()
            for p in sorted(site.rglob("*")) if p.is_file() and not p.relative_to(site).as_posix()
            .startswith("lookup/") or (p.is_file() and p.relative_to(site).as_posix() == "lookup/index.html")}


def same_as_from_scratch(root: Path, site: Path, tmp: Path, name: str) -> None:
    """A build from scratch (no cache, a new folder) gives every file of `site` byte for byte
    (the lookup index's data files aside), and no other file."""
    scratch = tmp / f"scratch-{name}"
    build_site(Repository(root), scratch, cache=False)
    ours, theirs = files_of(site), files_of(scratch)
    assert sorted(ours) == sorted(theirs)
    differ = [rel for rel in ours if ours[rel] != theirs[rel]]
    assert differ == [], name
    assert (site / "lookup" / "meta.json").is_file()
    shutil.rmtree(scratch)


def lookup_salt(site: Path) -> str:
    return str(json.loads((site / "lookup" / "meta.json").read_text("utf-8"))["hkdf"]["salt"])


def lookup_files(site: Path) -> dict[str, int]:
    return {p.relative_to(site).as_posix(): p.stat().st_ino
            for p in sorted((site / "lookup").rglob("*")) if p.is_file() and p.name != "index.html"}


def lookup_payloads(root: Path, site: Path) -> dict[str, dict]:
    """letter code → its entry's payload, every entry decrypted from the site's shards
    (test_lookup_refresh.check_index: each in its shard, as the manifest says)."""
    assert check_index(root, site) >= 1
    repo = Repository(root)
    manifest = li.Manifest.open(li.manifest_folder(repo), json.loads((site / "lookup" / "meta.json")
                                                                     .read_text("utf-8")))
    assert manifest is not None
    try:
        return {r.code: r.payload for r in manifest.records()}
    finally:
        manifest.close()
        repo.close()


def bundles(site: Path) -> dict[str, dict[str, tuple[int, int]]]:
    """Pagefind folder → its files' (inode, mtime): a file kept as published keeps both."""
    return {d.name: {p.relative_to(d).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
                     for p in sorted(d.rglob("*")) if p.is_file()}
            for d in sorted(site.glob("pagefind-*")) if d.is_dir()}


def incremental(root: Path, site: Path) -> BuildReport:
    report = build_site(Repository(root), site)
    manifest = json.loads((root / CACHE_DIR / STATE_DIR / MANIFEST).read_text("utf-8"))
    assert manifest["out"] == str(site.resolve())
    # the site's files as recorded (from the build's own walks) are the published ones
    assert manifest["files"] == {rel: list(st) for rel, st in stamps(site).items()}
    return report


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("incremental") / "cases-repo"
    run(root.parent, "init", str(root))
    cfg = root / "letterbox.yaml"
    cfg.write_text(cfg.read_text("utf-8").replace("iterations: 600000", "iterations: 1000"), "utf-8")
    _commit_by_hand(root, "letterbox.yaml")
    heat = intake(root, "heat", "2026-01-05")
    to_unit(root, heat, "2026-01-05", "zjj", "王建国先生：您好！经查，幸福小区供暖不达标属实，已责成供热公司三日内整改。")
    run(root, "approve", heat, "--at", "2026-01-07T10:00:00+08:00")
    road = intake(root, "road", "2026-01-06")
    run(root, "classify", road, "--category", "consultation", "--at", "2026-01-06T10:00:00+08:00")
    run(root, "reply", road, "--text", "欧阳女士：路灯维修已列入本周计划。", "--at", "2026-01-06T15:00:00+08:00")
    run(root, "publish", road, "--at", "2026-01-06T16:00:00+08:00")
    opened = intake(root, "open", "2026-01-07")
    to_unit(root, opened, "2026-01-07", "tc", "正在维修。")
    return root


def test_incremental_build_is_a_build_from_scratch(board: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LETTERBOX_SEARCH_PART", "1")  # a Pagefind bundle per letter
    root, site = board, tmp_path / "site"
    first = incremental(root, site)
    assert first.changed == first.files  # nothing to keep: every file made
    same_as_from_scratch(root, site, tmp_path, "first")
    codes = {str(x.data["title"]): x.code for x in Repository(root).letters()}
    heat, road, opened = codes["王建国反映幸福小区供暖温度不达标"], codes["中州路路灯损坏"], codes["光明小区电梯故障"]

    salt = lookup_salt(site)
    again = incremental(root, site)  # nothing changed: the sitemaps made again, the lookup kept
    assert {p for p in again.timings} >= {"mkdocs", "pages", "scan"}
    assert again.changed == 2, again.changed
    assert lookup_salt(site) == salt  # refreshed in place: no entry changed
    same_as_from_scratch(root, site, tmp_path, "unchanged")

    # a real step: the open letter is approved and comes on the board
    run(root, "approve", opened, "--at", "2026-01-09T10:00:00+08:00")
    report = incremental(root, site)
    assert (site / "letters" / opened / "index.html").is_file()
    assert report.changed < report.files / 2
    same_as_from_scratch(root, site, tmp_path, "step")

    # a hand edit of a case file: the reply's text
    path = next(p for p in (root / "cases").rglob("*.yaml") if heat in p.name)
    text = path.read_text("utf-8")
    path.write_text(text.replace("三日内整改", "两日内整改"), "utf-8")
    _commit_by_hand(root, path.relative_to(root).as_posix())
    published = bundles(site)
    assert len(published) == 3 and part_dir(search_part(heat, 1)) in published  # a letter each
    report = incremental(root, site)
    now = bundles(site)
    assert sorted(now) == sorted(published)
    for name, files in published.items():  # heat's part indexed again, the other kept as it was
        assert (now[name] == files) is (name != part_dir(search_part(heat, 1))), name
    parts = json.loads((site / "pagefind-parts.json").read_text("utf-8"))
    assert parts == sorted(published)
    assert "两日内整改" in (site / "letters" / heat / "index.html").read_text("utf-8")
    assert report.changed < report.files / 2
    same_as_from_scratch(root, site, tmp_path, "hand edit")

    # a hand edit of a title: the list pages that show it are made again (render.KeptPages)
    path = next(p for p in (root / "cases").rglob("*.yaml") if road in p.name)
    path.write_text(path.read_text("utf-8").replace("中州路路灯损坏", "中州路路灯长期损坏"), "utf-8")
    _commit_by_hand(root, path.relative_to(root).as_posix())
    incremental(root, site)
    assert "中州路路灯长期损坏" in (site / "categories" / "consultation" / "index.html").read_text("utf-8")
    same_as_from_scratch(root, site, tmp_path, "title")

    # calendar.yaml changed, no case file: a working day declared a holiday changes the
    # handling time of the letter answered across it (its kept fold is of the old calendar)
    page = (site / "letters" / heat / "index.html").read_text("utf-8")
    stats = (site / "stats" / "stats.json").read_text("utf-8")
    (root / "calendar.yaml").write_text(yaml.safe_dump({"years": {2026: {
        "source": "国务院办公厅关于2026年部分节假日安排的通知（测试用）",
        "holidays": ["2026-01-01", "2026-01-06"], "workdays": []}}}, allow_unicode=True), "utf-8")
    _commit_by_hand(root, "calendar.yaml")
    incremental(root, site)
    assert (site / "letters" / heat / "index.html").read_text("utf-8") != page
    assert (site / "stats" / "stats.json").read_text("utf-8") != stats
    same_as_from_scratch(root, site, tmp_path, "calendar")

    # a publication change: the published letter taken down
    run(root, "unpublish", road, "--reason", "来信人要求撤下", "--at", "2026-01-10T10:00:00+08:00")
    incremental(root, site)
    assert not (site / "letters" / road).exists()
    same_as_from_scratch(root, site, tmp_path, "unpublish")

    # a case file deleted by hand
    path = next(p for p in (root / "cases").rglob("*.yaml") if opened in p.name)
    path.unlink()
    Repository(root).git.git.rm("-q", "--cached", path.relative_to(root).as_posix())
    _commit_by_hand(root, path.relative_to(root).as_posix())
    incremental(root, site)
    assert not (site / "letters" / opened).exists()
    same_as_from_scratch(root, site, tmp_path, "deleted")

    # a new letter, taken to the board: a month page is added to the MkDocs project, and
    # MkDocs builds only the changed pages (--dirty), its other pages kept as they were
    state = root / CACHE_DIR / STATE_DIR
    project = set(json.loads((state / MANIFEST).read_text("utf-8"))["project"])
    measures = (state / "mkdocs" / "measures" / "index.html").stat()
    follow = intake(root, "follow", "2026-02-02", follows_up=heat)
    to_unit(root, follow, "2026-02-02", "zjj", "已再次督促供热公司，室温已达18度。")
    run(root, "approve", follow, "--at", "2026-02-03T10:00:00+08:00")
    incremental(root, site)
    added = set(json.loads((state / MANIFEST).read_text("utf-8"))["project"]) - project
    assert any(rel.startswith("docs/months/") for rel in added), added
    kept = (state / "mkdocs" / "measures" / "index.html").stat()
    assert (kept.st_ino, kept.st_mtime_ns) == (measures.st_ino, measures.st_mtime_ns)
    assert follow in (site / "letters" / heat / "index.html").read_text("utf-8")  # 相关来信
    same_as_from_scratch(root, site, tmp_path, "new letter")

    # the published site changed by someone else: the next build makes every file again
    (site / "index.html").write_text("changed", "utf-8")
    report = incremental(root, site)
    assert report.changed == report.files
    same_as_from_scratch(root, site, tmp_path, "site changed")


NEW_WORD = "aleksandr"  # in Pagefind's UI script (a translator's name), in no page of the site's own


@pytest.mark.parametrize("damage", [None, "removed", "cut short"])
def test_new_writer_data_found_in_a_page_kept_as_it_was(board: Path, tmp_path: Path, damage: str | None) -> None:
    """A new letter (not public) whose writer's e-mail user name is a word of a file the
    incremental build keeps untouched: the kept pieces hold it, so the kept files are searched
    for the new needles, and the build stops as a build from scratch does; also when the kept
    pieces are gone or a part of them is cut short (then every kept file is read)."""
    root = tmp_path / "repo"
    shutil.copytree(board, root)
    shutil.rmtree(root / CACHE_DIR, ignore_errors=True)
    site = tmp_path / "site"
    incremental(root, site)
    pieces = root / CACHE_DIR / STATE_DIR / PIECES_DIR
    parts = sorted(pieces.iterdir())
    assert parts and any(NEW_WORD.encode() in p.read_bytes() for p in parts)
    if damage == "removed":
        shutil.rmtree(pieces)
    elif damage == "cut short":
        for part in parts:
            if NEW_WORD.encode() in part.read_bytes():
                part.write_bytes(part.read_bytes()[:10])
    kept = {p: p.stat().st_mtime_ns for p in site.rglob("*.js")}
    assert NEW_WORD in next(site.glob("pagefind-*/pagefind-ui.js")).read_text("utf-8").lower()
    record = {"name": "钱多多", "phone": "13566667777", "email": f"{NEW_WORD}@example.com",
              "address": "龙安区彰武街道南田村1组2号", "title": "南田村道路坑洼",
              "body": "南田村道路坑洼，雨天积水。", "submitted_at": "2026-02-05T09:00:00+08:00"}
    (tmp_path / "new.json").write_text(json.dumps(record, ensure_ascii=False), "utf-8")
    run(root, "intake", str(tmp_path / "new.json"), "--json")
    with pytest.raises(LeakFound):
        build_site(Repository(root), tmp_path / "scratch", cache=False)
    with pytest.raises(LeakFound):
        build_site(Repository(root), site)
    assert {p: p.stat().st_mtime_ns for p in site.rglob("*.js")} == kept  # the old site stays


def live_hits(root: Path) -> dict[str, list]:
    """The kept state's recorded hits (file → digests of the needles sought found in it)."""
    manifest = json.loads((root / CACHE_DIR / STATE_DIR / MANIFEST).read_text("utf-8"))
    live = set(manifest["needles"])
    found = {rel: sorted(set(names) & live) for rel, (names, _) in manifest["hits"].items()}
    return {rel: names for rel, names in found.items() if names}


def hits_from_scratch(root: Path, tmp: Path) -> dict[str, list]:
    """`live_hits` of a build with no kept state, on a copy of the repository."""
    copy = tmp / "scratch-repo"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(CACHE_DIR))
    build_site(Repository(copy), tmp / "scratch-site")
    shutil.rmtree(tmp / "scratch-site")
    return live_hits(copy)


def new_writer(root: Path, tmp: Path, name: str, phone: str) -> str:
    record = {"name": name, "phone": phone, "email": f"w{phone}@example.com",
              "address": f"彰武街道柳园村{phone[-4:]}号", "title": "路灯不亮", "body": "小区门口路灯不亮。",
              "submitted_at": "2026-02-05T09:00:00+08:00"}
    (tmp / "w.json").write_text(json.dumps(record, ensure_ascii=False), "utf-8")
    return str(json.loads(run(root, "intake", str(tmp / "w.json"), "--json"))[0]["letter_code"])


def test_new_needles_searched_in_the_kept_pieces(board: Path, tmp_path: Path) -> None:
    """A new writer's data found nowhere in the kept pieces: only the kept files that hold a
    needle (their pieces with it are kept masked) are read again; found in them (a writer
    named 龙安, in every page's 龙安区): every kept file is read again. Either way the hits
    the build records are a build from scratch's. A writer named 索引 is in the search page's
    text (一小部分索引), kept masked; a later writer named 部分索引 is then in no kept piece
    but still found there, by reading again the files that held 索引, also after the 索引 letter
    is gone. (A writer's name in a letter's text is masked there: no hit.)"""
    root = tmp_path / "repo"
    shutil.copytree(board, root)
    shutil.rmtree(root / CACHE_DIR, ignore_errors=True)
    site = tmp_path / "site"
    index = new_writer(root, tmp_path, "索引", "13566660000")
    incremental(root, site)
    pieces = Pieces(root / CACHE_DIR / STATE_DIR / PIECES_DIR)
    assert pieces.search(["索引", "部分", "部分索引", "13566660000"]) == {"部分"}  # masked

    new_writer(root, tmp_path, "钱多多", "13566667777")  # in no page
    report = incremental(root, site)
    assert 0 < report.rescanned < report.files // 10
    assert live_hits(root) == hits_from_scratch(root, tmp_path)

    case = next(root.glob(f"cases/*/*/{index}.yaml")).relative_to(root).as_posix()
    Repository(root).git.git.rm("-q", case)
    _commit_by_hand(root, case)
    incremental(root, site)  # 索引 no longer sought: the files that held it stay to be read again
    new_writer(root, tmp_path, "部分索引", "13566669999")
    assert pieces.search(["部分索引"]) == set()
    report = incremental(root, site)
    assert 0 < report.rescanned < report.files // 2
    ours = live_hits(root)
    assert ours == hits_from_scratch(root, tmp_path)
    assert "search/index.html" in ours

    new_writer(root, tmp_path, "龙安", "13566668888")  # in the text of every page
    report = incremental(root, site)
    assert report.rescanned > report.files // 2
    assert live_hits(root) == hits_from_scratch(root, tmp_path)


def test_the_build_refreshes_the_lookup_index_in_place(board: Path, tmp_path: Path) -> None:
    """After a step, an incremental build rewrites only the changed letters' lookup shards (same
    build salt, the other shards kept as published) and its entries say what a build from
    scratch's say; a build that does not publish leaves the published index's manifest as
    it was."""
    root = tmp_path / "repo"
    shutil.copytree(board, root)
    shutil.rmtree(root / CACHE_DIR, ignore_errors=True)
    opened = intake(root, "open", "2026-02-03")
    to_unit(root, opened, "2026-02-03", "tc", "正在维修。")
    site = tmp_path / "site"
    incremental(root, site)
    salt, files = lookup_salt(site), lookup_files(site)
    assert lookup_payloads(root, site)[opened]["link"] is None

    run(root, "approve", opened, "--at", "2026-02-04T10:00:00+08:00")  # comes on the board
    incremental(root, site)
    assert lookup_salt(site) == salt
    now = lookup_files(site)
    assert sorted(now) == sorted(files)
    changed = [rel for rel in now if now[rel] != files[rel]]
    assert 1 <= len(changed) <= 2 and all(rel.startswith("lookup/shards/") for rel in changed), changed
    ours = lookup_payloads(root, site)
    assert ours[opened]["link"] == f"../letters/{opened}/" and ours[opened]["status"] == "closed"
    scratch = tmp_path / "scratch"
    build_site(Repository(root), scratch, cache=False)
    assert lookup_salt(scratch) != salt
    assert lookup_payloads(root, scratch) == ours

    # a build that stops (a leak) leaves the published index and its manifest as they were
    folder = li.manifest_folder(Repository(root))
    manifest = li.Manifest.path_for(folder, json.loads((site / "lookup" / "meta.json").read_text("utf-8")))
    kept, files = manifest.read_bytes(), lookup_files(site)
    record = {"name": "钱多多", "phone": "13566667777", "email": f"{NEW_WORD}@example.com",
              "address": "龙安区彰武街道南田村1组2号", "title": "南田村道路坑洼",
              "body": "南田村道路坑洼，雨天积水。", "submitted_at": "2026-02-05T09:00:00+08:00"}
    (tmp_path / "new.json").write_text(json.dumps(record, ensure_ascii=False), "utf-8")
    run(root, "intake", str(tmp_path / "new.json"), "--json")
    with pytest.raises(LeakFound):
        build_site(Repository(root), site)
    assert manifest.read_bytes() == kept and lookup_files(site) == files
    assert [p.name for p in folder.iterdir() if ".build-" in p.name] == []


def test_mkdocs_output_kept_only_for_the_same_build_day(board: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """When no page of the MkDocs project changed, MkDocs does not run and its kept output is
    used (`Plan.mkdocs_current`), but only for the build day it was made for: the sitemap's
    lastmod and its .gz's time are that day. A build on another day with nothing else changed is still byte for
    byte a build from scratch (a kept output not keyed by the day fails here)."""
    root = tmp_path / "repo"
    shutil.copytree(board, root)
    shutil.rmtree(root / CACHE_DIR, ignore_errors=True)
    site = tmp_path / "site"
    shell = root / CACHE_DIR / STATE_DIR / "mkdocs" / "404.html"
    # the board's day is Beijing's (its `today`: pages depend on it), MkDocs' is UTC's: these
    # three times are one day in Beijing (2026-04-02), the last one the next day in UTC
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1775082600")  # 2026-04-01 22:30 UTC
    incremental(root, site)
    made = shell.stat().st_mtime_ns
    dated = (site / "sitemap.xml.gz").read_bytes()  # gzip's time: the build day (MkDocs)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1775086200")  # 23:30 UTC, the same day
    incremental(root, site)
    assert shell.stat().st_mtime_ns == made  # MkDocs did not run
    same_as_from_scratch(root, site, tmp_path, "same-day")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1775089800")  # 2026-04-02 00:30 UTC: the next day
    incremental(root, site)
    assert shell.stat().st_mtime_ns != made  # MkDocs ran again (no page of its project changed)
    assert (site / "sitemap.xml.gz").read_bytes() != dated
    same_as_from_scratch(root, site, tmp_path, "next-day")


def test_another_part_size_files_the_search_pages_anew(board: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The kept search pages are filed by part: a build after the part size changed
    (`Manifest.search_part`) writes them all again and indexes every part again, and gives a
    build from scratch's bytes; it failed before (Pagefind found an empty part folder). A size
    that is no number stops the build with a message, the published site as it was."""
    root = tmp_path / "repo"
    shutil.copytree(board, root)
    shutil.rmtree(root / CACHE_DIR, ignore_errors=True)
    site = tmp_path / "site"
    layouts = set()
    for step, size in enumerate((1, 2, 1)):
        monkeypatch.setenv("LETTERBOX_SEARCH_PART", str(size))
        published = bundles(site)
        incremental(root, site)
        now = bundles(site)
        assert not any(now.get(name) == files for name, files in published.items())  # all made again
        codes = [p.name for p in (site / "letters").iterdir() if (p / "index.html").is_file()]
        parts = sorted({part_dir(search_part(code, size)) for code in codes})
        assert json.loads((site / "pagefind-parts.json").read_text("utf-8")) == parts
        layouts.add(tuple(parts))
        same_as_from_scratch(root, site, tmp_path, f"size-{step}")
    assert len(layouts) == 2  # (a bundle per letter, then two letters in one)
    published = files_of(site)
    for bad in ("0", "zwei", "-3", "1e3", "9" * 12):
        monkeypatch.setenv("LETTERBOX_SEARCH_PART", bad)
        with pytest.raises(LetterboxError, match="LETTERBOX_SEARCH_PART 应为 1 到 999999999 之间的整数"):
            build_site(Repository(root), site)
        assert files_of(site) == published


def test_the_part_size_doubles_as_the_board_grows(board: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Parts doubled while there would be more than SEARCH_BUNDLES (here one letter a part, and
    as many parts as the board has letters at first): the step that publishes one more letter
    makes the parts two letters each, every search page filed anew, every part indexed again,
    and the site is byte for byte a build from scratch."""
    from site_builder import tools

    root = tmp_path / "repo"
    shutil.copytree(board, root)
    shutil.rmtree(root / CACHE_DIR, ignore_errors=True)
    site = tmp_path / "site"
    monkeypatch.delenv("LETTERBOX_SEARCH_PART", raising=False)
    monkeypatch.setattr(tools, "SEARCH_PART", 1)
    monkeypatch.setattr(tools, "SEARCH_BUNDLES", 1000)
    incremental(root, site)
    before = sorted(p.name for p in (site / "letters").iterdir() if (p / "index.html").is_file())
    assert len(before) >= 2
    monkeypatch.setattr(tools, "SEARCH_BUNDLES", len(before))  # as many parts as letters: size 1
    incremental(root, site)
    parts = json.loads((site / "pagefind-parts.json").read_text("utf-8"))
    assert parts == sorted({part_dir(search_part(c, 1)) for c in before})  # a bundle each
    published = bundles(site)
    new = intake(root, "road", "2026-01-08")  # one more letter on the board: size 2
    run(root, "classify", new, "--category", "consultation", "--at", "2026-01-08T10:00:00+08:00")
    run(root, "reply", new, "--text", "路灯已修复。", "--at", "2026-01-08T15:00:00+08:00")
    run(root, "publish", new, "--at", "2026-01-08T16:00:00+08:00")
    incremental(root, site)
    after = sorted(p.name for p in (site / "letters").iterdir() if (p / "index.html").is_file())
    assert after == sorted([*before, new])
    parts = json.loads((site / "pagefind-parts.json").read_text("utf-8"))
    assert parts == sorted({part_dir(search_part(c, 2)) for c in after})
    pages = {name: sum(x["page_count"] for x in json.loads((site / name / "pagefind-entry.json")
                                                           .read_text("utf-8"))["languages"].values())
             for name in parts}
    assert sum(pages.values()) == len(after) and max(pages.values()) == 2  # two letters in a part
    now = bundles(site)
    assert not any(now.get(name) == files for name, files in published.items())  # all made again
    manifest = json.loads((root / CACHE_DIR / STATE_DIR / MANIFEST).read_text("utf-8"))
    assert manifest["search_part"] == 2
    same_as_from_scratch(root, site, tmp_path, "grown")
