"""Regenerate generated documentation: docs/process.md and docs/commands.md."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import commands_doc, process_doc  # noqa: E402

(ROOT / "docs" / "process.md").write_text(process_doc.render(), encoding="utf-8")
(ROOT / "docs" / "commands.md").write_text(commands_doc.render(), encoding="utf-8")
print("docs/process.md and docs/commands.md written")
