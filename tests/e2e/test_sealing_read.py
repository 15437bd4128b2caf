"""Reading sealed letters (issue 16): `show` and `list` work without keys and say what is hidden;
a unit member's key opens exactly that unit's letters, the office's key all of them; `build`
needs a key, publishes sealed letters with the same redaction as clear ones, and holds back the
letters of a shredded period. Real keys (ssh-keygen), real age encryption, real MkDocs builds.

The repository is made by the real CLI (intake, transfer, answer, approve, reply) with a
roster, then sealed here with `core.sealing.seal` (readers: the office and every unit the
letter went to; the period's key by the letter's year) and committed by the office admin, as
`letterbox encrypt` converts a clear repository.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import yaml

from letterbox.core import sealing
from letterbox.core.config import load_config
from letterbox.core.letter import parse_letter
from letterbox.core.process import parse_time
from letterbox.store.repository import Repository
from tests.conftest import Repo, make_case_repo, site_texts, ssh_key

KEYS = ("office", "zzl", "mjz", "intake", "stranger")

WRITERS = {
    "heat": {"name": "王建国", "phone": "13812345678", "email": "wangjg1980@163.com",
             "address": "安阳市龙安区文明大道188号幸福小区3号楼2单元501室"},
    "road": {"name": "欧阳秀英", "phone": "0372-5912345", "email": "oyxy.home@example.cn",
             "address": "安阳市龙安区中州路66号院2栋1单元302室"},
    "old": {"name": "赵志强", "phone": "13900001111", "email": "zzq@example.com",
            "address": "龙安区马家镇赵家村5组18号"},
    "open": {"name": "孙丽华", "phone": "13700002222", "email": "slh@example.com",
             "address": "龙安区田村街道光明小区7号楼3单元201室"},
    "new": {"name": "钱文斌", "phone": "13600003333", "email": "qwb@example.com",
            "address": "龙安区文昌大道街道梧桐小区9号楼"},
}
LETTERS = {  # title, body, day, the unit it goes to (None: the office replies itself)
    "heat": ("幸福小区供暖温度不达标",
             "我是王建国，家住幸福小区3号楼2单元501室，今年冬天供暖温度只有十五度。请回电13812345678。",
             "2026-01-05", "zzl"),
    "road": ("中州路路灯损坏", "本人欧阳秀英，电话0372-5912345。路灯坏了两周，夜间出行不便。",
             "2026-01-06", None),
    "old": ("赵家村道路积水", "赵志强反映村口道路积水已有一月，电话13900001111。", "2025-11-04", "zzl"),
    "open": ("光明小区电梯故障", "孙丽华反映电梯故障，电话13700002222。", "2026-01-07", "mjz"),
    "new": ("梧桐小区噪声扰民", "钱文斌反映，梧桐小区旁工地夜间施工噪声扰民。", "2026-01-08", "zzl"),
}
PUBLIC = ("heat", "road", "old")  # answered; "open" is still with its unit, "new" too (sealed by
# `letterbox intake` itself, re-wrapped for zzl by `transfer`)
SENTENCES = {key: body.split("，")[1] for key, (_, body, _, _) in LETTERS.items()}


class Sealed:
    """The sealed repository, its keys, the period keys' folder and the letters' codes."""

    def __init__(self, repo: Repo, keys: dict[str, Path], periods: Path, codes: dict[str, str],
                 mp: pytest.MonkeyPatch, clear: str) -> None:
        self.repo, self.keys, self.periods, self.codes, self.mp = repo, keys, periods, codes, mp
        self.clear = clear  # the commit before sealing

    def run(self, *args: str, key: str | None = None, expect: int | None = 0) -> Any:
        """The CLI as the holder of `key` (None: no key anywhere), with the period keys."""
        if key is None:
            self.mp.delenv("LETTERBOX_IDENTITY", raising=False)
        else:
            self.mp.setenv("LETTERBOX_IDENTITY", str(self.keys[key]))
        self.mp.setenv("LETTERBOX_PERIOD_KEYS", str(self.periods))
        try:
            return self.repo.run(*args, expect=expect)
        finally:
            self.mp.delenv("LETTERBOX_IDENTITY", raising=False)


def take_in(repo: Repo, keys: dict[str, Path], mp: pytest.MonkeyPatch, key: str) -> str:
    title, body, day, unit = LETTERS[key]
    record = {**WRITERS[key], "title": title, "body": body, "submitted_at": f"{day}T09:00:00+08:00",
              "channel": "web"}
    mp.setenv("LETTERBOX_SIGNING_KEY", str(keys["intake"]))
    code = repo.intake(record, name=f"{key}.json")[0]["letter_code"]
    mp.delenv("LETTERBOX_SIGNING_KEY")
    repo.run("classify", code, "--category", "complaint", "--at", f"{day}T10:00:00+08:00")
    if key == "road":
        repo.run("reply", code, "--text", "欧阳女士：路灯维修已列入本周计划。", "--at", f"{day}T15:00:00+08:00")
        repo.run("publish", code, "--at", f"{day}T16:00:00+08:00")
        return code
    assert unit is not None
    repo.run("transfer", code, "--unit", unit, "--at", f"{day}T11:00:00+08:00")
    if key in ("open", "new"):
        return code
    mp.setenv("LETTERBOX_SIGNING_KEY", str(keys[unit]))
    repo.run("answer", code, "--head", "李主任", "--text", "经查属实，已责成有关方面三日内整改。")  # a unit
    mp.delenv("LETTERBOX_SIGNING_KEY")  # acts at the real time
    repo.run("approve", code)
    return code


def seal_repository(root: Path, periods: Path) -> None:
    """Seal every case file (writer, title, body) to the office and the units it went to, each
    by its year's period key; the public halves go into letterbox.yaml."""
    config = load_config(root)
    publics: dict[str, str] = {}
    for path in sorted((root / "cases").rglob("*.yaml")):
        letter = parse_letter(path.read_text("utf-8"), path.relative_to(root))  # type: ignore[arg-type]
        data = letter.data
        period = f"{parse_time(data['submitted_at']).astimezone(config.tz).year:04d}"
        if period not in publics:
            secret, publics[period] = sealing.new_period_key()
            (periods / f"{period}.key").write_text(secret + "\n", "ascii")
        units = {u for e in letter.history if e.get("action") == "transfer"
                 for u in (e.get("details") or {}).get("units") or []}
        people = sealing.readers(config.roster.members, units, ())
        fields = {k: data[k] for k in sealing.DEFAULT_FIELDS}
        data["sealed"] = sealing.seal(fields, letter.code, people, period, publics[period])
        path.write_text(letter.to_yaml(), "utf-8")
    cfg = root / "letterbox.yaml"
    cfg.write_text(cfg.read_text("utf-8") + "\n" + yaml.safe_dump(
        {"encryption": {"periods": publics}}, allow_unicode=True), "utf-8")


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    mp = pytest.MonkeyPatch()
    base = tmp_path_factory.mktemp("sealed")
    folder = base / "keys"
    folder.mkdir()
    keys = {name: ssh_key(folder, name) for name in KEYS}
    periods = base / "periods"
    periods.mkdir()
    repo = make_case_repo(base, mp)
    repo.run("key", "use", str(keys["office"]))
    repo.run("roster", "add", "--name", "信息中心 王静", "--role", "office-admin", "--key", f"{keys['office']}.pub")
    repo.run("roster", "add", "--name", "中州路 李强", "--role", "unit", "--unit", "zzl", "--key", f"{keys['zzl']}.pub")
    repo.run("roster", "add", "--name", "马家镇 陈明", "--role", "unit", "--unit", "mjz", "--key", f"{keys['mjz']}.pub")
    repo.run("roster", "add", "--name", "网上信箱", "--role", "intake", "--key", f"{keys['intake']}.pub")
    codes = {key: take_in(repo, keys, mp, key) for key in ("old", "heat", "road", "open")}
    clear = repo.git("rev-parse", "HEAD").strip()
    seal_repository(repo.path, periods)
    repo.git("add", "-A")
    repo.git("commit", "-q", "-S", "-m", "Seal the case files (test)")
    mp.setenv("LETTERBOX_PERIOD_KEYS", str(periods))
    codes["new"] = take_in(repo, keys, mp, "new")  # intake seals, transfer re-wraps (office key)
    assert "sealed" in repo.letter(codes["new"]) and "writer" not in repo.letter(codes["new"])
    mp.delenv("LETTERBOX_PERIOD_KEYS")
    repo.git("config", "--unset", "user.signingkey")  # from now on: no key unless a test names one
    yield Sealed(repo, keys, periods, codes, mp, clear)
    mp.undo()


