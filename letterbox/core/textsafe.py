"""Characters a writer's text must not carry as they are to a terminal or a public page.

C0 controls except tab and newline (U+0000–U+001F), DEL and the C1 controls (U+007F–U+009F),
the bidi embeddings and overrides (U+202A–U+202E), the bidi isolates (U+2066–U+2069) and the
left-to-right / right-to-left marks (U+200E, U+200F). Sent through the web form or an intake
file, they would move the cursor or recolour a staff terminal (ESC sequences) or reorder what
is shown (RLO makes ``txt.exe`` of ``exe.txt``), on a terminal and on the public board alike.

Staff output shows them escaped (`escape_unsafe`, in the CLI's consoles and JSON); the public
board drops them (`strip_unsafe`, in the site's select stage).
"""

from __future__ import annotations

import re

UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _code(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def strip_unsafe(text: str) -> str:
    """``text`` without the unsafe characters (a CR before a newline goes too)."""
    return UNSAFE.sub("", text) if UNSAFE.search(text) else text


def escape_unsafe(text: str) -> str:
    """``text`` with each unsafe character written as ``\\uXXXX`` (visible, inert); Windows
    line ends (CR LF) become plain newlines first."""
    if not UNSAFE.search(text):
        return text
    return UNSAFE.sub(_code, text.replace("\r\n", "\n"))


def escape_unsafe_json(text: str) -> str:
    """JSON text with the unsafe characters (which can only be inside its strings) written as
    JSON escapes: the same data, inert on a terminal."""
    return UNSAFE.sub(_code, text) if UNSAFE.search(text) else text
