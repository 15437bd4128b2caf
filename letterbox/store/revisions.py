"""Case files as they were at a git revision (for `letterbox check --base REV`), read by the
same parse as the working tree's (`loader.load_texts`)."""

from __future__ import annotations

import subprocess
from pathlib import PurePosixPath

import git

from letterbox.core.errors import LetterboxError
from letterbox.core.letter import CASES_DIR
from letterbox.store.loader import Loaded, load_texts
from letterbox.store.repository import Repository


def load_revision(repo: Repository, rev: str, lines: bool = True) -> Loaded:
    """The case files of cases/ at `rev` (a commit, branch or tag), in path order."""
    try:
        commit = repo.git.commit(rev)
    except (git.BadName, ValueError, git.GitCommandError):
        raise LetterboxError(f"找不到基准版本 {rev}：请确认提交号或分支名（CI 中需要完整的 git 历史）。") from None
    try:
        tree = commit.tree / CASES_DIR
    except KeyError:
        return Loaded([])
    blobs = sorted((str(item.path), item) for item in tree.traverse()
                   if isinstance(item, git.Blob) and str(item.path).endswith((".yaml", ".yml"))
                   and not PurePosixPath(str(item.path)).name.startswith("."))
    return load_texts(((PurePosixPath(path), blob.data_stream.read()) for path, blob in blobs), lines)


def revision_blobs(repo: Repository, rev: str) -> dict[str, str]:
    """path → blob id of each case file of cases/ at `rev` (the files `load_revision` reads),
    in path order, listed without reading any of them."""
    try:
        commit = repo.git.commit(rev)
    except (git.BadName, ValueError, git.GitCommandError):
        raise LetterboxError(f"找不到基准版本 {rev}：请确认提交号或分支名（CI 中需要完整的 git 历史）。") from None
    done = subprocess.run(["git", "--no-optional-locks", "ls-tree", "-r", "-z", commit.hexsha, "--", f"{CASES_DIR}/"],
                          cwd=repo.root, capture_output=True, check=True)
    out = {}
    for entry in done.stdout.split(b"\0"):
        if not entry:
            continue
        meta, _, raw_path = entry.partition(b"\t")
        _mode, kind, blob = meta.decode("ascii").split(" ")
        path = raw_path.decode("utf-8", "surrogateescape")
        if kind == "blob" and path.endswith((".yaml", ".yml")) and not path.rsplit("/", 1)[-1].startswith("."):
            out[path] = blob
    return dict(sorted(out.items()))


def read_blob(repo: Repository, blob: str) -> bytes:
    """The content of one blob of the repository."""
    return bytes(repo.git.odb.stream(bytes.fromhex(blob)).read())
