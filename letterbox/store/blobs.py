"""Git blob ids of case files: what a file's content is, without reading it when git knows.

A tracked file that git reports unmodified has the blob id the index records (`git ls-files
-s`), which costs nothing; any other file (modified, untracked, ignored, a symbolic link) is
read and hashed as git would hash it (`git hash-object`). `validate` keys its results by these
ids (ops/validate.py); `check --base` asks git which files changed since the base.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from letterbox.core.letter import CASES_DIR


def blob_id(raw: bytes) -> str:
    """The id git gives a blob of these bytes (`git hash-object`)."""
    return hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest()


def _git(root: Path, *args: str) -> bytes | None:
    try:
        done = subprocess.run(["git", "--no-optional-locks", *args], cwd=root, capture_output=True,
                              check=False)
    except OSError:
        return None
    return done.stdout if done.returncode == 0 else None


def _z(out: bytes) -> list[str]:
    return [item.decode("utf-8", "surrogateescape") for item in out.split(b"\0") if item]


def clean_ids(root: Path) -> dict[str, str]:
    """path → blob id of each regular case file that git tracks and reports unmodified in the
    working tree ({} when git cannot tell)."""
    listed = _git(root, "-c", "core.quotepath=off", "ls-files", "-s", "-z", "--", CASES_DIR)
    status = _git(root, "-c", "core.quotepath=off", "diff-files", "--name-only", "-z", "--", CASES_DIR)
    if listed is None or status is None:
        return {}
    refreshed = _git(root, "status", "--porcelain=v1", "-z", "--untracked-files=no", "--", CASES_DIR)
    dirty = set(_z(status))
    if refreshed is not None and dirty:  # diff-files counts a touched file (stat only) as modified
        dirty = set()
        entries = _z(refreshed)
        k = 0
        while k < len(entries):
            entry = entries[k]
            if entry[1] != " ":  # the working tree differs from the index
                dirty.add(entry[3:])
            if entry[0] in "RC":  # the next entry is the rename's source
                k += 1
            k += 1
    ids = {}
    for entry in _z(listed):
        meta, _, path = entry.partition("\t")
        mode, blob, stage = meta.split(" ")
        if mode in ("100644", "100755") and stage == "0" and path not in dirty:
            ids[path] = blob
    return ids


def blob_ids(root: Path, paths: Sequence[PurePosixPath | str]) -> dict[str, str]:
    """path → blob id of each of `paths` (a file that cannot be read has none)."""
    known = clean_ids(root)
    out = {}
    for path in paths:
        key = str(path)
        if key in known:
            out[key] = known[key]
            continue
        try:
            out[key] = blob_id((root / path).read_bytes())
        except OSError:
            continue
    return out


def changed_since(root: Path, base: str) -> set[str] | None:
    """The case files that differ between `base` and the working tree: changed, added,
    deleted (either side of a rename), and every file git does not track. None when git cannot
    tell."""
    diff = _git(root, "-c", "core.quotepath=off", "diff", "--no-renames", "--name-only", "-z", base, "--",
                CASES_DIR)
    others = _git(root, "-c", "core.quotepath=off", "ls-files", "--others", "-z", "--", CASES_DIR)
    if diff is None or others is None:
        return None
    return set(_z(diff)) | set(_z(others))
