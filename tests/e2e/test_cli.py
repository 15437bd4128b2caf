"""The `letterbox` command itself (issue 2, items 1, 2 and 4): init, units, choosing the repository."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from letterbox.cli.main import cli
from tests.conftest import LETTERBOX_BIN, Repo, git, porcelain, submission


def test_init_makes_an_empty_case_repository(tmp_path: Path) -> None:
    target = tmp_path / "mailbox"
    result = CliRunner().invoke(cli, ["init", str(target)])
    assert result.exit_code == 0, result.output
    assert "已新建案卷库" in result.stdout
    for rel in ("letterbox.yaml", "calendar.yaml", "cases/.gitkeep", "schema/letter.schema.json",
                "schema/config.schema.json", ".github/workflows/letterbox.yml", ".gitlab-ci.yml"):
        assert (target / rel).is_file(), rel
    assert git(target, "rev-list", "--count", "HEAD").strip() == "1"
    assert porcelain(target) == ""
    config = yaml.safe_load((target / "letterbox.yaml").read_text("utf-8"))
    assert config["district"] == "龙安区"
    assert config["office"]["name"] == "区信息中心"
    assert config["letter_code_prefix"] == "LA"
    assert config["time_zone"] == "Asia/Shanghai"
    assert config["query_code"]["iterations"] == 600000
    assert re.fullmatch(r"[0-9a-f]{32}", config["query_code"]["salt"])
    assert config["deadlines"]["ordinary_working_days"] == 3
    assert config["deadlines"]["complex_working_days"] == 20
    assert config["deadlines"]["petition_days"] == 60
    # each repository gets its own salt
    other = tmp_path / "other"
    assert CliRunner().invoke(cli, ["init", str(other)]).exit_code == 0
    salt = yaml.safe_load((other / "letterbox.yaml").read_text("utf-8"))["query_code"]["salt"]
    assert salt != config["query_code"]["salt"]
    # and it validates clean, empty
    assert CliRunner().invoke(cli, ["--repo", str(target), "validate"]).exit_code == 0


def test_init_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("x", "utf-8")
    result = CliRunner().invoke(cli, ["init", str(target)])
    assert result.exit_code == 1
    assert "已存在且不为空" in result.stderr
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]


def _walk(schema: Any, path: str = "") -> list[str]:
    """Properties without a Chinese title or description (`if`/`then` restatements aside)."""
    missing = []
    if isinstance(schema, dict):
        for name, sub in (schema.get("properties") or {}).items():
            here = f"{path}.{name}"
            has_cjk = any(re.search(r"[\u4e00-\u9fff]", str(sub.get(k, ""))) for k in ("title", "description"))
            # `if` conditions and the `then` refinements of an event's details restate properties
            # titled elsewhere; everything else needs Chinese for the staff who read the schema
            if not has_cjk and "/if" not in path and not path.endswith("/then"):
                missing.append(here)
        for key, value in schema.items():
            if key != "properties":
                missing += _walk(value, f"{path}/{key}")
            else:
                for name, sub in value.items():
                    missing += _walk(sub, f"{path}.{name}")
    elif isinstance(schema, list):
        for i, item in enumerate(schema):
            missing += _walk(item, f"{path}[{i}]")
    return missing


def test_letter_schema_is_2020_12_with_chinese_titles(case_repo: Repo) -> None:
    schema = json.loads((case_repo.path / "schema" / "letter.schema.json").read_text("utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "schema_version" in schema["required"]
    assert schema["additionalProperties"] is False
    assert _walk(schema) == []
    assert set(schema["properties"]["writer"]["properties"]) == {"name", "phone", "address", "email"}


def test_units_json(case_repo: Repo) -> None:
    rows = case_repo.json("units")
    assert all(set(r) == {"code", "name", "kind", "role"} for r in rows)
    by_code = {r["code"]: r for r in rows}
    assert len(by_code) == len(rows)
    assert by_code["xfj"] == {"code": "xfj", "name": "区信访局", "kind": "工作部门", "role": "petition"}
    assert by_code["zjw"]["role"] == "discipline" and by_code["zjw"]["name"] == "区纪委监委"
    kinds = {r["kind"] for r in rows}
    assert kinds == {"镇/乡", "街道办事处", "工作部门", "分局", "直属机构"}
    text = case_repo.run("units").stdout
    assert "区住房和城乡建设局" in text and "龙安区承办单位名录" in text


def test_repository_from_option_environment_or_current_folder(case_repo: Repo, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    case_repo.new_letter(1)
    runner = CliRunner()
    # LETTERBOX_REPO
    result = runner.invoke(cli, ["list", "--json"], env={"LETTERBOX_REPO": str(case_repo.path)})
    assert [r["letter_code"] for r in json.loads(result.stdout)] == ["LA-2026-00001"]
    # the git repository around the current folder
    monkeypatch.chdir(case_repo.path / "cases")
    result = runner.invoke(cli, ["list", "--json"])
    assert [r["letter_code"] for r in json.loads(result.stdout)] == ["LA-2026-00001"]
    # outside any repository: a clear message
    outside = tmp_path / "plain"
    outside.mkdir()
    monkeypatch.chdir(outside)
    result = runner.invoke(cli, ["list"])
    assert result.exit_code == 1
    assert "不在 git 仓库中" in result.stderr and "--repo" in result.stderr
    # a git repository that is not a case repository
    subprocess.run(["git", "init", "-q"], cwd=outside, check=True)
    result = runner.invoke(cli, ["--repo", str(outside), "list"])
    assert result.exit_code == 1
    assert "找不到配置文件 letterbox.yaml" in result.stderr


def test_read_commands_have_json(case_repo: Repo) -> None:
    case_repo.new_letter(1)
    sha = case_repo.git("rev-parse", "HEAD").strip()
    for args in (["units"], ["validate"], ["list"], ["show", "LA-2026-00001"], ["check", "--base", sha]):
        json.loads(case_repo.run(*args, "--json").stdout)


def test_installed_command_runs(case_repo: Repo) -> None:
    path = case_repo.write_submission("s.json", submission(1))
    done = subprocess.run([LETTERBOX_BIN, "--repo", str(case_repo.path), "intake", str(path), "--json"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["letter_code"] == "LA-2026-00001"
    done = subprocess.run([LETTERBOX_BIN, "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "区长信箱" in done.stdout
    for command in ("intake", "validate", "reject", "transfer", "escalate", "check"):
        assert command in done.stdout


def test_config_errors_are_located(case_repo: Repo) -> None:
    config = case_repo.path / "letterbox.yaml"
    text = config.read_text("utf-8").replace("letter_code_prefix: LA", "letter_code_prefx: LA")
    config.write_text(text, "utf-8")
    result = case_repo.run("units", expect=1)
    assert "letterbox.yaml" in result.stderr
    assert "letter_code_prefx" in result.stderr or "letter_code_prefix" in result.stderr


def test_lazy_command_map_is_complete_and_validate_imports_little(case_repo: Repo) -> None:
    """Every command a module registers is in `cli.main.COMMANDS` under that module (a command
    left out would vanish from `letterbox`), and running `validate` does not import the site,
    analysis or encryption commands (their imports cost every push's CI run start-up)."""
    probe = (
        "import importlib, json, sys\n"
        "from letterbox.cli.app import cli\n"
        "from letterbox.cli.main import COMMANDS, COMMAND_MODULES\n"
        "found = {}\n"
        "for module in COMMAND_MODULES:\n"
        "    before = set(cli.commands)\n"
        "    importlib.import_module('letterbox.cli.' + module)\n"
        "    found.update(dict.fromkeys(set(cli.commands) - before, module))\n"
        "print(json.dumps([found, COMMANDS]))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    found, declared = json.loads(done.stdout)
    assert found == declared
    runner = (
        "import sys\n"
        "from letterbox.cli.main import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('\\nMODULES', ' '.join(sorted(m for m in sys.modules if m.startswith(('letterbox', 'site_builder')))))\n")
    done = subprocess.run([sys.executable, "-c", runner, "--repo", str(case_repo.path),
                           "validate"], capture_output=True, text=True, check=False)
    modules = done.stdout.rsplit("MODULES", 1)[1].split()
    assert "letterbox.cli.repo" in modules
    for heavy in ("letterbox.cli.analysis", "letterbox.cli.site", "letterbox.cli.encryption",
                  "letterbox.reports.similar", "site_builder.build"):
        assert heavy not in modules, heavy
    help_text = subprocess.run([LETTERBOX_BIN, "--help"], capture_output=True, text=True, check=True).stdout
    for name in declared:
        assert name in help_text, name
