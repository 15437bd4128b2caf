"""Benchmark reading sealed case files (issue 16): the loader with and without opening (not a test).

    python bench/sealed_load_bench.py [--sizes 67,2000] [--workers 2]

For each size: generated closed letters (bench/site_bench.py's generator) written once in clear
and once sealed (writer, title, body; to an office and a unit SSH key, by the letter's year's
period key), then `loader.load` timed: clear; sealed without a keyring (validate, check, list
without keys); sealed opened in this process; opened in a pool of `--workers`; and both again
from a warm parse cache. Figures in ms per letter (the best of three runs).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from site_bench import make_letter  # noqa: E402

from letterbox.core import sealing  # noqa: E402
from letterbox.core.config import load_config  # noqa: E402
from letterbox.ops.scaffold import init_repository  # noqa: E402
from letterbox.store import loader  # noqa: E402


def keygen(folder: Path, name: str) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(folder / name)],
                   check=True)
    return folder / name


def make(root: Path, n: int, seal: bool, people: list[str], periods: dict[str, tuple[str, str]]) -> float:
    """The repository of `n` letters; returns seconds spent sealing."""
    init_repository(root)
    config = load_config(root)
    units = [u.code for u in config.units]
    names = {u.code: u.name for u in config.units}
    rng = random.Random(5)
    spent = 0.0
    for i in range(n):
        letter = make_letter(i, rng, config.prefix, units, config.tz, names)
        if seal:
            period = letter.code.split("-")[1]
            fields = {k: letter.data[k] for k in sealing.DEFAULT_FIELDS}
            t = time.perf_counter()
            letter.data["sealed"] = sealing.seal(fields, letter.code, people, period, periods[period][1])
            spent += time.perf_counter() - t
        path = root / letter.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(letter.to_yaml(), encoding="utf-8")
    return spent


def best(fn: Callable[[], Any], runs: int = 3) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return min(times), result


def run(n: int, workers: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        office, unit = keygen(base, "office"), keygen(base, "unit")
        people = [Path(f"{k}.pub").read_text().strip() for k in (office, unit)]
        periods = {p: sealing.new_period_key() for p in ("2025", "2026", "2027")}
        ring = sealing.Keyring((office.read_bytes(),), tuple((p, s) for p, (s, _) in periods.items()))
        clear, sealed = base / "clear", base / "sealed"
        make(clear, n, False, people, periods)
        seal_s = make(sealed, n, True, people, periods)
        paths = loader.case_paths(sealed)
        rows: list[tuple[str, float]] = []

        def timed(label: str, fn: Callable[[], loader.Loaded]) -> loader.Loaded:
            seconds, loaded = best(fn)
            rows.append((label, seconds))
            return loaded

        timed("clear, no cache", lambda: loader.load(clear, lines=False))
        timed("sealed, not opened", lambda: loader.load(sealed, paths, lines=False))
        got = timed("sealed, opened", lambda: loader.load(sealed, paths, lines=False, keyring=ring))
        assert all(x.hidden is None and "writer" in x.data for x in got.letters)
        timed(f"sealed, opened, pool of {workers}", lambda: loader.load(
            sealed, paths, lines=False, keyring=ring, workers=workers, pool_min=1))
        cache = base / "cache.sqlite"
        loader.load(sealed, paths, lines=False, cache=cache)
        timed("sealed, warm cache, not opened", lambda: loader.load(sealed, paths, lines=False, cache=cache))
        timed("sealed, warm cache, opened", lambda: loader.load(sealed, paths, lines=False, cache=cache,
                                                                keyring=ring))
        print(f"\n{n} letters (sealing: {seal_s / n * 1000:.2f} ms per letter)")
        for label, seconds in rows:
            print(f"  {label:<40} {seconds:7.2f} s  {seconds / n * 1000:6.2f} ms/letter")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="67,2000")
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1))
    args = parser.parse_args()
    for n in (int(x) for x in args.sizes.split(",")):
        run(n, args.workers)


if __name__ == "__main__":
    main()
