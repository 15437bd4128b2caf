"""docs/process.md, generated from the process table so the docs cannot drift."""

from __future__ import annotations

from letterbox.core.process import PUBLICATIONS, STATUSES, STEPS

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
        command = "intake" if step.action == "receive" else (step.command or step.action)
        lines.append(f"| `{command}` | {step.label} | {sources} | {target} | {BY[step.by]} | {step.article} |")
    lines += [
        "",
        "## Publication decisions (article 13)",
        "",
        "On an answered letter (closed or archived; a rejected letter has no answer and no",
        "decision), any decision may follow another; the step table says which:",
        "",
        "| command | records | may follow | the board | the writer's lookup shows |",
        "|---|---|---|---|---|",
    ]
    for step in STEPS:
        if step.publication is None or step.after is None:
            continue
        after = ", ".join("none" if d is None else f"`{d}`" for d in sorted(step.after, key=str))
        board = "on the board" if step.publication == "public" else "not on the board"
        link = ", link to the page" if step.publication == "public" else ", no link"
        lines.append(f"| `{step.action}` | `{step.publication}` ({PUBLICATIONS[step.publication]}) | "
                     f"{after} | {board} | status; timeline: {step.writer_label}{link} |")
    lines += [
        "",
        "No decision yet counts as public (article 13: published unless withheld). `unpublish`",
        "(takedown) needs `--reason` (kept in the case file, not in the commit message); the next",
        "`letterbox build` leaves out the letter's page, list rows, search record, statistics and",
        "`requests.json` entry, and the lookup keeps the status without the link (docs/site.md).",
        "",
        "Extra rules: `grant`/`refuse` only while an extension request is pending; `extend` only",
        "before the deadline (and once for petition cases, at most 30 days); one rating per",
        "handling, `feedback` by the writer on the web or `feedback --by-phone` (step",
        "`phone-feedback`) by the office after a 回访 call, both counted as the writer's rating in",
        "the monthly report (a `reopen` allows a new rating). `reopen` sends a closed letter back to",
        "the unit that answered with a fresh clock, or to `classified` when the office had replied",
        "directly. Event times never go backwards within a letter.",
        "",
    ]
    return "\n".join(lines)
