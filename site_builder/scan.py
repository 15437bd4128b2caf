"""The leak scan: every file of the built site searched for every writer's data, and judged
by where the file comes from.

The rule (`judge`): a letter's own writer data must not appear in any output derived from that
letter. A file with one provenance (`letters/<code>/…`, the letter's Pagefind fragment) is a
leak when it holds its own letter's writer data, or any writer's phone number or e-mail (ASCII
needles: never an ordinary word). A shared file (lists, home page, `requests.json`, Pagefind's
index …) is a leak when it holds a writer's phone or e-mail, or a writer's name or address that
no other public letter's own (redacted) text contains: a writer named 向阳 does not stop the
board because another letter is about 向阳路. Words of the site's fixed text (unit names, the
Measures, the theme) explain a hit anywhere. The build holds back the letter a leak belongs to
and builds again without it; a leak it cannot attribute to a public letter stops the build.

Each file is read as text (HTML unescaped, JSON decoded, gzip and Pagefind files
decompressed), cut at every `<`, the pieces not searched before (the theme's markup repeated
on every page is searched once) squashed together (`redact.squash`) and searched for all
needles at once with an Aho–Corasick automaton (`Needles`), each match put down to its piece,
so the scan stays linear in the letters' own text. With many letters the files are searched in a pool of processes, as they are written.

The squashed pieces each process searches are also written to the kept pieces (`Pieces`, in
the board's kept state), so that the next build searches them, not the ~200 000 files they
came from, for a new writer's data (`Pieces.search`). A piece that holds a needle is written
with its needles masked; the files that hold one are searched again by name (the build's
recorded hits).
"""

from __future__ import annotations

import bisect
import gzip
import hashlib
import html
import itertools
import json
import mmap
import multiprocessing
import os
import re
import secrets
import shutil
import stat
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TypeVar

import numpy as np
from ahocorasick_rs import AhoCorasick, BytesAhoCorasick, MatchKind

from letterbox.core.letter import Letter
from letterbox.privacy.names import redaction_version as code_version
from letterbox.privacy.redact import _CONTEXT, _SQUASH_TABLE, Writer, needles, squash
from letterbox.store.cache import JsonCache
from letterbox.store.repository import Repository
from site_builder.tools import lower_priority

T = TypeVar("T")
R = TypeVar("R")


def _readable(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".gz" or data[:2] == b"\x1f\x8b":  # also Pagefind's .pf_* files
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError):
            pass
    text = data.decode("utf-8", errors="ignore")
    if path.suffix == ".json":
        try:
            text = json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            pass
    return html.unescape(text)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _whole(text: str) -> str:
    """`text` with any lone surrogate (a JSON file's "\\ud800") as U+FFFD, one for one: the
    automaton reads only whole characters, and the places stay the same."""
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


class Needles:
    """Finds needles in a text: at each place the longest needle that starts there, then on
    after it (leftmost-longest: what one regex of the needles, longest first, finds with
    `finditer`; tests/unit/test_scan_needles.py). An Aho–Corasick automaton (ahocorasick-rs),
    made on first use: 300 000 needles (100 000 letters) in ~1 s, where compiling them as one
    regex took 6–9 s, and searched in linear time whatever their number."""

    def __init__(self, needles: Iterable[str]) -> None:
        self.words = sorted({_whole(n) for n in needles if n})
        self._automaton: AhoCorasick | None = None

    def __bool__(self) -> bool:
        return bool(self.words)

    def _find(self) -> AhoCorasick:
        if self._automaton is None:
            self._automaton = AhoCorasick(self.words, matchkind=MatchKind.LeftmostLongest)
        return self._automaton

    def matches(self, text: str) -> list[tuple[int, str]]:
        """(place, needle) of each match, in order."""
        if not self.words:
            return []
        words = self.words
        return [(start, words[k]) for k, start, _ in self._find().find_matches_as_indexes(_whole(text))]

    def findall(self, text: str) -> set[str]:
        """The needles found."""
        if not self.words:
            return set()
        return set(self._find().find_matches_as_strings(_whole(text)))

    def search(self, text: str) -> bool:
        return bool(self.findall(text))


