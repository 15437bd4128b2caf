"""The `letterbox` command: thin click commands over the core; text for people, --json for machines.

The group and what the commands share live in `cli.app`; each module below registers its
commands on it when imported. `main` is the console entry (`letterbox.cli.main:main`).
"""

from __future__ import annotations

from letterbox.cli import analysis, encryption, lookup, repo, reports, roster, service, site, steps
from letterbox.cli.app import cli

__all__ = ["cli", "main"]
COMMAND_MODULES = (repo, steps, roster, encryption, reports, analysis, lookup, service, site)


def main() -> None:
    cli(prog_name="letterbox")
