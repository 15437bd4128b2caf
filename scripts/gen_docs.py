"""Regenerate generated documentation: docs/process.md and docs/commands.md."""

from pathlib import Path

from letterbox import commands_doc, process_doc

ROOT = Path(__file__).resolve().parent.parent
(ROOT / "docs" / "process.md").write_text(process_doc.render(), encoding="utf-8")
(ROOT / "docs" / "commands.md").write_text(commands_doc.render(), encoding="utf-8")
print("docs/process.md and docs/commands.md written")
