"""Regenerate the demo letters in cases/ (and forms/), sealed with the DEMO keys of demo-keys/.

Everything goes through the project's own core functions (the same ones the CLI calls) in a
fresh temporary case repository with this checkout's letterbox.yaml (its roster and encryption
blocks left out while the letters are made, clear and unsigned); then the demo roster and the
demo period key are added and the migration (`letterbox encrypt`, signed with the demo
administrator's key) seals every letter in one commit. The resulting files are copied here.
The letters, writers, phones and addresses are fictional (example.com, 示例小区, mobile numbers
138 0000 ….) and the same on every run (the ciphertexts differ: fresh random data keys). About
half the letters name their writer, phone or address or a third person in their text, as real
letters do, so the public board shows the 〔 〕 masks. demo-keys/ holds DEMO keys, public on
purpose (demo-keys/README.md): never use them for real letters; `intake` signs for the demo's
online intake service (the roster's 网上信箱).

    python scripts/make_demo.py          # rewrites cases/, forms/ and letterbox.yaml's roster and
                                         # encryption blocks; then commit the result
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from random import Random

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from letterbox.core import sealing  # noqa: E402
from letterbox.ops import encryption, workflow  # noqa: E402
from letterbox.ops.intake import Submission, intake_one  # noqa: E402
from letterbox.ops.roster import replace_roster_block  # noqa: E402
from letterbox.ops.scaffold import init_repository  # noqa: E402
from letterbox.store import keys  # noqa: E402
from letterbox.store.repository import Actor, Repository  # noqa: E402

DEMO_KEYS = ROOT / "demo-keys"
DEMO_PERIOD_KEYS = DEMO_KEYS / "period-keys"
# The demo roster: (name, role, unit/leader, key file in demo-keys/). DEMO keys, public on purpose.
DEMO_ROSTER = (
    ("信息中心 王静", "office-admin", None, "office-admin"),
    ("区住建局 联络员", "unit", "zjj", "unit-zjj"),
    ("区长", "leader", "qz", "leader-qz"),
    ("网上信箱", "intake", None, "intake"),  # the demo's online intake service (serve-intake)
)
DEMO_PERIODS = ("2026",)
ROSTER_COMMENT = "# 名册：可以办理的人员和他们的签名公钥（docs/roster.md）"

OFFICE = Actor("信息中心 王静", "office@example.com")
UNIT_CLERK = Actor("承办单位联络员", "unit@example.com")
LEADER_CLERK = Actor("区政府办 秘书科", "leader@example.com")

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
GIVEN = ["建国", "秀英", "志强", "海燕", "文博", "丽娟", "子涵", "国庆", "玉兰", "晓东", "春梅", "立新"]
PLACES = [
    ("wcdd", "文昌大道街道", "示例花园"), ("wmdd", "文明大道街道", "示例家园"),
    ("thxq", "太行小区街道", "太行示例小区"), ("zzl", "中州路街道", "中州示例苑"),
    ("tc", "田村街道", "田村示例社区"), ("zw", "彰武街道", "彰武示例新村"),
    ("lqz", "龙泉镇", "龙泉镇示例村"), ("mjz", "马家镇", "马家镇示例村"),
    ("syz", "善应镇", "善应镇示例村"), ("mtjz", "马投涧镇", "马投涧镇示例村"),
    ("dfx", "东风乡", "东风乡示例村"),
]
# (title, body, category, unit or None for the place's own unit, complex?)
TOPICS = [
    ("小区供暖温度不达标", "入冬供暖以来，{place}{estate}室内温度一直只有十四五度，老人孩子受冻。多次向物业反映无果，请求督促供热公司检修管网。", "complaint", "zjj", False),
    ("供暖管道漏水影响出行", "{estate}东门外供暖管道漏水，路面结冰，已有行人滑倒，希望尽快维修。", "complaint", "cgj", False),
    ("道路坑洼请求修补", "{place}通往{estate}的道路坑洼不平，雨天积水严重，电动车经常摔倒，请求修补路面。", "complaint", "jtj", True),
    ("路灯不亮", "{estate}附近一段道路的路灯已经坏了一个多月，晚上一片漆黑，居民出行不安全。", "complaint", None, False),
    ("垃圾清运不及时", "{estate}垃圾桶常常满溢，清运不及时，气味很大，请协调环卫部门增加清运次数。", "complaint", "cgj", False),
    ("夜间施工噪音扰民", "{place}一处工地每天夜里十一点后仍在施工，噪音很大，影响休息。", "complaint", "hbj", False),
    ("咨询小学入学政策", "孩子明年上小学，户口在{place}，想咨询学区划分和入学需要准备的材料。", "consultation", "jyj", False),
    ("咨询城乡居民医保缴费", "想咨询今年城乡居民医疗保险的缴费标准、截止时间和缴费渠道。", "consultation", "ybj", False),
    ("咨询养老保险补缴", "本人是灵活就业人员，中间断缴两年，想咨询能否补缴养老保险以及如何办理。", "consultation", "rsj", False),
    ("建议增设公交站点", "{estate}居民较多，最近的公交站要走二十分钟，建议在附近增设一个公交站点。", "suggestion", "jtj", False),
    ("建议建设社区老年食堂", "{place}老年人多，子女不在身边，建议在社区建设老年食堂，解决吃饭难问题。", "suggestion", "mzj", False),
    ("农村饮水水压不足", "{estate}自来水水压不足，高处的人家经常停水，请求改造供水管网。", "complaint", "slj", True),
    ("农民工工资被拖欠", "我们在{place}一处工地干活，工程结束三个月了工资还没结清，请求帮助讨薪。", "complaint", "rsj", False),
    ("小区停车位不足", "{estate}停车位严重不足，车辆乱停堵塞消防通道，希望规划增加停车位。", "suggestion", None, False),
    ("建议加强农贸市场管理", "{place}农贸市场秤不准、占道经营问题较多，建议加强管理。", "suggestion", "scj", False),
]
DIRECT_REPLIES = {
    "咨询城乡居民医保缴费": "2027 年度城乡居民医保个人缴费标准以市医保局公布为准，缴费截止日期为 2026 年 12 月 31 日，可通过“豫事办”、银行网点或村（社区）代收点缴纳。",
}


def fictional_phone(n: int) -> str:
    """A mobile number of the right shape (11 digits, 138…) that is plainly made up: 138 0000 …"""
    return f"1380000{n:04d}"


def writer(rng: Random, n: int, estate: str) -> dict[str, str]:
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    return {
        "name": name,
        "phone": fictional_phone(n),
        "email": f"writer{n:03d}@example.com",
        "address": f"安阳市龙安区{estate}{rng.randint(1, 20)}号楼{rng.randint(1, 4)}单元{rng.randint(1, 6)}0{rng.randint(1, 4)}室",
    }


# Letters write what real letters write: their writer's name, phone and address, a neighbour's or
# a manager's name, so the public board shows the 〔姓名〕 〔电话〕 〔地址〕 masks. All fictional.
STAFF = ["物业经理", "工地负责人", "包工头", "市场管理员", "楼长"]


def personal_sentences(n: int, sub: dict[str, str]) -> str:
    """What letter n adds about its writer and others (None for about half the letters): a
    separate generator, so the other choices (dates, channels, codes) stay as they were."""
    rng = Random(f"demo-personal-{n}")
    other = rng.choice(SURNAMES) + rng.choice(GIVEN)
    if other[1:] == sub["name"][1:]:
        other = rng.choice(SURNAMES) + rng.choice([g for g in GIVEN if g != sub["name"][1:]])
    phone = sub["phone"]
    spaced = f"{phone[:3]} {phone[3:7]} {phone[7:]}"
    kinds = {
        0: f"我是{sub['name']}，联系电话{spaced}，请尽快处理。",
        1: f"我家住{sub['address'].removeprefix('安阳市龙安区')}，有事可打我手机{phone}。",
        2: f"我们多次找{rng.choice(STAFF)}{other}反映（他的电话是{fictional_phone(9000 + n)}），至今没有答复。",
        3: f"来信人：{sub['name']}，电话：{phone}。",
    }
    return kinds.get(n % 7, "")


def at(day: datetime, hours: float) -> str:
    return (day + timedelta(hours=hours)).isoformat(timespec="seconds")


def make(repo: Repository, rng: Random) -> None:
    start = datetime.fromisoformat("2026-07-06T08:30:00+08:00")
    count = 67
    done: list[str] = []
    codes: dict[str, str] = {}
    for n in range(1, count + 1):
        unit_code, place, estate = PLACES[n % len(PLACES)]
        title, body, category, unit, complex_ = TOPICS[n % len(TOPICS)]
        day = start + timedelta(days=int((n - 1) * 142 / count))
        if n in (63, 64, 65, 66, 67):  # a burst of heating complaints in one place, last week
            unit_code, place, estate = PLACES[0]
            title, body, category, unit, complex_ = TOPICS[0]
            day = datetime.fromisoformat("2026-11-19T09:00:00+08:00") + timedelta(hours=20 * (n - 63))
        sub = {**writer(rng, n, estate), "title": title, "body": body.format(place=place, estate=estate),
               "submitted_at": day.isoformat(timespec="seconds"), "channel": rng.choice(["web", "web", "web", "email", "post"])}
        sub["body"] += personal_sentences(n, sub)
        if n == 40:
            sub["follows_up"] = done[3]
            sub["body"] += "此前来信已答复，但问题仍未解决，现再次反映。"
        accepted = intake_one(repo, Submission("demo", None, f"第 {n} 条", sub), OFFICE, rng)
        code = accepted.letter_code
        done.append(code)
        codes[code] = accepted.query_code
        walk(repo, code, n, day, category, unit or unit_code, complex_, title, sub["name"])
    # Demo only: the query codes of the fictional letters, to try the status lookup.
    (ROOT / "scripts" / "demo_query_codes.json").write_text(
        json.dumps(codes, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def walk(repo: Repository, code: str, n: int, day: datetime, category: str, unit: str,
         complex_: bool, title: str, name: str) -> None:
    """Take each letter a deterministic distance along the process, covering every status."""
    fate = n % 11
    recent = day >= datetime.fromisoformat("2026-11-16T00:00:00+08:00")
    if n in (63, 64, 65, 66, 67):
        if n >= 65:
            return  # still received
        workflow.classify(repo, code, category, OFFICE, at=at(day, 2))
        if n == 64:
            workflow.transfer(repo, code, ["zjj"], OFFICE, at=at(day, 3))
            workflow.flag_risk(repo, code, "同一小区多户反映供暖不达标，情绪较大，存在集体上访风险。", UNIT_CLERK, at=at(day, 30))
        return
    if fate == 0 and not recent:
        reason = ["incomplete", "private-dispute", "legal-process", "discipline", "out-of-scope"][n % 5]
        workflow.reject(repo, code, reason, OFFICE, at=at(day, 3))
        if n % 2 == 0:
            workflow.archive(repo, code, OFFICE, at=at(day, 48))
        return
    workflow.classify(repo, code, category, OFFICE, at=at(day, 2))
    routed = 4.0
    if title in DIRECT_REPLIES:
        workflow.reply(repo, code, DIRECT_REPLIES[title], OFFICE, at=at(day, 4))
        return
    if fate == 1 and n > 50:
        return  # classified, waiting to be routed
    if fate == 2:
        leader = ["qz", "cwfqz", "fqz-cj"][n % 3]
        workflow.escalate(repo, code, leader, OFFICE, at=at(day, 4))
        if n > 45:
            return  # escalated, waiting for the leader
        if leader != "cwfqz":  # only the leader escalated to, or one the office records, instructs
            workflow.stand_in(repo, code, "cwfqz", "呈送的领导外出，由常务副区长代为批示。", OFFICE, at=at(day, 5))
        workflow.instruct(repo, code, "cwfqz", "请相关单位高度重视，认真调查，限期解决并回复群众。", [unit, "cgj"],
                          LEADER_CLERK, at=at(day, 50))
        routed = 50
    elif fate == 3 and n < 45:
        workflow.transfer(repo, code, ["wsj"], OFFICE, at=at(day, 4))
        workflow.return_letter(repo, code, "该事项不属本单位职责范围，建议转相关部门。", UNIT_CLERK, at=at(day, 26))
        workflow.transfer(repo, code, [unit], OFFICE, complex_=complex_, at=at(day, 28))
        routed = 28
    else:
        workflow.transfer(repo, code, [unit], OFFICE, complex_=complex_, at=at(day, 4))
    if n > 58:
        if n % 2:
            workflow.remind(repo, code, OFFICE, note="请抓紧办理并按时回复。", at=at(day, 70))
        return  # transferred, some overdue
    if fate == 4:
        workflow.extend(repo, code, 5, "需要多部门现场勘查，申请延期。", UNIT_CLERK, at=at(day, routed + 22))
        if n % 2:
            workflow.grant(repo, code, OFFICE, at=at(day, routed + 26))
        else:
            workflow.refuse(repo, code, OFFICE, note="请在原期限内办结。", at=at(day, routed + 26))
    late = routed + 24 * (9 if fate in (4, 5) else 1) + 2
    answer = (f"{name}您好！" if n % 5 == 2 else "") + (f"经调查核实，您反映的“{title}”问题已安排专人处理。我单位已于近日组织人员现场查看，"
              "制定了整改方案，预计两周内完成。如有疑问请拨打本单位值班电话。")
    workflow.answer(repo, code, answer, "单位主要负责人", UNIT_CLERK, contacted=n % 4 == 0, at=at(day, late))
    if n > 55:
        return  # answered, awaiting review
    if fate == 6:
        workflow.send_back(repo, code, "答复未写明解决时限，请补充。", OFFICE, at=at(day, late + 20))
        workflow.answer(repo, code, answer + "整改将于本月底前完成。", "单位主要负责人", UNIT_CLERK, at=at(day, late + 44))
    workflow.approve(repo, code, OFFICE, at=at(day, late + 70))
    if fate == 7:
        workflow.withhold(repo, code, "privacy", OFFICE, at=at(day, late + 72))
    elif n % 3:
        workflow.publish(repo, code, OFFICE, at=at(day, late + 72))
    if n < 12:
        workflow.archive(repo, code, OFFICE, at=at(day, late + 24 * 30))


GIT_ENV = {"GIT_AUTHOR_NAME": "demo", "GIT_AUTHOR_EMAIL": "demo@example.com",
           "GIT_COMMITTER_NAME": "demo", "GIT_COMMITTER_EMAIL": "demo@example.com"}


def without_blocks(text: str, names: tuple[str, ...]) -> str:
    """letterbox.yaml without its top-level `names` blocks (and the roster's heading comment)."""
    lines = text.splitlines()
    out: list[str] = []
    skipping = False
    for line in lines:
        if re.match(rf"^({'|'.join(names)})\s*:", line):
            skipping = True
            if out and out[-1] == ROSTER_COMMENT:
                out.pop()
            continue
        if skipping and (not line.strip() or line[0] in " \t-"):
            continue
        skipping = False
        out.append(line)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out) + "\n"


