"""Merged handling (issue 20 point 3): what a step on a lead letter costs as its group grows.

    .venv/bin/python bench/merge_bench.py [--sizes 1,10,50] [--runs 3]

For each group size N a fresh case repository (`letterbox init`, in a temporary folder) takes in
N letters, merges N-1 of them into the first (one commit), and times, as real CLI subprocesses
(process start included): `merge`, then `classify`, `transfer`, `answer` and `approve` on the
lead, each of which writes N case files in one commit. Prints the median of --runs repetitions
of the whole sequence, and checks every member ends closed with the lead's answer.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from letterbox.ops.scaffold import init_repository  # noqa: E402

LETTERBOX = str(Path(sys.executable).with_name("letterbox"))
ENV = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@b", "GIT_COMMITTER_NAME": "bench",
       "GIT_COMMITTER_EMAIL": "b@b"}


def cli(repo: Path, *args: str) -> str:
    done = subprocess.run([LETTERBOX, "--repo", str(repo), *args], capture_output=True, text=True, env=ENV)
    if done.returncode != 0:
        raise SystemExit(f"letterbox {' '.join(args)}: {done.stderr}")
    return done.stdout


def timed(repo: Path, *args: str) -> float:
    start = time.perf_counter()
    cli(repo, *args)
    return time.perf_counter() - start


def one_run(size: int, folder: Path) -> dict[str, float]:
    repo = folder / f"repo-{size}"
    init_repository(repo)
    config = repo / "letterbox.yaml"
    config.write_text(config.read_text("utf-8").replace("iterations: 600000", "iterations: 1000"), "utf-8")
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "-m", "bench", "--", "letterbox.yaml"], check=True, env=ENV)
    batch = folder / f"batch-{size}.jsonl"
    batch.write_text("".join(json.dumps({
        "name": "赵卫东钱秀英孙建国李明王芳"[n % 13:n % 13 + 3] if n % 13 < 11 else "周敏", "phone": f"139{n:08d}", "email": f"w{n}@example.com", "address": f"梧桐小区{n}号楼",
        "title": "小区电梯经常停运", "body": f"电梯又坏了（第 {n} 封）。", "channel": "web",
        "submitted_at": "2026-03-02T09:00:00+08:00"}, ensure_ascii=False) + "\n" for n in range(size)), "utf-8")
    codes = [x["letter_code"] for x in json.loads(cli(repo, "intake", str(batch), "--json"))]
    lead, members = codes[0], codes[1:]
    at = "2026-03-02T{}:00:00+08:00"
    times = {}
    if members:
        times["merge"] = timed(repo, "merge", *members, "--into", lead, "--at", at.format(10))
    times["classify"] = timed(repo, "classify", lead, "--category", "complaint", "--at", at.format(11))
    times["transfer"] = timed(repo, "transfer", lead, "--unit", "cgj", "--at", at.format(12))
    times["answer"] = timed(repo, "answer", lead, "--text", "已修复。", "--head", "张局长", "--at", at.format(13))
    times["approve"] = timed(repo, "approve", lead, "--at", at.format(14))
    for code in codes:
        path = next((repo / "cases").rglob(f"{code}.yaml"))
        data = yaml.safe_load(path.read_text("utf-8"))
        assert data["status"] == "closed", (code, data["status"])
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1,10,50")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"load average at start: {open('/proc/loadavg').read().split()[:3]}")
    for size in (int(x) for x in args.sizes.split(",")):
        runs = []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                runs.append(one_run(size, Path(tmp)))
        steps = runs[0].keys()
        figures = "  ".join(f"{s} {statistics.median(r[s] for r in runs):.2f} s" for s in steps)
        print(f"group of {size:>3} letters ({size} case files per step): {figures}")
    print(f"load average at end: {open('/proc/loadavg').read().split()[:3]}")


if __name__ == "__main__":
    main()
