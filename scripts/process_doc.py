"""docs/process.md, generated from the process table so the docs cannot drift."""

from __future__ import annotations

from letterbox.core.process import STATUSES, STEPS

BY = {"office": "信箱办公室", "unit": "承办单位", "leader": "区政府领导", "writer": "来信人"}


def render() -> str:
    lines = [
        "# The handling process",
        "",
        "Generated from `letterbox/core/process.py` by `python scripts/gen_docs.py`; do not edit by hand.",
        "",
        "## Statuses",
        "",
        "| status | 中文 |",
        "|---|---|",
        *[f"| `{k}` | {v} |" for k, v in STATUSES.items()],
        "",
        "## Steps",
        "",
        "| command | 步骤 | from | to | by | Measures |",
        "|---|---|---|---|---|---|",
    ]
    for step in STEPS:
        sources = ", ".join(f"`{s}`" for s in sorted(step.sources)) if step.action != "receive" else "(intake)"
        target = f"`{step.target}`" if step.target else "unchanged"
        command = "intake" if step.action == "receive" else step.action
        lines.append(f"| `{command}` | {step.label} | {sources} | {target} | {BY[step.by]} | {step.article} |")
    lines += [
        "",
        "Extra rules: `grant`/`refuse` only while an extension request is pending; `extend` only",
        "before the deadline (and once for petition cases, at most 30 days); `publish`/`withhold`",
        "once per closed letter; a closed letter with no decision counts as public; `feedback`",
        "once per handling (a `reopen` allows a new rating). `reopen` sends a closed letter back to",
        "the unit that answered with a fresh clock, or to `classified` when the office had replied",
        "directly. Event times never go backwards within a letter.",
        "",
    ]
    return "\n".join(lines)