def every_datum(keys: tuple[str, ...] = tuple(LETTERS)) -> list[str]:
    data = [v for k in keys for v in WRITERS[k].values()]
    return data + [SENTENCES[k] for k in keys] + [LETTERS[k][0] for k in keys]


# -- the sealed files -----------------------------------------------------------------------------


def test_case_files_hold_no_writer_datum_or_text(sealed: Sealed) -> None:
    text = "".join(p.read_text("utf-8") for p in (sealed.repo.path / "cases").rglob("*.yaml"))
    assert text.count("sealed:") == 5
    for datum in every_datum():
        assert datum not in text


# -- show and list without keys -------------------------------------------------------------------


def test_list_without_a_key_shows_the_structure_and_says_what_is_hidden(sealed: Sealed) -> None:
    result = sealed.run("list", "--today", "2026-01-08")
    out = result.stdout + result.stderr
    for code in sealed.codes.values():
        assert code in result.stdout
    assert "已加密" in result.stdout and "未提供阅读密钥" in result.stdout
    assert "5 封信件加密保存" in result.stderr and "LETTERBOX_IDENTITY" in result.stderr
    for datum in every_datum():
        assert datum not in out
    rows = {r["letter_code"]: r for r in json.loads(sealed.run("list", "--json").stdout)}
    assert rows[sealed.codes["open"]]["status"] == "transferred"
    assert rows[sealed.codes["open"]]["unit_names"] == ["马家镇人民政府"]
    assert all(r["hidden"] for r in rows.values())


