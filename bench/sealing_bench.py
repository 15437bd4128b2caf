"""What sealing costs (issue 16: "encryption adds under 10 % to intake and to a 10 000-letter build;
validate needs no key and stays as fast"). A benchmark that prints figures, not a test.

    python bench/sealing_bench.py [--letters 10000] [--intake 200] [--runs 2] [--keep DIR]

Makes two case repositories with the same N closed letters (bench/site_bench.py's generator) and
the same roster (an office administrator, the intake service, a member of each of three units):
one clear, one sealed (an `encryption` section with a period key per year, the private halves in
a folder outside both repositories; every letter sealed as `letterbox encrypt` seals it: writer,
title and body, to the office, the units that held it and its year's period key). Both are
committed (one commit), and the repositories' git config holds no signing key. Then, alternating
clear and sealed `--runs` times each, through the CLI (`letterbox`, a fresh process each time):

- intake: `letterbox intake` of the same `--intake` submissions (one JSON Lines file), signed by
  the intake service's key (LETTERBOX_SIGNING_KEY; public keys only), wall time per letter; the
  repository is reset to its commit after each run;
- validate: `letterbox validate` with no key anywhere (no LETTERBOX_* variable, an empty HOME,
  no user.signingkey): the sealed one must pass, and the sealed build must fail in the same
  environment (so no key was found);
- build: `letterbox build` of the whole site, cold (`.letterbox-cache/` removed first) and warm
  (the cache of the previous build), the sealed one with the office key (LETTERBOX_IDENTITY) and
  the period keys (LETTERBOX_PERIOD_KEYS); both sites must have the same letter pages.

Prints each run, then the medians and the overhead of sealed over clear.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from intake_load import submission  # noqa: E402
from site_bench import make_letter  # noqa: E402

from letterbox.core import sealing  # noqa: E402
from letterbox.core.config import load_config  # noqa: E402
from letterbox.ops.encryption import replace_encryption_block  # noqa: E402
from letterbox.ops.roster import replace_roster_block  # noqa: E402
from letterbox.ops.scaffold import init_repository  # noqa: E402

LETTERBOX = str(Path(sys.executable).with_name("letterbox"))
OFFICE = "信息中心 王静"  # the actor of site_bench's histories
PERIODS = ("2025", "2026", "2027")  # site_bench's letters are of 2025 and 2026; intake of today
KEY_VARIABLES = ("LETTERBOX_IDENTITY", "LETTERBOX_SIGNING_KEY", "LETTERBOX_PERIOD_KEYS",
                 "LETTERBOX_KEY_PASSPHRASE")


def keygen(folder: Path, name: str) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(folder / name)],
                   check=True)
    return folder / name


def public(key: Path) -> str:
    return " ".join(Path(f"{key}.pub").read_text("ascii").split()[:2])


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                          text=True).stdout


class Keys:
    """The people's SSH keys and the period keys, in a folder outside both repositories."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.office = keygen(folder, "office")
        self.intake = keygen(folder, "intake")
        self.units = {unit: keygen(folder, f"unit-{unit}") for unit in ("zzl", "zjj", "jyj")}
        self.periods = folder / "period-keys"
        self.periods.mkdir()
        self.period_public: dict[str, str] = {}
        for period in PERIODS:
            secret, public_key = sealing.new_period_key()
            path = self.periods / f"{period}.key"
            path.write_text(secret + "\n", "ascii")
            path.chmod(0o600)
            self.period_public[period] = public_key

    def roster(self) -> list[dict[str, str]]:
        return [{"name": OFFICE, "role": "office-admin", "key": public(self.office)},
                {"name": "网上信箱", "role": "intake", "key": public(self.intake)},
                *({"name": f"{unit} 联络员", "role": "unit", "unit": unit, "key": public(key)}
                  for unit, key in self.units.items())]