def demo_keys() -> tuple[list[dict[str, str | None]], dict[str, str]]:
    """The demo roster entries and period public keys; the DEMO key files are made once (kept
    in demo-keys/ afterwards, so regenerating the letters does not change them)."""
    DEMO_PERIOD_KEYS.mkdir(parents=True, exist_ok=True)
    members: list[dict[str, str | None]] = []
    for name, role, where, file in DEMO_ROSTER:
        path = DEMO_KEYS / file
        if not path.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path),
                            "-C", f"letterbox DEMO key {file} (public on purpose, never for real letters)"],
                           check=True)
        public = " ".join(path.with_suffix(".pub").read_text("ascii").split()[:2])
        members.append({"name": name, "role": role, "unit": where if role == "unit" else None,
                        "leader": where if role == "leader" else None, "key": public})
    periods = {}
    for year in DEMO_PERIODS:
        path = DEMO_PERIOD_KEYS / f"{year}{keys.PERIOD_SUFFIX}"
        if not path.exists():
            path.write_text(sealing.new_period_key()[0] + "\n", encoding="ascii")
        periods[year] = str(sealing.period_identity(path.read_text("ascii")).to_public())
    return members, periods


def seal_demo(target: Path, tmp: Path) -> str:
    """Add the demo roster and period key to the temporary repository's letterbox.yaml, then run
    the migration signed with the demo administrator's key; the configuration's new text."""
    members, periods = demo_keys()
    config = target / "letterbox.yaml"
    text = replace_roster_block(config.read_text("utf-8").rstrip("\n") + "\n", members)
    text = encryption.replace_encryption_block(text, {"periods": periods})
    config.write_text(text, encoding="utf-8")
    subprocess.run(["git", "commit", "-q", "-m", "Demo roster and period key", "--", "letterbox.yaml"],
                   cwd=target, check=True, env={**os.environ, **GIT_ENV})
    signer = tmp / "office-admin"  # ssh-keygen signs only with a key file only its owner reads
    shutil.copy(DEMO_KEYS / "office-admin", signer)
    signer.chmod(0o600)
    saved = {k: os.environ.get(k) for k in ("LETTERBOX_SIGNING_KEY", "LETTERBOX_PERIOD_KEYS", "LETTERBOX_IDENTITY")}
    os.environ.update(LETTERBOX_SIGNING_KEY=str(signer), LETTERBOX_PERIOD_KEYS=str(DEMO_PERIOD_KEYS),
                      LETTERBOX_IDENTITY=str(DEMO_KEYS / "office-admin"))
    try:
        repo = Repository(target)
        done = encryption.encrypt(repo)
        ring = keys.keyring(repo.git, repo.config, required=True)
        for letter in repo.letters(keyring=ring):  # every letter opens with the demo keys
            assert letter.sealed and letter.hidden is None and letter.data.get("writer"), letter.code
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    print(f"sealed {len(done.sealed)} letters in one commit, {len(done.forms)} handling forms without writer data")
    return text


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "demo"
        init_repository(target, OFFICE)
        base = without_blocks((ROOT / "letterbox.yaml").read_text("utf-8"), ("roster", "encryption"))
        (target / "letterbox.yaml").write_text(base, encoding="utf-8")
        repo = Repository(target)
        repo.git.git.commit("-q", "-am", "Use the project configuration", env=GIT_ENV)
        make(Repository(target), Random(20260706))
        config_text = seal_demo(target, Path(tmp))
        for folder in ("cases", "forms"):
            shutil.rmtree(ROOT / folder, ignore_errors=True)
            shutil.copytree(target / folder, ROOT / folder)
        (ROOT / "letterbox.yaml").write_text(config_text, encoding="utf-8")
        statuses: dict[str, int] = {}
        for letter in Repository(target).letters():
            statuses[letter.status] = statuses.get(letter.status, 0) + 1
        print(json.dumps({"letters": sum(statuses.values()), "statuses": statuses}, ensure_ascii=False))


if __name__ == "__main__":
    main()
