"""`replace_roster_block`: only the roster block of letterbox.yaml is rewritten, wherever it is
and however it was written; the rest of the file (comments included) stays byte for byte."""

from __future__ import annotations

import yaml

from letterbox.core.config import default_config_text, parse_config
from letterbox.ops.roster import replace_roster_block

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKCYTSRbZrLMgZz0Izuax2AWVO6RrNUX4Jj06/+2Nrd6"
KEY2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL1uhSoUrJgWFUTHCidoc2PGrIaJ4iuSBeBTdUelqWGj"
ADMIN = {"name": "信息中心 王静", "role": "office-admin", "key": KEY}
UNIT = {"name": "中州路 李强", "role": "unit", "unit": "zzl", "key": KEY2}


def test_appended_when_absent_and_the_rest_kept() -> None:
    base = default_config_text("ab" * 16)
    text = replace_roster_block(base, [ADMIN])
    assert text.startswith(base.rstrip("\n"))
    assert parse_config(text).roster.members[0].name == "信息中心 王静"


def test_block_in_the_middle_written_in_block_style_is_replaced() -> None:
    base = default_config_text("ab" * 16)
    head, sep, tail = base.partition("leaders:")
    middle = ("roster:\n  # 管理员\n  - name: 旧名字\n    role: office-admin\n"
              f"    key: {KEY}\n\n")
    text = replace_roster_block(head + middle + sep + tail, [ADMIN, UNIT])
    assert "旧名字" not in text and text.endswith(sep + tail)
    assert text.startswith(head)
    config = parse_config(text)
    assert [m.name for m in config.roster.members] == ["信息中心 王静", "中州路 李强"]
    assert [x.code for x in config.leaders] == [x["code"] for x in yaml.safe_load(base)["leaders"]]


def test_emptied_and_names_that_need_quoting() -> None:
    base = default_config_text("ab" * 16)
    odd = {**ADMIN, "name": 'a: "b" # c'}
    text = replace_roster_block(base, [odd])
    assert parse_config(text).roster.members[0].name == 'a: "b" # c'
    emptied = replace_roster_block(text, [])
    assert "roster: []" in emptied and not parse_config(emptied).roster


def test_a_comment_heading_the_next_key_is_kept() -> None:
    base = default_config_text("ab" * 16)
    head, sep, tail = base.partition("leaders:")
    middle = f"roster:\n  - {{name: 旧名字, role: office-admin, key: \"{KEY}\"}}\n# 区政府领导（下一节的说明）\n"
    text = replace_roster_block(head + middle + sep + tail, [ADMIN])
    assert "# 区政府领导（下一节的说明）\nleaders:" in text and "旧名字" not in text
