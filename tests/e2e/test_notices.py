"""Issue 18, point 1: notices to the writer (受理告知书, 不予受理告知书, 延期告知书, 答复意见书),
rendered from the letter's history by `letterbox notice`; the rejection texts name the earlier
letter for (2)/(4) and the body of `bodies.discipline` for (6), once. Real repositories through
the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from letterbox.core import yamlio
from tests.conftest import WRITER, Repo, refused, snapshot


def at(day: int, hour: int, month: int = 3) -> str:
    return f"2026-{month:02d}-{day:02d}T{hour:02d}:00:00+08:00"


def no_writer_data(text: str) -> None:
    for value in WRITER.values():
        assert value not in text, value


def test_reject_discipline_names_body_from_config_once(case_repo: Repo) -> None:
    path = case_repo.path / "letterbox.yaml"
    data, _ = yamlio.load(path.read_text("utf-8"), "letterbox.yaml")
    data["bodies"]["discipline"] = {"name": "龙安区纪委监委信访室", "address": "中州路8号", "phone": "0372-3188888"}
    path.write_text(yamlio.dump(data), encoding="utf-8")
    case_repo.commit_all("bodies")
    code = case_repo.new_letter(1)
    case_repo.run("reject", code, "--reason", "discipline", "--at", at(2, 10))
    reply = case_repo.letter(code)["history"][-1]["details"]["reply"]
    assert reply.count("请直接向") == 1, reply
    assert "请直接向龙安区纪委监委信访室反映（地址：中州路8号，电话：0372-3188888）。" in reply
    assert "纪检监察部门" not in reply
    text = case_repo.run("notice", code).stdout
    assert "【不予受理告知书】2026-03-02" in text
    assert "理由：反映党政干部和企事业单位负责人违法违纪问题（办法第五条第六项）" in text
    assert "中州路8号" in text and "0372-3188888" in text
    no_writer_data(text)


def test_reject_duplicate_and_answered_name_the_earlier_letter(case_repo: Repo) -> None:
    first = case_repo.new_letter(1)
    dup = case_repo.new_letter(2, submitted_at=at(3, 9))
    again = case_repo.new_letter(3, submitted_at=at(3, 10))
    case_repo.run("reject", dup, "--reason", "duplicate", "--of", first, "--at", at(3, 11))
    case_repo.run("reject", again, "--reason", "answered", "--of", first, "--at", at(3, 12))
    dup_reply = case_repo.letter(dup)["history"][-1]["details"]["reply"]
    assert f"本信与此前 2026-03-02 收到的来信 {first} 内容相同或相近" in dup_reply
    again_reply = case_repo.letter(again)["history"][-1]["details"]["reply"]
    assert f"已在 2026-03-02 收到的来信 {first} 中答复" in again_reply
    text = case_repo.run("notice", dup, "--kind", "reject").stdout
    assert first in text and "办法第五条第二项" in text
    no_writer_data(text)


def test_accept_extension_and_answer_notices(case_repo: Repo, tmp_path: Path) -> None:
    code = case_repo.new_letter(1)
    case_repo.run("classify", code, "--category", "complaint", "--at", at(2, 10))
    case_repo.run("transfer", code, "--unit", "cgj", "--complex", "--at", at(2, 11))
    case_repo.run("extend", code, "--days", "10", "--reason", "需要协调供电公司更换线路", "--at", at(20, 10))
    case_repo.run("grant", code, "--at", at(20, 15))
    case_repo.run("answer", code, "--text", "路灯线路已更换，现已恢复照明。", "--head", "张局长",
                  "--timeframe", "2026年4月10日前完成全部更换", "--at", at(25, 10))
    case_repo.run("approve", code, "--at", at(26, 10))
    text = case_repo.run("notice", code).stdout
    assert "【受理告知书】2026-03-02" in text and "转区城市管理局办理（较复杂问题）" in text
    assert "20 个工作日内办结" in text
    assert "【延期告知书】2026-03-20" in text and "因需要协调供电公司更换线路，办理期限延长 10 个工作日" in text
    assert "延长后的办理期限为 2026年4月14日" in text  # 3/30 + 10 working days, 清明 4/4-4/6 off
    assert "【答复意见书】2026-03-26" in text and "区城市管理局答复如下" in text
    assert "路灯线路已更换" in text and "解决时限：2026年4月10日前完成全部更换" in text
    assert "复查" not in text  # not a petition case
    no_writer_data(text)
    out = tmp_path / "notice.html"
    case_repo.run("notice", code, "--kind", "answer", "--out", str(out))
    html = out.read_text("utf-8")
    assert "<h1>答复意见书</h1>" in html and "路灯线路已更换" in html and "受理告知书</h1>" not in html
    no_writer_data(html)


def test_petition_answer_states_review_right_and_body(case_repo: Repo) -> None:
    code = case_repo.new_letter(1)
    case_repo.run("classify", code, "--category", "complaint", "--at", at(2, 10))
    case_repo.run("transfer", code, "--unit", "cgj", "--unit", "zjj", "--at", at(2, 11))
    text = case_repo.run("notice", code, "--kind", "accept").stdout
    assert "作为信访事项办理" in text and "60 日内办结" in text
    case_repo.run("answer", code, "--text", "经协调，已安排维修。", "--head", "李局长", "--at", at(20, 10))
    case_repo.run("approve", code, "--at", at(21, 10))
    answer = case_repo.run("notice", code, "--kind", "answer").stdout
    assert "自收到本意见书之日起 30 日内，向安阳市龙安区人民政府请求复查" in answer
    assert "0372-3199010" in answer


def test_notice_of_a_kind_the_letter_lacks_is_refused(case_repo: Repo) -> None:
    code = case_repo.new_letter(1)
    case_repo.run("classify", code, "--category", "complaint", "--at", at(2, 10))
    before = snapshot(case_repo.path)
    refused(case_repo, "notice", code, "--kind", "answer", words=[code, "答复意见书"])
    assert snapshot(case_repo.path) == before


def test_lookup_shows_the_answer_of_a_withheld_letter(case_repo: Repo) -> None:
    from tests.conftest import submission

    made = case_repo.intake(submission(1), name="one-1.json")[0]
    code, query = made["letter_code"], made["query_code"]
    case_repo.run("classify", code, "--category", "complaint", "--at", at(2, 10))
    case_repo.run("transfer", code, "--unit", "cgj", "--at", at(2, 11))
    case_repo.run("answer", code, "--text", "经核查，涉及个人隐私的问题已单独处理并书面说明。", "--head", "张局长",
                  "--at", at(3, 10))
    case_repo.run("approve", code, "--at", at(3, 15))
    case_repo.run("withhold", code, "--reason", "privacy", "--at", at(3, 16))
    case_repo.run("build")
    site = case_repo.path / "site"
    entry = json.loads(case_repo.run("lookup", code, query, "--site", str(site), "--json").stdout)
    assert entry["link"] is None  # not published (art. 13)
    kinds = [n[1] for n in entry["notices"]]
    assert kinds == ["受理告知书", "答复意见书"]
    assert "涉及个人隐私的问题已单独处理并书面说明" in entry["notices"][1][2]
    assert "区城市管理局答复如下" in entry["notices"][1][2]
    no_writer_data(json.dumps(entry, ensure_ascii=False))
    text = case_repo.run("lookup", code, query, "--site", str(site)).stdout
    assert "【答复意见书】" in text and "涉及个人隐私的问题已单独处理并书面说明" in text
    assert "涉及个人隐私的问题已单独处理" not in "".join(
        p.read_text("utf-8", errors="ignore") for p in site.rglob("*.html"))


def test_long_notices_are_shortened_with_a_note_never_silently() -> None:
    from site_builder.lookup_index import PLAINTEXT_BYTES, SHORTENED, encode_plaintext

    long_answer = "答复内容" * 500  # 6 000 bytes
    payload = {"status": "closed", "timeline": [["2026-03-02", "收到来信"]] * 5,
               "notices": [["2026-03-02", "受理告知书", "已经受理" * 20], ["2026-03-26", "答复意见书", long_answer]]}
    raw = encode_plaintext(payload)
    assert len(raw) == PLAINTEXT_BYTES
    entry = json.loads(raw)
    texts = [n[2] for n in entry["notices"]]
    assert all(t.endswith(SHORTENED) for t in texts)  # both cut, each says so
    assert texts[1].startswith("答复内容答复内容")
    assert len(texts[1]) > 100  # the answer, cut last, keeps most of the room
    many = {"status": "closed", "timeline": [],
            "notices": [["2026-03-02", "延期告知书", "延期" * 30] for _ in range(80)]}
    entry = json.loads(encode_plaintext(many))
    assert entry["notices_omitted"] > 0 and len(entry["notices"]) + entry["notices_omitted"] == 80


def test_repository_template_overrides_the_package_one(case_repo: Repo) -> None:
    folder = case_repo.path / "notice_templates"
    folder.mkdir()
    (folder / "notice_reject.j2").write_text("来信人：\n经审查，编码 {{ code }} 的来信不予受理（{{ reason }}）。\n"
                                             "咨询电话 12345。\n{{ office }}\n{{ day }}\n", encoding="utf-8")
    case_repo.commit_all("notice template")
    from tests.conftest import submission

    made = case_repo.intake(submission(1), name="one-1.json")[0]
    code, query = made["letter_code"], made["query_code"]
    case_repo.run("reject", code, "--reason", "private-dispute", "--at", at(2, 10))
    text = case_repo.run("notice", code).stdout
    assert f"经审查，编码 {code} 的来信不予受理（纯属个人之间恩怨纠纷（办法第五条第三项））。" in text
    assert "咨询电话 12345" in text
    case_repo.run("validate")
    case_repo.run("build")
    entry = json.loads(case_repo.run("lookup", code, query, "--site", str(case_repo.path / "site"),
                                     "--json").stdout)
    assert entry["notices"][0][1] == "不予受理告知书" and "咨询电话 12345" in entry["notices"][0][2]


def test_a_body_without_name_is_refused_naming_the_field(case_repo: Repo) -> None:
    code = case_repo.new_letter(1)
    path = case_repo.path / "letterbox.yaml"
    path.write_text(path.read_text("utf-8").replace("discipline: {name: 区纪委监委, ", "discipline: {"), "utf-8")
    case_repo.commit_all("broken bodies")
    refused(case_repo, "reject", code, "--reason", "discipline", "--at", at(2, 10),
            words=["letterbox.yaml", "bodies", "name"])


def test_a_broken_template_or_history_gives_a_clear_error(case_repo: Repo) -> None:
    """A repository's override template with an unknown name, or a hand-broken history, is a
    Chinese message naming what to mend (exit 1), not a traceback."""
    code = case_repo.new_letter(1)
    case_repo.run("reject", code, "--reason", "private-dispute", "--at", at(2, 10))
    folder = case_repo.path / "notice_templates"
    folder.mkdir()
    (folder / "notice_reject.j2").write_text("来信人：{{ no_such_value }}\n", encoding="utf-8")
    result = case_repo.run("notice", code, expect=1)
    assert "notice_reject.j2" in result.stderr and "notice_templates/" in result.stderr
    assert "Traceback" not in result.stderr
    (folder / "notice_reject.j2").unlink()
    path = case_repo.letter_file(code)
    data = yaml.safe_load(path.read_text("utf-8"))
    data["history"][-1]["at"] = "not a time"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    result = case_repo.run("notice", code, expect=1)
    assert "办理记录有误" in result.stderr and code in result.stderr
