"""Docs that cannot drift: generated pages match their source, commands are documented."""

from pathlib import Path

from click.testing import CliRunner

from letterbox.cli.main import cli
from letterbox.core.schemas import SCHEMA_FILES, schema_text
from scripts import commands_doc, process_doc

ROOT = Path(__file__).resolve().parents[2]


def test_process_doc_is_current() -> None:
    assert (ROOT / "docs" / "process.md").read_text("utf-8") == process_doc.render(), (
        "run python scripts/gen_docs.py"
    )


def test_command_reference_is_current() -> None:
    assert (ROOT / "docs" / "commands.md").read_text("utf-8") == commands_doc.render(), (
        "run python scripts/gen_docs.py"
    )


def test_schema_copies_match_package() -> None:
    for name in SCHEMA_FILES:
        assert (ROOT / "schema" / name).read_text("utf-8") == schema_text(name)


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for name, command in cli.commands.items():
        assert command.help, f"{name} has no help text"
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, name


def test_demo_repository_validates() -> None:
    result = CliRunner().invoke(cli, ["--repo", str(ROOT), "validate", "--json"])
    assert result.exit_code == 0, result.output
