"""Build the public board of a case repository: the pipeline, stage by stage.

`build_site` names the stages in order:

    load      the case files (`read_letters`: the store's loader, in the worker pool, cached)
    select    the letters the board may show, with their facts from the one fold (select.py);
              a letter whose history does not replay or whose dates make no sense is held back
    redact    in the background pool (redact_stage.py); meanwhile this process computes the
              statistics (figures.py), the status index's records (lookup_index.py) and the
              writers' data to scan for (scan.py), then writes what Pagefind indexes (each
              letter's searchable text) for every batch of redacted letters as it comes back;
              a letter whose public version still holds its writer's data is held back
    search    Pagefind started on those pages (tools.py), one bundle per part of the letters
              (`tools.search_part`), only the parts whose pages changed; it runs to the end
              beside the rest
    render    redacted entries → Markdown, data files and mkdocs.yml (render.py)
    pages     MkDocs builds the site's pages while the letters' Markdown is converted (tools.py),
              then the letter pages are filled into MkDocs' page shells (shell.py)
    scan      every file searched for writers' data (scan.py); Pagefind's files as it writes them;
              judged by where each file comes from (`scan.judge`)
    publish   the site moved into place when the scan found no leak; when it found one that
              belongs to a letter, that letter is held back and the board built again

One letter's problem never takes the board down: the held letters (`held.py`) are in the
report, and `letterbox build` names them and exits non-zero while the rest is published.
The same repository gives the same bytes (but for the lookup index's fresh build salt): letters
are iterated in code order and MkDocs runs with SOURCE_DATE_EPOCH (from the environment, else
the time of the repository's HEAD commit). A build whose output still contains a writer's
data that no letter can be held back for fails and leaves the old site as it was.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from letterbox.core.clock import work_calendar
from letterbox.core.errors import LetterboxError
from letterbox.core.letter import Letter
from letterbox.core.memory import collector_paused
from letterbox.core.sealing import Keyring
from letterbox.privacy.redact import keep_words, squash
from letterbox.reports.analysis import Group
from letterbox.store.blobs import blob_ids
from letterbox.store.loader import POOL_MIN, Loaded
from letterbox.store.repository import Repository
from site_builder import held as held_
from site_builder.figures import published_figures
from site_builder.held import Held
from site_builder.incremental import (
    STATE_DIR,
    Cloning,
    Manifest,
    clone,
    code_version,
    copy_in,
    digest,
    discard,
    discard_old,
    exchange,
    prune_emptied,
    published_files,
    remove_path,
    stamps,
    take_manifest,
)
from site_builder.kept_folds import FOLDS_FILE, KeptFolds
from site_builder.lookup_index import LOOKUP_DIR, Pending, refresh_for_build, write_lookup_index
from site_builder.redact_stage import (
    CACHE_DIR,
    CACHE_FILE,
    LETTERS_FILE,
    Redaction,
    default_workers,
    fingerprint,
    warm_up,
    with_other_writers,
    worker_pool,
)
from site_builder.render import (
    FIELDS,
    HERE,
    KeptPages,
    Site,
    letter_markdown,
    mkdocs_yaml,
    render,
    search_pages,
)
from site_builder.scan import (
    PIECES_DIR,
    PIECES_SLACK,
    SCAN_POOL_MIN,
    Found,
    Pieces,
    Scanner,
    Verdict,
    ciphertext,
    judge,
    needle_owners,
)
from site_builder.select import Entry, select_or_hold
from site_builder.settings import load_settings
from site_builder.shell import (
    SHELL_DIR,
    SHELLS,
    LetterContent,
    Shell,
    convert_letters,
    converter,
    fill,
    fix_sitemap,
    load_shell,
)
from site_builder.tools import (
    PAGEFIND_DIR,
    PAGEFIND_PARTS,
    PagefindParts,
    drop_search_source,
    ended_on_error,
    finish_mkdocs,
    part_dir,
    run_pagefind,
    search_part,
    search_part_size,
    start_mkdocs,
    write_search_source,
)


@dataclass(frozen=True)
class BuildReport:
    out: Path
    letters: int
    files: int
    epoch: int
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    unreadable: tuple[str, ...] = ()  # case files that could not be read (left out)
    held: tuple[Held, ...] = ()  # letters held back (the rest is published), by code
    passes: int = 1  # builds made: one more for each round of letters the scan held back
    changed: int = 0  # files written (the others kept from the published site as they were)
    rescanned: int = 0  # kept files read again for new writers' data (the others: `scan.Pieces`)


class LeakFound(LetterboxError):
    """A writer's data is in the built output and no letter on the board can be held back for it."""


MAX_PASSES = 3  # a build, and again without the letters the scan held back (twice at most)


# --------------------------------------------------------------------------- the pipeline


