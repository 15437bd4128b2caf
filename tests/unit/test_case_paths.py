"""`case_paths` (os.scandir) lists what pathlib's rglob listed, in the same order (issue 17)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from letterbox.store.loader import case_paths


def rglob_paths(root: Path) -> list[PurePosixPath]:
    base = root / "cases"
    found = sorted(p for ext in ("*.yaml", "*.yml") for p in base.rglob(ext)
                   if p.is_file() and not p.name.startswith("."))
    return [PurePosixPath(p.relative_to(root).as_posix()) for p in found]


def test_same_files_same_order(tmp_path: Path) -> None:
    cases = tmp_path / "cases"
    for name in ["2026/03/LA-2026-00001.yaml", "2026/03/LA-2026-00002.yml", "2026/03/.hidden.yaml",
                 "2026/03/notes.txt", "2026/LA-2026-00003.yaml", "top.yaml", "2026/03-x/a.yaml",
                 "2026/03.x/b.yaml", "2026/03/a b.yaml", "2026/.dir/c.yaml", "2026/03/Z.YAML",
                 "2025/12/LA-2025-00001.yaml", "2026/03/中文.yaml"]:
        path = cases / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x: 1\n", "utf-8")
    (cases / "2026" / "folder.yaml").mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "d.yaml").write_text("x: 1\n", "utf-8")
    (cases / "linked").symlink_to(outside, target_is_directory=True)
    (cases / "2026" / "03" / "link.yaml").symlink_to(outside / "d.yaml")
    (cases / "2026" / "03" / "broken.yaml").symlink_to(outside / "none.yaml")
    assert case_paths(tmp_path) == rglob_paths(tmp_path)
    assert PurePosixPath("cases/2026/03/link.yaml") in case_paths(tmp_path)
    assert case_paths(tmp_path / "nowhere") == []
