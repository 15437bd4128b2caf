"""core.textsafe: which characters are unsafe, stripped for the public, escaped for staff."""

from __future__ import annotations

import json

from letterbox.core.textsafe import UNSAFE, escape_unsafe, escape_unsafe_json, strip_unsafe

UNSAFE_CHARS = ([chr(c) for c in range(0x20) if chr(c) not in "\n\t"] + [chr(c) for c in range(0x7f, 0xa0)]
                + [chr(c) for c in range(0x202a, 0x202f)] + [chr(c) for c in range(0x2066, 0x206a)]
                + ["\u200e", "\u200f"])
SAFE_CHARS = ["\n", "\t", " ", "a", "中", "\u200b", "\u200d", "\u2028", "\u202f", "\u2065", "\u206a",
              "\u00a0", "〔", "🙂"]


def test_the_unsafe_set() -> None:
    assert all(UNSAFE.fullmatch(c) for c in UNSAFE_CHARS)
    assert not any(UNSAFE.search(c) for c in SAFE_CHARS)


def test_strip() -> None:
    assert strip_unsafe("路灯\x1b[31m不亮\u202e了\x07\r\n第二段\t完") == "路灯[31m不亮了\n第二段\t完"
    assert strip_unsafe("".join(UNSAFE_CHARS)) == ""
    assert strip_unsafe("干净的文字") == "干净的文字"


def test_escape_is_visible_and_inert() -> None:
    assert escape_unsafe("a\x1b[2Jb\u202ec\r\nd\re") == "a\\u001b[2Jb\\u202ec\nd\\u000de"
    for c in UNSAFE_CHARS:
        assert not UNSAFE.search(escape_unsafe(f"x{c}y"))


def test_json_escape_keeps_the_data() -> None:
    data = {"t": "".join(UNSAFE_CHARS) + "中文\n"}
    text = escape_unsafe_json(json.dumps(data, ensure_ascii=False))
    assert not UNSAFE.search(text) and json.loads(text) == data
