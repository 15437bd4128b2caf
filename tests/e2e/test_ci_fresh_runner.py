"""The CI files `letterbox init` writes run green on a clean runner (issue 15, point 5).

What a GitHub runner does for a push, done here for real (the case repository has a roster, so
its commits are signed and the runner verifies them; an unsigned push is then refused): a clone of this project at HEAD is the
pinned tool source (`git+file://…@<commit>`, as `letterbox init --tool-source` writes it); a
fresh case repository gets two letters in one push; a fresh venv (`python -m venv`, no system
site packages) plays the runner's Python; the workflows' `run:` scripts are taken from the
generated YAML in order, the GitHub expressions substituted for a push, and run with
`bash -eo pipefail` (the runner's shell) in the case repository.

The install step pulls every dependency into the fresh venv from this machine's package mirror
(about 1.5 minutes here). The push workflow and the daily workflow have the same install step
(asserted), so it runs once and the daily's other steps run in the same fresh venv: the daily on
its own runner would repeat the identical install. The clone is taken at the project's HEAD, so
uncommitted edits in a working checkout are not what is installed (in CI the checkout is clean).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from letterbox.cli.main import cli
from letterbox.ops.toolsource import DISTRIBUTION, unpinned_installs
from tests.conftest import GIT_ENV, Repo, git, head, lower_iterations, submission

ROOT = Path(__file__).resolve().parents[2]
INSTALL_STEP = "Install letterbox"


def _project_clone(tmp: Path) -> tuple[Path, str]:
    if not (ROOT / ".git").exists():
        pytest.skip("this project is not a git checkout: nothing to pin the tool source to")
    clone = tmp / "letterbox-project"
    git(tmp, "clone", "-q", "--no-hardlinks", str(ROOT), str(clone))
    return clone, head(clone)


def _run_steps(workflow: dict, job: str, repo: Path, env: dict[str, str],
               expressions: dict[str, str], skip: tuple[str, ...] = ()) -> list[str]:
    """Run a GitHub job's `run:` steps in order; return the names run. Fails on the first red."""
    done = []
    for step in workflow["jobs"][job]["steps"]:
        if "run" not in step or step.get("name") in skip:
            continue  # `uses:` steps: checkout (the case repository is here) and setup-python
        script = step["run"]
        for expression, value in expressions.items():
            script = script.replace("${{ " + expression + " }}", value)
        assert "${{" not in script, f"an expression the test does not know: {script}"
        result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                                cwd=repo, env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, (
            f"step {step.get('name')!r} failed ({result.returncode}):\n{script}\n"
            f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}")
        done.append(step.get("name", script))
    return done


def _known_calendar_years(repo: Path, today: datetime) -> None:
    """What the office does each December: record next year's holidays (the daily job's
    `validate --strict-calendar` fails from 1 December until then). Only years the installed
    chinese-calendar lacks get an entry; the data is a stand-in for the State Council notice."""
    import chinese_calendar

    years = {}
    for year in (today.year, today.year + 1):
        try:
            chinese_calendar.is_holiday(date(year, 1, 1))
        except NotImplementedError:
            years[year] = {"source": f"国务院办公厅关于{year}年部分节假日安排的通知（测试用）",
                           "holidays": [f"{year}-01-01"], "workdays": []}
    if years:
        (repo / "calendar.yaml").write_text(yaml.safe_dump({"years": years}, allow_unicode=True),
                                            "utf-8")
        git(repo, "commit", "-q", "-m", "Record next year's holidays", "--", "calendar.yaml")


