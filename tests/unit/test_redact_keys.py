"""The redaction stage's keys (`fingerprint`) and the entries' quick copy (`evolve`).

A key must be the same for the same data and differ for different data, also for texts orjson
refuses (a lone surrogate from a YAML escape: hostile input); `evolve` must give what
`dataclasses.replace` gives (the entries' repr and equality feed the search pages' digests)."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from letterbox.privacy.redact import Writer
from site_builder.redact_stage import fingerprint
from site_builder.select import Entry, evolve

texts = st.text(max_size=40)  # any code point, lone surrogates included
values = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70) | texts,
                      lambda inner: st.lists(inner, max_size=4), max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(values, values)
def test_same_data_same_key_other_data_other_key(a, b) -> None:
    assert fingerprint(a) == fingerprint(a)
    assert len(fingerprint(a)) == 64
    if a != b:
        assert fingerprint(a) != fingerprint(b)


def test_lone_surrogate_and_big_numbers_are_keyed() -> None:
    assert fingerprint(["\ud800"]) != fingerprint(["\udc00"])
    assert fingerprint(["\ud800"]) != fingerprint(["\\ud800"])
    assert fingerprint([2**80]) != fingerprint([2**80 + 1])
    assert fingerprint(["张三", "13800000000"]) != fingerprint(["张三", "13800000001"])


ENTRY = Entry(code="LA-2026-00001", title="电梯停运", body="我是张三，电话13800000000。", reply="已修复。",
              reply_by="区住建局", category="complaint", received=date(2026, 1, 5), answered=date(2026, 1, 9),
              working_days=4, due=date(2026, 1, 30), on_time=True, follows_up=None, followed_by=(),
              writer=Writer(name="张三", phone="13800000000"), mask=("张三",), keep=("区住建局",))


@pytest.mark.parametrize("changes", [
    {},
    {"title": "新标题"},
    {"title": "t", "body": "b", "reply": "r", "writer": Writer(), "mask": (), "keep": ()},
    {"mask": ("李四", "张三")},
    {"due": None, "on_time": None, "merged": 3},
])
def test_evolve_is_replace(changes: dict) -> None:
    a, b = evolve(ENTRY, **changes), dataclasses.replace(ENTRY, **changes)
    assert a == b and repr(a) == repr(b) and hash(a) == hash(b)
    assert ENTRY.title == "电梯停运" and ENTRY.mask == ("张三",)  # the original unchanged
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.title = "x"  # type: ignore[misc]


def test_evolve_refuses_unknown_fields() -> None:
    with pytest.raises(TypeError, match="nope"):
        evolve(ENTRY, nope=1)


def test_requests_json_keeps_a_letter_orjson_refuses() -> None:
    import json

    from site_builder.render import open311_requests

    odd = evolve(ENTRY, code="LA-2026-00002", title="电梯\ud800停运", writer=Writer(), mask=(), keep=())
    plain = evolve(ENTRY, writer=Writer(), mask=(), keep=())
    text = open311_requests([plain, odd])
    text.encode("utf-8")  # written as UTF-8: no lone surrogate left in the file's text
    rows = json.loads(text)
    assert [r["service_request_id"] for r in rows] == ["LA-2026-00001", "LA-2026-00002"]
    assert rows[1]["description"] == "电梯\ud800停运" and rows[0]["description"] == "电梯停运"
    assert len(text.splitlines()) == 4  # "[", one line per request, "]"


DIGEST_CHANGES = [
    {"code": "LA-2026-00002"}, {"updated_at": "2026-01-09T10:00:00+08:00"},
    {"title": "电梯停运。"}, {"body": ""}, {"reply": "已修复"}, {"reply_by": "区交通局"},
    {"category": "consultation"}, {"received": date(2026, 1, 6)}, {"answered": date(2026, 1, 10)},
    {"working_days": 5}, {"due": None}, {"on_time": False}, {"on_time": None}, {"follows_up": "LA-2025-00009"},
    {"followed_by": ("LA-2026-00007",)}, {"writer": Writer()}, {"mask": ()}, {"keep": ()},
    {"status": "archived"}, {"submitted_at": "2026-01-05T09:00:00+08:00"}, {"outcome": "late"},
    {"due_provisional": True}, {"merged": 2}, {"title": "电梯\ud800停运"}, {"title": "电梯\udc00停运"},
]


def test_entry_digest_cases_change_every_field() -> None:
    assert {name for changes in DIGEST_CHANGES for name in changes} == {f.name for f in dataclasses.fields(Entry)}


@pytest.mark.parametrize("changes", DIGEST_CHANGES)
def test_entry_digest_follows_every_field(changes: dict) -> None:
    """The search page of a letter is made again when its digest changes: every field counts,
    also a text orjson refuses (a lone surrogate: the `repr` fallback)."""
    from site_builder.build import entry_digest

    assert set(changes) <= {f.name for f in dataclasses.fields(Entry)}
    other = evolve(ENTRY, **changes)
    assert entry_digest(other) == entry_digest(evolve(ENTRY, **changes))
    assert entry_digest(other) != entry_digest(ENTRY)
    assert entry_digest(ENTRY) == entry_digest(dataclasses.replace(ENTRY))


def test_entry_digest_tells_the_surrogates_apart() -> None:
    from site_builder.build import entry_digest

    digests = {entry_digest(evolve(ENTRY, title=t)) for t in ("\ud800", "\udc00", "\\ud800", "\ud800\udc00")}
    assert len(digests) == 4
