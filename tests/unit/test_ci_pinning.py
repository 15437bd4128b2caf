"""The CI files `letterbox init` writes install this project's code pinned to a commit or hash
(issue 15, point 5): never a bare name (`letterbox` on the public registry is someone else's),
never `name==version`, a branch or a short commit. Planted bad lines prove the check bites."""

from __future__ import annotations

import pytest

from letterbox.core.errors import LetterboxError
from letterbox.ops import toolsource
from letterbox.ops.scaffold import scaffold_files
from letterbox.ops.toolsource import (
    DISTRIBUTION,
    install_command,
    unpinned_installs,
    validate_tool_source,
    workflow_scripts,
)

COMMIT = "0123456789abcdef0123456789abcdef01234567"
SHA256 = "ab" * 32
GIT = f"git+https://git.example.org/office/letterbox.git@{COMMIT}"
WHEEL = f"https://files.example.org/quzhang_xinxiang-0.1.0-py3-none-any.whl#sha256={SHA256}"
CI_FILES = (".github/workflows/letterbox.yml", ".github/workflows/letterbox-daily.yml",
            ".gitlab-ci.yml")


def installs(text: str) -> list[str]:
    return [s for s in workflow_scripts(text) if "pip install" in s]


@pytest.mark.parametrize("source", [GIT, WHEEL, f"git+ssh://git@git.example.org/o/l.git@{COMMIT}",
                                    f"git+file://localhost/srv/git/letterbox.git@{COMMIT}"])
def test_every_generated_ci_file_installs_pinned(source: str) -> None:
    files = scaffold_files(tool_source=source)
    for rel in CI_FILES:
        scripts = workflow_scripts(files[rel])
        assert scripts, rel
        assert [p for s in scripts for p in unpinned_installs(s)] == [], rel
        assert installs(files[rel]) == [f'pip install "{DISTRIBUTION} @ {source}"'], rel
        assert "LETTERBOX_PACKAGE" not in files[rel] and "letterbox==" not in files[rel]


