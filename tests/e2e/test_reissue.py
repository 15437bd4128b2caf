"""Issue 22, point 2: `letterbox reissue CODE` — a new query code after the office confirmed who
is asking (article 6). Real repositories through the CLI, a real `letterbox build` for the
lookup index; the old code stops working when the index is refreshed, the new one works, and
`check` tells a reissue from a hand edit of `query_hash`."""

from __future__ import annotations

import json

import yaml

from letterbox.core import codes
from letterbox.store.repository import Repository
from site_builder import lookup_index as li
from tests.conftest import WRITER, Repo, refused, submission


def reissue(repo: Repo, code: str, *extra: str) -> dict[str, str]:
    return json.loads(repo.run("reissue", code, "--verified-by", "电话核实", "--verifier", "信息中心 王静",
                               "--json", *extra).stdout)


def test_reissue_replaces_the_hash_and_the_lookup_follows(case_repo: Repo) -> None:
    accepted = case_repo.intake(submission(1), name="s1.json")[0]
    code, old = accepted["letter_code"], accepted["query_code"]
    case_repo.run("build")
    site = case_repo.path / "site"
    assert li.lookup(site, code, old) is not None
    head = case_repo.git("rev-parse", "HEAD").strip()

    done = reissue(case_repo, code)
    new = done["query_code"]
    assert new != old and done["lookup_refreshed"] is True and done["status"] == "received"
    stored = case_repo.letter(code)["query_hash"]
    salt = Repository(case_repo.path).config.salt
    assert codes.verify_query_code(new, code, salt, stored)
    assert not codes.verify_query_code(old, code, salt, stored)
    # the site's lookup index was refreshed for this letter: old code fails, new one finds it
    assert li.lookup(site, code, old) is None
    entry = li.lookup(site, code, new)
    assert entry is not None and entry["timeline"][-1][1] == "查询码已重新发放"
    # one commit, checked as a legal step; the staff history names how and by whom
    assert case_repo.git("rev-list", "--count", f"{head}..HEAD").strip() == "1"
    assert case_repo.git("log", "-1", "--format=%s").strip() == f"{code} 重新发放查询码"
    case_repo.run("check", "--base", head)
    case_repo.run("validate")
    event = case_repo.letter(code)["history"][-1]
    assert event["action"] == "reissue"
    assert event["details"]["verified_by"] == "电话核实" and event["details"]["verifier"] == "信息中心 王静"
    shown = case_repo.run("show", code).stdout
    assert "重新发放查询码" in shown and "电话核实" in shown
    # neither code nor any writer datum in the commit or the output's staff lines
    log = case_repo.git("log", "-p", "-1")
    for secret in (old, new, *WRITER.values()):
        assert secret not in log
    # the text output shows the new code once and says what became of the old one
    again = case_repo.run("reissue", code, "--verified-by", "现场核实", "--verifier", "王静").stdout
    assert "新查询码" in again and "旧查询码已失效" in again
    # the public site never mentions this reissue (the lookup page's general advice on a
    # lost code does say that codes are reissued; the event itself, how and by whom, is not)
    case_repo.run("build")
    for path in site.rglob("*.html"):
        page = path.read_text("utf-8")
        for word in ("查询码已重新发放", "电话核实", "现场核实", "王静"):
            assert word not in page, (path, word)


def test_reissue_refusals_change_nothing(case_repo: Repo) -> None:
    code = case_repo.new_letter(1)
    refused(case_repo, "reissue", code, "--verified-by", "电话核实", "--verifier", "  ",
            words=["核实人不能为空", "--verifier"])
    refused(case_repo, "reissue", code, "--verified-by", "没核实", "--verifier", "王静",
            words=["电话核实", "现场核实", "书面申请"], code=2)
    refused(case_repo, "reissue", "LA-2026-09999", "--verified-by", "电话核实", "--verifier", "王静",
            words=["LA-2026-09999"])


def test_a_hand_edited_query_hash_is_refused(case_repo: Repo) -> None:
    code = case_repo.new_letter(1)
    head = case_repo.git("rev-parse", "HEAD").strip()
    path = case_repo.letter_file(code)
    original = path.read_text("utf-8")
    forged = codes.query_hash_record("AAAA-BBBB-CCCC", code, "00" * 16, 1000)
    data = yaml.safe_load(original)
    # 1. the hash changed without a reissue
    data["query_hash"] = forged
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    case_repo.commit_all("hand edit")
    result = case_repo.run("check", "--base", head, expect=1)
    assert "查询码哈希不得修改" in result.stdout + result.stderr
    # 2. a hand-made reissue event whose tag is not the stored hash's
    data["history"].append({"at": "2026-03-03T09:00:00+08:00", "actor": "测试员", "action": "reissue",
                            "details": {"verified_by": "电话核实", "verifier": "王静", "hash_tag": "0" * 16}})
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    case_repo.commit_all("hand reissue")
    result = case_repo.run("check", "--base", head, expect=1)
    assert "letterbox reissue" in result.stdout + result.stderr
    result = case_repo.run("validate", expect=1)
    assert "query_hash" in result.stdout + result.stderr
    # 3. the same event with the right tag, in one commit from the base, is a legal step
    case_repo.git("reset", "-q", "--hard", head)
    data["history"][-1]["details"]["hash_tag"] = codes.hash_tag(forged)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    case_repo.commit_all("hand reissue, tagged")
    case_repo.run("check", "--base", head)
