"""`yamlio.load(..., lines=False)`, validate's fast path (issue 17): the same data and the same
refusals as the full reader, for ordinary and hostile texts alike; nothing slips through it."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from letterbox.core import yamlio
from letterbox.core.errors import LetterboxError


def outcome(text: str, text_only: bool, lines: bool) -> tuple[str, object]:
    try:
        data, line_map = yamlio.load(text, "cases/2026/03/LA-2026-00001.yaml", text_only=text_only, lines=lines)
    except LetterboxError as exc:
        return "refused", (exc.message, exc.problems)
    assert line_map == {} or lines
    return "read", repr(data)  # repr: nan, types and key order count


def same(text: str) -> None:
    for text_only in (False, True):
        full = outcome(text, text_only, lines=True)
        assert outcome(text, text_only, lines=False) == full, text
        assert outcome(text, text_only, lines=False) == full, text  # again, from the known plain scalars


HOSTILE = [
    "a: &x 1\nb: *x\n",
    "a: *x\n",
    "a: !!str 1\n",
    "a: !x 1\n",
    "a: ! 1\n",
    "!!map {a: 1}\n",
    "a: !!python/object/apply:os.system ['true']\n",
    "%TAG ! tag:example.com,2000:\n--- !x\na: 1\n",
    "a:\n  <<: {b: 1}\n",
    "<<: {b: 1}\n",
    "a: <<\n",
    "a: [<<]\n",
    "? [a]\n: 1\n",
    "? {a: 1}\n: 1\n",
    "a: 1\na: 2\n",
    "a:\n  b: 1\n  b: 2\n",
    "h:\n  - a: 1\n    a: 2\n",
    "h:\n  - a: 1\n  - a: 2\n",  # not a duplicate: two mappings
    "'a': 1\na: 2\n",
    "\"1\": a\n1: b\n",
    "true: 1\nTrue: 2\n",  # two texts, one value: the full reader keeps the last, so must this one
    "a: 1\n---\nb: 2\n",
    "--- 1\n--- 2\n",
    "a: [\n",
    "a: 'x\n",
    "\t- a\n",
    "a: " + "[" * 13 + "]" * 13 + "\n",
    "a: " + "[" * 12 + "]" * 12 + "\n",
    "a: " + "{b: " * 12 + "1" + "}" * 12 + "\n",
    "- " * 12 + "x\n",
    "- " * 13 + "x\n",
    "a: 1:20\nb: 0o17\nc: 017\nd: .NaN\ne: yes\nf: ~\ng: 2026-03-02\n",
    "&a a: 1\n",
    "a: &a\n  - 1\n",
    "[*a]\n",
    "{? a}\n",
    "a: 1\n...\n",
    "a: 1\n...\n---\nb: 2\n",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_texts_are_refused_or_read_alike(text: str) -> None:
    same(text)


@pytest.mark.parametrize("text", [t for t in HOSTILE if any(c in t for c in "&*!%") or "<<:" in t])
def test_anchors_aliases_tags_and_merge_keys_never_load_without_lines(text: str) -> None:
    with pytest.raises(LetterboxError):
        yamlio.load(text, "x.yaml", lines=False)


def test_a_plain_scalar_known_from_one_loader_is_not_taken_for_the_other() -> None:
    assert yamlio.load("a: 007\nb: yes\n", "x.yaml", lines=False)[0] == {"a": 7, "b": True}
    assert yamlio.load("a: 007\nb: yes\n", "x.yaml", text_only=True, lines=False)[0] == {"a": "007", "b": "yes"}
    assert yamlio.load("a: 007\nb: yes\n", "x.yaml", lines=False)[0] == {"a": 7, "b": True}


def test_a_merge_key_seen_as_a_value_is_still_refused_as_a_key() -> None:
    same("a: <<\n")
    same("<<: 1\n")
    with pytest.raises(LetterboxError) as info:
        yamlio.load("b: 1\n<<: {c: 1}\n", "x.yaml", lines=False)
    assert "合并键" in info.value.problems[0].message


def test_the_known_plain_scalars_stay_bounded() -> None:
    for k in range(3):
        yamlio.load("\n".join(f"k{k}_{i}: v{k}_{i}" for i in range(3000)) + "\n", "x.yaml", lines=False)
    assert all(len(known) <= 4096 + 6000 for known in yamlio._PLAIN_SCALARS.values())


PIECES = ["a", "b", "1", "'1'", "true", "True", "<<", "'<<'", "&x a", "*x", "!!str a", "! a", "null", "~",
          "0x1F", "1:20", "007", "'007'", "[]", "{}", "[a, b]", "{a: 1}", "{a: 1, a: 2}", "[*x]", "|\n  t\n",
          "\"q\\u00e9\"", "-.inf", "2026-03-02", "x y", "? a", "---", "..."]


@st.composite
def documents(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(1, 8))):
        indent = "  " * draw(st.integers(0, 3))
        dash = draw(st.sampled_from(["", "- ", "- - "]))
        key = draw(st.sampled_from(PIECES))
        value = draw(st.sampled_from(PIECES + [""]))
        lines.append(f"{indent}{dash}{key}: {value}" if draw(st.booleans()) else f"{indent}{dash}{key}")
    return "\n".join(lines) + "\n"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_random_documents_are_refused_or_read_alike(text: str) -> None:
    same(text)
