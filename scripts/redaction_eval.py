"""Redaction quality on the labelled set tests/data/redaction_set.jsonl.

Each line: {"text", "writer"?, "spans": [{"text", "kind", "group": writer|other}], "keep": [...]}.
A labelled span is *found* when every letter or digit of it is covered by a mask (separators and
brackets around a number may stay). A mask is *right* when it overlaps a labelled span.

    recall (writer fields)  found writer spans / writer spans        target 100 %
    recall (other)          found other spans / other spans          target ≥ 95 %
    precision               masks overlapping a labelled span / all masks   target ≥ 90 %
    words kept              ordinary words left whole / ordinary words

Usage: python scripts/redaction_eval.py [FILE] [--misses]
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

from letterbox.privacy.names import name_finder  # noqa: E402
from letterbox.privacy.redact import Writer, find_spans  # noqa: E402

DEFAULT = ROOT / "tests" / "data" / "redaction_set.jsonl"


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


def evaluate(path: Path = DEFAULT) -> Result:
    result = Result()
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        record = json.loads(line)
        text = record["text"]
        spans = find_spans(text, Writer.from_data(record.get("writer")))
        covered = {i for s in spans for i in range(s.start, s.end)}
        labels = _locate(text, record["spans"])
        for start, end, label in labels:
            group = label["group"]
            result.counts[group][1] += 1
            if all(i in covered for i in range(start, end) if text[i].isalnum()):
                result.counts[group][0] += 1
            else:
                result.misses.append(f"{n}: missed {group} {label['kind']} {label['text']!r} in {text}")
        for s in spans:
            right = any(s.start < b and a < s.end for a, b, _ in labels)
            result.counts["precision"][0] += right
            result.counts["precision"][1] += 1
            if not right:
                result.misses.append(f"{n}: false mask {text[s.start:s.end]!r} ({s.reason}) in {text}")
        for word in record["keep"]:
            start = text.find(word)
            if start < 0:
                raise ValueError(f"line {n}: keep word {word!r} not in the text")
            whole = not any(i in covered for i in range(start, start + len(word)))
            result.counts["words"][0] += whole
            result.counts["words"][1] += 1
            if not whole:
                result.misses.append(f"{n}: masked ordinary word {word!r} in {text}")
    return result


def main(argv: list[str]) -> int:
    path = Path(next((a for a in argv if not a.startswith("-")), DEFAULT))
    started = time.perf_counter()
    result = evaluate(path)
    seconds = time.perf_counter() - started
    c = result.counts
    print(f"labelled set: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  "
          f"(name finder: {name_finder()}, {seconds:.1f} s)")
    print(f"recall, writer fields : {c['writer'][0]}/{c['writer'][1]} = {result.rate('writer'):.1%}")
    print(f"recall, other data    : {c['other'][0]}/{c['other'][1]} = {result.rate('other'):.1%}")
    print(f"precision (masks)     : {c['precision'][0]}/{c['precision'][1]} = {result.rate('precision'):.1%}")
    print(f"ordinary words kept   : {c['words'][0]}/{c['words'][1]} = {result.rate('words'):.1%}")
    if "--misses" in argv:
        print("\n".join(result.misses) or "no misses")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