SQUASH_CHUNK = 1 << 18  # a text longer than twice this is squashed in pieces of about this size


def squash_long(text: str) -> str:
    """`squash(text)`, a long text (a site's `requests.json` decoded: 73 million characters at
    100 000 letters, one piece) squashed in pieces cut between two Chinese characters that
    squash maps on their own (no digit, separator or character that needs its neighbours on
    either side of a cut): the same result (tests/unit/test_squash_chunks.py) without arrays of
    the whole text (14 s → 1.2 s)."""
    if len(text) > 2 * SQUASH_CHUNK:
        cuts = _safe_cuts(text)
        if cuts:
            bounds = [0, *cuts, len(text)]
            return "".join(squash(text[a:b]) for a, b in zip(bounds, bounds[1:], strict=False))
    return squash(text)


def _alone_ideographs() -> re.Pattern[str]:
    """Two Chinese characters (U+4E00–U+9FFF) that squash maps each on its own to a character
    that is no digit (no Chinese numeral, nothing dropped or needing its neighbours)."""
    mapped = _SQUASH_TABLE[0x4E00:0xA000].astype(np.int64)
    alone = (mapped != _CONTEXT) & (mapped != 0) & ((mapped < 0x30) | (mapped > 0x39))
    ranges, first = [], None
    for offset, ok in enumerate([*alone.tolist(), False]):
        if ok and first is None:
            first = offset
        elif not ok and first is not None:
            ranges.append(f"{chr(0x4E00 + first)}-{chr(0x4E00 + offset - 1)}")
            first = None
    return re.compile("[" + "".join(ranges) + "]{2}")


_IDEOGRAPHS = _alone_ideographs()


def _safe_cuts(text: str) -> list[int]:
    """Places about SQUASH_CHUNK apart between two Chinese characters that squash maps alone."""
    cuts: list[int] = []
    at = SQUASH_CHUNK
    while at < len(text) - SQUASH_CHUNK // 2:
        m = _IDEOGRAPHS.search(text, at - 1)
        if m is None:
            break
        cuts.append(m.start() + 1)
        at = m.start() + 1 + SQUASH_CHUNK
    return cuts


# characters that squash turns into "<" or joins with one (≮): with any of them in a file the
# pieces are squashed one by one, else together and cut again (the same pieces, faster)
_JOINS_CUT = re.compile("[\u0338\ufe64\uff1c]")


class _Searcher:
    """The needles (`Needles`) and the pieces already searched (one per process)."""

    def __init__(self, needles: Iterable[str], pieces: Path | None = None) -> None:
        needles = list(needles)
        self.regex = Needles(needles)
        self.cut = not any("<" in n for n in needles)
        self.searched: set[str] = set()  # every piece searched so far
        self.hits: dict[str, tuple[str, ...]] = {}  # those holding needles → the needles
        self.log = PieceLog(pieces) if pieces is not None else None

    def _log(self, flat: str, found: Iterable[str] = ()) -> None:
        if self.log is not None:
            self.log.write(masked(flat, found))

    def close(self) -> None:
        if self.log is not None:
            self.log.close()

    def file(self, site: Path, path: Path) -> tuple[tuple[str, ...], str | None]:
        """The needles found in the file's name or its readable text, and the letter the file
        comes from (None: a shared file)."""
        regex = self.regex
        rel = path.relative_to(site).as_posix()
        if not regex:
            return (), None
        flat_rel = squash(rel)
        names = regex.findall(flat_rel)
        self._log(flat_rel, names)
        text = _readable(path)
        pieces = set(text.split("<")) if self.cut else {text}
        for piece in pieces.intersection(self.hits):
            names.update(self.hits[piece])
        new = list(pieces - self.searched)
        # the pieces not seen before, squashed and searched at once (no needle holds a "<", so
        # none spans two pieces), each match then put down to its piece, to remember which
        if new:
            joined = "<".join(new)
            flat = squash_long(joined)
            found = regex.matches(flat)
            if not found:
                self._log(flat)
            elif self.cut and not _JOINS_CUT.search(joined) and flat.count("<") == len(new) - 1:
                cuts = list(itertools.accumulate(len(part) + 1 for part in flat.split("<")))
                by_piece: dict[int, set[str]] = {}
                for start, word in found:  # piece k spans [cuts[k-1], cuts[k] - 1)
                    by_piece.setdefault(bisect.bisect_right(cuts, start), set()).add(word)
                for k, words in by_piece.items():
                    self.hits[new[k]] = tuple(sorted(words))
                    names.update(words)
                self._log(flat, {word for _, word in found})
            else:
                for piece in new:
                    flat = squash(piece)
                    words = regex.findall(flat)
                    if words:
                        self.hits[piece] = tuple(sorted(words))
                        names.update(words)
                    self._log(flat, words)
        self.searched.update(new)
        return tuple(sorted(names)), (origin_of(rel, text) if names else None)