def test_show_without_a_key_shows_status_history_and_answer(sealed: Sealed) -> None:
    code = sealed.codes["heat"]
    result = sealed.run("show", code, "--writer")
    out = result.stdout + result.stderr
    assert "已办结" in result.stdout or "审核通过" in result.stdout
    assert "经查属实" in result.stdout  # answers stay readable
    assert "（已加密：未提供阅读密钥）" in result.stdout
    assert "这封信加密保存" in result.stderr
    for datum in every_datum():
        assert datum not in out
    view = json.loads(sealed.run("show", code, "--json", "--writer").stdout)
    assert view["writer"] is None and view["hidden"] and view["status"] == "closed"
    assert [e["action"] for e in view["history"]][:3] == ["receive", "classify", "transfer"]


# -- a unit's key, the office's key ---------------------------------------------------------------


def readable(sealed: Sealed, key: str | None) -> set[str]:
    rows = json.loads(sealed.run("list", "--json", key=key).stdout)
    titles = {r["letter_code"]: r["title"] for r in rows}
    return {k for k, code in sealed.codes.items() if titles[code] == LETTERS[k][0]}


def test_a_unit_key_reads_exactly_its_units_letters(sealed: Sealed) -> None:
    assert readable(sealed, None) == set()
    assert readable(sealed, "zzl") == {"heat", "old", "new"}
    assert readable(sealed, "mjz") == {"open"}
    assert readable(sealed, "stranger") == set()
    assert readable(sealed, "office") == set(LETTERS)


