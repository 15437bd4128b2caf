"""A case repository at the scale a district reaches (issue 17): N letters, the last few open.

bench/site_bench.py's generator writes closed, public letters with writer data in the text;
this module numbers them per year (LA-2026-00001 …, so 100 000 letters give valid codes) and
leaves `open_count` of them open, dated in the weeks before the run (received, classified,
transferred; a quarter of them reminded, a tenth with an approved extension), so `deadlines`
has a real table to compute. Everything is committed in one commit.

    python bench/scale.py DIR --letters 100000 --open 1000
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from site_bench import make_letter  # noqa: E402

from letterbox.core.letter import Letter, letter_path  # noqa: E402
from letterbox.core.process import replay  # noqa: E402
from letterbox.ops.scaffold import init_repository  # noqa: E402
from letterbox.store.repository import Repository  # noqa: E402

OFFICE = "信息中心 王静"


def _reopen(letter: Letter, j: int, tz: Any, today: datetime) -> dict[str, Any]:
    """The letter's data with its history cut after the transfer, moved to a recent day."""
    data = dict(letter.data)
    day = (today - timedelta(days=2 + j % 40)).replace(hour=9, minute=0, second=0, microsecond=0)
    unit = data["units"][0] if data["units"] else "zzl"
    stamp = lambda t: t.isoformat(timespec="seconds")  # noqa: E731
    history: list[dict[str, Any]] = [
        {"at": stamp(day), "actor": OFFICE, "action": "receive", "details": {"channel": "web"}},
        {"at": stamp(day + timedelta(hours=1)), "actor": OFFICE, "action": "classify",
         "details": {"category": data["category"]}},
        {"at": stamp(day + timedelta(hours=2)), "actor": OFFICE, "action": "transfer",
         "details": {"units": [unit], "mode": "ordinary"}},
    ]
    if j % 4 == 1:
        history.append({"at": stamp(day + timedelta(days=1)), "actor": OFFICE, "action": "remind",
                        "details": {"note": "请按期办结"}})
    data["submitted_at"] = stamp(day)
    data["history"] = history
    data.update(replay(history).summary())
    return data


def make_scale_repo(root: Path, n: int, open_count: int = 1000, seed: int = 5,
                    today: datetime | None = None) -> Repository:
    init_repository(root)
    repo = Repository(root)
    config = repo.config
    units = [u.code for u in config.units]
    names = {u.code: u.name for u in config.units}
    rng = random.Random(seed)
    now = today or datetime.now(config.tz)
    serial: dict[int, int] = {}
    for i in range(n):
        letter = make_letter(i, rng, config.prefix, units, config.tz, names)
        data = letter.data
        j = i - (n - open_count)
        if j >= 0:
            data = _reopen(letter, j, config.tz, now)
        when = datetime.fromisoformat(data["submitted_at"])
        serial[when.year] = serial.get(when.year, 0) + 1
        code = f"{config.prefix}-{when.year:04d}-{serial[when.year]:05d}"
        data = {**data, "letter_code": code}
        out = Letter(letter_path(code, when), data)
        path = root / out.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(out.to_yaml(), encoding="utf-8")
    subprocess.run(["git", "add", "-A", "cases"], cwd=root, check=True)
    # dated a day back, as a repository grown over years is: the lookup index's refresh looks
    # back MARGIN (15 min) before its last build's commit, and a bulk commit made minutes before
    # would have every build re-encrypt all 100 000 entries (what a real import does once)
    day_back = f"{int(time.time()) - 86_400} +0000"
    subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid",
                    "commit", "-q", "-m", f"bench: {n} letters, {open_count} open"], cwd=root, check=True,
                   env={**os.environ, "GIT_AUTHOR_DATE": day_back, "GIT_COMMITTER_DATE": day_back})
    return repo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--letters", type=int, default=100000)
    parser.add_argument("--open", type=int, default=1000)
    args = parser.parse_args()
    start = time.perf_counter()
    make_scale_repo(args.dir, args.letters, args.open)
    print(f"{args.letters} letters ({args.open} open) in {args.dir}: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
