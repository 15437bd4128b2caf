"""YAML round trips: whatever text staff or writers type comes back unchanged."""

from hypothesis import given, settings
from hypothesis import strategies as st

from letterbox.core import yamlio

texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\ufeff"),
                max_size=80)
values = st.recursive(
    st.none() | st.booleans() | st.integers() | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, database=None, deadline=None)
@given(st.dictionaries(texts, values, max_size=6))
def test_dump_then_load_is_identity(data: dict) -> None:
    loaded, _ = yamlio.load(yamlio.dump(data), "x.yaml")
    assert loaded == data


def test_timestamps_stay_text() -> None:
    loaded, lines = yamlio.load("at: 2026-03-02T09:15:00+08:00\nday: 2026-03-02\n", "x.yaml")
    assert loaded == {"at": "2026-03-02T09:15:00+08:00", "day": "2026-03-02"}
    assert lines[("day",)] == (2, 1)


def test_multiline_text_is_a_block() -> None:
    text = yamlio.dump({"body": "第一行\n第二行"})
    assert "body: |" in text


def test_schema_errors_never_repeat_writer_data() -> None:
    from letterbox.core import schemas

    data, lines = yamlio.load("writer:\n  phone: 13812345678\n", "c.yaml")
    problems = schemas.check(schemas.LETTER_SCHEMA, data, "c.yaml", lines)
    phone = [p for p in problems if p.field == "writer.phone"]
    assert phone and phone[0].line == 2
    assert all("13812345678" not in str(p) for p in problems)