def build_site(repo: Repository, out: Path, *, cache: bool = True,
               keyring: Keyring | None = None) -> BuildReport:
    """Build the public board of `repo` into `out` (replaced only when the build is clean).

    A letter that cannot be published safely is held back, never the board: its history does
    not replay or its dates make no sense (select), its public version still holds its writer's
    data (redact), or the scan finds its writer's data where it must not be (then the board is
    built once more without it). The held letters are in the report; the rest is published.
    Only a leak that no letter can be held back for stops the build (LeakFound) and leaves the
    old site as it was.

    Incremental (incremental.py): the build keeps its MkDocs project and output, the pages
    Pagefind indexes and a manifest of what the published site was made from, and remakes
    only the pages whose inputs changed; the result is byte for byte a build from scratch's
    (but for the lookup index's fresh salt). Parsed case files, redaction results and this
    state are kept in `.letterbox-cache/` of the repository unless `cache` is False or the
    environment sets LETTERBOX_NO_CACHE=1 (then every build starts from scratch).

    Sealed letters are opened with `keyring` (default: this user's keys, `Repository.keyring`)
    where they are parsed. When letters are sealed and there is no key at all, the build stops
    with a clear error before anything is written; a public letter the keys do not open (its
    period shredded, the key not among its readers) is held back (`held.sealed`).
    """
    with collector_paused():  # millions of long-lived objects: see letterbox/core/memory.py
        return _build_site(repo, out, cache=cache, keyring=keyring)


def _build_site(repo: Repository, out: Path, *, cache: bool, keyring: Keyring | None) -> BuildReport:
    watch = Stopwatch()
    search_part_size(0)  # a LETTERBOX_SEARCH_PART that is no size stops the build before anything is done
    keyring = repo.keyring() if keyring is None else keyring
    epoch = source_epoch(repo)
    caches = repo.root / CACHE_DIR if cache and os.environ.get("LETTERBOX_NO_CACHE") != "1" else None
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    loaded: Loaded | None = None
    memo: dict[str, list[str]] = {}  # redaction results, kept for a second pass
    scanned: dict[str, Held] = {}  # letters the scan held back in an earlier pass
    with contextlib.ExitStack() as stack:
        state = caches / STATE_DIR if caches else Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix=".board-", dir=out.parent)))
        discard_old(out.parent)
        version = code_version()
        kept = take_manifest(state, version)
        # the kept state, as this build changes it (`kept` stays what the published site was made of)
        record = kept.working_copy() if kept is not None else Manifest(version=version)
        published = published_files(out, kept) if kept is not None else None
        before = kept if published is not None else None
        watch.lap("state")
        for attempt in range(1, MAX_PASSES + 1):
            with worker_pool() as pool, tempfile.TemporaryDirectory(prefix=".site-", dir=out.parent) as tmp:
                work = Workspace(Path(tmp), state)
                if loaded is None:
                    loaded = read_letters(repo, cache=caches / LETTERS_FILE if caches else None, pool=pool,
                                          keyring=keyring)
                    repo.require_keys(loaded.letters, keyring)
                # the published lookup index refreshed in place when it can be; its manifest
                # is moved into place only when this pass publishes (else left as it was)
                lookup = LookupIndex(Path(before.out) if before is not None else None)
                stack.callback(lookup.discard)
                done = one_pass(repo, loaded.letters, work, epoch, pool, watch, scanned, memo,
                                caches / CACHE_FILE if caches else None, record, before, lookup,
                                published)
                verdict = done.verdict
                if verdict.clean:
                    publish(work.site, out, [])
                    lookup.publish()
                    done.site.out = str(out)
                    # the site's files as the scan last walked them (`Plan.hits`; nothing is
                    # written after, and an exchange keeps every stamp): a stamp not true would
                    # only make the next build a build from scratch (`site_is_as_published`)
                    done.site.files = dict(done.stamps or stamps(out))  # tuples: saved as JSON lists
                    done.site.save(state)
                    held = sorted({**done.held, **scanned}.values(), key=lambda h: h.code)
                    watch.lap("publish")
                    return BuildReport(out=out, letters=len(done.public), files=len(done.site.files),
                                       epoch=epoch, timings=watch.times,
                                       unreadable=tuple(loaded.unreadable), held=tuple(held),
                                       passes=attempt, changed=done.changed, rescanned=done.rescanned)
                # files of one letter first: holding it back may clear the shared files too
                found = verdict.own or verdict.shared
                if verdict.orphans and not verdict.own or attempt == MAX_PASSES:
                    publish(work.site, out, verdict.orphans or leak_pairs(verdict))
                for code, files in found.items():
                    scanned[code] = held_.leaked(code, files, shared=found is verdict.shared)
    raise AssertionError("unreachable")  # the last pass publishes or raises


def leak_pairs(verdict: Verdict) -> list[tuple[str, str]]:
    return [(files[0], code) for group in (verdict.own, verdict.shared) for code, files in group.items()]


@dataclass
class Pass:
    """One build of the board into a workspace, and what the scan found in it."""

    public: list[Entry]
    held: dict[str, Held]
    verdict: Verdict
    site: Manifest  # the state as this pass left it, with what its site was made from
    changed: int  # files of the site written by this pass (not kept from the published site)
    stamps: dict[str, tuple[int, int, int]] | None = None  # the site's files at the end (`Plan.hits`)
    rescanned: int = 0  # kept files read again for new needles (`Plan.hits`)


