"""Intake (issue 2, item 5): letter codes, query codes, one commit per letter, refusals."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from letterbox.core import codes
from tests.conftest import WRITER, Repo, commit_count, head, porcelain, stray_files, submission

QUERY_RE = re.compile(r"^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}"
                      r"-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}$")


def salt(repo: Repo) -> str:
    return yaml.safe_load((repo.path / "letterbox.yaml").read_text("utf-8"))["query_code"]["salt"]


def all_repo_text(repo: Repo) -> str:
    """Every tracked or untracked file in the working tree plus the full `git log -p`."""
    parts = []
    for path in repo.path.rglob("*"):
        if path.is_file() and ".git" not in path.relative_to(repo.path).parts:
            parts.append(path.read_text("utf-8", errors="replace"))
    parts.append(repo.git("log", "-p", "--all", "--format=%H%n%an%n%B"))
    return "\n".join(parts)


def assert_accepted_shape(accepted: list[dict[str, str]]) -> None:
    for item in accepted:
        assert set(item) == {"letter_code", "query_code", "path"}
        assert QUERY_RE.match(item["query_code"]), item["query_code"]
        assert item["path"] == f"cases/2026/03/{item['letter_code']}.yaml"


# -- accepted submissions -------------------------------------------------------------------


def test_json_object_becomes_one_letter_in_one_commit(case_repo: Repo) -> None:
    before, count = head(case_repo.path), commit_count(case_repo.path)
    accepted = case_repo.intake(submission(1))
    assert_accepted_shape(accepted)
    assert [a["letter_code"] for a in accepted] == ["LA-2026-00001"]
    assert commit_count(case_repo.path) == count + 1
    assert case_repo.git("rev-parse", "HEAD~1").strip() == before
    assert porcelain(case_repo.path) == ""
    assert stray_files(case_repo.path) == []
    # the commit holds exactly that one file, and its message names code and step
    changed = case_repo.git("show", "--name-only", "--format=", "HEAD").split()
    assert changed == ["cases/2026/03/LA-2026-00001.yaml"]
    assert case_repo.git("log", "-1", "--format=%s").strip() == "LA-2026-00001 收信"

    data = case_repo.letter("LA-2026-00001")
    assert data["letter_code"] == "LA-2026-00001"
    assert data["status"] == "received"
    assert data["writer"] == {"name": WRITER["name"], "phone": WRITER["phone"],
                              "address": WRITER["address"], "email": WRITER["email"]}
    assert data["submitted_at"] == "2026-03-02T09:15:00+08:00"
    assert data["query_hash"]["algorithm"] == "pbkdf2-sha256"
    assert data["query_hash"]["iterations"] == 1000
    assert re.fullmatch(r"[0-9a-f]{64}", data["query_hash"]["hash"])
    assert [e["action"] for e in data["history"]] == ["receive"]
    case_repo.run("validate")


def test_json_list_yaml_and_jsonl_batches(case_repo: Repo) -> None:
    count = commit_count(case_repo.path)
    as_list = case_repo.write_submission("list.json", [submission(1), submission(2)])
    as_yaml = case_repo.write_submission("one.yaml", submission(3))
    as_jsonl = case_repo.write_submission("batch.jsonl", [submission(4), submission(5), submission(6)])
    accepted = case_repo.json("intake", str(as_list), str(as_yaml), str(as_jsonl))
    assert_accepted_shape(accepted)
    assert [a["letter_code"] for a in accepted] == [f"LA-2026-{n:05d}" for n in range(1, 7)]
    assert commit_count(case_repo.path) == count + 6
    # exactly one commit per letter, each naming its code, newest first
    subjects = case_repo.git("log", "-6", "--format=%s").splitlines()
    assert subjects == [f"LA-2026-{n:05d} 收信" for n in range(6, 0, -1)]
    for n in range(6):
        files = case_repo.git("show", "--name-only", "--format=", f"HEAD~{n}").split()
        assert files == [f"cases/2026/03/LA-2026-{6 - n:05d}.yaml"]
    titles = [case_repo.letter(f"LA-2026-{n:05d}")["title"] for n in range(1, 7)]
    assert titles == [f"文昌大道路灯不亮（第 {n} 封）" for n in range(1, 7)]
    assert porcelain(case_repo.path) == ""
    case_repo.run("validate")


def test_hand_written_yaml_with_unquoted_numbers(case_repo: Repo) -> None:
    """A YAML submission typed by hand: the phone number is not quoted."""
    text = (
        "name: 赵卫东\nphone: 13937212345\nemail: zhaoweidong@example.com\n"
        "address: 龙安区文昌大道街道梧桐小区3号楼\ntitle: 路灯不亮\nbody: 路灯坏了一周。\n"
        "submitted_at: 2026-03-02T09:15:00+08:00\n"
    )
    path = case_repo.write_submission("hand.yaml", text)
    accepted = case_repo.json("intake", str(path))
    assert [a["letter_code"] for a in accepted] == ["LA-2026-00001"]
    assert case_repo.letter("LA-2026-00001")["writer"]["phone"] == "13937212345"


def test_codes_are_gap_free_across_runs_and_per_year(case_repo: Repo) -> None:
    first = case_repo.intake(submission(1), submission(2))
    second = case_repo.intake(submission(3, submitted_at="2025-12-31T23:00:00+08:00"))
    third = case_repo.intake(submission(4))
    # 2025-12-31T16:30Z is already 2026-01-01 in Asia/Shanghai
    fourth = case_repo.intake(submission(5, submitted_at="2025-12-31T16:30:00Z"))
    assert [a["letter_code"] for a in first] == ["LA-2026-00001", "LA-2026-00002"]
    assert second[0]["letter_code"] == "LA-2025-00001"
    assert second[0]["path"] == "cases/2025/12/LA-2025-00001.yaml"
    assert third[0]["letter_code"] == "LA-2026-00003"
    assert fourth[0]["letter_code"] == "LA-2026-00004"
    assert fourth[0]["path"] == "cases/2026/01/LA-2026-00004.yaml"
    assert case_repo.letter("LA-2026-00004")["submitted_at"] == "2026-01-01T00:30:00+08:00"
    case_repo.run("validate")


def test_query_code_only_hash_stored_and_verifiable(case_repo: Repo) -> None:
    accepted = case_repo.intake(submission(1), submission(2))
    key = salt(case_repo)
    everything = all_repo_text(case_repo)
    for item in accepted:
        query, code = item["query_code"], item["letter_code"]
        plain = query.replace("-", "")
        assert query not in everything
        assert plain not in everything
        assert plain.lower() not in everything
        record = case_repo.letter(code)["query_hash"]
        for variant in (query, query.lower(), plain, plain.lower(), f" {query[:7]} {query[7:]} "):
            assert codes.verify_query_code(variant, code, key, record), variant
        # the hash is bound to the letter code and to the exact query code
        other = next(a for a in accepted if a is not item)
        assert not codes.verify_query_code(query, other["letter_code"], key, record)
        assert not codes.verify_query_code(other["query_code"], code, key, record)
        wrong = ("2" if plain[0] != "2" else "3") + plain[1:]
        assert not codes.verify_query_code(wrong, code, key, record)
        # and it is exactly the documented PBKDF2 of the normalised code
        assert record["hash"] == codes.hash_query_code(plain, code, key, 1000)
    assert accepted[0]["query_code"] != accepted[1]["query_code"]


def test_no_personal_data_in_commit_messages_or_output(case_repo: Repo) -> None:
    case_repo.intake(submission(1), submission(2))
    messages = case_repo.git("log", "--format=%an%n%ae%n%B")
    for value in WRITER.values():
        assert value not in messages
    assert "赵" not in messages
    # the human (table) output shows codes, never the writer
    path = case_repo.write_submission("more.json", submission(3))
    result = case_repo.run("intake", str(path))
    for value in WRITER.values():
        assert value not in result.stdout + result.stderr
    assert "LA-2026-00003" in result.stdout


def test_intake_author_is_as_name(case_repo: Repo) -> None:
    path = case_repo.write_submission("one.json", submission(1))
    case_repo.run("intake", str(path), "--as", "李收信")
    assert case_repo.git("log", "-1", "--format=%an").strip() == "李收信"
    assert case_repo.letter("LA-2026-00001")["history"][0]["actor"] == "李收信"


def test_follow_up_links_to_earlier_letter(case_repo: Repo) -> None:
    first = case_repo.new_letter(1)
    second = case_repo.new_letter(2, follows_up=first.lower())
    assert case_repo.letter(second)["follows_up"] == first
    assert case_repo.show(second)["follows_up"] == first
    assert case_repo.show(first)["followed_by"] == [second]
    case_repo.run("validate")


# -- refused submissions ---------------------------------------------------------------------

BAD = [
    # (id, changes, field, words expected in the message)
    ("no-name", {"name": None}, "name", "姓名不能为空"),
    ("blank-name", {"name": "  "}, "name", "姓名不能为空"),
    ("digit-name", {"name": "张3"}, "name", "真实姓名"),
    ("no-phone", {"phone": None}, "phone", "电话不能为空"),
    ("bad-phone", {"phone": "8686"}, "phone", "不是有效的电话号码"),
    ("no-address", {"address": None}, "address", "地址不能为空"),
    ("short-address", {"address": "龙安"}, "address", "地址长度"),
    ("no-email", {"email": None}, "email", "电子邮箱不能为空"),
    ("bad-email", {"email": "zhao.example.com"}, "email", "不是有效的电子邮箱"),
    ("empty-title", {"title": "   "}, "title", "标题不能为空"),
    ("empty-body", {"body": ""}, "body", "正文不能为空"),
    ("no-offset", {"submitted_at": "2026-03-02T09:15:00"}, "submitted_at", "带时区"),
    ("bad-time", {"submitted_at": "昨天上午"}, "submitted_at", "带时区"),
    ("no-time", {"submitted_at": None}, "submitted_at", "提交时间不能为空"),
    ("unknown-follow-up", {"follows_up": "LA-2026-00099"}, "follows_up", "LA-2026-00099"),
    ("unknown-field", {"nmae": "赵卫东"}, "nmae", "未知字段"),
    ("bad-channel", {"channel": "fax"}, "channel", "取值不允许"),
]


@pytest.mark.parametrize(("changes", "field", "words"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_submission_is_refused_and_nothing_kept(case_repo: Repo, changes: dict, field: str,
                                                    words: str) -> None:
    case_repo.new_letter(1)  # so that HEAD is a letter commit
    before, status = head(case_repo.path), porcelain(case_repo.path)
    path = case_repo.write_submission("bad.json", submission(2, **changes))
    result = case_repo.run("intake", str(path), expect=1)
    assert head(case_repo.path) == before
    assert porcelain(case_repo.path) == status == ""
    assert stray_files(case_repo.path) == []
    assert sorted(p.name for p in (case_repo.path / "cases").rglob("*.yaml")) == ["LA-2026-00001.yaml"]
    message = result.stderr
    assert str(path) in message
    assert "第 1 条" in message
    assert f"字段 {field}：" in message
    assert words in message
    assert "未收" in message
    # refusals never repeat the writer's data, valid or not
    personal = [v for k, v in changes.items() if k in WRITER and v and v.strip()]
    for value in [*WRITER.values(), *personal]:
        assert value not in result.stdout + message, value
    assert json.loads(case_repo.run("intake", str(path), "--json", expect=1).stdout) == []


def test_malformed_json_file_is_refused_with_line(case_repo: Repo) -> None:
    before = head(case_repo.path)
    path = case_repo.write_submission("broken.json", '{\n  "name": "赵卫东",\n  "phone": \n}\n')
    result = case_repo.run("intake", str(path), expect=1)
    assert f"{path}:4" in result.stderr
    assert "JSON 格式错误" in result.stderr
    assert "赵卫东" not in result.stderr
    assert head(case_repo.path) == before
    assert porcelain(case_repo.path) == ""


def test_batch_takes_valid_ones_and_lists_refused(case_repo: Repo) -> None:
    count = commit_count(case_repo.path)
    lines = [
        json.dumps(submission(1), ensure_ascii=False),
        json.dumps(submission(2, phone="110"), ensure_ascii=False),
        '{"name": "赵卫东", "phone": ',
        json.dumps(submission(4), ensure_ascii=False),
        "",
        json.dumps(submission(6, title=""), ensure_ascii=False),
        json.dumps(submission(7), ensure_ascii=False),
    ]
    path = case_repo.write_submission("batch.jsonl", "\n".join(lines) + "\n")
    result = case_repo.run("intake", str(path), "--json", expect=1)
    accepted = json.loads(result.stdout)
    assert [a["letter_code"] for a in accepted] == ["LA-2026-00001", "LA-2026-00002", "LA-2026-00003"]
    assert commit_count(case_repo.path) == count + 3
    assert porcelain(case_repo.path) == ""
    titles = [case_repo.letter(a["letter_code"])["title"] for a in accepted]
    assert titles == [submission(n)["title"] for n in (1, 4, 7)]
    err = result.stderr
    assert f"{path}:2: 错误: 字段 phone：第 2 行" in err
    assert f"{path}:3:" in err and "第 3 行：JSON 格式错误" in err
    assert f"{path}:6: 错误: 字段 title：第 6 行" in err
    assert "3 封已收" in err
    for value in WRITER.values():
        assert value not in err
    case_repo.run("validate")


def test_file_that_is_not_an_object(case_repo: Repo) -> None:
    path = case_repo.write_submission("list.json", [submission(1), "不是对象"])
    result = case_repo.run("intake", str(path), "--json", expect=1)
    assert [a["letter_code"] for a in json.loads(result.stdout)] == ["LA-2026-00001"]
    assert "第 2 条：应为一个 JSON 对象" in result.stderr


def test_yaml_syntax_error_in_submission(case_repo: Repo) -> None:
    before = head(case_repo.path)
    path = case_repo.write_submission("bad.yaml", "name: 赵卫东\nphone: [13937212345\ntitle: x\n")
    result = case_repo.run("intake", str(path), expect=1)
    assert str(path) in result.stderr
    assert "YAML 格式错误" in result.stderr
    assert head(case_repo.path) == before


def test_intake_outside_a_case_repository(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from letterbox.cli.main import cli

    empty = tmp_path / "nothing"
    empty.mkdir()
    sub = tmp_path / "s.json"
    sub.write_text(json.dumps(submission(1), ensure_ascii=False), "utf-8")
    result = CliRunner().invoke(cli, ["--repo", str(empty), "intake", str(sub)])
    assert result.exit_code == 1
    assert "不是 git 仓库" in result.stderr


@pytest.mark.parametrize("name", ["bom.json", "bom.jsonl", "bom.yaml"])
def test_files_from_windows_tools_with_bom_and_crlf(case_repo: Repo, name: str) -> None:
    """Exports from Excel or Notepad start with a UTF-8 BOM and end lines with CRLF."""
    if name.endswith(".jsonl"):
        text = "\r\n".join(json.dumps(submission(n), ensure_ascii=False) for n in (1, 2)) + "\r\n"
    elif name.endswith(".yaml"):
        text = yaml.safe_dump(submission(1), allow_unicode=True).replace("\n", "\r\n")
    else:
        text = json.dumps(submission(1), ensure_ascii=False, indent=2).replace("\n", "\r\n")
    path = case_repo.path.parent / name
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    accepted = case_repo.json("intake", str(path))
    assert len(accepted) == (2 if name.endswith(".jsonl") else 1)
    assert case_repo.letter("LA-2026-00001")["writer"]["name"] == WRITER["name"]
    assert "\r" not in case_repo.letter_file("LA-2026-00001").read_text("utf-8")


def test_malformed_json_line_alone_changes_nothing(case_repo: Repo) -> None:
    case_repo.new_letter(1)
    before = head(case_repo.path)
    path = case_repo.write_submission("broken.jsonl", '{"name": "赵卫东", "phone": "139\n')
    result = case_repo.run("intake", str(path), expect=1)
    assert f"{path}:1:" in result.stderr and "第 1 行：JSON 格式错误" in result.stderr
    assert "赵卫东" not in result.stderr
    assert head(case_repo.path) == before
    assert porcelain(case_repo.path) == ""
