"""Status lookup: index built from the case files, looked up in Python and through the CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from letterbox.cli.main import cli
from letterbox.core.process import REJECT_REASONS
from letterbox.privacy.redact import squash
from letterbox.store.repository import Repository
from site_builder import lookup_index as li
from site_builder.scan import scan, writer_needles
from tests.e2e.test_site import WRITERS, run, to_unit

LETTERS = {
    "heat": ("幸福小区供暖温度不达标", "家住幸福小区３号楼，供暖温度只有十五度。"),
    "road": ("中州路路灯损坏", "路灯坏了两周，夜间出行不便。"),
    "secret": ("宅基地纠纷", "反映宅基地问题。"),
    "open": ("光明小区电梯故障", "电梯故障，出行不便。"),
    "follow": ("与邻居吵架", "邻居天天吵架，请政府处理。"),
}


def intake(root: Path, key: str, day: str) -> tuple[str, str]:
    title, body = LETTERS[key]
    record: dict[str, Any] = {**WRITERS[key], "title": title, "body": body,
                              "submitted_at": f"{day}T09:00:00+08:00"}
    path = root.parent / f"{key}.json"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    accepted = json.loads(run(root, "intake", str(path), "--json"))[0]
    return accepted["letter_code"], accepted["query_code"]


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, tuple[str, str]]]:
    root = tmp_path_factory.mktemp("lookup") / "cases-repo"
    run(root.parent, "init", str(root))
    cfg = root / "letterbox.yaml"
    cfg.write_text(cfg.read_text("utf-8").replace("iterations: 600000", "iterations: 1000"), "utf-8")
    Repository(root).git.git.commit("-q", "-m", "cfg", "--", "letterbox.yaml",
                                    env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                                         "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"})
    codes: dict[str, tuple[str, str]] = {}
    codes["heat"] = intake(root, "heat", "2026-01-05")
    to_unit(root, codes["heat"][0], "2026-01-05", "zjj", "经查属实，已责成供热公司三日内整改。")
    run(root, "approve", codes["heat"][0], "--at", "2026-01-07T10:00:00+08:00")
    codes["road"] = intake(root, "road", "2026-01-06")
    run(root, "classify", codes["road"][0], "--category", "consultation",
        "--at", "2026-01-06T10:00:00+08:00")
    run(root, "reply", codes["road"][0], "--text", "路灯维修已列入本周计划。",
        "--at", "2026-01-06T15:00:00+08:00")
    run(root, "withhold", codes["road"][0], "--reason", "privacy", "--at", "2026-01-06T16:00:00+08:00")
    codes["open"] = intake(root, "open", "2026-01-07")
    code = codes["open"][0]
    run(root, "classify", code, "--category", "complaint", "--at", "2026-01-07T10:00:00+08:00")
    run(root, "transfer", code, "--unit", "tc", "--at", "2026-01-07T11:00:00+08:00")
    run(root, "extend", code, "--days", "5", "--reason", "需要协调电梯维保单位",
        "--at", "2026-01-08T11:00:00+08:00")
    run(root, "grant", code, "--at", "2026-01-08T15:00:00+08:00")
    codes["follow"] = intake(root, "follow", "2026-01-08")
    run(root, "reject", codes["follow"][0], "--reason", "private-dispute",
        "--at", "2026-01-08T10:00:00+08:00")
    codes["secret"] = intake(root, "secret", "2026-01-09")
    return root, codes


@pytest.fixture(scope="module")
def site(cases: tuple[Path, dict[str, tuple[str, str]]]) -> Path:
    root, _ = cases
    run(root, "build")
    return root / "site"


def test_right_codes_give_the_status(cases: tuple[Path, dict], site: Path) -> None:
    _, codes = cases
    heat = li.lookup(site, *codes["heat"])
    assert heat is not None and heat["status"] == "closed" and heat["status_zh"] == "已办结"
    assert heat["link"] == f"../letters/{codes['heat'][0]}/"
    assert (site / "letters" / codes["heat"][0] / "index.html").is_file()
    assert heat["received"] == "2026-01-05" and heat["answered"] == "2026-01-07"
    assert [step for _, step in heat["timeline"]][0] == "收信"
    road = li.lookup(site, *codes["road"])
    assert road is not None and road["status"] == "closed" and road["link"] is None
    opened = li.lookup(site, *codes["open"])
    assert opened is not None and opened["status"] == "transferred"
    assert opened["deadline"] and opened["extension_days"] == 5 and opened["units"]
    rejected = li.lookup(site, *codes["follow"])
    assert rejected is not None and rejected["status"] == "rejected"
    assert rejected["reject_reason"] == REJECT_REASONS["private-dispute"]
    new = li.lookup(site, *codes["secret"])
    assert new is not None and new["status"] == "received" and new["deadline"]


def test_codes_in_any_form(cases: tuple[Path, dict], site: Path) -> None:
    _, codes = cases
    letter, query = codes["heat"]
    entry = li.lookup(site, f"  {letter.lower().replace('-', '')} ", f" {query.lower().replace('-', '')}  ")
    assert entry is not None and entry["status"] == "closed"


def test_wrong_or_malformed_codes_are_not_found(cases: tuple[Path, dict], site: Path) -> None:
    _, codes = cases
    letter, query = codes["heat"]
    other_letter, other_query = codes["road"]
    assert li.lookup(site, letter, other_query) is None
    assert li.lookup(site, other_letter, query) is None
    assert li.lookup(site, "LA-2026-00999", query) is None
    wrong = ("2" if query[0] != "2" else "3") + query[1:]
    assert li.lookup(site, letter, wrong) is None
    for bad_letter, bad_query in (("", query), (letter, ""), ("LA-26-1", query),
                                  (letter, query[:-1]), (letter, query[:-1] + "0"),
                                  (letter, query + "A"), ("<script>", "'; drop")):
        assert li.lookup(site, bad_letter, bad_query) is None


def test_cli(cases: tuple[Path, dict], site: Path) -> None:
    _, codes = cases
    letter, query = codes["follow"]
    result = CliRunner().invoke(cli, ["lookup", letter.lower(), query, "--site", str(site), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["status"] == "rejected"
    result = CliRunner().invoke(cli, ["lookup", letter, query, "--site", str(site)])
    assert result.exit_code == 0 and "不予受理" in result.output
    result = CliRunner().invoke(cli, ["lookup", letter, codes["heat"][1], "--site", str(site)])
    assert result.exit_code == 1 and "未找到" in result.output


def index_files(site: Path) -> list[Path]:
    """meta.json and the shards (lookup/index.html is the public page, not the index)."""
    return sorted(p for p in (site / li.LOOKUP_DIR).rglob("*")
                  if p.is_file() and p.name != "index.html")


def test_index_reveals_nothing(cases: tuple[Path, dict], site: Path) -> None:
    root, codes = cases
    repo = Repository(root)
    secrets_: list[bytes] = []
    for letter in repo.letters():
        secrets_ += [letter.code.encode(), letter.code.replace("-", "").encode(),
                     letter.data["query_hash"]["hash"].encode(),
                     bytes.fromhex(letter.data["query_hash"]["hash"]),
                     str(letter.data["title"]).encode(), str(letter.data["body"]).encode()[:30]]
        for value in letter.data["writer"].values():
            if value:
                secrets_.append(str(value).encode())
    for _letter, query in codes.values():
        secrets_ += [query.encode(), query.replace("-", "").encode()]
    for path in index_files(site):
        data = path.read_bytes()
        lowered = data.lower()
        for secret in secrets_:
            assert secret not in data and secret.lower() not in lowered, (path, secret)
    assert scan(site / li.LOOKUP_DIR, writer_needles(repo)) == []
    meta = json.loads((site / "lookup" / "meta.json").read_text("utf-8"))
    assert meta["kdf"]["iterations"] == [1000]
    assert squash(json.dumps(meta)).count("la-") == 0


def test_shards_all_the_same_size(site: Path) -> None:
    meta = json.loads((site / "lookup" / "meta.json").read_text("utf-8"))
    shards = sorted((site / "lookup" / "shards").iterdir())
    assert len(shards) == meta["shards"] == 1 << meta["prefix_bits"]
    assert {p.stat().st_size for p in shards} == {meta["entries_per_shard"] * meta["entry_bytes"]}


def test_two_builds_differ_but_look_up_the_same(cases: tuple[Path, dict], site: Path,
                                                tmp_path: Path) -> None:
    root, codes = cases
    other = tmp_path / "again"
    run(root, "build", "--out", str(other))
    first = {p.relative_to(site).as_posix(): p.read_bytes() for p in index_files(site)}
    second = {p.relative_to(other).as_posix(): p.read_bytes() for p in index_files(other)}
    assert first.keys() == second.keys()
    metas = [json.loads(x["lookup/meta.json"]) for x in (first, second)]
    salts = [m["hkdf"].pop("salt") for m in metas]
    assert metas[0] == metas[1] and salts[0] != salts[1]  # only the build salt differs
    assert all(len(bytes.fromhex(s)) == li.BUILD_SALT_BYTES for s in salts)
    shards = [k for k in first if k.endswith(".bin")]
    assert all(first[k] != second[k] for k in shards)
    for letter, query in codes.values():
        assert li.lookup(site, letter, query) == li.lookup(other, letter, query) is not None
    rest = sorted(p.relative_to(site).as_posix() for p in site.rglob("*")
                  if p.is_file() and not p.relative_to(site).as_posix().startswith(
                      ("lookup/shards/", "lookup/meta.json")))
    for rel in rest:
        assert (site / rel).read_bytes() == (other / rel).read_bytes(), rel


def test_shards_stay_small_at_ten_thousand_letters(tmp_path: Path) -> None:
    payload = {"status": "transferred", "status_zh": "转办中", "received": "2026-01-05",
               "units": ["区住房和城乡建设局", "龙安区马家乡人民政府"], "deadline": "2026-02-05",
               "extension_days": 15, "reject_reason": REJECT_REASONS["legal-process"],
               "answered": None, "link": "../letters/LA-2026-00001/",
               "timeline": [["2026-01-05", "收信"]] * 12}
    records = [li.Record(os.urandom(32), 600_000, payload) for _ in range(10_000)]
    meta = li.write_index(tmp_path, records, "00" * 16)
    size = meta["entries_per_shard"] * meta["entry_bytes"]
    assert size <= li.SHARD_LIMIT < 160 * 1024
    assert all(p.stat().st_size == size for p in (tmp_path / "lookup" / "shards").iterdir())


def test_meta_links_from_every_page(site: Path) -> None:
    for page in (site / "index.html", site / "stats" / "index.html"):
        assert "lookup/" in page.read_text("utf-8") and "在线查询" in page.read_text("utf-8")