def one_pass(repo: Repository, letters: list[Letter], work: Workspace, epoch: int, pool: Executor,
             watch: Stopwatch, scanned: dict[str, Held], memo: dict[str, list[str]],
             cache: Path | None, record: Manifest, before: Manifest | None, lookup: LookupIndex,
             published: dict[str, tuple[int, int, int]] | None = None) -> Pass:
    """Select, redact, render, pages and search, scan: the board without the letters held back
    (`scanned`: by an earlier pass's scan), into `work.site`. `record`: the kept state (changed
    here as its files are); `before`: the manifest of the published site when it is as that
    build left it (its unchanged files are kept, hard-linked), else None (every file made)."""
    # the published site cloned (hard links) in the background while this pass works
    cloning = Cloning(Path(before.out), work.site, published) if before is not None else None
    try:
        return _one_pass(repo, letters, work, epoch, pool, watch, scanned, memo, cache, record, before,
                         lookup, cloning)
    finally:
        if cloning is not None:
            cloning.stop()  # when the pass failed before it needed the clone


def _one_pass(repo: Repository, letters: list[Letter], work: Workspace, epoch: int, pool: Executor,
              watch: Stopwatch, scanned: dict[str, Held], memo: dict[str, list[str]], cache: Path | None,
              record: Manifest, before: Manifest | None, lookup: LookupIndex,
              cloning: Cloning | None) -> Pass:
    config, cal = repo.config, work_calendar(repo.root)
    today = datetime.fromtimestamp(epoch, UTC).astimezone(config.tz).date()
    folds = cache.parent / FOLDS_FILE if cache is not None else None
    blobs = blob_ids(repo.root, [x.path for x in letters if not x.sealed]) if folds is not None else {}
    selected = KeptFolds(folds, repo.root, letters, "selected", blobs)
    selected.load(letters)
    entries, selected_held = select_or_hold(letters, config, cal, kept=selected)
    file_search_pages(record, work, search_part_size(len(entries)))
    entries = [e for e in entries if e.code not in scanned]
    held = {h.code: h for h in selected_held}
    watch.lap("select")
    search: list[tuple[list[str], list[str], PagefindParts | None]] = []

    def start_search(public: list[Entry]) -> None:
        """Pagefind started on the parts whose search pages changed, as soon as they are
        written (`redact`): a part's bundle is a function of its source pages, kept when none
        changed."""
        bundles, fresh = (search_bundles(record.search, before, record.search_part) if public
                          else ([PAGEFIND_DIR], [PAGEFIND_DIR]))
        search.append((bundles, fresh, PagefindParts([
            (work.search_source / name.removeprefix(f"{PAGEFIND_DIR}-"), work.search / name)
            for name in fresh]) if public and fresh else None))

    try:
        public, figures, owners, redacted_held = redact(
            repo, letters, entries, today, work, cache, pool, memo, record, lookup,
            KeptFolds(folds, repo.root, letters, "statistics", blobs), start_search)
    except BaseException:
        if search and search[0][2] is not None:
            search[0][2].kill()
        raise
    bundles, fresh, pagefind = search[0]
    held.update((h.code, h) for h in redacted_held)
    pool.shutdown()
    watch.lap("redact")
    with ended_on_error(pagefind):
        lists = kept_lists(work.project, record)
        site = render(public, config, today, figures, load_settings(repo.root), lists)  # mkdocs.yml
        record.lists = dict(sorted(lists.made.items()))
        watch.lap("render")
        first_owner = {needle: codes[0] for needle, codes in owners.items()}
        plan = Plan(site, work, record, before, owners, bundles, fresh, cloning)
        with Scanner(work.site, first_owner, plan.workers(letters), pieces=plan.pieces.folder) as scanner:
            make_pages(plan, epoch, scanner, watch)
            plan.scan_changed(scanner)  # the pages, while Pagefind still indexes
            if fresh:
                search_index(work, pagefind, fresh)
            watch.lap("pagefind")
            plan.scan_search(scanner)
            # the kept files searched for new writers' data: a pool when they are many, also
            # when this pass made few files (`plan.workers`): at 100 000 letters ~200 000 files
            hits = plan.hits(scanner.found_in(), scanner_workers=scan_workers(letters))
            verdict = judge(hits, owners, {e.code for e in public}, lambda: public_texts(public),
                            fixed_text(repo, site, work.site))
            watch.lap("scan")
    manifest = plan.result(scanner.logged)
    plan.record_hits(manifest, hits)
    return Pass(public, held, verdict, manifest, plan.changed, plan.last_stamps, plan.rescanned)


# --------------------------------------------------------------------------- stages


