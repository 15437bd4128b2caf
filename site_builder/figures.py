"""The statistics stage: `letterbox analyse`'s figures over the letters on the board only.

The numbers are the analysis's own (`letterbox.reports.analysis.breakdown` of the one fold):
per month received, category and unit, and in total, with the one on-time rule. Only the
published letters count, so that the statistics tell nothing about withheld, rejected or open
letters. render.py turns them into the 统计 page, stats.csv and stats.json.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from letterbox.core.calendar import WorkCalendar
from letterbox.core.config import Config
from letterbox.core.letter import Letter
from letterbox.reports.analysis import Group, breakdown, collect_facts
from site_builder.select import Entry


def published_figures(letters: Sequence[Letter], public: Sequence[Entry], config: Config,
                      cal: WorkCalendar, today: date) -> dict[str, list[Group]]:
    """The figures (analysis.breakdown) of the letters in ``public``, received up to ``today``."""
    shown = {e.code for e in public}
    mine = [x for x in letters if x.code in shown]
    first = min((e.received for e in public), default=today)
    facts = collect_facts(mine, config, cal, first, today, timing_only=True)
    return breakdown(facts, config)