def ciphertext(rel: str) -> bool:
    """The lookup index's shards (site_builder/lookup_index.py): AES-256-GCM ciphertexts and
    random dummy entries, no text to search (2 000+ files of ~100 KB at 10 000 letters, which
    squashed as text cost most of a build's scan). The build leaves them out of the scan;
    `lookup/meta.json`, the index's one plain file, is searched."""
    return rel.startswith("lookup/shards/")


LETTER_FILE = re.compile(r"letters/([^/]+)/")
FRAGMENT_URL = re.compile(r'"url"\s*:\s*"[^"]*?/letters/([^/"]+?)(?:\.html|/)"')


def origin_of(rel: str, text: str) -> str | None:
    """The letter code a file comes from alone: its page folder, or the letter page named by
    a Pagefind fragment; None for a file shared by many letters."""
    if m := LETTER_FILE.match(rel):
        return m.group(1)
    if rel.startswith("pagefind") and rel.split("/")[1:2] == ["fragment"] and (m := FRAGMENT_URL.search(text)):
        return m.group(1)
    return None


_WORKER: dict[str, _Searcher] = {}


def _scan_init(needles: list[str], pieces: Path | None = None) -> None:
    lower_priority()
    _WORKER["searcher"] = _Searcher(needles, pieces)


Found = tuple[tuple[str, ...], str | None]  # needles, origin


def _scan_chunk(site: Path, paths: list[Path]) -> list[tuple[Path, Found]]:
    searcher = _WORKER["searcher"]
    done = [(path, searcher.file(site, path)) for path in paths]
    if searcher.log is not None:
        searcher.log.flush()  # on disk before the build can publish what it read
    return done


SCAN_CHUNK = 250  # files per task of the scan pool
SCAN_POOL_MIN = 2000  # fewer letters than this: scan in this process


