"""Redaction quality on the labelled sets: the tuning set and the held-out set, reported apart.

    tests/data/redaction_set.jsonl      the tuning set: cases the code was changed against
    tests/data/redaction_heldout.jsonl  the held-out set: hard cases written before the code
                                        they test was changed, never tuned on (its figures are
                                        the honest ones; see docs/site.md)
    tests/data/redaction_blind.jsonl    the blind set: written by someone who never read the code;
                                        its first figures are the honest ones, later ones are an
                                        upper bound (the code was changed looking at its misses)

Each line: {"text", "writer"?, "spans": [{"text", "kind", "group": writer|other}], "keep": [...]}.
`keep` lists words and numbers that must stay: ordinary words, counts (1500户), public numbers
(12345) and places. A labelled span is *found* when every letter or digit of it is covered by a
mask (separators and brackets around a number may stay). A mask is *right* when it overlaps a
labelled span.

    recall (writer fields)  found writer spans / writer spans        target 100 %
    recall (other)          found other spans / other spans          target ≥ 95 %
    precision               masks overlapping a labelled span / all masks   target ≥ 90 %
    words kept              keep words left whole / keep words

Redaction runs as the build runs it on a repository with the default configuration
(`letterbox init`): the keep words of `letterbox.privacy.redact.keep_words` (units, office,
government, the public numbers and places of `public_contacts`).

Usage: python scripts/redaction_eval.py [FILE ...] [--misses]   (default: all three sets)
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from letterbox.core.config import default_config_text, parse_config  # noqa: E402
from letterbox.privacy.names import name_finder  # noqa: E402
from letterbox.privacy.redact import (  # noqa: E402
    Writer,
    find_spans,
    keep_words,  # noqa: E402
)

DEFAULT = ROOT / "tests" / "data" / "redaction_set.jsonl"
HELDOUT = ROOT / "tests" / "data" / "redaction_heldout.jsonl"
BLIND = ROOT / "tests" / "data" / "redaction_blind.jsonl"
SETS = {"tuning": DEFAULT, "held-out": HELDOUT, "blind": BLIND}


@dataclass
class Result:
    counts: dict[str, list[int]] = field(default_factory=lambda: {
        "writer": [0, 0], "other": [0, 0], "precision": [0, 0], "words": [0, 0]})
    misses: list[str] = field(default_factory=list)

    def rate(self, key: str) -> float:
        hit, total = self.counts[key]
        return hit / total if total else 1.0

    def summary(self) -> dict[str, Any]:
        return {k: {"hit": v[0], "total": v[1], "rate": round(self.rate(k), 4)}
                for k, v in self.counts.items()}


def _locate(text: str, labels: list[dict[str, str]]) -> list[tuple[int, int, dict[str, str]]]:
    """Each label's occurrence: the first one not inside an earlier label."""
    taken: list[tuple[int, int, dict[str, str]]] = []
    for label in labels:
        start = text.find(label["text"])
        while start >= 0 and any(a < start + len(label["text"]) and start < b for a, b, _ in taken):
            start = text.find(label["text"], start + 1)
        if start < 0:
            raise ValueError(f"label {label['text']!r} not in {text!r}")
        taken.append((start, start + len(label["text"]), label))
    return taken


def default_keep() -> list[str]:
    """The keep words a repository made by `letterbox init` gives the redaction."""
    return keep_words(parse_config(default_config_text()))


def evaluate(path: Path = DEFAULT, keep: list[str] | None = None) -> Result:
    keep = default_keep() if keep is None else keep
    result = Result()
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        record = json.loads(line)
        text = record["text"]
        spans = find_spans(text, Writer.from_data(record.get("writer")), keep=keep)
        covered = {i for s in spans for i in range(s.start, s.end)}
        labels = _locate(text, record["spans"])
        for start, end, label in labels:
            group = label["group"]
            result.counts[group][1] += 1
            if all(i in covered for i in range(start, end) if text[i].isalnum()):
                result.counts[group][0] += 1
            else:
                result.misses.append(f"{n}: missed {group} {label['kind']} {label['text']!r} in {text!r}")
        for s in spans:
            right = any(s.start < b and a < s.end for a, b, _ in labels)
            result.counts["precision"][0] += right
            result.counts["precision"][1] += 1
            if not right:
                result.misses.append(f"{n}: false mask {text[s.start:s.end]!r} ({s.reason}) in {text!r}")
        for word in record["keep"]:
            start = text.find(word)
            if start < 0:
                raise ValueError(f"line {n}: keep word {word!r} not in the text")
            whole = not any(i in covered for i in range(start, start + len(word)))
            result.counts["words"][0] += whole
            result.counts["words"][1] += 1
            if not whole:
                result.misses.append(f"{n}: masked kept word {word!r} in {text!r}")
    return result


def main(argv: list[str]) -> int:
    named = [Path(a).resolve() for a in argv if not a.startswith("-")]
    paths = {p.stem: p for p in named} if named else SETS
    keep = default_keep()
    print(f"name finder: {name_finder()}; keep words of the default configuration: {len(keep)}")
    for label, path in paths.items():
        started = time.perf_counter()
        result = evaluate(path, keep)
        seconds = time.perf_counter() - started
        c = result.counts
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        print(f"\n{label}: {shown}  ({seconds:.1f} s)")
        print(f"  recall, writer fields : {c['writer'][0]}/{c['writer'][1]} = {result.rate('writer'):.1%}")
        print(f"  recall, other data    : {c['other'][0]}/{c['other'][1]} = {result.rate('other'):.1%}")
        print(f"  precision (masks)     : {c['precision'][0]}/{c['precision'][1]} = {result.rate('precision'):.1%}")
        print(f"  words kept            : {c['words'][0]}/{c['words'][1]} = {result.rate('words'):.1%}")
        if "--misses" in argv:
            print("\n".join(f"  {m}" for m in result.misses) or "  no misses")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