def test_show_with_keys(sealed: Sealed) -> None:
    heat, opened = sealed.codes["heat"], sealed.codes["open"]
    view = json.loads(sealed.run("show", heat, "--json", "--writer", key="zzl").stdout)
    assert view["hidden"] is None and view["writer"] == WRITERS["heat"] and view["title"] == LETTERS["heat"][0]
    other = sealed.run("show", opened, "--writer", key="zzl")
    assert "无权阅读" in other.stdout and "收件人" in other.stderr
    assert all(d not in other.stdout + other.stderr for d in every_datum(("open",)))
    full = sealed.run("show", opened, "--writer", key="office")
    assert WRITERS["open"]["phone"] in full.stdout and SENTENCES["open"] in full.stdout


def test_list_names_why_a_unit_key_does_not_read_the_rest(sealed: Sealed) -> None:
    result = sealed.run("list", key="mjz")
    assert "4 封信件加密保存" in result.stderr and "无权阅读 4 封" in result.stderr


# -- commands that need the clear text ------------------------------------------------------------


@pytest.mark.parametrize("args", [("similar", "HEAT"), ("analyse",), ("report", "--month", "2026-01"),
                                  ("preview", "HEAT")])
def test_text_commands_need_a_key(sealed: Sealed, args: tuple[str, ...]) -> None:
    args = tuple(sealed.codes["heat"] if a == "HEAT" else a for a in args)
    result = sealed.run(*args, expect=1)
    assert "没有找到阅读密钥" in result.stderr and "LETTERBOX_IDENTITY" in result.stderr
    assert all(d not in result.stdout + result.stderr for d in every_datum())


