"""Open letters apart (issue 17 point 2): the readers that need a few letters of many.

On a committed case repository (bench/scale.py: e.g. 100 000 letters, 1 000 open) times, each
as its own process, with its peak memory (the largest resident set of the process and its
workers, GNU time's %M):

    letterbox deadlines --json      letterbox deadlines      (open letters and the burst alerts)
    letterbox list --status transferred                      (one status)
    letterbox report --month <the last full month>           (the monthly supervision report)
    letterbox show CODE                                      (one letter and the letters that follow it up)
    letterbox intake ONE.json                                (one submission numbered and committed)

cold (no letters index: .git/letterbox/letters.sqlite removed first) and warm (the index
current). --old DIR runs the same commands with the letterbox package of DIR (e.g. `git
archive <commit> letterbox | tar -x -C DIR`) for the figures before; those read every case
file and keep no index, so they are run once. Each command's standard output is hashed: the
last column says whether it is the same as the first run's (before, when given). `intake` does
not read the letters index (it numbers from the folder listings): it is run once before and
`--warm-runs` + 1 times after, each run adding one letter that follows up the letter `show`
shows (after `show` is measured; its output holds a new query code, so it is not compared).

    python bench/open_bench.py REPO [--old DIR] [--today 2026-12-01] [--month 2026-11] [--warm-only]
                                    [--show CODE] [--no-intake]

REPO is changed (the index is written into its .git): use a copy of a shared fixture.

Measured 2026-12-01 on a copy of the 100 000-letter fixture (2 cores, load average 3.5-7 from
other work, so ±1 s), each a separate process, the code before and after only this change:
`show LA-2026-00574` (one follow-up) 54.2 s, 718 MB reading every file → 63.7 s, 226 MB the run
that builds the schema-4 index, then 1.9 / 2.7 / 3.1 s, 106 MB; the output byte-identical.
`intake` of one submission without follows_up 2.5-2.6 s, 75 MB → 1.6-2.0 s, 55 MB (numbering in a
fresh process 0.35 s → 0.02 s once `.git/letterbox/sequence.json` is kept); with follows_up (the
case files' names listed once) 1.8 s → 1.6-1.8 s at load 4.6-5. Again with 17 follow-ups: `show`
49.1 s, 717 MB → 1.8 s, 107 MB, byte-identical.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LETTERBOX = [sys.executable, "-c", "from letterbox.cli.main import main; main()"]


def commands(today: str, month: str, show: str) -> list[tuple[str, list[str]]]:
    return [
        ("deadlines --json", ["deadlines", "--json", "--fail-on", "never", "--today", today]),
        ("deadlines", ["deadlines", "--fail-on", "never", "--today", today]),
        ("list --status transferred", ["list", "--status", "transferred", "--today", today]),
        (f"report --month {month}", ["report", "--month", month, "--today", today]),
        (f"show {show}", ["show", show, "--today", today]),
    ]


def first_code(repo: Path) -> str:
    """The code of the first case file of the first month folder (a letter to show)."""
    for year in sorted(p for p in (repo / "cases").iterdir() if p.is_dir()):
        for month in sorted(p for p in year.iterdir() if p.is_dir()):
            names = sorted(p.stem for p in month.glob("*.yaml"))
            if names:
                return names[0]
    raise SystemExit("no case file")


def submission(repo: Path, follows: str) -> Path:
    """One valid submission (made-up writer), sent now, that follows up `follows`."""
    sent = datetime.now(UTC) - timedelta(minutes=1)
    data = {"name": "测试", "phone": "13800000000", "email": "bench@example.com", "address": "龙安区测试路 1 号",
            "title": "基准测试来信", "body": "这是一封基准测试用的来信，内容无实际意义，只用于计时。",
            "submitted_at": sent.isoformat(timespec="seconds"), "channel": "web", "follows_up": follows}
    path = repo / ".git" / "open_bench_submission.json"
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    return path


def run(repo: Path, args: list[str], code: Path | None) -> tuple[float, int, str, int]:
    """Seconds, peak resident set (MB), a hash of standard output, exit status."""
    env = dict(os.environ, LETTERBOX_REPO=str(repo), COLUMNS="160")
    if code is not None:
        env["PYTHONPATH"] = str(code)
    stats = repo / ".git" / "open_bench.time"
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(stats), *LETTERBOX, *args],
                          cwd=repo, env=env, capture_output=True, check=False)
    took = time.perf_counter() - started
    peak = int(stats.read_text().split()[-1]) // 1024
    stats.unlink()
    if done.returncode not in (0, 1):
        sys.stderr.write(done.stderr.decode("utf-8", "replace")[-2000:])
    return took, peak, hashlib.sha256(done.stdout).hexdigest()[:12], done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repo", type=Path)
    parser.add_argument("--old", type=Path, help="a folder holding the letterbox package before the change")
    parser.add_argument("--today", default=datetime.now(UTC).date().isoformat())
    parser.add_argument("--month", help="YYYY-MM (default: the month before --today)")
    parser.add_argument("--warm-runs", type=int, default=2)
    parser.add_argument("--warm-only", action="store_true",
                        help="only the warm runs (the index left by an earlier run, brought current first)")
    parser.add_argument("--show", help="the letter `show` shows (default: the first case file's)")
    parser.add_argument("--no-intake", action="store_true", help="do not time intake (it commits a letter)")
    opts = parser.parse_args()
    today = date.fromisoformat(opts.today)
    month = opts.month or (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    repo = opts.repo.resolve()
    index = repo / ".git" / "letterbox" / "letters.sqlite"
    files = sum(1 for _ in (repo / "cases").rglob("*.yaml"))
    print(f"{repo}: {files} case files; today {opts.today}; load average at start "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores", flush=True)
    rows: list[tuple[str, str, float, int, str, str]] = []
    show = opts.show or first_code(repo)
    for name, args in commands(opts.today, month, show):
        first: str | None = None
        if opts.old is not None:
            took, peak, digest, _rc = run(repo, args, opts.old.resolve())
            first = digest
            rows.append((name, "before (reads every file)", took, peak, digest, "—"))
            print(f"  {name:28} before  {took:7.2f} s {peak:6d} MB", flush=True)
        if opts.warm_only:
            first = first or run(repo, args, None)[2]  # also brings the index current
        else:
            index.unlink(missing_ok=True)
            took, peak, digest, _rc = run(repo, args, None)
            first = first or digest
            rows.append((name, "cold (no index)", took, peak, digest, "same" if digest == first else "DIFFERENT"))
            print(f"  {name:28} cold    {took:7.2f} s {peak:6d} MB", flush=True)
        for k in range(opts.warm_runs):
            took, peak, digest, _rc = run(repo, args, None)
            rows.append((name, f"warm {k + 1}", took, peak, digest, "same" if digest == first else "DIFFERENT"))
            print(f"  {name:28} warm {k + 1}  {took:7.2f} s {peak:6d} MB", flush=True)
    if not opts.no_intake:
        args = ["intake", "--json", str(submission(repo, show))]
        runs = ([("before", opts.old.resolve())] if opts.old is not None else []) + [
            (f"after {k + 1}", None) for k in range(opts.warm_runs + 1)]
        for mode, code in runs:
            took, peak, _digest, rc = run(repo, args, code)
            rows.append(("intake ONE.json", mode, took, peak, "", "—" if rc == 0 else f"exit {rc}"))
            print(f"  {'intake ONE.json':28} {mode:7} {took:7.2f} s {peak:6d} MB", flush=True)
    print(f"\nload average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"index: {index.stat().st_size / 1e6:.1f} MB" if index.exists() else "index: none")
    print("\n| command | run | seconds | peak MB | output |")
    print("|---|---|---:|---:|---|")
    for name, mode, took, peak, _digest, same in rows:
        print(f"| `letterbox {name}` | {mode} | {took:.2f} | {peak} | {same} |")


if __name__ == "__main__":
    main()