def redact(repo: Repository, letters: list[Letter], entries: list[Entry], today: date,
           work: Workspace, cache: Path | None, pool: Executor, memo: dict[str, list[str]] | None = None,
           record: Manifest | None = None, lookup: LookupIndex | None = None,
           kept: KeptFolds | None = None, on_search: Callable[[list[Entry]], None] | None = None,
           ) -> tuple[list[Entry], dict[str, list[Group]], dict[str, tuple[str, ...]], list[Held]]:
    """The redacted entries, the statistics, the writers' data to scan for (needle → codes)
    and the letters held back (their public version would still hold their writer's data).

    The entries are redacted in the pool while this process does what needs no redacted text
    (the statistics, the needles, the lookup index into the staging folder), then writes the
    pages Pagefind indexes (those changed since the last build, `record.search`) for each batch
    as it comes back. When letters were held back, the statistics and the lookup index are made
    again without them (a held letter keeps its lookup entry, so its writer may still see its
    status, but without a link). The lookup index is the published one refreshed in place when
    it can be (`lookup`, `LookupIndex`): then it is made once the letters held back are known.

    `on_search(public)` is called once every search page is written: before the statistics,
    needles and lookup index when the letters to redact are few (redacted here, not in the
    pool: the search index is then made while this process does the rest)."""
    config, cal = repo.config, work_calendar(repo.root)
    keep = keep_words(config)
    entries = with_other_writers(entries, letters, keep, cache)
    search = record.search if record is not None else {}
    inputs = record.search_inputs if record is not None else {}  # code → digest of its entry
    size = record.search_part if record is not None else search_part_size(len(entries))
    with Redaction(entries, keep, cache, pool=pool, memo=memo) as redaction:
        pooled = redaction.pool is not None

        def side_work() -> tuple[dict[str, list[Group]], dict[str, tuple[str, ...]]]:
            figures = published_figures(letters, entries, config, cal, today, kept)
            owners = needle_owners(letters, cache)
            if lookup is None or lookup.published is None:
                write_lookup_index(repo, work.staging, letters, published={e.code for e in entries})
            return figures, owners

        if pooled:  # while the pool redacts
            figures, owners = side_work()
        done: dict[int, Entry] = {}
        for batch in redaction.batches():
            # a search page is made only when its entry (all its fields) is not the one the
            # kept page was made from (the templates are code: other code, no kept state)
            made = {e.code: entry_digest(e) for _, e in batch}
            todo = [e for _, e in batch if e.code not in search or inputs.get(e.code) != made[e.code]]
            write_search_source(work.search_source, search_pages(todo), size, search)
            inputs.update((e.code, made[e.code]) for e in todo)
            done.update(batch)
        held = redaction.held
        public = [done[i] for i in sorted(done)]
        drop_search_source(work.search_source, {e.code for e in public}, search, size)
        for code in [c for c in inputs if c not in search]:
            del inputs[code]
        if on_search is not None:
            on_search(public)
        if not pooled:
            figures, owners = side_work()
    if held:
        figures = published_figures(letters, public, config, cal, today, kept)
    if lookup is not None and lookup.published is not None:
        lookup.make(repo, work.staging, letters, {e.code for e in public})
    elif held:
        write_lookup_index(repo, work.staging, letters, published={e.code for e in public})
    return public, figures, owners, held


class LookupIndex:
    """The pass's lookup index: the published site's (`published`) refreshed in place when it
    can be (`lookup_index.refresh_for_build`: only the changed letters' shards made anew, the
    index's manifest changed in a copy), else a whole new one. The copy of the manifest is moved
    over the published index's by `publish`, after the site is (a build that does not publish
    leaves the published index's manifest as it was: `discard`)."""

    def __init__(self, published: Path | None) -> None:
        self.published = published if published is not None and (published / LOOKUP_DIR).is_dir() else None
        self.pending: Pending | None = None

    def make(self, repo: Repository, staging: Path, letters: list[Letter], public: set[str]) -> None:
        assert self.published is not None
        self.pending = refresh_for_build(repo, self.published, staging, letters, public)
        if self.pending is None:
            write_lookup_index(repo, staging, letters, published=public)

    def publish(self) -> None:
        if self.pending is not None:
            self.pending.publish()
            self.pending = None

    def discard(self) -> None:
        if self.pending is not None:
            self.pending.discard()
            self.pending = None


def public_texts(public: list[Entry]) -> dict[str, str]:
    """code → everything of the letter's public version a reader sees as text."""
    return {e.code: "\n".join((e.title, e.body, e.reply, e.reply_by, e.category_label))
            for e in public}


def fixed_text(repo: Repository, site: Site, built: Path) -> str:
    """The site's own words, squashed: names of the units, the office and the leaders, the
    Measures, the templates and the theme's page (404.html). A writer's datum found among them
    (a writer named 龙安 on the 龙安区 board) is not the writer's."""
    config = repo.config
    parts = [*keep_words(config), *(x.label for x in config.leaders), str(site.mkdocs.get("site_name", "")),
             json.dumps(site.mkdocs.get("nav", []), ensure_ascii=False)]
    parts += [text for path, text in site.files.items()
              if path.split("/")[0] in FIXED_PAGES or path.startswith("assets/")]
    parts += [p.read_text("utf-8") for p in sorted((HERE / "templates").glob("*.j2"))]
    page = built / "404.html"
    if page.is_file():
        parts.append(html.unescape(page.read_text("utf-8", errors="ignore")))
    return squash("\n".join(parts))


FIXED_PAGES = frozenset({"measures", "search", "lookup", "write"})  # no letter's text in them


SITEMAPS = ("sitemap.xml", "sitemap.xml.gz")  # MkDocs', with the letters put in (fix_sitemap)


