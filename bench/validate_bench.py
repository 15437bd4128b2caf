"""How much sealing adds to `letterbox validate` (issue 16: validate needs no key and stays as fast).

Writes N letters (each one received, classified and transferred) twice into two case repositories:
once in clear (no `encryption`), once sealed (writer, title and body in a `sealed` block; the
office and the unit as recipients). Then times `validate_repository` on each (best of R runs,
interleaved, in this process, no key anywhere) and prints the figures.

    python bench/validate_bench.py [--letters 5000] [--runs 3] [--keep DIR]

With --sizes (issue 17, validation proportional to change): for each size a case repository of
that many closed letters (bench/site_bench.py's generator), committed; then `letterbox validate`
and `letterbox check --base` each run as its own process, timed, with its peak memory (the
largest resident set of the process and its workers): validate cold (no kept findings), warm
(nothing changed), after one letter changed (a hand edit of one body, committed: check reports
it as an illegal edit, which is what it reads and judges); check --base HEAD~1 warm (after
validate, as CI runs them) and cold. --old DIR runs the same commands with the letterbox of
another checkout (e.g. `git worktree add DIR 087d071`) for the figures before. --repo DIR measures
a committed case repository made before (bench/scale.py; give a copy: one letter is changed and
committed). Each line gives the wall time, the peak memory, the CPU time of the process and its
workers and the load average (the machine is shared: the CPU time says more than the wall time).

    python bench/validate_bench.py --sizes 1000,10000,100000 [--old DIR] [--keep DIR]
    python bench/validate_bench.py --repo COPY_OF_A_SCALE_REPO [--old DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from letterbox.core import codes, sealing  # noqa: E402
from letterbox.core.letter import Letter, letter_path  # noqa: E402
from letterbox.core.process import replay  # noqa: E402
from letterbox.ops.scaffold import init_repository  # noqa: E402
from letterbox.ops.validate import validate_repository  # noqa: E402
from letterbox.store.repository import Repository  # noqa: E402


def ssh_key(folder: Path, name: str) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(folder / name)], check=True)
    return " ".join((folder / f"{name}.pub").read_text("ascii").split()[:2])


def make(root: Path, n: int, sealed: bool, office: str, unit: str, period_public: str) -> Path:
    init_repository(root)
    config = root / "letterbox.yaml"
    extra = (f"\nroster:\n  - {{name: 办公室, role: office-admin, key: \"{office}\"}}\n"
             f"  - {{name: 中州路, role: unit, unit: zzl, key: \"{unit}\"}}\n")
    if sealed:
        extra += f"encryption:\n  periods:\n    '2026': {period_public}\n"
    config.write_text(config.read_text("utf-8") + extra, "utf-8")
    cfg = Repository(root).config
    start = datetime(2026, 1, 5, 9, 0, tzinfo=cfg.tz)
    for i in range(1, n + 1):
        code = codes.letter_code(cfg.prefix, 2026, i)
        at = start + timedelta(minutes=30 * i)
        stamp = at.isoformat(timespec="seconds")
        history = [
            {"at": stamp, "actor": "网上信箱", "action": "receive", "details": {"channel": "web"}},
            {"at": (at + timedelta(hours=1)).isoformat(timespec="seconds"), "actor": "办公室", "action": "classify",
             "details": {"category": "complaint"}},
            {"at": (at + timedelta(hours=2)).isoformat(timespec="seconds"), "actor": "办公室", "action": "transfer",
             "details": {"units": ["zzl"], "mode": "ordinary"}},
        ]
        data = {"schema_version": 1, "letter_code": code,
                "query_hash": {"algorithm": "pbkdf2-sha256", "iterations": 1000, "hash": "0" * 64},
                "submitted_at": stamp, "channel": "web",
                "writer": {"name": "王伟", "phone": "13937212345", "address": "龙安区文昌大道梧桐小区3号楼",
                           "email": f"w{i}@example.com"},
                "title": f"路灯不亮 {i}", "body": "小区门口的路灯已经连续一周不亮，夜间出行不便，请尽快维修。" * 3,
                "follows_up": None, **replay(history).summary(), "history": history}
        if sealed:
            fields = {f: data.pop(f) for f in ("writer", "title", "body")}
            data["sealed"] = sealing.seal(fields, code, [office, unit], "2026", period_public)
        path = root / letter_path(code, at)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Letter(letter_path(code, at), data).to_yaml(), "utf-8")
    return root


def timed(root: Path) -> tuple[float, int]:
    t = time.perf_counter()
    problems = validate_repository(Repository(root))
    return time.perf_counter() - t, sum(1 for p in problems if p.severity == "error")


def run_cli(root: Path, *args: str, tree: Path | None = None) -> tuple[float, int, dict[str, Any]]:
    """`letterbox ARGS --json` as a process (the letterbox of `tree`, else this one): seconds,
    peak resident memory in MiB (the process or its largest worker), the JSON report (with
    "_cpu": the CPU seconds of the process and its workers, and "_load": the load average
    when it ended: on a shared machine the wall time alone says little)."""
    start = "from letterbox.cli.main import main; main()"
    if tree is not None:  # past the editable install's finder, which would find this checkout
        start = (f"import sys; sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f)]; "
                 f"sys.path.insert(0, {str(tree)!r}); {start}")
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", start,
                             "--repo", str(root), *args, "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = proc.stdout.read() if proc.stdout else b""
    _, _, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t
    proc.returncode = 0
    try:
        report = json.loads(out)
    except ValueError:
        report = {}
    report["_cpu"] = usage.ru_utime + usage.ru_stime
    report["_load"] = os.getloadavg()[0]
    return seconds, usage.ru_maxrss // 1024, report


def git_in(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def scale(n: int, work: Path, old: Path | None) -> None:
    import site_bench

    root = work / f"repo-{n}"
    t = time.perf_counter()
    site_bench.make_repo(root, n)
    git_in(root, "add", "cases")
    git_in(root, "-c", "user.name=bench", "-c", "user.email=bench@invalid", "commit", "-q", "-m", "letters")
    print(f"{n} letters: generated and committed in {time.perf_counter() - t:.0f} s", flush=True)
    measure(root, old)


def measure(root: Path, old: Path | None) -> None:
    """The figures of one committed case repository (changed: one letter edited and committed)."""
    import site_bench

    kept = root / ".git" / "letterbox"

    def show(label: str, figures: tuple[float, int, dict[str, Any]]) -> None:
        seconds, mib, report = figures
        cache = report.get("cache", {})
        counts = f"  cached {cache.get('cached')} judged {cache.get('judged')}" if cache else ""
        print(f"  {label:<34} {seconds:7.2f} s {mib:6d} MiB  cpu {report['_cpu']:6.1f} s  "
              f"load {report['_load']:4.1f}  errors {report.get('errors', '?')}{counts}", flush=True)

    shutil.rmtree(kept, ignore_errors=True)
    show("validate cold", run_cli(root, "validate"))
    show("validate warm (nothing changed)", run_cli(root, "validate"))
    site_bench.change_one(Repository(root))
    git_in(root, "-c", "user.name=bench", "-c", "user.email=bench@invalid", "commit", "-q", "-am", "one edit")
    show("validate, one letter changed", run_cli(root, "validate"))
    show("check --base HEAD~1 (warm)", run_cli(root, "check", "--base", "HEAD~1"))
    shutil.rmtree(kept, ignore_errors=True)
    show("check --base HEAD~1 (cold)", run_cli(root, "check", "--base", "HEAD~1"))
    if old is not None:
        show("before: validate", run_cli(root, "validate", tree=old))
        show("before: check --base HEAD~1", run_cli(root, "check", "--base", "HEAD~1", tree=old))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--letters", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--sizes", help="the cache figures (issue 17) for these sizes, e.g. 1000,100000")
    parser.add_argument("--old", type=Path, help="with --sizes: also time the letterbox of this checkout")
    parser.add_argument("--repo", type=Path, help="the --sizes figures for this committed case repository "
                                                  "(e.g. a copy of one bench/scale.py made: it is changed)")
    args = parser.parse_args()
    if args.repo:
        sys.path.insert(0, str(ROOT / "bench"))
        subprocess.run(["git", "update-index", "-q", "--refresh"], cwd=args.repo, check=False)  # after a copy
        measure(args.repo.resolve(), args.old)
        return
    if args.sizes:
        sys.path.insert(0, str(ROOT / "bench"))
        work = args.keep or Path(tempfile.mkdtemp(prefix="validate-bench-"))
        work.mkdir(parents=True, exist_ok=True)
        try:
            for n in (int(x) for x in args.sizes.split(",")):
                scale(n, work, args.old)
        finally:
            if args.keep is None:
                shutil.rmtree(work, ignore_errors=True)
        return
    work = args.keep or Path(tempfile.mkdtemp(prefix="validate-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        office, unit = ssh_key(work, "office"), ssh_key(work, "unit")
        _secret, public = sealing.new_period_key()
        clear = make(work / "clear", args.letters, False, office, unit, public)
        sealed = make(work / "sealed", args.letters, True, office, unit, public)
        runs = [(timed(clear), timed(sealed)) for _ in range(args.runs)]  # interleaved: a busy machine
        t_clear, e_clear = min(r[0][0] for r in runs), runs[-1][0][1]     # slows both alike
        t_sealed, e_sealed = min(r[1][0] for r in runs), runs[-1][1][1]
        print(f"{args.letters} letters, best of {args.runs}: clear {t_clear:.2f} s ({e_clear} errors), "
              f"sealed {t_sealed:.2f} s ({e_sealed} errors): {100 * (t_sealed / t_clear - 1):+.1f} %")
        print(f"case files: clear {sum(p.stat().st_size for p in clear.rglob('cases/**/*.yaml')) // 1024} KiB, "
              f"sealed {sum(p.stat().st_size for p in sealed.rglob('cases/**/*.yaml')) // 1024} KiB")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
