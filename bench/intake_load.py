"""Load test of the online intake service (issue 8).

Starts `letterbox serve-intake` on a fresh case repository with the real query-code hash
(600 000 PBKDF2 iterations unless --iterations says otherwise), sends N submissions from C
concurrent clients (each with its own address in X-Forwarded-For, as behind nginx, and its own
idempotency key per letter), then checks: N letters, N new commits, N distinct codes forming the
sequence 1..N, every answered query code matching its stored hash (a sample, or all with
--verify-all), `letterbox validate` clean, clean working tree. Prints throughput and latency
percentiles. Exit status 1 if a check fails.

    python bench/intake_load.py [--letters 500] [--clients 50] [--iterations 600000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from letterbox.core import codes  # noqa: E402
from letterbox.ops.scaffold import init_repository  # noqa: E402

LETTERBOX = str(Path(sys.executable).with_name("letterbox"))
GIT_ENV = {"GIT_AUTHOR_NAME": "压测", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
           "GIT_COMMITTER_NAME": "压测", "GIT_COMMITTER_EMAIL": "bench@example.invalid"}
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"
PLACES = ["文昌大道街道梧桐小区", "中州路街道建业小区", "田村街道新村", "龙泉镇东街", "马家镇北关",
          "善应镇南街", "彰武街道朝阳小区", "太行小区街道三号院"]
TOPICS = [("路灯不亮", "小区门口的路灯已经连续一周不亮，夜间出行不便，请尽快维修。"),
          ("供暖不热", "家中暖气温度只有十五度左右，老人孩子受冻，请协调供热公司检查。"),
          ("道路积水", "雨后道路积水严重，行人和车辆通行困难，请疏通排水管道。"),
          ("噪音扰民", "附近工地夜间施工噪音很大，影响休息，请依法查处。"),
          ("公交线路", "建议增开一条通往区政务服务中心的公交线路，方便群众办事。")]


def submission(rng: random.Random, n: int) -> dict[str, str]:
    title, body = rng.choice(TOPICS)
    return {
        "name": rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))),
        "phone": "139" + f"{rng.randrange(10**8):08d}",
        "email": f"writer{n}@example.com",
        "address": f"龙安区{rng.choice(PLACES)}{rng.randrange(1, 30)}号楼",
        "title": f"{title}（{n}）",
        "body": f"{body}编号 {n}。",
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


def server_cpu(pid: int) -> float:
    """CPU seconds of the server and its finished children (git), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=500)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--iterations", type=int, default=600_000)
    parser.add_argument("--verify-all", action="store_true", help="check every query code (slow)")
    parser.add_argument("--keep", type=Path, help="keep the case repository in this folder")
    args = parser.parse_args()
    os.environ.update(GIT_ENV)

    work = Path(tempfile.mkdtemp(prefix="intake-load-"))
    repo = work / "repo"
    init_repository(repo)
    config = yaml.safe_load((repo / "letterbox.yaml").read_text("utf-8"))
    if args.iterations != config["query_code"]["iterations"]:
        text = (repo / "letterbox.yaml").read_text("utf-8")
        text = text.replace(f"iterations: {config['query_code']['iterations']}", f"iterations: {args.iterations}")
        (repo / "letterbox.yaml").write_text(text, "utf-8")
        git(repo, "commit", "-q", "-m", "iterations", "--", "letterbox.yaml")
    salt = config["query_code"]["salt"]
    commits_before = int(git(repo, "rev-list", "--count", "HEAD"))

    port = free_port()
    url = f"http://127.0.0.1:{port}/api/letters"
    log = open(work / "server.log", "w")  # noqa: SIM115
    server = subprocess.Popen([LETTERBOX, "--repo", str(repo), "serve-intake", "--port", str(port)],
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            try:
                httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        results: list[tuple[int, dict[str, str], float]] = []
        failures: list[str] = []
        lock = threading.Lock()
        per_client = [list(range(c, args.letters, args.clients)) for c in range(args.clients)]
        start_gate = threading.Barrier(args.clients + 1)

        def client(index: int, numbers: list[int]) -> None:
            rng = random.Random(index)
            headers = {"X-Forwarded-For": f"198.51.100.{index + 1}"}
            with httpx.Client(timeout=600) as http:
                start_gate.wait()
                for n in numbers:
                    key = str(uuid.uuid4())
                    data = submission(rng, n)
                    began = time.perf_counter()
                    for _attempt in range(5):
                        try:
                            answer = http.post(url, json=data, headers={**headers, "Idempotency-Key": key})
                            break
                        except httpx.TransportError as exc:
                            answer = None
                            error = exc.__class__.__name__
                    took = time.perf_counter() - began
                    with lock:
                        if answer is not None and answer.status_code == 201:
                            results.append((n, answer.json(), took))
                        else:
                            failures.append(f"{n}: {answer.status_code if answer else error}"
                                            f" {answer.text[:200] if answer else ''}")

        threads = [threading.Thread(target=client, args=(i, nums)) for i, nums in enumerate(per_client)]
        for t in threads:
            t.start()
        start_gate.wait()
        began = time.perf_counter()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - began
        cpu = server_cpu(server.pid)
        load = os.getloadavg()[0]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=120)
        log.close()

    latencies = [r[2] for r in results]
    for line in (work / "server.log").read_text("utf-8").splitlines():
        if "停止" in line:
            print("server:", line.split(":", 1)[-1].strip())
    print(f"{len(results)} letters from {args.clients} clients in {elapsed:.1f} s, "
          f"iterations {args.iterations}, {os.cpu_count()} CPUs")
    if latencies:
        print(f"throughput {len(results) / elapsed:.2f} letters/s")
        per_letter = cpu / len(results)
        print(f"server CPU {per_letter:.3f} s per letter (with its git processes) → at most "
              f"{(os.cpu_count() or 1) / per_letter:.1f} letters/s on {os.cpu_count()} idle CPUs; "
              f"load average at the end {load:.1f}")
        print(f"latency p50 {percentile(latencies, 50):.2f} s, p90 {percentile(latencies, 90):.2f} s, p99 {percentile(latencies, 99):.2f} s, max {max(latencies):.2f} s, mean {statistics.mean(latencies):.2f} s")

    problems = list(failures)
    files = sorted(p.stem for p in (repo / "cases").rglob("*.yaml"))
    year = files[0].split("-")[1] if files else "0000"
    expected = [codes.letter_code(config["letter_code_prefix"], int(year), n) for n in range(1, args.letters + 1)]
    if files != expected:
        problems.append(f"letter files are not the sequence 1..{args.letters}: {len(files)} files")
    answered = sorted(r[1]["letter_code"] for r in results)
    if answered != expected:
        problems.append(f"answered codes are not {args.letters} distinct codes in sequence")
    commits = int(git(repo, "rev-list", "--count", "HEAD")) - commits_before
    if commits != args.letters:
        problems.append(f"{commits} commits, expected {args.letters}")
    if len({r[1]["query_code"] for r in results}) != len(results):
        problems.append("query codes are not distinct")
    sample = results if args.verify_all else random.Random(0).sample(results, min(20, len(results)))
    for n, body, _ in sample:
        path = next((repo / "cases").rglob(f"{body['letter_code']}.yaml"))
        data = yaml.safe_load(path.read_text("utf-8"))
        if not codes.verify_query_code(body["query_code"], body["letter_code"], salt, data["query_hash"]):
            problems.append(f"{body['letter_code']}: answered query code does not match the stored hash")
        if not data["title"].endswith(f"（{n}）"):
            problems.append(f"{body['letter_code']}: holds another submission's letter")
    done = subprocess.run([LETTERBOX, "--repo", str(repo), "validate"], capture_output=True, text=True)
    if done.returncode != 0:
        problems.append("validate: " + done.stderr[-500:])
    if git(repo, "status", "--porcelain", "--untracked-files=all").strip():
        problems.append("working tree not clean")
    print(f"checks: {len(files)} letter files, {commits} commits, {len(set(answered))} distinct codes, "
          f"{len(sample)} query codes verified, validate {'clean' if done.returncode == 0 else 'FAILED'}")
    for p in problems[:20]:
        print("PROBLEM:", p)
    if args.keep:
        shutil.copytree(repo, args.keep, symlinks=True)
    shutil.rmtree(work, ignore_errors=True)
    print("OK" if not problems else f"FAILED ({len(problems)} problems)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