def test_build_without_a_key_fails_and_writes_nothing(sealed: Sealed, tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = sealed.run("build", "--out", str(out), expect=1)
    assert "没有找到阅读密钥" in result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_build_with_the_office_key_publishes_the_answered_letters(sealed: Sealed, tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = sealed.run("build", "--out", str(out), key="office")
    assert "公开来信 3 封" in result.stdout
    texts = site_texts(out)
    pages = sorted(p.name for p in (out / "letters").iterdir())
    assert pages == sorted(sealed.codes[k] for k in PUBLIC)
    everything = "".join(texts.values())
    assert LETTERS["heat"][0] in everything and "供暖温度只有十五度" in everything  # the text, redacted
    for key in LETTERS:
        for datum in WRITERS[key].values():
            assert datum not in everything, datum
    assert sealed.codes["open"] not in everything and "电梯故障" not in everything
    cache = (sealed.repo.path / ".letterbox-cache").rglob("*")
    stored = b"".join(p.read_bytes() for p in cache if p.is_file())
    for key in LETTERS:  # the parse cache keeps the sealed form only
        assert WRITERS[key]["phone"].encode() not in stored


def test_sealed_letters_are_published_as_the_same_letters_in_clear(sealed: Sealed, tmp_path: Path) -> None:
    clear = tmp_path / "clear"
    subprocess.run(["git", "clone", "-q", str(sealed.repo.path), str(clear)], check=True)
    subprocess.run(["git", "-C", str(clear), "checkout", "-q", sealed.clear], check=True)
    sealed.mp.setenv("SOURCE_DATE_EPOCH", "1767225600")
    try:
        Repo(clear, sealed.repo.runner).run("build", "--out", str(tmp_path / "a"))
        sealed.run("build", "--out", str(tmp_path / "b"), key="office")
    finally:
        sealed.mp.delenv("SOURCE_DATE_EPOCH")
    a, b = site_texts(tmp_path / "a"), site_texts(tmp_path / "b")
    pages = sorted(p for p in a if p.startswith("letters/"))
    assert len(pages) == 3 and pages == sorted(p for p in b if p.startswith("letters/"))
    assert all(a[p] == b[p] for p in pages)  # the same redaction, word for word
    assert a["requests.json"] == b["requests.json"]


def test_a_shredded_period_is_held_back_and_the_rest_published(sealed: Sealed, tmp_path: Path) -> None:
    periods = tmp_path / "periods"
    shutil.copytree(sealed.periods, periods)
    (periods / "2025.key").unlink()  # the 2025 period shredded
    old = sealed.periods
    sealed.periods = periods
    try:
        out = tmp_path / "site"
        result = sealed.run("build", "--out", str(out), key="office", expect=3)
        assert "公开来信 2 封" in result.stdout
        assert sealed.codes["old"] in result.stderr and "保存期 2025" in result.stderr
        pages = sorted(p.name for p in (out / "letters").iterdir())
        assert pages == sorted(sealed.codes[k] for k in ("heat", "road"))
        assert "积水" not in "".join(site_texts(out).values())
    finally:
        sealed.periods = old


def test_repository_letters_open_with_a_keyring(sealed: Sealed) -> None:
    repo = Repository(sealed.repo.path)
    ring = sealing.Keyring((sealed.keys["zzl"].read_bytes(),),
                           tuple((p.stem, p.read_text().strip()) for p in sealed.periods.glob("*.key")))
    letters = {x.code: x for x in repo.letters(ring)}
    assert letters[sealed.codes["heat"]].data["writer"] == WRITERS["heat"]
    assert letters[sealed.codes["heat"]].hidden is None
    assert "收件人" in str(letters[sealed.codes["road"]].hidden)
    assert "writer" not in letters[sealed.codes["road"]].data
    assert all(x.hidden is None and "writer" not in x.data for x in repo.letters())  # no keyring: as stored
    pooled = repo.load(lines=False, keyring=ring, workers=2, pool_min=1)
    assert pooled.pooled
    assert {x.code: x.hidden is None for x in pooled.letters} == {x.code: x.hidden is None for x in letters.values()}
    assert repo.letter(sealed.codes["old"], ring).data["title"] == LETTERS["old"][0]


def test_text_commands_with_a_key_skip_and_name_what_it_does_not_open(sealed: Sealed,
                                                                     tmp_path: Path) -> None:
    heat, road = sealed.codes["heat"], sealed.codes["road"]
    result = sealed.run("analyse", "--json", "--from", "2025-01-01", "--out", str(tmp_path), key="zzl")
    figures = json.loads(result.stdout)
    assert figures["received"] == 5 and figures["unread_sealed_letters"] == 2
    assert "无权阅读 2 封" in result.stderr
    page = (tmp_path / "analysis.html").read_text("utf-8")
    assert "其中 2 封来信加密保存" in page
    assert all(d not in page for d in every_datum(("road", "open")))
    found = sealed.run("similar", heat, "--all", key="zzl")
    assert "无权阅读 2 封" in found.stderr and "未参与比较" in found.stderr
    kept = sealed.repo.path / ".git" / "letterbox" / "similar.sqlite"  # sealed letters' words: never
    if kept.exists():
        with closing(sqlite3.connect(kept)) as db:
            tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
            assert "vectors" not in tables or db.execute("SELECT * FROM vectors").fetchall() == []
    report = sealed.run("report", "--month", "2026-01", "--format", "json", key="zzl")
    assert "2 封信件加密保存且无法用本机密钥解密" in report.stdout
    refused = sealed.run("preview", road, key="zzl", expect=1)
    assert "无法预览" in refused.stderr and "收件人" in refused.stderr
    view = json.loads(sealed.run("preview", heat, "--json", key="office").stdout)
    assert view["on_board"] and "供暖温度只有十五度" in view["public"]["body"]
    assert WRITERS["heat"]["phone"] not in json.dumps(view["public"], ensure_ascii=False)
    everything = "".join(r.stdout + r.stderr for r in (result, found, report, refused))
    assert all(d not in everything for d in every_datum(("road", "open")))