def make(root: Path, n: int, keys: Keys, sealed: bool) -> float:
    """A committed case repository of `n` closed letters; returns the seconds spent sealing."""
    init_repository(root, admin=(OFFICE, keys.office))
    config_file = root / "letterbox.yaml"
    text = replace_roster_block(config_file.read_text("utf-8"), keys.roster())
    if sealed:
        text = replace_encryption_block(text, {"periods": keys.period_public})
    config_file.write_text(text, "utf-8")
    config = load_config(root)
    members = config.roster.members if config.roster else ()
    units = [u.code for u in config.units]
    names = {u.code: u.name for u in config.units}
    rng = random.Random(5)
    spent = 0.0
    for i in range(n):
        letter = make_letter(i, rng, config.prefix, units, config.tz, names)
        if sealed:
            began = time.perf_counter()
            period = letter.data["submitted_at"][:4]
            fields = {f: letter.data.pop(f) for f in config.encryption.fields}  # type: ignore[union-attr]
            people = sealing.letter_readers(members, letter.data["history"])
            letter.data["sealed"] = sealing.seal(fields, letter.code, people, period,
                                                 keys.period_public[period])
            spent += time.perf_counter() - began
        path = root / letter.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(letter.to_yaml(), encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-S", "-m", f"{n} letters")
    git(root, "config", "--unset", "user.signingkey")  # no key in the repository's config
    return spent


def environment(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in KEY_VARIABLES}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), **extra)
    return env


