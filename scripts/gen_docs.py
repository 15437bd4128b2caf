"""Regenerate generated documentation (docs/process.md)."""

from pathlib import Path

from letterbox import process_doc

ROOT = Path(__file__).resolve().parent.parent
(ROOT / "docs" / "process.md").write_text(process_doc.render(), encoding="utf-8")
print("docs/process.md written")
