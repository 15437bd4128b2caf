"""The statistics stage: `letterbox analyse`'s figures over the letters on the board only.

The numbers are the analysis's own (`letterbox.reports.analysis.breakdown` of the one fold):
per month received, category and unit, and in total, with the one on-time rule. Only the
published letters count, so that the statistics tell nothing about withheld, rejected or open
letters. render.py turns them into the 统计 page, stats.csv and stats.json.

Each letter's facts (`analysis.letter_facts`, timing only) are kept between builds by case-file
blob id and the period (kept_folds.py): the same facts `collect_facts` makes, read back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import partial
from typing import Any

from letterbox.core.calendar import WorkCalendar
from letterbox.core.config import Config
from letterbox.core.letter import Letter
from letterbox.reports.analysis import Facts, Group, breakdown, letter_facts
from letterbox.reports.similar import Gazetteer
from site_builder.kept_folds import KeptFolds
from site_builder.select import Entry

SKIPPED = (KeyError, ValueError, TypeError)  # as `collect_facts` (IllegalStep is a ValueError)


def published_figures(letters: Sequence[Letter], public: Sequence[Entry], config: Config,
                      cal: WorkCalendar, today: date, kept: KeptFolds | None = None) -> dict[str, list[Group]]:
    """The figures (analysis.breakdown) of the letters in ``public``, received up to ``today``
    (`analysis.collect_facts` with timing only; each letter's facts kept in `kept` when given)."""
    shown = {e.code for e in public}
    mine = [x for x in letters if x.code in shown]
    first = min((e.received for e in public), default=today)
    gaz = Gazetteer.from_config(config)
    if kept is not None:
        kept.load(mine, salt=f"statistics:{first.isoformat()}:{today.isoformat()}")
    facts = []
    for letter in mine:
        compute = partial(_facts_json, letter, config, cal, gaz, first, today)
        f = _facts_of(kept.value(letter, compute) if kept is not None else compute())
        if f is not None:
            facts.append(f)
    if kept is not None:
        kept.save()
    facts.sort(key=lambda f: (f.received, f.code))
    return breakdown(facts, config)


def _facts_json(letter: Letter, config: Config, cal: WorkCalendar, gaz: Gazetteer, first: date,
                last: date) -> dict[str, Any] | None:
    """`letter_facts` (timing only) as JSON values; None when it gives none or raises what
    `collect_facts` skips."""
    try:
        f = letter_facts(letter, config, cal, gaz, first, last, timing_only=True)
    except SKIPPED:
        return None
    if f is None:
        return None
    return {"code": f.code, "received": f.received.isoformat(), "category": f.category,
            "units": list(f.units), "closed": f.closed.isoformat() if f.closed else None,
            "working_days": f.working_days, "outcome": f.outcome, "with_group": f.with_group,
            "reviews": [[kind, what, day.isoformat()] for kind, what, day in f.reviews],
            "review_pending": f.review_pending}


def _facts_of(data: dict[str, Any] | None) -> Facts | None:
    if data is None:
        return None
    return Facts(data["code"], date.fromisoformat(data["received"]), data["category"], tuple(data["units"]),
                 None, None, closed=date.fromisoformat(data["closed"]) if data["closed"] else None,
                 working_days=data["working_days"], outcome=data["outcome"], with_group=data["with_group"],
                 reviews=tuple((kind, what, date.fromisoformat(day)) for kind, what, day in data["reviews"]),
                 review_pending=data["review_pending"])
