"""docs/commands.md, generated from the commands' own --help so the reference cannot drift."""

from __future__ import annotations

import click

from letterbox.cli.main import cli


def render() -> str:
    lines = [
        "# Command reference",
        "",
        "Generated from `letterbox COMMAND --help` by `python scripts/gen_docs.py`; do not edit by hand.",
        "",
        "```text",
        _help(cli, "letterbox").rstrip(),
        "```",
        "",
    ]
    for name in sorted(cli.commands):
        lines += [f"## `letterbox {name}`", "", "```text", _help(cli.commands[name], f"letterbox {name}").rstrip(), "```", ""]
    return "\n".join(lines)


def _help(command: click.Command, name: str) -> str:
    # The same help option names as the real CLI (click caches the help option per command).
    settings = cli.context_settings
    with click.Context(command, info_name=name, terminal_width=100, max_content_width=100,
                       help_option_names=settings["help_option_names"]) as ctx:
        return command.get_help(ctx)