class Scanner:
    """Searches files for needles (squashed writer data) → (file, letter code) hits.

    Each file is read as text and cut at every `<` (no needle holds one, so none can span a
    cut); each piece is squashed and searched once per process (see the module's docstring).

    With `workers` > 1 the files are searched in a pool of processes (`submit` returns at once,
    `result` waits). `files()` lists the files not yet submitted or changed since (size and time
    as they were when submitted), so files written later are scanned by a second `submit`.
    """

    def __init__(self, site: Path, owners: dict[str, str], workers: int = 1,
                 pieces: Path | None = None) -> None:
        self.site, self.owners = site, owners
        # whether every file searched has its pieces in `pieces` (without needles nothing is read)
        self.logged = pieces is not None and bool(owners)
        self.found: set[tuple[str, str]] = set()
        self.hits: dict[str, Found] = {}  # file (from the site) → needles found, origin
        self.seen: dict[str, tuple[int, int]] = {}  # file path → (size, mtime) when submitted
        self.pending: list[tuple[Path, Future[list[tuple[Path, Found]]]]] = []
        self.pool: ProcessPoolExecutor | None = None
        self.local: _Searcher | None = None
        if workers > 1 and owners:
            self.pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_scan_init, initargs=(list(owners), pieces))
        else:
            self.local = _Searcher(owners, pieces)

    def files(self, under: Path | None = None) -> list[Path]:
        """Files under the site (or `under`) not submitted yet, or changed since."""
        found = []
        for folder, _, names in os.walk(under or self.site):
            for name in names:
                path = os.path.join(folder, name)
                st = os.stat(path)
                if stat.S_ISREG(st.st_mode):
                    found.append((path, (st.st_size, st.st_mtime_ns)))
        found.sort()
        return [Path(path) for path, stamp in found if self.seen.get(path) != stamp]

    def submit(self, paths: list[Path], root: Path | None = None) -> None:
        """Search `paths`, named by their path from `root` (by default the site: another root
        for files still being written elsewhere that will be moved into the site)."""
        root = root or self.site
        for path in paths:
            st = path.stat()
            self.seen[str(path)] = (st.st_size, st.st_mtime_ns)
        if self.pool is None:
            assert self.local is not None
            self._add(root, [(path, self.local.file(root, path)) for path in paths])
            return
        for k in range(0, len(paths), SCAN_CHUNK):
            self.pending.append((root, self.pool.submit(_scan_chunk, root, paths[k:k + SCAN_CHUNK])))

    def moved(self, old: Path, new: Path) -> None:
        """The files under `old` are now under `new` (renamed as they were: not searched again)."""
        prefix = os.path.join(old, "")
        for path in [p for p in self.seen if p.startswith(prefix)]:
            self.seen[os.path.join(new, path[len(prefix):])] = self.seen.pop(path)

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``fn`` over ``items`` in the scan's pool (niced, as the scan), when there is one:
        other work of the build done in the processes that wait for files to search."""
        if self.pool is None:
            return [fn(x) for x in items]
        return list(self.pool.map(fn, items))

    def _add(self, root: Path, results: list[tuple[Path, Found]]) -> None:
        for path, (names, origin) in results:
            rel = path.relative_to(root).as_posix()
            self.found.update((rel, self.owners[n]) for n in names)
            if names:
                self.hits[rel] = (names, origin)
            else:
                self.hits.pop(rel, None)

    def settle(self) -> None:
        """Wait for the files submitted so far."""
        for root, future in self.pending:
            self._add(root, future.result())
        self.pending = []

    def result(self) -> list[tuple[str, str]]:
        """(file, letter code) for every needle found anywhere, whatever the file."""
        self.settle()
        return sorted(self.found)

    def found_in(self) -> dict[str, Found]:
        """file → (needles found in it, the letter it comes from or None), for `judge`."""
        self.settle()
        return dict(sorted(self.hits.items()))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None
        if self.local is not None:
            self.local.close()

    def __enter__(self) -> Scanner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


PIECES_DIR = "pieces"  # the kept pieces' folder in the board's kept state (incremental.py)
PIECES_SLACK = 64 << 20  # bytes the kept pieces may grow beyond twice their first size before
# they are started again (each build adds the pieces of the files it wrote)
PIECES_WINDOW = 1 << 22  # bytes of a part searched at a time (`Pieces.search`)
MASK = "\x01"  # in place of a needle in a kept piece
PIECE_END = "\x00"  # after each kept text
# (a needle holding either may match where the scan would not: it is then searched in the kept
# files themselves, never missed)


def masked(flat: str, found: Iterable[str]) -> str:
    """A squashed piece with the needles found in it masked: the kept pieces hold no writer's data."""
    for needle in sorted(found, key=len, reverse=True):
        flat = flat.replace(needle, MASK)
    return flat