def test_generated_ci_runs_green_in_a_fresh_venv(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    clone, commit = _project_clone(tmp_path)
    source = f"git+file://localhost{clone.as_posix()}@{commit}"  # pip wants a host in file URLs
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("LETTERBOX_REPO", raising=False)

    # a fresh case repository with a roster (the office administrator and the intake service),
    # made by the command, with the tool source given explicitly
    keys = {}
    for name in ("office", "intake"):
        keys[name] = tmp_path / f"{name}_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(keys[name])], check=True)
    path = tmp_path / "repo"
    made = CliRunner().invoke(cli, ["init", str(path), "--tool-source", source,
                                    "--key", str(keys["office"]), "--name", "信息中心 王静"])
    assert made.exit_code == 0, made.output
    Repo(path, CliRunner()).run("roster", "add", "--name", "网上信箱", "--role", "intake",
                                "--key", f"{keys['intake']}.pub")
    push = (path / ".github/workflows/letterbox.yml").read_text("utf-8")
    daily = (path / ".github/workflows/letterbox-daily.yml").read_text("utf-8")
    lower_iterations(path)
    now = datetime.now(timezone(timedelta(hours=8)))
    _known_calendar_years(path, now)
    before = head(path)  # what the remote had before this push
    repo = Repo(path, CliRunner())
    at = now.replace(microsecond=0).isoformat()
    monkeypatch.setenv("LETTERBOX_SIGNING_KEY", str(keys["intake"]))  # the letters come in signed
    repo.intake(submission(1, submitted_at=at), submission(2, submitted_at=at))
    monkeypatch.delenv("LETTERBOX_SIGNING_KEY")
    assert head(path) != before

    # the runner: a fresh venv, nothing of ours on it
    runner = tmp_path / "runner"
    subprocess.run([sys.executable, "-m", "venv", str(runner)], check=True, timeout=300)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("VIRTUAL_ENV", "PYTHON", "LETTERBOX"))}
    env.update(PATH=f"{runner / 'bin'}{os.pathsep}{env.get('PATH', '')}",
               VIRTUAL_ENV=str(runner), CI="true", GITHUB_ACTIONS="true")
    assert shutil.which("letterbox", path=str(runner / "bin")) is None

    push_yaml, daily_yaml = yaml.safe_load(push), yaml.safe_load(daily)
    [install] = [s["run"] for s in push_yaml["jobs"]["validate"]["steps"]
                 if s.get("name") == INSTALL_STEP]
    [daily_install] = [s["run"] for s in daily_yaml["jobs"]["deadlines"]["steps"]
                       if s.get("name") == INSTALL_STEP]
    assert install == daily_install == f'pip install "{DISTRIBUTION} @ {source}"'
    assert unpinned_installs(install) == []

    expressions = {"github.event_name": "push", "github.event.before": before,
                   "github.base_ref": "", "github.ref": "refs/heads/main", "github.sha": head(path)}
    started = time.monotonic()
    ran = _run_steps(push_yaml, "validate", path, env, expressions)
    installed = time.monotonic() - started
    assert ran == [INSTALL_STEP, "Validate case files", "Check that every change is a legal step"]
    ran = _run_steps(daily_yaml, "deadlines", path, env, expressions, skip=(INSTALL_STEP,))
    assert len(ran) == 2
    print(f"fresh-venv CI run: {time.monotonic() - started:.1f} s "
          f"(push workflow with the install: {installed:.1f} s)")

    # the next push carries an unsigned hand edit: the same check step, on the runner, refuses it
    pushed = head(path)
    (path / "cases" / "notes.txt").write_text("备忘", "utf-8")
    git(path, "add", "cases/notes.txt")
    git(path, "commit", "-q", "--no-gpg-sign", "-m", "a note")
    [check] = [s for s in push_yaml["jobs"]["validate"]["steps"]
               if s.get("name") == "Check that every change is a legal step"]
    script = check["run"].replace("${{ github.event_name }}", "push").replace(
        "${{ github.event.before }}", pushed).replace("${{ github.base_ref }}", "")
    refused = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                             cwd=path, env=env, capture_output=True, text=True, timeout=600)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "没有签名" in refused.stdout + refused.stderr

    # what ran is the pinned commit, installed from git, not this checkout
    shown = subprocess.run([str(runner / "bin" / "python"), "-c",
                            "from importlib import metadata; "
                            f"print(metadata.distribution({DISTRIBUTION!r}).read_text('direct_url.json'))"],
                           capture_output=True, text=True, check=True, env=env,
                           cwd=tmp_path)  # not ROOT: its *.egg-info would answer for the name
    assert commit in shown.stdout and '"vcs": "git"' in shown.stdout.replace("'", '"')
    # and a case repository made by *that* letterbox pins the same commit (PEP 610 round trip)
    again = tmp_path / "again"
    subprocess.run([str(runner / "bin" / "letterbox"), "init", str(again)], check=True, env=env,
                   capture_output=True, text=True, timeout=120)
    line = re.search(r"run: (pip install .*?)\s+#", (again / ".github/workflows/letterbox.yml")
                     .read_text("utf-8"))
    assert line and line.group(1) == install