def run(args: list[str], env: dict[str, str], expect: int = 0) -> tuple[float, str]:
    began = time.perf_counter()
    done = subprocess.run([LETTERBOX, *args], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - began
    if done.returncode != expect:
        raise SystemExit(f"letterbox {' '.join(args)}: exit {done.returncode}, expected {expect}\n"
                         f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds, done.stdout + done.stderr


def letter_pages(site: Path) -> list[str]:
    return sorted(p.name for p in (site / "letters").iterdir()) if (site / "letters").exists() else []


def stages(repos: dict[str, Path], keys: Keys, work: Path) -> None:
    """Cold builds of each repository in this process, alternating, with the build's stage times
    (the first also loads the tagger's model, once for the process)."""
    from letterbox.store.keys import period_keys
    from letterbox.store.repository import Repository
    from site_builder.build import build_site

    ring = sealing.Keyring((keys.office.read_bytes(),), period_keys(keys.periods))
    for label in ("clear", "sealed", "clear", "sealed"):
        root = repos[label]
        shutil.rmtree(root / ".letterbox-cache", ignore_errors=True)
        began = time.perf_counter()
        report = build_site(Repository(root), work / f"stages-{label}", keyring=ring)
        took = time.perf_counter() - began
        print(f"stages, {label}: {took:.1f} s: " + ", ".join(f"{k} {v:.1f}" for k, v in report.timings.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=10_000)
    parser.add_argument("--intake", type=int, default=200, help="letters per intake run")
    parser.add_argument("--runs", type=int, default=2, help="runs of each measurement per repository")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--stages", action="store_true", help="then one cold build of each in this "
                        "process, with its stage times (`select` includes reading and opening)")
    args = parser.parse_args()
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1790000000")
    os.environ.update(GIT_AUTHOR_NAME="压测", GIT_AUTHOR_EMAIL="bench@example.invalid",
                      GIT_COMMITTER_NAME="压测", GIT_COMMITTER_EMAIL="bench@example.invalid")
    work = args.keep or Path(tempfile.mkdtemp(prefix="sealing-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"sealing bench: {args.letters} letters, {args.intake} intake letters, {args.runs} runs each, "
          f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M %Z')}",
          flush=True)
    try:
        home = work / "home"
        home.mkdir()
        keys = Keys(work / "keys")
        repos = {"clear": work / "clear", "sealed": work / "sealed"}
        for label, root in repos.items():
            began = time.perf_counter()
            spent = make(root, args.letters, keys, label == "sealed")
            print(f"made {label}: {time.perf_counter() - began:.1f} s"
                  + (f" (sealing {spent / args.letters * 1000:.2f} ms per letter)" if spent else ""), flush=True)
        heads = {label: git(root, "rev-parse", "HEAD").strip() for label, root in repos.items()}
        submissions = work / "submissions.jsonl"
        rng = random.Random(16)
        received = datetime.now(timezone(timedelta(hours=8))) - timedelta(hours=1)
        submissions.write_text("".join(json.dumps(
            {**submission(rng, i), "channel": "email",
             "submitted_at": (received + timedelta(seconds=i)).isoformat(timespec="seconds")},
            ensure_ascii=False) + "\n" for i in range(args.intake)), "utf-8")
        bare = environment(home)  # no key anywhere
        reader = environment(home, LETTERBOX_IDENTITY=str(keys.office), LETTERBOX_PERIOD_KEYS=str(keys.periods))
        service = environment(home, LETTERBOX_SIGNING_KEY=str(keys.intake))

        # validate needs no key: it passes on the sealed repository where a build finds none
        _, said = run(["--repo", str(repos["sealed"]), "build", "--out", str(work / "nokey-site")], bare,
                      expect=1)
        print(f"sealed build without keys refused: {said.strip().splitlines()[-1][:120]}")

        figures: dict[tuple[str, str], list[float]] = {}

        def measure(what: str, label: str, fn: Callable[..., float], *extra: bool) -> None:
            seconds = fn(label, *extra)
            figures.setdefault((what, label), []).append(seconds)
            print(f"  {what:<14} {label:<7} {seconds:8.2f} s", flush=True)

        def intake(label: str) -> float:
            root = repos[label]
            seconds, out = run(["--repo", str(root), "intake", "--json", str(submissions)], service)
            got = json.loads(out[out.index("["):])
            assert len(got) == args.intake, out[-500:]
            if label == "sealed":
                text = (root / got[0]["path"]).read_text("utf-8")
                assert "sealed:" in text and "writer:" not in text, "intake did not seal"
            git(root, "reset", "-q", "--hard", heads[label])
            git(root, "clean", "-q", "-fd")
            return seconds / args.intake

        def validate(label: str) -> float:
            return run(["--repo", str(repos[label]), "validate"], bare)[0]

        def build(label: str, cold: bool) -> float:
            root = repos[label]
            if cold:
                shutil.rmtree(root / ".letterbox-cache", ignore_errors=True)
            site = work / f"site-{label}"
            seconds, _ = run(["--repo", str(root), "build", "--out", str(site)],
                             reader if label == "sealed" else bare)
            return seconds

        for round_ in range(args.runs):
            print(f"round {round_ + 1}", flush=True)
            order = ("clear", "sealed") if round_ % 2 == 0 else ("sealed", "clear")  # drift hits both
            for what, fn, extra in (("intake/letter", intake, ()), ("validate", validate, ()),
                                    ("build, cold", build, (True,)), ("build, warm", build, (False,))):
                for label in order:
                    measure(what, label, fn, *extra)
        pages = {label: letter_pages(work / f"site-{label}") for label in repos}
        assert pages["clear"] == pages["sealed"] and pages["clear"], "the sites differ in letter pages"

        print(f"\n{args.letters} letters; medians of {args.runs} runs (wall time, a fresh `letterbox` each)")
        print(f"{'':<16}{'clear':>12}{'sealed':>13}{'overhead':>10}")
        for what in ("intake/letter", "validate", "build, cold", "build, warm"):
            clear = statistics.median(figures[(what, "clear")])
            sealed = statistics.median(figures[(what, "sealed")])
            unit = "ms" if what == "intake/letter" else "s"
            scale = 1000 if unit == "ms" else 1
            print(f"{what:<16}{clear * scale:9.2f} {unit:<3}{sealed * scale:9.2f} {unit:<3}"
                  f"{100 * (sealed / clear - 1):+8.1f} %")
        print(f"letter pages: {len(pages['clear'])} in both sites")
        if args.stages:
            stages(repos, keys, work)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