def test_without_a_pinned_source_the_install_step_fails_and_says_why(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(toolsource, "installed_tool_source", lambda: None)
    files = scaffold_files()
    for rel in CI_FILES:
        [step] = [s for s in workflow_scripts(files[rel]) if "--tool-source" in s]
        assert step.endswith("exit 1") and "请把本步骤改为" in step, rel
        assert [p for s in workflow_scripts(files[rel]) for p in unpinned_installs(s)] == []
        assert installs(files[rel]) == [step]  # the advice only mentions pip install, in echo


def test_the_installed_source_is_read_from_direct_url() -> None:
    git = {"url": "https://git.example.org/office/letterbox.git",
           "vcs_info": {"vcs": "git", "commit_id": COMMIT, "requested_revision": "main"}}
    assert toolsource._source_of(git) == GIT
    wheel = {"url": WHEEL.split("#")[0], "archive_info": {"hashes": {"sha256": SHA256}}}
    assert toolsource._source_of(wheel) == WHEEL
    old_style = {"url": WHEEL.split("#")[0], "archive_info": {"hash": f"sha256={SHA256}"}}
    assert toolsource._source_of(old_style) == WHEEL
    assert toolsource._source_of({"url": "file:///work/main", "dir_info": {"editable": True}}) is None
    assert toolsource._source_of({**git, "subdirectory": "tools"}) is None


def test_the_editable_development_install_is_not_a_pinned_source() -> None:
    # this checkout is installed with `pip install -e .`: a folder, pinned to nothing
    assert toolsource.installed_tool_source() is None


@pytest.mark.parametrize("bad", [
    "letterbox", "letterbox==0.1.0", DISTRIBUTION, "git+https://git.example.org/l.git",
    "git+https://git.example.org/l.git@main", "git+https://git.example.org/l.git@v0.1.0",
    f"git+https://git.example.org/l.git@{COMMIT[:7]}", f"git+http://git.example.org/l.git@{COMMIT}",
    f"git+https://git.example.org/l.git@{COMMIT.upper()}x", f"{GIT}#egg=letterbox",
    "https://files.example.org/l.whl", f"http://files.example.org/l.whl#sha256={SHA256}",
    f"https://files.example.org/l.whl#md5={SHA256[:32]}", f"https://x.org/l.whl#sha256={SHA256[:60]}",
    f"git+https://x.org/l.git@{COMMIT}; curl evil", f'git+https://x.org/"l.git@{COMMIT}', "",
])
def test_tool_source_refused(bad: str) -> None:
    with pytest.raises(LetterboxError, match="必须固定到某一提交或文件哈希"):
        validate_tool_source(bad)


def test_tool_source_accepted_also_with_the_name() -> None:
    assert validate_tool_source(f"  {GIT} ") == GIT
    # `name @ git+file:///…` is an invalid requirement to pip: a host is added
    assert (validate_tool_source(f"git+file:///srv/git/letterbox.git@{COMMIT}")
            == f"git+file://localhost/srv/git/letterbox.git@{COMMIT}")
    assert validate_tool_source(f"{DISTRIBUTION} @ {GIT}") == GIT
    assert validate_tool_source(WHEEL) == WHEEL
    with pytest.raises(LetterboxError):
        install_command("letterbox==0.1.0")


# -- the checker itself: planted bad lines must fail ----------------------------------------

BAD_LINES = [
    'pip install letterbox',
    'pip install "letterbox==0.1.0"',
    'pip install quzhang-xinxiang==0.1.0',
    'pip install "${LETTERBOX_PACKAGE:-letterbox==0.1.0}"',
    'pip install "$LETTERBOX_PACKAGE"',
    'pip install "quzhang-xinxiang @ git+https://git.example.org/l.git"',
    'pip install "quzhang-xinxiang @ git+https://git.example.org/l.git@main"',
    f'pip install "quzhang-xinxiang @ git+https://git.example.org/l.git@{COMMIT[:12]}"',
    'pip install git+https://git.example.org/l.git@v1.2',
    'pip install https://files.example.org/l.whl',
    'pip install -e .',
    'pip install .',
    'pip install -r requirements.txt',
    f'pip install -U {GIT} letterbox',  # one pinned, one not
    'python -m pip install letterbox',
    '/usr/bin/python3.11 -m pip install --upgrade letterbox',
    'pip3 install --index-url https://pypi.example.org/simple letterbox',
    f'python -m pip install --quiet "{DISTRIBUTION} @ {GIT}" && pip install rich',
    'cd /tmp; PIP_NO_CACHE_DIR=1 pip install letterbox',
    'uv pip install letterbox',
    'pip install \\\n  letterbox',
    f'pip install {DISTRIBUTION} @ git+https://x.org/l.git@dev',
]

GOOD_LINES = [
    f'pip install "{DISTRIBUTION} @ {GIT}"',
    f"pip install '{DISTRIBUTION} @ {WHEEL}'",
    f'python -m pip install -q --no-cache-dir "{DISTRIBUTION} @ {GIT}"',
    f'pip install {DISTRIBUTION} @ {GIT}',  # unquoted: three words
    f'pip install {GIT}',
    'echo "do not pip install letterbox" >&2; exit 1',
    'pip --version',
    'letterbox validate  # pip install letterbox would be wrong',
]


@pytest.mark.parametrize("line", BAD_LINES)
def test_checker_fails_on_unpinned_installs(line: str) -> None:
    assert unpinned_installs(line), line


@pytest.mark.parametrize("line", GOOD_LINES)
def test_checker_passes_pinned_installs(line: str) -> None:
    assert unpinned_installs(line) == [], line


def test_checker_reads_planted_bad_workflow_files() -> None:
    files = scaffold_files(tool_source=GIT)
    good = f'pip install "{DISTRIBUTION} @ {GIT}"'
    for rel in CI_FILES:
        planted = files[rel].replace(good, 'pip install "letterbox==0.1.0"')
        assert planted != files[rel], rel
        problems = [p for s in workflow_scripts(planted) for p in unpinned_installs(s)]
        assert len(problems) == 1 and "letterbox==0.1.0" in problems[0], (rel, problems)
    # a second step in another job, in a multi-line script
    gitlab = files[".gitlab-ci.yml"].replace(
        "    - letterbox deadlines --fail-on overdue",
        "    - |\n      cd /tmp\n      pip install --upgrade letterbox\n"
        "    - letterbox deadlines --fail-on overdue")
    assert len([p for s in workflow_scripts(gitlab) for p in unpinned_installs(s)]) == 1


def test_scaffold_refuses_to_write_an_unpinned_ci_file(monkeypatch: pytest.MonkeyPatch) -> None:
    from letterbox.ops import scaffold

    monkeypatch.setattr(scaffold, "install_command", lambda source: "pip install letterbox")
    with pytest.raises(LetterboxError, match="未固定到提交或哈希"):
        scaffold.scaffold_files(tool_source=GIT)
