"""`incremental.stamps` (one scandir per folder) lists exactly the files `os.walk` and `lstat`
list: links to folders neither followed nor listed, links to files and broken links listed by
their own stamp, nested and empty folders, names with spaces and Chinese characters."""

from __future__ import annotations

import os
from pathlib import Path

from site_builder.incremental import stamps


def walked(root: Path) -> dict[str, tuple[int, int, int]]:
    """The reference: os.walk and os.lstat, as the build did before."""
    found = {}
    base = len(str(root)) + 1
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            st = os.lstat(path)
            found[path[base:].replace(os.sep, "/")] = (st.st_ino, st.st_size, st.st_mtime_ns)
    return found


def test_stamps_list_what_os_walk_lists(tmp_path: Path) -> None:
    root = tmp_path / "site"
    (root / "letters" / "LA-2026-00001").mkdir(parents=True)
    (root / "letters" / "LA-2026-00001" / "index.html").write_text("<p>答复</p>", "utf-8")
    (root / "empty" / "deeper").mkdir(parents=True)
    (root / "名 字.txt").write_bytes(b"x" * 10)
    (root / "a" / "b" / "c").mkdir(parents=True)
    (root / "a" / "b" / "c" / "d.json").write_text("{}", "utf-8")
    os.symlink(root / "letters", root / "link-to-folder")
    os.symlink(root / "名 字.txt", root / "link-to-file")
    os.symlink(root / "missing", root / "broken-link")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not in the site", "utf-8")
    os.symlink(outside, root / "a" / "out")

    got = stamps(root)
    assert got == walked(root)
    assert set(got) == {"letters/LA-2026-00001/index.html", "名 字.txt", "a/b/c/d.json",
                        "link-to-file", "broken-link"}
    assert got["link-to-file"] == (os.lstat(root / "link-to-file").st_ino,
                                   os.lstat(root / "link-to-file").st_size,
                                   os.lstat(root / "link-to-file").st_mtime_ns)


def test_stamps_of_a_missing_folder_are_empty(tmp_path: Path) -> None:
    assert stamps(tmp_path / "nowhere") == walked(tmp_path / "nowhere") == {}