class Plan:
    """What this pass makes anew and what it keeps of the published site (`before`), and the
    state it leaves (`result`)."""

    def __init__(self, site: Site, work: Workspace, record: Manifest, before: Manifest | None,
                 owners: dict[str, tuple[str, ...]], bundles: list[str], fresh: list[str],
                 cloning: Cloning | None = None) -> None:
        self.site, self.work, self.record, self.before = site, work, record, before
        self.cloning = cloning  # the published site being cloned into work.site (`before`)
        self.bundles = bundles  # the site's Pagefind folders (`search_bundles`)
        self.fresh = fresh  # those indexed again by this pass; the others kept as published
        self.owners = owners
        self.letters: dict[str, str] = {}  # code → digest of its page's inputs
        self.todo: list[str] = []  # letter pages to make
        self.shells = ""
        self.mkdocs: dict[str, list[int]] = {}
        self.pagefind: dict[str, str] = {}
        self.changed = 0
        self.written = False  # a project file written or removed (`write_project`)
        self.last_stamps: dict[str, tuple[int, int, int]] | None = None  # the site's files at the end (`hits`)
        self.walked: dict[str, tuple[int, int, int]] = {}  # the site's files (`scan_changed`, `scan_search`)
        self.needle_of = {digest(n): n for n in owners}
        # the kept pieces (scan.Pieces): trusted when the published site's build recorded them
        # whole and every part is still there; else started again (and whole at the end only
        # when every kept file is read again in this pass: `hits`)
        self.pieces = Pieces(work.state / PIECES_DIR)
        parts, base = kept_pieces(before)
        self.pieces_kept = parts is not None and self.pieces.holds(parts) and sum(
            self.pieces.sizes().values()) <= 2 * base + PIECES_SLACK
        if not self.pieces_kept:
            self.pieces.reset()
        self.pieces_base = base if self.pieces_kept else 0
        self.pieces_whole = self.pieces_kept or before is None  # every kept file's pieces in them
        self.rescanned = 0  # kept files read again for new needles (`hits`)
        self.dead: dict[str, list] = {}  # kept file → [digests of needles no longer sought, origin]
        for code, (key, text) in site.letters.items():
            self.letters[code] = digest(f"{key}\0{text}")
        for code, fields in site.plain.items():
            self.letters[code] = digest("plain\0" + json.dumps(fields, ensure_ascii=False, sort_keys=True))

    def workers(self, letters: list[Letter]) -> int:
        """The scan's processes: a pool when many files are (re)made."""
        kept = self.before is not None and len(self.letters) - sum(
            self.before.letters.get(c) == d for c, d in self.letters.items()) < SCAN_POOL_MIN
        return 1 if kept else scan_workers(letters)

    # ---------------------------------------------------------------- MkDocs project and output

    def write_project(self) -> bool:
        """The MkDocs project's changed files written into the kept project; True when MkDocs
        may build only those (--dirty): same code and mkdocs.yml as the output kept in
        `work.mkdocs`, and no project file removed (its page would stay in MkDocs' output).
        A file added is built by --dirty as a changed one (its page is missing): no page
        depends on which other pages exist, as the navigation is fixed (`render.mkdocs_config`:
        the list, month and letter pages are not in it) and a page links only to pages made
        in the same build (a list's new page changes the page that links to it). So a letter
        that starts a new list page does not make MkDocs render ~4 000 pages again, nor the
        letter pages be filled again (`load_shells`: the shells' digest holds this key).
        `self.written`: whether any project file was written or removed."""
        project, record, site = self.work.project, self.record, self.site
        self.written = False
        yml = mkdocs_yaml(site.mkdocs)
        key = digest("\0".join([record.version, yml]))
        files = {f"docs/{rel}": text for rel, text in site.files.items()}
        files["mkdocs.yml"] = yml
        removed = any(rel not in files for rel in record.project)
        dirty = key == record.mkdocs_key and self.work.mkdocs.is_dir() and not removed
        if not dirty:
            record.project = {}
            for part in (project, self.work.mkdocs):
                if part.exists():
                    shutil.rmtree(part)
        for rel in [r for r in record.project if r not in files]:
            (project / rel).unlink(missing_ok=True)
            del record.project[rel]
            self.written = True
        for rel, text in files.items():
            d = digest(text)
            if record.project.get(rel) != d:
                target = project / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
                record.project[rel] = d
                self.written = True
        record.mkdocs_key = key
        return dirty

    def mkdocs_current(self, dirty: bool, epoch: int) -> bool:
        """Whether MkDocs' kept output is what MkDocs would make now, so it need not run: a
        --dirty build (same code and mkdocs.yml, no file removed) with no project file written,
        and the same build day. A --dirty MkDocs renders no page then, only its theme pages
        (404.html) and the sitemap, from the same inputs; of the build time only the day
        (UTC: `mkdocs.utils.get_build_date`) is in them (the sitemap's lastmod and its .gz's
        time), so the kept output is keyed by it (`Manifest.mkdocs_day`)."""
        return (dirty and not self.written and self.record.mkdocs_day == build_day(epoch)
                and self.work.mkdocs.is_dir())

    def load_shells(self, md: Any) -> dict[str, Shell]:  # a markdown.Markdown
        shells = {key: load_shell(self.work.mkdocs, name, self.site.files[f"{SHELL_DIR}/{name}.md"], md)
                  for key, name in SHELLS.items()}
        self.shells = digest(json.dumps([self.record.mkdocs_key] + [
            [k, s.before, s.after, repr(s.shape)] for k, s in sorted(shells.items())], ensure_ascii=False))
        before = self.before
        same = before is not None and before.shells == self.shells
        self.todo = [c for c, d in self.letters.items()
                     if not same or before is None or before.letters.get(c) != d]
        return shells

    def assemble(self) -> None:
        """The site in `work.site`: the published site's files cloned (hard links) when it is as
        the last build left it, then every file not made from the same inputs replaced or
        removed. The letter pages to make (`todo`) are filled in after."""
        work, before = self.work, self.before
        if before is not None:
            if self.cloning is None:
                clone(Path(before.out), work.site)
            else:
                self.cloning.wait()
        work.site.mkdir(exist_ok=True)
        for name in self.fresh:
            remove_path(work.site / name)
        built = stamps(work.mkdocs)
        shells = {f"{SHELL_DIR}/{name}/index.html" for name in SHELLS.values()}
        expected = {rel for rel in built if rel not in shells}
        expected |= {f"{SHELL_DIR}/{code}/index.html" for code in self.letters}
        expected.add(PAGEFIND_PARTS)  # the list of bundles, replaced when it changes (make_pages)
        if before is not None:
            expected |= {rel for rel in before.pagefind if self._kept_bundle(rel)}
        old = before.mkdocs if before is not None else {}
        known = self.cloning.files if self.cloning is not None else None
        if known is not None:  # the clone's files, as the published site's walk found them
            names = {rel for rel in known if rel.split("/", 1)[0] not in self.fresh}
            names |= {f"{LOOKUP_DIR}/{rel}" for rel in stamps(work.site / LOOKUP_DIR)}  # changed in place
        else:
            names = set(stamps(work.site))
        removed = sorted(names - expected)  # letters withdrawn, lookup parts …
        for rel in removed:
            (work.site / rel).unlink()
        prune_emptied(work.site, removed)
        for rel, stamp in sorted(built.items()):
            if rel in shells:
                continue
            self.mkdocs[rel] = list(stamp)
            target = work.site / rel
            if rel in SITEMAPS or not target.exists() or old.get(rel) != list(stamp) and (
                    target.stat().st_size != stamp[1]
                    or target.read_bytes() != (work.mkdocs / rel).read_bytes()):  # made again, same
                copy_in(work.mkdocs / rel, target)

    def fill_letters(self, shells: dict[str, Shell], pages: dict[str, tuple[str, str, tuple]],
                     epoch: int) -> None:
        fill(self.work.site, shells, pages)
        fix_sitemap(self.work.site, sorted(self.letters), epoch)

    # ---------------------------------------------------------------- scan

    def _unchanged(self, now: dict[str, tuple[int, int, int]]) -> set[str]:
        old = self.before.files if self.before is not None else {}
        return {rel for rel, stamp in now.items() if old.get(rel) == list(stamp)}

    def scan_changed(self, scanner: Scanner) -> None:
        """The site's files not kept as they were (all but Pagefind's, still being made)."""
        now = self.walked = stamps(self.work.site)
        kept = self._unchanged(now)
        changed = sorted(rel for rel in now if rel not in kept)
        self.changed += len(changed)
        scanner.submit([self.work.site / rel for rel in changed if not ciphertext(rel)])

    def _kept_bundle(self, rel: str) -> bool:
        folder = rel.split("/", 1)[0]
        return folder in self.bundles and folder not in self.fresh

    def scan_search(self, scanner: Scanner) -> None:
        """Pagefind's files whose bytes are not those of the published site's (the bundles
        not indexed again are kept as they were, and scanned as such: scan_changed)."""
        old = self.before.pagefind if self.before is not None else {}
        self.pagefind = {rel: d for rel, d in old.items() if self._kept_bundle(rel)}
        new = []
        for folder in self.fresh:
            root = self.work.site / folder
            found = stamps(root)
            self.walked.update((f"{folder}/{rel}", stamp) for rel, stamp in found.items())
            for rel in sorted(found):
                d = digest((root / rel).read_bytes())
                name = f"{folder}/{rel}"
                self.pagefind[name] = d
                if old.get(name) != d:
                    new.append(root / rel)
        self.pagefind = dict(sorted(self.pagefind.items()))
        self.changed += len(new)
        scanner.submit(new)

    def hits(self, found: dict[str, Found], scanner_workers: int) -> dict[str, Found]:
        """file → (needles, origin) over the whole site: the files scanned now, and the kept
        ones (their earlier hits for the needles still sought, and a search of them for the
        needles new since the published site was scanned: a new writer's name may be in an
        old page)."""
        before = self.before
        if before is None:
            return found
        searched = set(before.needles)
        new = {n: codes[0] for n, codes in self.owners.items() if digest(n) not in searched}
        # the site's files now: as `scan_changed` walked them (Pagefind's fresh bundles were
        # not there yet) with those bundles as `scan_search` walked them; nothing else is
        # written since (a walk of ~216 000 files at 100 000 letters saved)
        now = self.last_stamps = self.walked
        pagefind = {rel for rel, d in self.pagefind.items() if before.pagefind.get(rel) == d}
        kept = sorted(rel for rel in self._unchanged(now) | pagefind if not ciphertext(rel))
        hits: dict[str, Found] = {}
        for rel in kept:
            names, origin = before.hits.get(rel, ([], None))
            live = tuple(self.needle_of[h] for h in names if h in self.needle_of)
            if live:
                hits[rel] = (live, origin)
            if dead := [h for h in names if h not in self.needle_of]:
                self.dead[rel] = [dead, origin]  # kept: the file still holds a masked piece
        if new and kept:
            # the new needles in the kept pieces: found nowhere, only the files holding a needle
            # (their pieces with a needle are kept masked) are read again for them
            again_files, log = kept, None
            if self.pieces_kept:
                if not self.pieces.search(new):
                    again_files = [rel for rel in kept if rel in before.hits]
            else:
                log = self.pieces.folder  # every kept file read: their pieces kept again
            workers = scanner_workers if len(again_files) >= SCAN_POOL_MIN else 1
            with Scanner(self.work.site, new, workers, pieces=log) as again:
                again.submit([self.work.site / rel for rel in again_files])
                for rel, (names, origin) in again.found_in().items():
                    old_names = hits.get(rel, ((), origin))[0]
                    hits[rel] = (tuple(sorted({*old_names, *names})), origin)
            self.rescanned = len(again_files)
            if log is not None and again.logged:
                self.pieces_whole = True
        elif not kept:
            self.pieces_whole = True
        hits.update(found)
        for rel in found:
            self.dead.pop(rel, None)
        return {rel: (tuple(sorted(names)), origin) for rel, (names, origin) in sorted(hits.items())}

    def result(self, logged: bool) -> Manifest:
        """The state this pass leaves; `logged`: whether its scan kept the pieces of the files
        it read (`Scanner.logged`)."""
        record = self.record
        pieces = None
        if logged and self.pieces_whole:
            sizes = self.pieces.sizes()
            pieces = {"parts": sizes, "base": self.pieces_base or max(sum(sizes.values()), 1)}
        return Manifest(version=record.version, mkdocs_key=record.mkdocs_key, mkdocs_day=record.mkdocs_day,
                        project=record.project, lists=record.lists,
                        search=record.search, search_inputs=record.search_inputs, search_part=record.search_part,
                        mkdocs=self.mkdocs, shells=self.shells,
                        letters=self.letters, pagefind=self.pagefind,
                        needles=sorted(self.needle_of), hits={}, pieces=pieces)

    def record_hits(self, manifest: Manifest, hits: dict[str, Found]) -> None:
        """The files holding needles, by digest: those sought now, and for a kept file also
        those no longer sought (its piece is kept masked: the file is read again for a new
        needle, `hits`)."""
        recorded = {rel: [sorted(digest(n) for n in names), origin] for rel, (names, origin) in hits.items()}
        for rel, (dead, origin) in self.dead.items():
            live = recorded.get(rel, [[], origin])[0]
            recorded[rel] = [sorted({*live, *dead}), origin]
        manifest.hits = dict(sorted(recorded.items()))


