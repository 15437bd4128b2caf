"""Redaction end to end (issue 14 point 3): a letter with the writer's data in separator and
traditional forms, answered with the district's public numbers, a public room and counts; the
configuration's `public_contacts` decide what stays, in `preview` and on the built board."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from letterbox.cli.main import cli
from letterbox.privacy.redact import Writer, needles, squash
from letterbox.store.repository import Repository

WRITER = {"name": "张三丰", "phone": "13812345678", "email": "zsf1960@example.com",
          "address": "安阳市龙安区太行小区8号楼3单元402室"}
TITLE = "太行小区路灯不亮"
BODY = ("本人張三豐，住太行小區8號樓3單元402室，電話138/1234/5678，也可打138、1234、5678"
        "或138，1234，5678。小区共有1500户、300栋楼，晚上一片漆黑。")
REPLY = ("已通知供电公司检修，全村1500户的线路一并排查。如有疑问请拨打12345，"
         "或拨打区信息中心电话0372-3199001，也可到3楼302室当面咨询。")


def run(root: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, ["--repo", str(root), *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def _commit(root: Path, rel: str) -> None:
    Repository(root).git.git.commit("-q", "-m", "edit", "--", rel,
                                    env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                                         "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"})


def _set_contacts(root: Path, contacts: list[dict[str, str]]) -> str:
    path = root / "letterbox.yaml"
    data = yaml.safe_load(path.read_text("utf-8"))
    data["public_contacts"] = contacts
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return path.read_text("utf-8")


def test_public_contacts_stay_and_the_writer_goes(tmp_path: Path) -> None:
    root = tmp_path / "cases-repo"
    run(tmp_path, "init", str(root))
    record = {**WRITER, "title": TITLE, "body": BODY, "submitted_at": "2026-03-02T09:00:00+08:00"}
    (tmp_path / "l.json").write_text(json.dumps(record, ensure_ascii=False), "utf-8")
    code = json.loads(run(root, "intake", str(tmp_path / "l.json"), "--json"))[0]["letter_code"]
    run(root, "classify", code, "--category", "complaint", "--at", "2026-03-02T10:00:00+08:00")
    run(root, "reply", code, "--text", REPLY, "--at", "2026-03-02T15:00:00+08:00")

    view = json.loads(run(root, "preview", code, "--json"))
    assert view["public"]["reply"] == REPLY  # 12345, the office's phone and room, the count
    body = view["public"]["body"]
    assert "1500户、300栋楼" in body
    assert body.count("〔电话〕") == 3 and "〔姓名〕" in body and "〔地址〕" in body
    flat = squash(json.dumps(view["public"], ensure_ascii=False))
    assert not [n for n in needles(Writer.from_data(WRITER)) if n in flat]

    run(root, "build")
    page = (root / "site" / "letters" / code / "index.html").read_text("utf-8")
    assert "0372-3199001" in page and "3楼302室" in page and "1500户" in page
    assert not [n for n in needles(Writer.from_data(WRITER)) if n in squash(page)]

    # the registry decides: without the office's entry its phone and room are masked again
    _set_contacts(root, [{"name": "政务服务便民热线", "phone": "12345"}])
    _commit(root, "letterbox.yaml")
    reply = json.loads(run(root, "preview", code, "--json"))["public"]["reply"]
    assert "拨打12345" in reply and "0372-3199001" not in reply and "〔电话〕" in reply
    assert "302室" not in reply


def test_a_bad_public_contact_is_refused_with_its_place(tmp_path: Path) -> None:
    root = tmp_path / "cases-repo"
    run(tmp_path, "init", str(root))
    _set_contacts(root, [{"name": "热线", "phone": "打这个号"}, {"name": "空的"}])
    out = run(root, "validate", code=1)
    assert "public_contacts[0].phone" in out and "格式不对" in out
    assert "public_contacts[1]" in out and "phone" in out and "place" in out
