"""The public board on a case repository at scale (issue 17): one build, timed (not a test).

    python bench/scale.py /tmp/scale100k --letters 100000 --open 1000   # the repository, once
    python bench/board_scale.py /tmp/scale100k --out /tmp/scale100k-site           # cold (or as kept)
    python bench/board_scale.py /tmp/scale100k --out /tmp/scale100k-site --change  # one letter changed

`--change` adds a sentence to one letter's body and commits it first (site_bench.change_one).
Prints the wall seconds, the CPU of this process ("own") and of its children (the redaction
workers, MkDocs, Pagefind, cp), the load average before and after, the files written and each
stage's lap. The machine may be shared: read "own" as the steadier figure. Peak memory:
run it under `/usr/bin/time -v`. `--profile FILE` writes a cProfile of the build (pstats).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from site_bench import change_one, commit, make_letter  # noqa: E402

from letterbox.core.letter import Letter, letter_path, parse_letter  # noqa: E402
from letterbox.store.repository import Repository  # noqa: E402
from site_builder.build import build_site  # noqa: E402

RARE = "珩昱翊琰璟玥瑾煜晗钰熠泓"


def add_new_writer(repo: Repository, newest: bool = False) -> None:
    """One more answered public letter (`site_bench.make_letter`) whose writer's name is new:
    a surname and two characters the generator never uses, drawn at random. Its date is drawn
    within the fixture's years (it lands in the middle of its lists) and its code takes a serial
    from 90000 up; `newest`: as a district's next letter, dated the fixture's last day and with
    the next serial of the repository (the last part of its year's search index, the first page
    of its lists)."""
    rng = random.Random()
    config = repo.config
    units = [u.code for u in config.units]
    names = {u.code: u.name for u in config.units}
    if newest:
        last_day = next(i for i in range(2000) if (i * 7) // 10 % 690 == 689)  # make_letter's last day
        letter = make_letter(last_day, rng, config.prefix, units, config.tz, names)
    else:
        letter = make_letter(rng.randint(0, 10**6), rng, config.prefix, units, config.tz, names)
    old = str(letter.data["writer"]["name"])
    name = old[0] + "".join(rng.sample(RARE, 2))
    data = parse_letter(letter.to_yaml().replace(old, name), letter.path).data
    when = datetime.fromisoformat(str(data["submitted_at"]))
    serials = (int(p.stem.rsplit("-", 1)[-1]) for p in (repo.root / "cases").rglob("*.yaml")
               if p.stem.rsplit("-", 1)[-1].isdigit())
    # (the serials from 90000 up are this bench's letters at random: not the district's last)
    serial = max((n for n in serials if not 90000 <= n < 100000), default=0) + 1 if newest else 0
    while True:  # a code of the letter's own year that no case file has
        number = serial if newest else 90000 + rng.randint(0, 9999)
        code = f"{config.prefix}-{when.year:04d}-{number:05d}"
        out = Letter(letter_path(code, when), {**data, "letter_code": code})
        path = repo.root / out.path
        if not path.exists():
            break
        serial += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(out.to_yaml(), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repo", type=Path, help="a case repository (bench/scale.py makes one)")
    parser.add_argument("--out", type=Path, required=True, help="the site folder (kept between runs)")
    parser.add_argument("--change", action="store_true", help="change and commit one letter first")
    parser.add_argument("--new-letter", action="store_true",
                        help="add and commit one answered letter by a writer of a new name first "
                             "(a new name is searched for in every page: the costlier everyday step)")
    parser.add_argument("--newest", action="store_true",
                        help="with --new-letter: the letter is the repository's newest (the next serial, "
                             "the last day), as a district's next letter; without: a date and serial at random")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the build here (pstats)")
    args = parser.parse_args()
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1790000000")  # the same build day for every run
    root = args.repo.resolve()
    if args.change:
        change_one(Repository(root))
        commit(root, "bench: one letter changed")
    if args.new_letter:
        add_new_writer(Repository(root), newest=args.newest)
        commit(root, "bench: one letter by a new writer")
    load = os.getloadavg()[0]
    start, before = time.perf_counter(), os.times()
    if args.profile:
        import cProfile

        with cProfile.Profile() as profile:
            report = build_site(Repository(root), args.out)
        profile.dump_stats(args.profile)
    else:
        report = build_site(Repository(root), args.out)
    wall, after = time.perf_counter() - start, os.times()
    own = after.user + after.system - before.user - before.system
    children = (after.children_user + after.children_system
                - before.children_user - before.children_system)
    print(f"letters published {report.letters}; files written {report.changed}; kept files read again "
          f"{report.rescanned}; passes {report.passes}")
    print(f"wall {wall:.1f} s, own CPU {own:.1f} s, children CPU {children:.1f} s, "
          f"load {load:.2f} -> {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores")
    print("stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in report.timings.items()))


if __name__ == "__main__":
    main()