def kept_pieces(before: Manifest | None) -> tuple[dict[str, int] | None, int]:
    """The kept pieces' parts (file → size) and first size as the published site's build
    recorded them whole, or (None, 0)."""
    found = before.pieces if before is not None else None
    if not isinstance(found, dict):
        return None, 0
    parts, base = found.get("parts"), found.get("base")
    if not isinstance(parts, dict) or not parts or not isinstance(base, int) or not all(
            isinstance(k, str) and isinstance(v, int) for k, v in parts.items()):
        return None, 0  # (no part at all: no site was ever scanned into them)
    return parts, base


def make_pages(plan: Plan, epoch: int, scanner: Scanner, watch: Stopwatch) -> None:
    """MkDocs builds the site's pages (only those whose Markdown changed, when the kept output
    allows) while the letters' Markdown is converted (in the scan's pool); the site is then put
    together from the published one (`Plan.assemble`), the changed letter pages filled into the
    page shells MkDocs made and the lookup index moved beside the lookup page."""
    site, work = plan.site, plan.work
    extensions = site.mkdocs["markdown_extensions"]
    dirty = plan.write_project()
    if plan.mkdocs_current(dirty, epoch):
        md = converter(extensions)
    else:
        plan.record.mkdocs_day = ""  # MkDocs' output being remade: kept by no day until it is
        mkdocs = start_mkdocs(work.project, work.mkdocs, epoch, dirty=dirty)
        with ended_on_error(mkdocs):
            md = converter(extensions)
        finish_mkdocs(mkdocs)
        plan.record.mkdocs_day = build_day(epoch)
    watch.lap("mkdocs")
    pages: dict[str, tuple[str, str, tuple]] = {}
    if plan.letters:
        shells = plan.load_shells(md)
        todo = set(plan.todo)
        pages = convert_letters(extensions, {c: site.letters[c] for c in site.letters if c in todo},
                                scanner.map)
        fast = LetterContent(md, letter_markdown, FIELDS)
        pages.update((code, ("plain", fast.content(f), fast.toc)) for code, f in site.plain.items()
                     if code in todo)
    plan.assemble()
    if plan.letters:
        plan.fill_letters(shells, pages, epoch)
    parts, listed = work.site / PAGEFIND_PARTS, json.dumps(plan.bundles) + "\n"
    if not parts.is_file() or parts.read_text("utf-8") != listed:  # replaced, never written into
        (work.root / PAGEFIND_PARTS).write_text(listed, encoding="utf-8")
        (work.root / PAGEFIND_PARTS).replace(parts)
    (work.site / LOOKUP_DIR).mkdir(exist_ok=True)
    for part in (work.staging / LOOKUP_DIR).iterdir():  # meta.json, shards/
        part.rename(work.site / LOOKUP_DIR / part.name)
    watch.lap("pages")


