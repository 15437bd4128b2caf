"""Precision and recall of near-duplicate detection on tests/data/similar_pairs.jsonl.

Each line is a labelled pair of letters (paraphrases of one complaint, the same matter from
different writers, different matters in one place, one topic in different places). A pair is
predicted a duplicate when `letterbox.reports.similar.compare` scores it at or above DUPLICATE_SCORE.

    python scripts/similar_eval.py [--verbose]
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any

from letterbox.core.config import Config, default_config_text, parse_config
from letterbox.core.letter import Letter
from letterbox.reports.similar import DUPLICATE_SCORE, Gazetteer, compare, make_profile

PAIRS = Path(__file__).resolve().parent.parent / "tests" / "data" / "similar_pairs.jsonl"


def _writer(n: int) -> dict[str, str]:
    return {"name": f"来信人{n}", "phone": f"139{n:08d}", "email": f"w{n}@example.invalid",
            "address": f"龙安区示例路{n}号"}


def _letter(code: str, side: dict[str, str], writer: dict[str, str], day: str) -> Letter:
    data = {"letter_code": code, "submitted_at": f"{day}T09:00:00+08:00", "writer": writer,
            "title": side["title"], "body": side["body"], "history": []}
    return Letter(PurePosixPath(f"{code}.yaml"), data)


def load_pairs(path: Path = PAIRS) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def score_pairs(pairs: Iterable[dict[str, Any]], config: Config) -> list[tuple[dict[str, Any], float]]:
    gaz = Gazetteer.from_config(config)
    out = []
    for rec in pairs:
        n = int(rec["id"])
        wa = _writer(2 * n)
        wb = wa if rec.get("same_writer") else _writer(2 * n + 1)
        a = make_profile(_letter(f"A-{n}", rec["a"], wa, "2026-11-02"), config, gaz)
        b = make_profile(_letter(f"B-{n}", rec["b"], wb, "2026-11-01"), config, gaz)
        out.append((rec, compare(a, b).score))
    return out


def evaluate(pairs: list[dict[str, Any]], config: Config) -> dict[str, Any]:
    scored = score_pairs(pairs, config)
    tp = sum(1 for r, s in scored if r["duplicate"] and s >= DUPLICATE_SCORE)
    fp = sum(1 for r, s in scored if not r["duplicate"] and s >= DUPLICATE_SCORE)
    fn = sum(1 for r, s in scored if r["duplicate"] and s < DUPLICATE_SCORE)
    return {
        "pairs": len(scored), "positives": tp + fn, "tp": tp, "fp": fp, "fn": fn,
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "errors": [(r["id"], r["kind"], r["duplicate"], round(s, 3)) for r, s in scored
                   if (s >= DUPLICATE_SCORE) != r["duplicate"]],
        "scored": [(r["id"], r["kind"], r["duplicate"], round(s, 3)) for r, s in scored],
    }


def main(argv: list[str]) -> int:
    config = parse_config(default_config_text("5eed" * 8))
    result = evaluate(load_pairs(), config)
    if "--verbose" in argv:
        for row in result["scored"]:
            print(*row, sep="\t")
    print(f"pairs {result['pairs']} (duplicates {result['positives']}), threshold {DUPLICATE_SCORE}")
    print(f"precision {result['precision']:.3f}  recall {result['recall']:.3f}  "
          f"(tp {result['tp']}, fp {result['fp']}, fn {result['fn']})")
    for err in result["errors"]:
        print("misjudged:", *err)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
