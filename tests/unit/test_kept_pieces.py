"""The kept pieces (`scan.Pieces`) and what a build trusts of them (`build.kept_pieces`): only
parts recorded whole, each still there and at least as long; any other record means every kept
file is read again."""

from __future__ import annotations

from pathlib import Path

import pytest

from site_builder.build import kept_pieces
from site_builder.incremental import Manifest
from site_builder.scan import PieceLog, Pieces


def test_parts_written_searched_and_checked(tmp_path: Path) -> None:
    folder = tmp_path / "pieces"
    log = PieceLog(folder)
    log.write("幸福小区供暖<\x01先生")
    log.write("\ud800残缺")  # a lone surrogate (from a JSON file) is kept as it was read
    log.close()
    pieces = Pieces(folder)
    sizes = pieces.sizes()
    assert len(sizes) == 1 and pieces.holds(sizes) and pieces.holds({})
    assert pieces.search(["供暖", "王建国", "\ud800残缺", "先生"]) == {"供暖", "\ud800残缺", "先生"}
    name = next(iter(sizes))
    (folder / name).write_bytes((folder / name).read_bytes()[:5])
    assert not pieces.holds(sizes)  # cut short
    assert not pieces.holds({**sizes, "part-gone": 1})
    pieces.reset()
    assert not folder.exists() and pieces.sizes() == {} and pieces.search(["供暖"]) == set()


@pytest.mark.parametrize("record", [None, [], {"parts": {}, "base": 1}, {"parts": {"part-1": "7"}, "base": 1},
                                    {"parts": {"part-1": 7}}, {"parts": [["part-1", 7]], "base": 1}, "x"])
def test_a_record_not_whole_is_not_trusted(record: object) -> None:
    assert kept_pieces(Manifest(version="v", pieces=record)) == (None, 0)  # type: ignore[arg-type]


def test_a_whole_record_is_trusted() -> None:
    assert kept_pieces(Manifest(version="v", pieces={"parts": {"part-1": 7}, "base": 7})) == ({"part-1": 7}, 7)
    assert kept_pieces(None) == (None, 0)


@pytest.mark.parametrize("window", [1, 2, 5, 7, 1 << 22])
def test_search_finds_every_needle_across_windows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  window: int) -> None:
    """Every needle that occurs, wherever the window cuts (also inside a longer needle's match),
    and none that does not; with many needles at once."""
    from site_builder import scan

    monkeypatch.setattr(scan, "PIECES_WINDOW", window)
    log = PieceLog(tmp_path / "pieces")
    log.write("王建国路口，138001")
    log.write("abc")
    log.close()
    pieces = Pieces(tmp_path / "pieces")
    many = [f"无此{k}" for k in range(2000)]
    assert pieces.search(["王建国", "建国路", "建国", "13800", "8001", "ca", "bc", "abc", *many]) == {
        "王建国", "建国路", "建国", "13800", "8001", "bc", "abc"}