def kept_lists(project: Path, record: Manifest) -> KeptPages:
    """The list pages of the kept MkDocs project, each used only when made from the same
    inputs (`record.lists`) and its file's text is the one recorded (`record.project`)."""
    def text(path: str) -> str | None:
        rel = f"docs/{path}"
        want = record.project.get(rel)
        if want is None:
            return None
        try:
            kept = (project / rel).read_text("utf-8")
        except OSError:
            return None
        return kept if digest(kept) == want else None

    return KeptPages(dict(record.lists), text)


def build_day(epoch: int) -> str:
    """The build's day as MkDocs dates its pages (`mkdocs.utils.get_build_date`: UTC)."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d")


def entry_digest(entry: Entry) -> str:
    """A digest of every field of a redacted entry (what its search page is made from): its
    JSON by orjson (~5x `repr`: every entry at every build), its `repr` when orjson refuses a
    field (a lone surrogate)."""
    return fingerprint(entry, fallback=repr)


def file_search_pages(record: Manifest, work: Workspace, size: int) -> None:
    """The kept search pages are filed in folders by part: when the part size changed since
    they were written (`record.search_part`), they are all removed and written again."""
    if record.search_part != size:
        if work.search_source.exists():
            shutil.rmtree(work.search_source)
        record.search.clear()
        record.search_inputs.clear()
        record.search_part = size


def search_bundles(search: dict[str, str], before: Manifest | None, size: int) -> tuple[list[str], list[str]]:
    """The site's Pagefind folders, one per part of the letters (`tools.search_part` of `size`),
    and those to index again: the parts whose search pages (code → digest, `search`) are not
    those of the published site's bundle (all of them without a published one, or when the
    published site's parts were of another size)."""
    def parts(pages: dict[str, str]) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for code, d in pages.items():
            out.setdefault(search_part(code, size), {})[code] = d
        return out
    now = parts(search)
    bundles = [part_dir(p) for p in sorted(now)]
    if before is None or not before.pagefind or before.search_part != size:
        return bundles, bundles
    published = {rel.split("/", 1)[0] for rel in before.pagefind}
    old = parts(before.search)
    return bundles, [part_dir(p) for p in sorted(now)
                     if old.get(p) != now[p] or part_dir(p) not in published]


