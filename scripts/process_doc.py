"""docs/process.md, generated from the process table so the docs cannot drift."""

from __future__ import annotations

from letterbox.core.process import FOLLOWED, PUBLICATIONS, STATUSES, STEP_BY_ACTION, STEPS

BY = {"office": "信箱办公室", "unit": "承办单位", "leader": "区政府领导", "writer": "来信人"}


MERGED = [
    "## Merged handling (合并办理)",
    "",
    "Letters about one matter (article 5(2): the same as or similar to another letter; the",
    "hotlines' 合并办理) are handled as one: `letterbox merge B C --into A` makes A the lead",
    "letter and B, C its members, in one commit that writes a `merge` event into each of the",
    "three files (a member's names the lead, `into: A`, and takes the lead's classification;",
    "the lead's names its members). Both the lead and the members must be `received` or",
    "`classified`: merging is a triage decision, taken before the letters are routed.",
    "`letterbox intake` and `letterbox similar` propose it: for a letter like an earlier one",
    "they name the similar letters with their reasons and, while the group that letter belongs",
    "to is still `received` or `classified`, the command `letterbox merge NEW --into LEAD`",
    "(LEAD: the earlier letter's lead when it is merged already); afterwards only",
    "`reject --reason duplicate` (a repeated letter, article 5(2)) is proposed.",
    "",
    "From then on each handling step taken on the lead — "
    + ", ".join(f"`{STEP_BY_ACTION[a].command or a}`" for a in sorted(FOLLOWED)) + " —",
    "is recorded by the same commit in every member's file too, the event marked `lead: A`",
    "(a member cannot take these steps itself). So the group has one unit, one deadline",
    "(the same events give the same clock) and one answer, and every writer's own lookup,",
    "notices (答复意见书) and notifications carry it. What stays each letter's own: the writer",
    "and their data (never copied between files), the rating (`feedback`, each writer rates",
    "alone), 复查/复核 requests, reminders, risk flags, a new query code, publication.",
    "",
    "Why recorded rather than derived: the fold (`core/facts.py`) reads one file, and every",
    "reader — the lookup index, notices, the deadline table, the reports, `validate` — works",
    "per letter from its own history. Writing the lead's step into each member keeps each case",
    "file the whole record of its letter (a writer's 答复 is in their own file, signed with the",
    "commit), at the cost of N+1 files per step in one commit, never N commits.",
    "",
    "Refused, with nothing written: merging a letter into itself, an unknown code, a letter",
    "that is closed or already being handled (not `received`/`classified`), a lead that is",
    "itself a member (merge into its lead instead), a member that is a lead, a cycle, a letter",
    "already merged. `letterbox unmerge B --reason …` undoes a mistaken merge in one commit:",
    "B keeps its status, unit and deadline and goes on alone; the lead records who left.",
    "",
    "The public board shows the group as one answered matter: the lead letter's page, with a",
    "line 共有 N 封来信反映此事，合并办理、统一答复 and the count in the lists (`requests.json`:",
    "`letters`); the members' text and writers are not published, and a member's lookup",
    "links to the lead's page. Publication follows the lead's decision. The monthly",
    "supervision report counts the group once for timeliness (closed, on time, late, overdue,",
    "returns and send-backs: by the lead) and each letter for volume (received, assigned to",
    "the unit, ratings, `merged`: letters merged in the month, `merged_closed`: letters closed",
    "with their lead's answer).",
    "",
    "Hand edits: `validate` judges each file (the `lead` marker must name the letter's own",
    "lead, a member's handling steps must carry it, the codes named must exist) and each group",
    "across its files, as `check --base` does for the files a change touches: a member's `lead`",
    "events must be exactly the lead's handling steps while it was a member (time, step,",
    "details), and a member and its lead must name each other.",
]


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
        *MERGED,
        "",
        "## Routing: transfer, escalation, instruction (articles 9-11)",
        "",
        "Who decides what, and the limit that follows (the letter's category never changes on",
        "routing; its limit is the mode's: ordinary 3 working days, complex 20, petition 60 days):",
        "",
        "| who | names | the letter goes to | mode and limit |",
        "|---|---|---|---|",
        "| office, `transfer --unit A` | one unit | A | ordinary (`--complex`: complex) |",
        "| office, `transfer --unit A --co B [--co C]` | a lead unit 主办 and co-handlers 协办 "
        "| A leads, B, C assist (joint handling) | ordinary or complex: the letter's own |",
        "| office, `transfer --unit A --unit B` | several units, no lead | 区信访局, A and B "
        "coordinating (article 9) | petition (60 days) |",
        "| office, `transfer --unit xfj` | the petition bureau | 区信访局 | petition |",
        "| leader, `instruct --unit A [--unit B] [--co C]` | the units of the 批示 | the first "
        "unit leads, the others assist | ordinary or complex: the letter's own |",
        "| leader, `instruct --unit xfj [--unit A]` | the petition bureau | 区信访局, A coordinating "
        "| petition |",
        "",
        "Article 9 sends letters that need several units to coordinate to the petition bureau:",
        "that is the office's routing decision when it names several units without a lead. A",
        "leader's instruction (article 10) is the leader's own assignment: the units named handle",
        "the letter jointly and it keeps its nature (a 建言献策 suggestion stays a suggestion with",
        "its own limit); it becomes a petition case (article 11: 作为信访立案处理) only when the",
        "instruction sends it to the petition bureau. In joint handling the lead unit takes the",
        "unit's steps (answer, extension request, return) and answers for all; the co-handlers can",
        "read a sealed letter and are named on the 《来信办理单》; the details keep them in",
        "`coordinating`.",
        "",
        "Only the leader the letter was escalated to may instruct, or a leader the office records",
        "as standing in (`stand-in --leader L --reason …`, while the letter waits for the",
        "instruction). A history where another leader instructs is illegal (`validate`); with a",
        "roster, the signer must be that leader too (command and `check --base`).",
        "",
        "The 《来信办理单》 (`forms/YYYY/CODE.html`) is written by `escalate` with the office's",
        "拟办意见 (`--proposal`, default 呈请…阅示) and written again in the same commit by",
        "`stand-in`, `instruct`, `return`, `answer`, `approve`, `send-back` and `reopen`, so it",
        "carries the 批示, the routing and the result. For a sealed letter the committed form",
        "never holds the sealed fields (the writer, title, text); `letterbox form CODE --out FILE`",
        "prints the full one. `check --base` accepts a form changed by a non-office signer only",
        "when it is exactly the form the commit's step writes.",
        "",
        "## Notices to the writer",
        "",
        "| notice | step it belongs to | says |",
        "|---|---|---|",
        "| 受理告知书 | the first `transfer` or `instruct` | accepted, the unit(s), the mode and its limit |",
        "| 不予受理告知书 | `reject` | the article 5 ground; (2)/(4): the earlier letter (code, day); "
        "(6): the body of `bodies.discipline` (name, address, phone) |",
        "| 延期告知书 | `grant` (of the `extend` before it) | the reason and the days |",
        "| 答复意见书 | `approve` (of the last `answer`), or `reply` | the answer, the unit, the time "
        "frame (`answer --timeframe`); for a petition case the right to ask `bodies.review` for "
        "复查 within 30 days (信访工作条例 §35) |",
        "| 复查意见书 | `review-decide` of a 复查 | the outcome (维持/撤销/变更), the opinion, the right to "
        "ask the next higher body for 复核 within 30 days (§35) |",
        "| 复核意见书 | `review-decide` of a 复核 | the outcome and the opinion, final (§36) |",
        "",
        "A notice is rendered on demand from the history (`letterbox/ops/notices.py`) rather than",
        "stored a second time: each notice belongs to one step, takes its date from it and its",
        "content from the step's details, so it is a record by virtue of the signed, committed",
        "history, and a notice cannot disagree with the step it reports. The wording is in",
        "`letterbox/templates/notice_<kind>.j2`; a repository may override a template with a file",
        "of the same name in `notice_templates/` (a change of wording or of `bodies` then shows",
        "in notices printed later: keep the printed copy handed to the writer). The text holds no",
        "personal data of the writer: it says 来信人 and the letter code, and the step details it",
        "draws on are those already committed in clear. `letterbox notice CODE [--kind …]` prints",
        "them, `--out FILE.html` writes a printable page, `--pdf FILE.pdf` a PDF (WeasyPrint, the",
        "`pdf` extra, with the machine's CJK font embedded, e.g. Debian fonts-wqy-microhei; refused",
        "when a character has no glyph); the lookup shows them to the writer",
        "(docs/lookup.md, \"Notices in the lookup\").",
        "",
    ]
    return "\n".join(lines)
