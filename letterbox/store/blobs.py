"""Git blob ids of case files: what a file's content is, without reading it when git knows.

A tracked file that git reports unmodified has the blob id the index records (`git ls-files
-s`), which costs nothing; any other file (modified, untracked, ignored, a symbolic link) is
read and hashed as git would hash it (`git hash-object`). `validate` keys its results by these
ids (ops/validate.py); `check --base` asks git which files changed since the base.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath

from letterbox.core.letter import CASES_DIR


def blob_id(raw: bytes) -> str:
    """The id git gives a blob of these bytes (`git hash-object`)."""
    return hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest()


def _git(root: Path, *args: str) -> bytes | None:
    return _git_all(root, args)[0]


def _git_all(root: Path, *commands: Sequence[str]) -> list[bytes | None]:
    """The output of each git command (None where it failed), the commands run side by side."""
    return _finish(_start(root, *commands))


def _start(root: Path, *commands: Sequence[str]) -> list[subprocess.Popen[bytes] | None]:
    procs: list[subprocess.Popen[bytes] | None] = []
    for args in commands:
        try:
            procs.append(subprocess.Popen(["git", "--no-optional-locks", *args], cwd=root,
                                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL))
        except OSError:
            procs.append(None)
    return procs


def _finish(procs: list[subprocess.Popen[bytes] | None]) -> list[bytes | None]:
    out: list[bytes | None] = []
    for proc in procs:
        if proc is None:
            out.append(None)
            continue
        stdout, _ = proc.communicate()
        out.append(stdout if proc.returncode == 0 else None)
    return out


def _z(out: bytes) -> list[str]:
    return [item.decode("utf-8", "surrogateescape") for item in out.split(b"\0") if item]


def clean_ids(root: Path) -> dict[str, str]:
    """path → blob id of each regular case file that git tracks and whose stat information in
    the index says it is unmodified in the working tree ({} when git cannot tell). A file only
    touched (same content, new time) is left out too: `blob_ids` hashes it."""
    return start_clean_ids(root)()


def start_clean_ids(root: Path) -> Callable[[], dict[str, str]]:
    """`clean_ids` started: git works while the caller does something else (lists the case
    files); calling the result waits for git and gives what `clean_ids` gives."""
    procs = _start(root, ("-c", "core.quotepath=off", "ls-files", "-s", "-z", "--", CASES_DIR),
                   ("-c", "core.quotepath=off", "diff-files", "--name-only", "-z", "--", CASES_DIR))

    def finish() -> dict[str, str]:
        listed, status = _finish(procs)
        if listed is None or status is None:
            return {}
        dirty = set(_z(status))
        ids = {}
        for entry in _z(listed):
            meta, _, path = entry.partition("\t")
            mode, blob, stage = meta.split(" ")
            if mode in ("100644", "100755") and stage == "0" and path not in dirty:
                ids[path] = blob
        return ids

    return finish


def blob_ids(root: Path, paths: Sequence[PurePosixPath | str],
             known: dict[str, str] | None = None) -> dict[str, str]:
    """path → blob id of each of `paths` (a file that cannot be read has none). `known`: what
    `clean_ids` gives, when the caller has it already (`start_clean_ids`)."""
    known = clean_ids(root) if known is None else known
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
    diff, others = _git_all(root, ("-c", "core.quotepath=off", "diff", "--no-renames", "--name-only", "-z", base,
                                   "--", CASES_DIR),
                            ("-c", "core.quotepath=off", "ls-files", "--others", "-z", "--", CASES_DIR))
    if diff is None or others is None:
        return None
    return set(_z(diff)) | set(_z(others))