def search_index(work: Workspace, pagefind: PagefindParts | None, fresh: list[str]) -> None:
    """Pagefind's bundles into `work.site`. Without letters Pagefind indexes the site's own
    pages, so that the search page still finds its (empty) index."""
    if pagefind is None:
        run_pagefind(work.site)
        return
    pagefind.finish()
    for name in fresh:
        (work.search / name).rename(work.site / name)


def publish(site: Path, out: Path, leaked: list[tuple[str, str]]) -> None:
    """Move the built site to `out` in one step (the old site and the new one exchanged, the
    old one left in the workspace to be removed), unless the scan found a writer's data in it
    that no letter can be held back for (`leaked`: file, code of the writer's letter)."""
    if leaked:
        where = "；".join(f"{code} → {file}" for file, code in leaked[:10])
        raise LeakFound(f"构建结果中仍有来信人的个人信息，且无法只扣下某一封信，已停止发布"
                        f"（来信人所在信件 → 文件）：{where}")
    if out.exists() and exchange(site, out):
        discard(site)  # the old site, now at `site`
        return
    if out.exists():
        shutil.rmtree(out)
    site.rename(out)


# --------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class Workspace:
    """The build's folders: this pass's, in a temporary folder beside the output, and those
    kept from build to build (`state`, incremental.py)."""

    root: Path
    state: Path

    @property
    def project(self) -> Path:  # the MkDocs project (kept)
        return self.state / "project"

    @property
    def mkdocs(self) -> Path:  # MkDocs' output (kept)
        return self.state / "mkdocs"

    @property
    def site(self) -> Path:  # the site being built (moved to the output at the end)
        return self.root / "site"

    @property
    def search(self) -> Path:  # Pagefind's bundles, moved into the site when done
        return self.root / "search"

    @property
    def search_source(self) -> Path:  # the pages Pagefind indexes (kept)
        return self.state / "search"

    @property
    def staging(self) -> Path:  # the lookup index, written before the site exists
        return self.root / "staging"


class Stopwatch:
    """Seconds per stage (a stage lapped twice adds up)."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.times[stage] = round(self.times.get(stage, 0) + now - self._last, 3)
        self._last = now


def scan_workers(letters: list[Letter]) -> int:
    return default_workers() if len(letters) >= SCAN_POOL_MIN else 1


def source_epoch(repo: Repository) -> int:
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value and value.isdigit():
        return int(value)
    return int(repo.git.head.commit.committed_date)


# --------------------------------------------------------------------------- reading

READ_POOL_MIN = POOL_MIN  # fewer case files than this to parse: parse in this process


def read_letters(repo: Repository, workers: int | None = None, cache: Path | None = None,
                 pool: Executor | None = None, keyring: Keyring | None = None) -> Loaded:
    """The case files through the store's loader, without line maps: parsed in a pool of
    processes when there are many (`pool`, else one of its own), kept in `cache` (SQLite, by
    path, size and modification time) when given. When `pool` parsed them, its workers then
    load the tagger, as the pool redacts next. Sealed letters are opened with `keyring` where
    they are parsed (in the workers when pooled)."""
    workers = workers or default_workers()
    loaded = repo.load(lines=False, cache=cache, pool=pool, workers=workers, pool_min=READ_POOL_MIN,
                       keyring=keyring)
    if loaded.pooled and pool is not None:
        for _ in range(workers):
            pool.submit(warm_up)
    return loaded
