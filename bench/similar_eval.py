"""Precision, recall and top-1 accuracy of near-duplicate detection on labelled pairs.

Three sets, all in tests/data/:

- `similar_pairs.jsonl`, the tuning part: the thresholds, lifts and word lists of
  `letterbox.reports.similar` were set looking at its errors;
- `similar_heldout.jsonl`, the held-out part: written before the present method was tuned and
  never looked at for tuning. Its figures are the measurement;
- `similar_blind.jsonl`, the blind part (91 pairs, ids from 2001): written by someone who had not
  read the method, its word lists or the other two sets, meant to break it, and committed
  (cfb10b4) before it was ever measured. Never tuned on.

The held-out and blind parts print aggregate figures only, never their per-pair errors (not even
with --verbose): a set whose errors are looked at becomes a tuning set.

Each line is a labelled pair of letters (``kind``: paraphrase, same_matter_other_writer,
other_matter_same_place, same_topic_other_place, unrelated, recurrence; ``days`` between them).
A pair is predicted a duplicate when `compare` scores it at or above DUPLICATE_SCORE.

Top-1: the first letter of every duplicate pair goes into one index (the earlier letters: other
matters, many of the same topic or the same place); each duplicate pair's second letter is a
query; correct when the best-scored earlier letter is its pair's. Non-duplicate pairs stay out of
this pool: their letters often tell the very matter of a duplicate pair (written so on purpose),
which would make "the" right answer ambiguous. In the tuning part some duplicate pairs are about
one matter too (the first 74 pairs reuse places), so its top-1 figure is a lower bound.

    python bench/similar_eval.py [--verbose] [--tuning-only]
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from letterbox.core.config import Config, default_config_text, parse_config
from letterbox.core.letter import Letter
from letterbox.reports.similar import (
    DUPLICATE_SCORE,
    Gazetteer,
    Profile,
    SimilarityIndex,
    compare,
    make_profile,
)

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
TUNING = DATA / "similar_pairs.jsonl"
HELDOUT = DATA / "similar_heldout.jsonl"
BLIND = DATA / "similar_blind.jsonl"
START = date(2026, 11, 1)


def _writer(n: int) -> dict[str, str]:
    return {"name": f"来信人{n}", "phone": f"139{n:08d}", "email": f"w{n}@example.invalid",
            "address": f"龙安区示例路{n}号"}


def _letter(code: str, side: dict[str, str], writer: dict[str, str], day: date) -> Letter:
    data = {"letter_code": code, "submitted_at": f"{day.isoformat()}T09:00:00+08:00", "writer": writer,
            "title": side["title"], "body": side["body"], "history": []}
    return Letter(PurePosixPath(f"{code}.yaml"), data)


def load_pairs(path: Path = TUNING) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def profiles(rec: dict[str, Any], config: Config, gaz: Gazetteer) -> tuple[Profile, Profile]:
    n = int(rec["id"])
    wa = _writer(2 * n)
    wb = wa if rec.get("same_writer") else _writer(2 * n + 1)
    a = make_profile(_letter(f"A-{n}", rec["a"], wa, START), config, gaz)
    b = make_profile(_letter(f"B-{n}", rec["b"], wb, START + timedelta(days=int(rec.get("days", 1)))),
                     config, gaz)
    return a, b


def score_pairs(pairs: Iterable[dict[str, Any]], config: Config) -> list[tuple[dict[str, Any], float]]:
    gaz = Gazetteer.from_config(config)
    return [(rec, compare(*profiles(rec, config, gaz)).score) for rec in pairs]


def top1(pairs: list[dict[str, Any]], config: Config) -> dict[str, Any]:
    """Each duplicate pair's second letter against every pair's first letter."""
    gaz = Gazetteer.from_config(config)
    made = [(rec, *profiles(rec, config, gaz)) for rec in pairs]
    index = SimilarityIndex.build(a for rec, a, _ in made if rec["duplicate"])
    right = right_at_threshold = 0
    wrong = []
    queries = [(rec, a, b) for rec, a, b in made if rec["duplicate"]]
    for rec, a, b in queries:
        found = index.query(b, limit=1, min_score=0.0, earlier_only=False)
        best = found[0] if found else None
        if best and best.letter_code == a.code:
            right += 1
            right_at_threshold += best.duplicate
        else:
            wrong.append((rec["id"], best.letter_code if best else None,
                          round(best.score, 3) if best else None))
    n = len(queries)
    return {"queries": n, "pool": len(index.profiles), "top1": right / n if n else 1.0,
            "top1_at_threshold": right_at_threshold / n if n else 1.0, "wrong": wrong}


def evaluate(pairs: list[dict[str, Any]], config: Config) -> dict[str, Any]:
    scored = score_pairs(pairs, config)
    tp = sum(1 for r, s in scored if r["duplicate"] and s >= DUPLICATE_SCORE)
    fp = sum(1 for r, s in scored if not r["duplicate"] and s >= DUPLICATE_SCORE)
    fn = sum(1 for r, s in scored if r["duplicate"] and s < DUPLICATE_SCORE)
    kinds = Counter(r["kind"] for r, _ in scored)
    wrong_kinds = Counter(r["kind"] for r, s in scored if (s >= DUPLICATE_SCORE) != r["duplicate"])
    return {
        "pairs": len(scored), "positives": tp + fn, "tp": tp, "fp": fp, "fn": fn,
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "by_kind": {k: (n - wrong_kinds[k], n) for k, n in sorted(kinds.items())},
        "errors": [(r["id"], r["kind"], r["duplicate"], round(s, 3)) for r, s in scored
                   if (s >= DUPLICATE_SCORE) != r["duplicate"]],
        "scored": [(r["id"], r["kind"], r["duplicate"], round(s, 3)) for r, s in scored],
    }


def report(name: str, path: Path, config: Config, verbose: bool) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    pairs = load_pairs(path)
    result = evaluate(pairs, config)
    ranks = top1(pairs, config)
    if verbose:
        for row in result["scored"]:
            print(*row, sep="\t")
    print(f"{name}: {path.name}, pairs {result['pairs']} (duplicates {result['positives']}), "
          f"threshold {DUPLICATE_SCORE}")
    print(f"  precision {result['precision']:.3f}  recall {result['recall']:.3f}  "
          f"(tp {result['tp']}, fp {result['fp']}, fn {result['fn']})")
    print(f"  top-1 {ranks['top1']:.3f}, top-1 and at threshold {ranks['top1_at_threshold']:.3f} "
          f"({ranks['queries']} queries against {ranks['pool']} earlier letters)")
    print("  right by kind: " + ", ".join(f"{k} {r}/{n}" for k, (r, n) in result["by_kind"].items()))
    print(f"  wall {time.perf_counter() - wall:.1f} s, CPU {time.process_time() - cpu:.1f} s, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if verbose:
        for err in result["errors"]:
            print("  misjudged:", *err)
        for err in ranks["wrong"]:
            print("  top-1 wrong (pair, found, score):", *err)


def main(argv: list[str]) -> int:
    config = parse_config(default_config_text("5eed" * 8))
    verbose = "--verbose" in argv
    report("tuning", TUNING, config, verbose)
    if "--tuning-only" not in argv:
        report("held-out", HELDOUT, config, False)  # never print its errors: it is not tuned on
        report("blind", BLIND, config, False)  # nor these: written blind, never tuned on
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