class PieceLog:
    """One process's part of the kept pieces: the squashed text it searched, appended to a file
    of its own (made on the first write)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.file: BinaryIO | None = None

    def write(self, flat: str) -> None:
        if self.file is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = f"{Pieces.PREFIX}{os.getpid()}-{secrets.token_hex(6)}"
            self.file = open(self.folder / name, "ab")  # noqa: SIM115 (kept open for the process's files)
        self.file.write((flat + PIECE_END).encode("utf-8", "surrogatepass"))

    def flush(self) -> None:
        if self.file is not None:
            self.file.flush()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


class Pieces:
    """The kept pieces (a folder of the board's kept state): the squashed text of every file of
    the published site, each process's part in a file of its own (`PieceLog`), with needles
    masked. A new writer's data not in them is in none of the published site's files, so the
    files kept as published need not be read again for it (`search`). A part only grows;
    the build records each part's size (`sizes`) and the next one trusts the folder only when
    every part it recorded is there, at least that size (`holds`), else it starts them again
    (`reset`) and reads the kept files as before."""

    PREFIX = "part-"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def sizes(self) -> dict[str, int]:
        if not self.folder.is_dir():
            return {}
        return {p.name: p.stat().st_size for p in sorted(self.folder.iterdir())
                if p.name.startswith(self.PREFIX) and p.is_file() and not p.is_symlink()}

    def holds(self, recorded: dict[str, int]) -> bool:
        now = self.sizes()
        return all(now.get(name, -1) >= size for name, size in recorded.items())

    def reset(self) -> None:
        if self.folder.is_symlink() or self.folder.is_file():
            self.folder.unlink()
        elif self.folder.exists():
            shutil.rmtree(self.folder)

    def search(self, needles: Iterable[str]) -> set[str]:
        """The needles found anywhere in the kept pieces (every occurrence counts: a superset of
        what the scan's longest-first matching finds). One pass over each part for all needles
        (an automaton of them, window by window): the time does not grow with their number (a
        thousand letters taken in at once are four thousand new needles)."""
        todo = {n.encode("utf-8", "surrogatepass"): n for n in needles if n}
        found: set[str] = set()
        for name in self.sizes():
            with open(self.folder / name, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if size == 0 or not todo:
                    continue
                with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
                    at, finder = 0, None
                    while todo and at < size:
                        if finder is None:
                            finder = BytesAhoCorasick(list(todo), matchkind=MatchKind.Standard)
                            reach = max(map(len, todo)) - 1  # a match across two windows
                        window = data[at:at + PIECES_WINDOW + reach]
                        hits = {k for k, _, _ in finder.find_matches_as_indexes(window, overlapping=True)}
                        if hits:
                            keys = list(todo)
                            for k in hits:
                                found.add(todo.pop(keys[k]))
                            finder = None
                        at += PIECES_WINDOW
        return found


def scan(site: Path, owners: dict[str, str], workers: int = 1) -> list[tuple[str, str]]:
    """(file, letter code) for each file of `site` where a needle (squashed writer datum) occurs."""
    with Scanner(site, owners, workers) as scanner:
        scanner.submit(scanner.files())
        return scanner.result()


def writer_needles(repo: Repository, letters: list[Letter] | None = None) -> dict[str, str]:
    """Every writer's data in the repository (public or not), squashed → letter code.

    A needle that holds another needle of the same writer is left out: wherever it occurs the
    shorter one does too (the full address holds its 3号楼2单元501室 tail, the e-mail address
    its user name), and a smaller trie keeps the scan fast at 10 000 letters.
    """
    if letters is None:  # sealed letters opened with this user's keys: a writer unseen is unsought
        keyring = repo.keyring()
        letters = repo.letters(keyring)
        repo.require_keys(letters, keyring)
    owners: dict[str, str] = {}
    for letter in sorted(letters, key=lambda x: x.code):
        mine = needles(Writer.from_data(letter.data.get("writer")))
        for needle in mine:
            if not any(other != needle and other in needle for other in mine):
                owners.setdefault(needle, letter.code)
    return owners


def needle_owners(letters: list[Letter], cache_path: Path | None = None) -> dict[str, tuple[str, ...]]:
    """Every writer's needles (as `writer_needles`) → the codes of every letter whose writer
    has it (two letters of one writer, or two writers of one name, share a needle). A writer
    block's needles are kept in `cache_path` (table `needles`) under a hash of the block and
    the redaction code (`privacy.names.redaction_version`), but a sealed letter's: its writer's data
    is never written out in clear (the letters' cache keeps its sealed form)."""
    ordered = sorted(letters, key=lambda x: x.code)
    version = code_version()
    keys = [hashlib.sha256(json.dumps([version, letter.data.get("writer")], ensure_ascii=False,
                                      sort_keys=True, default=str).encode()).hexdigest()
            for letter in ordered]
    store = JsonCache(cache_path, "needles")
    known = store.get(keys)
    new: dict[str, list[str]] = {}
    owners: dict[str, list[str]] = {}
    for letter, key in zip(ordered, keys, strict=True):
        kept = None if letter.sealed else known.get(key)
        if not isinstance(kept, list) or not all(isinstance(n, str) for n in kept):
            mine = needles(Writer.from_data(letter.data.get("writer")))
            kept = [n for n in mine if not any(other != n and other in n for other in mine)]
            if not letter.sealed:
                new[key] = kept
        for needle in kept:
            owners.setdefault(needle, []).append(letter.code)
    store.put(new)
    store.prune(keys)
    return {n: tuple(codes) for n, codes in owners.items()}


def strict(needle: str) -> bool:
    """A phone number, e-mail address or e-mail user name: never an ordinary word, so a leak
    wherever it is (a name or address may also be another letter's ordinary words)."""
    return needle.isascii()


class Corpus:
    """The squashed public texts of the letters on the board, to explain a needle found in a
    shared file: which letters' own texts contain it."""

    def __init__(self, texts: dict[str, str]) -> None:
        self.codes = list(texts)
        self.starts: list[int] = []
        parts, at = [], 0
        for code in self.codes:
            self.starts.append(at)
            flat = squash(texts[code])
            parts.append(flat)
            at += len(flat) + 1
        self.joined = "\x00".join(parts)

    def holders(self, needle: str) -> set[str]:
        """The codes of the letters whose text contains `needle`."""
        found, start = set(), self.joined.find(needle)
        while start >= 0:
            found.add(self.codes[bisect.bisect_right(self.starts, start) - 1])
            start = self.joined.find(needle, start + 1)
        return found


@dataclass
class Verdict:
    """What the scan's hits mean for the board (see the module's docstring)."""

    own: dict[str, list[str]] = field(default_factory=dict)  # letter → its files with a leak
    shared: dict[str, list[str]] = field(default_factory=dict)  # letter → shared files with
    # its writer's data that no other public letter's text explains
    orphans: list[tuple[str, str]] = field(default_factory=list)  # (file, code): unexplained,
    # its writer's letter not on the board (nothing to hold back: the build must stop)

    @property
    def clean(self) -> bool:
        return not (self.own or self.shared or self.orphans)


def judge(hits: dict[str, tuple[tuple[str, ...], str | None]], owners: dict[str, tuple[str, ...]],
          published: set[str], texts: Callable[[], dict[str, str]], fixed: str) -> Verdict:
    """The leaks among `hits` (file → needles, origin): files of one letter hold none of its
    writer's data and no writer's phone or e-mail; shared files hold no phone or e-mail and no
    name or address that no other public letter's own text (`texts()`: code → public text,
    asked only when needed) contains. `fixed`: the site's own text (squashed), which explains
    a needle anywhere."""
    verdict = Verdict()
    corpus: Corpus | None = None
    for rel, (found, origin) in hits.items():
        for needle in found:
            if needle in fixed:
                continue
            mine = owners.get(needle, ())
            if origin in published:
                if origin in mine or strict(needle):
                    verdict.own.setdefault(origin, []).append(rel)
                continue
            if not strict(needle):
                if corpus is None:
                    corpus = Corpus(texts())
                if corpus.holders(needle) - set(mine):
                    continue  # another public letter's own words
            shown = [c for c in mine if c in published]
            for code in shown:
                verdict.shared.setdefault(code, []).append(rel)
            if not shown:
                verdict.orphans.extend((rel, c) for c in mine[:1])
    for group in (verdict.own, verdict.shared):
        for code in group:
            group[code] = sorted(set(group[code]))
    return verdict
