"""The `letterbox` command: thin click commands over the core; text for people, --json for machines.

The group and what the commands share live in `cli.app`; each module below registers its
commands on it when imported. A command's module is imported only when the command runs
(`COMMANDS`, checked complete by tests/e2e/test_cli.py), so the start-up of `validate` or
`check` — run on every push — does not import the site, analysis and encryption commands.
`main` is the console entry (`letterbox.cli.main:main`).
"""

from __future__ import annotations

from letterbox.cli.app import cli

__all__ = ["COMMANDS", "COMMAND_MODULES", "cli", "main"]

COMMAND_MODULES = ("repo", "steps", "roster", "encryption", "reports", "analysis", "lookup", "service", "site", "notice", "notify")

COMMANDS = {
    **dict.fromkeys(("init", "units", "validate", "check", "list", "show"), "repo"),
    **dict.fromkeys(("intake", "classify", "transfer", "stand-in", "escalate", "instruct", "remind",
                     "extend", "grant", "refuse", "answer", "reply", "approve", "send-back", "return",
                     "reject", "reopen", "archive", "publish", "withhold", "unpublish", "flag-risk",
                     "feedback", "form", "assign-handler", "review", "review-decide", "reissue", "merge", "unmerge"),
                    "steps"),
    **dict.fromkeys(("key", "roster", "who"), "roster"),
    **dict.fromkeys(("period", "encrypt", "rewrap", "shred"), "encryption"),
    **dict.fromkeys(("deadlines", "report"), "reports"),
    **dict.fromkeys(("similar", "analyse"), "analysis"),
    **dict.fromkeys(("lookup", "lookup-refresh"), "lookup"),
    **dict.fromkeys(("reopen-list", "serve-intake"), "service"),
    **dict.fromkeys(("build", "serve", "preview"), "site"),
    "notice": "notice",
    "notify": "notify",
}

cli.lazy = {name: f"letterbox.cli.{module}" for name, module in COMMANDS.items()}


def main() -> None:
    cli(prog_name="letterbox")
