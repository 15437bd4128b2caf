"""What an incremental build keeps between builds, and how the new site is put together.

A build keeps, in `.letterbox-cache/board/` of the case repository (a temporary folder when
the cache is off, so that a build without cache is a build from scratch through the very same
code):

    project/    the MkDocs project (docs/ and mkdocs.yml); a file is rewritten only when its
                text changed, so its time tells MkDocs' --dirty build what to render again
    mkdocs/     MkDocs' own output (with the letter page shells and MkDocs' sitemap)
    search/     the pages Pagefind indexes, one per public letter, rewritten when changed
                (made only when its redacted entry is not the one it was made from)
    pieces/     the squashed text the scan read, needles masked (scan.Pieces): a new
                writer's data is searched there, not in every kept file
    manifest.json
                what the published site was made from (`Manifest`): the code version, the
                MkDocs key (the code and mkdocs.yml; with a project file removed MkDocs
                builds every page), each project file's and search page's digest, each
                letter page's inputs' digest, each site file's (inode, size, time) as
                published, the scan's hits by needle digest (for a kept file also those
                no longer sought), the digests of the needles searched for and the kept
                pieces' parts and sizes when they hold every file of the site

The manifest is removed when a build starts and written when it has published: a build that
fails or is interrupted leaves no manifest, and the next build starts from scratch.

The next build clones the published site with hard links (`Cloning`, in the background from
the start of the pass; `clone`), changes only the files
whose inputs changed (a file is replaced, never written in place: the published site shares
its inodes) and publishes by exchanging the two folders in one rename (`exchange`): readers
see the old site or the new one, never half of each. The manifest holds no writer's data: the
needles are kept as digests.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import hashlib
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field, fields, replace
from importlib import metadata
from pathlib import Path

import orjson

STATE_DIR = "board"
MANIFEST = "manifest.json"
FORMAT = 1
HERE = Path(__file__).parent
TOOLS = ("mkdocs", "mkdocs-material", "markdown", "pymdown-extensions", "pagefind", "jinja2")


def digest(data: str | bytes) -> str:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


NOT_KEPT = {"lookup_index.py", "preview.py"}  # code whose output no build keeps (the lookup
# index is made again at every build) or that builds nothing


def code_version() -> str:
    """The site builder's files (code, templates, theme, assets; but NOT_KEPT) and the tools'
    versions: other code, and every file of the site is made again."""
    h = hashlib.blake2b(digest_size=16)
    for path in sorted(HERE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.name not in NOT_KEPT:
            h.update(path.relative_to(HERE).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    for name in TOOLS:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "-"
        h.update(f"{name}={version}\0".encode())
    return h.hexdigest()


Stamp = tuple[int, int, int]  # inode, size, modification time (ns)


@dataclass
class Manifest:
    """What the published site (and the kept state) was made from; see the module docstring."""

    version: str
    out: str = ""
    mkdocs_key: str = ""
    mkdocs_day: str = ""  # the build day MkDocs' kept output was made for ("": none, it runs)
    project: dict[str, str] = field(default_factory=dict)  # project file → digest of its text
    lists: dict[str, str] = field(default_factory=dict)  # list page → digest of its inputs (render.KeptPages)
    search: dict[str, str] = field(default_factory=dict)  # code → digest of its search page
    search_inputs: dict[str, str] = field(default_factory=dict)  # code → digest of the entry it was made from
    search_part: int = 0  # letters per part of the search index (tools.search_part_size): the pages' folders
    mkdocs: dict[str, list[int]] = field(default_factory=dict)  # MkDocs output → stamp copied
    shells: str = ""  # digest of the page shells the letter pages were filled into
    letters: dict[str, str] = field(default_factory=dict)  # code → digest of its page's inputs
    files: dict[str, list[int] | Stamp] = field(default_factory=dict)  # site file → stamp as published
    pagefind: dict[str, str] = field(default_factory=dict)  # pagefind/ file → digest of its bytes
    needles: list[str] = field(default_factory=list)  # digests of the needles searched for
    hits: dict[str, list] = field(default_factory=dict)  # site file → [needle digests, origin]
    pieces: dict | None = None  # the kept pieces when whole: {"parts": {file: size}, "base": size}

    def working_copy(self) -> Manifest:
        """A copy for a build to change: the fields a build changes in place (dicts of strings)
        copied, the others shared (a build makes them anew: `Plan.result`). A deep copy cost
        ~3 s at 100 000 letters."""
        return replace(self, project=dict(self.project), lists=dict(self.lists), search=dict(self.search),
                       search_inputs=dict(self.search_inputs))

    def save(self, state: Path) -> None:
        tmp = state / (MANIFEST + ".tmp")
        data = {f.name: getattr(self, f.name) for f in fields(self)}  # not asdict: no deep copy
        # orjson: ~10x json.dumps on the ~50 MB of 100 000 letters (0.8 s → 0.08 s)
        tmp.write_bytes(orjson.dumps(data, option=orjson.OPT_SORT_KEYS))
        tmp.replace(state / MANIFEST)


def take_manifest(state: Path, version: str) -> Manifest | None:
    """The manifest of the last build (removed: it is written again when this build publishes),
    or None (then the kept state is wiped) when there is none or it is of other code."""
    path = state / MANIFEST
    found: Manifest | None = None
    with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):  # not a manifest: none
        data = orjson.loads(path.read_bytes())
        if data.get("version") == version:
            found = Manifest(**data)
    path.unlink(missing_ok=True)
    if found is None and state.exists():
        for part in state.iterdir():
            if part.is_dir() and not part.is_symlink():
                shutil.rmtree(part)
            else:
                part.unlink()
    state.mkdir(parents=True, exist_ok=True)
    return found


def stamps(root: Path) -> dict[str, Stamp]:
    """Every file under `root` (relative POSIX path) → its stamp, as `os.walk` lists files (a
    link to a folder is neither followed nor listed; a folder that cannot be read is skipped).
    One `scandir` per folder and no path joined twice: ~25 % less than os.walk and lstat over
    the ~216 000 files of 100 000 letters (a build walks its site twice)."""
    found: dict[str, Stamp] = {}
    folders: list[tuple[str, str]] = [(str(root), "")]
    while folders:
        folder, prefix = folders.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if not entry.is_symlink():
                    folders.append((entry.path, f"{prefix}{entry.name}/"))
                continue
            st = entry.stat(follow_symlinks=False)
            found[prefix + entry.name] = (st.st_ino, st.st_size, st.st_mtime_ns)
    return found


def lookup_data(rel: str) -> bool:
    """The lookup index's data files, which `lookup-refresh` and the intake service change in
    place between builds (site_builder/lookup_index.py)."""
    return rel == "lookup/meta.json" or rel.startswith("lookup/shards/")


def site_is_as_published(out: Path, manifest: Manifest) -> bool:
    """Whether `out` holds exactly the files the manifest recorded, untouched since (but the
    lookup index's data files, refreshed in place between builds)."""
    return published_files(out, manifest) is not None


def published_files(out: Path, manifest: Manifest) -> dict[str, Stamp] | None:
    """The stamps of `out`'s files (but the lookup index's data files) when it is as the
    manifest recorded (`site_is_as_published`), else None. A clone of `out` by hard links has
    these very files (`Cloning.files`)."""
    if manifest.out != str(out) or not out.is_dir():
        return None
    now = {rel: stamp for rel, stamp in stamps(out).items() if not lookup_data(rel)}
    then = {rel for rel in manifest.files if not lookup_data(rel)}
    same = len(now) == len(then) and all(
        list(stamp) == manifest.files.get(rel) for rel, stamp in now.items())
    return now if same else None


def clone(source: Path, target: Path) -> None:
    """`target` as a copy of `source` made of hard links (files are replaced, never changed):
    by `cp -al` where there is one (several times faster than shutil.copytree)."""
    Cloning(source, target).wait()


class Cloning:
    """`clone` started in the background (`cp -al`, a process of its own): the build renders
    meanwhile; `wait` finishes it (by shutil when cp failed or is missing), `stop` ends it and
    removes what it made (a build that fails before it needs the clone)."""

    def __init__(self, source: Path, target: Path, files: dict[str, Stamp] | None = None) -> None:
        self.source, self.target = source, target
        self.files = files  # the source's files (but the lookup index's data), when known
        self.proc: subprocess.Popen[bytes] | None = None
        if shutil.which("cp") and os.name == "posix":
            self.proc = subprocess.Popen(["cp", "-al", "--", str(source), str(target)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.done = False

    def wait(self) -> None:
        if self.done:
            return
        self.done = True
        if self.proc is not None and self.proc.wait() == 0:
            return
        shutil.rmtree(self.target, ignore_errors=True)
        shutil.copytree(self.source, self.target, copy_function=os.link, symlinks=True)

    def stop(self) -> None:
        if self.done:
            return
        self.done = True
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait()
        shutil.rmtree(self.target, ignore_errors=True)


OLD_PREFIX = ".site-old-"  # a replaced site, being removed in the background


def discard(folder: Path) -> None:
    """Remove `folder` (the site just replaced) without waiting: renamed aside, then removed by
    a background `rm -rf` (left to the system: the build does not wait for 20 000 unlinks).
    Leftovers of an interrupted removal are removed again by the next build (`discard_old`)."""
    aside = folder.parent.parent / f"{OLD_PREFIX}{os.getpid()}-{time.time_ns()}"
    try:
        folder.rename(aside)
    except OSError:
        return  # left where it is: its workspace is removed with it
    _remove_later(aside)


def discard_old(parent: Path) -> None:
    for old in parent.glob(f"{OLD_PREFIX}*"):
        _remove_later(old)


def _remove_later(path: Path) -> None:
    if os.name != "posix" or not shutil.which("rm"):
        shutil.rmtree(path, ignore_errors=True)
        return
    # sh starts rm in the background and ends at once: rm is not this process's child
    subprocess.run(["sh", "-c", 'rm -rf -- "$1" >/dev/null 2>&1 &', "sh", str(path)], check=False)


def replace_file(target: Path, data: bytes | str) -> None:
    """Write `target` as a new file (a hard-linked old one is unlinked, not written into)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        target.unlink()
    if isinstance(data, str):
        target.write_text(data, encoding="utf-8")
    else:
        target.write_bytes(data)


def copy_in(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        target.unlink()
    shutil.copyfile(source, target)


def remove_path(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def prune_emptied(root: Path, removed: list[str]) -> None:
    """Remove the folders under `root` that the removal of the files `removed` (relative
    paths) left empty (a clone of a published site has no other empty folder)."""
    for rel in removed:
        folder = (root / rel).parent
        while folder != root and folder.is_relative_to(root):
            try:
                os.rmdir(folder)
            except OSError:
                break
            folder = folder.parent


RENAME_EXCHANGE = 2
AT_FDCWD = -100


def exchange(new: Path, out: Path) -> bool:
    """Swap the folders `new` and `out` in one step (Linux renameat2 RENAME_EXCHANGE): readers
    of `out` see the old site or the new one. False when the system cannot do it."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    done = renameat2(AT_FDCWD, os.fsencode(new), AT_FDCWD, os.fsencode(out), RENAME_EXCHANGE)
    return done == 0
