"""The lookup index refreshed in place (issue 17 point 4): how long after a step or an online
letter until its writer finds it, at the size of a given case repository.

    .venv/bin/python bench/lookup_refresh_bench.py REPO [--site DIR] [--runs 3]

REPO is changed (a copy: `cp -a /tmp/work/r100k /tmp/me/r100k`). Times, in this process:
  bootstrap  `refresh_lookup` on a site with no index: every case file read, a whole index
  nothing    `refresh_lookup` when nothing changed (git diff + git status + manifest)
  step       one `letterbox answer` on an open letter (a real CLI subprocess), then
             `refresh_lookup` (the timer's refresh); and the whole `letterbox lookup-refresh`
             command as a subprocess (process start included)
  online     one `letterbox intake` of a new letter, then `refresh_letters([code])` (what the
             intake service runs after its commit)
and checks after each refresh that the changed letter's entry decrypts to its new status.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from letterbox.store.repository import Repository  # noqa: E402
from site_builder import lookup_index as li  # noqa: E402

LETTERBOX = str(Path(sys.executable).with_name("letterbox"))


def cli(repo: Path, *args: str) -> str:
    done = subprocess.run([LETTERBOX, "--repo", str(repo), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"letterbox {' '.join(args)}: {done.stderr}")
    return done.stdout


def payload(root: Path, site: Path, code: str) -> dict:
    """The decrypted entry of `code` found through the manifest's stored hash."""
    repo = Repository(root)
    meta = json.loads((site / "lookup" / "meta.json").read_text("utf-8"))
    salt = bytes.fromhex(meta["hkdf"]["salt"])
    slow = bytes.fromhex(repo.letter(code).data["query_hash"]["hash"])
    repo.close()
    ident = li.entry_id(slow, salt)
    data = (site / "lookup" / "shards" / li.shard_name(li.shard_index(ident, meta["prefix_bits"]),
                                                       meta["prefix_bits"])).read_bytes()
    size = meta["entry_bytes"]
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    for i in range(0, len(data), size):
        if data[i:i + li.ID_BYTES] == ident:
            plain = AESGCM(li.entry_key(slow, salt)).decrypt(
                data[i + li.ID_BYTES:i + li.ID_BYTES + li.NONCE_BYTES], data[i + li.ID_BYTES + li.NONCE_BYTES:i + size],
                ident)
            return json.loads(plain)
    raise SystemExit(f"{code}: no entry")


def timed(fn, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("repo", type=Path)
    parser.add_argument("--site", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    root = args.repo.resolve()
    site = (args.site or root / "site").resolve()
    site.mkdir(exist_ok=True)
    print(f"load: {os.getloadavg()}", flush=True)
    repo = Repository(root)
    if not (site / "lookup" / "meta.json").is_file():
        seconds, done = timed(li.refresh_lookup, repo, site)
        print(f"bootstrap: {done.mode} {done.entries} entries, {done.shards} shards: {seconds:.1f} s", flush=True)
    meta = json.loads((site / "lookup" / "meta.json").read_text("utf-8"))
    print(f"index: {meta['shards']} shards x {meta['entries_per_shard']} entries", flush=True)
    seconds, done = timed(li.refresh_lookup, repo, site)
    print(f"nothing changed: {done.mode}: {seconds:.2f} s", flush=True)
    open_codes = [c for c in sorted(p.stem for p in (root / "cases").glob("*/*/*.yaml"))[-200:]
                  if payload(root, site, c)["status"] == "transferred"]
    if len(open_codes) < 2 * args.runs:
        raise SystemExit("too few transferred letters among the last 200")
    steps, commands, online = [], [], []
    for run in range(args.runs):
        code = open_codes[run]
        status = payload(root, site, code)["status"]
        cli(root, "answer", code, "--head", "张主任", "--text", "已处理完毕。")
        seconds, done = timed(li.refresh_lookup, repo, site)
        after = payload(root, site, code)["status"]
        assert done.mode == "shards" and after != status, (done, status, after)
        steps.append(seconds)
        cli(root, "answer", open_codes[args.runs + run], "--head", "张主任", "--text", "已处理完毕。")
        start = time.perf_counter()
        out = json.loads(cli(root, "lookup-refresh", "--site", str(site), "--json"))
        commands.append((time.perf_counter() - start, out["seconds"]))
        assert out["mode"] == "shards", out
        sub = root.parent / "bench-letter.json"
        sub.write_text(json.dumps({"name": "测试人", "phone": "13900000000", "email": "ceshi@example.com",
                                   "address": "测试路 1 号", "title": "小区路灯不亮",
                                   "body": "小区路灯坏了很久，请尽快修理。",
                                   "submitted_at": "2026-11-20T09:00:00+08:00"}, ensure_ascii=False), "utf-8")
        new = json.loads(cli(root, "intake", str(sub), "--json"))[0]["letter_code"]
        seconds, done = timed(li.refresh_letters, root, site, [new])
        assert done.mode == "shards" and payload(root, site, new)["status"] == "received", done
        online.append(seconds)
        print(f"run {run + 1}: step {steps[-1]:.2f} s; command {commands[-1][0]:.2f} s "
              f"(refresh {commands[-1][1]:.2f} s); online {online[-1]:.2f} s", flush=True)
    print(f"median: step refresh {statistics.median(steps):.2f} s, lookup-refresh command "
          f"{statistics.median(c[0] for c in commands):.2f} s (in it {statistics.median(c[1] for c in commands):.2f} s), "
          f"online letter {statistics.median(online):.2f} s; load {os.getloadavg()}")
    repo.close()


if __name__ == "__main__":
    main()
