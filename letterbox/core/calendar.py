"""Working days in mainland China, and deadline arithmetic on top of them.

Sources, in order of precedence for a given year:

1. the repository override file (``calendar.yaml``), transcribed from the State Council
   notice (国务院办公厅关于某年部分节假日安排的通知);
2. the ``chinese_calendar`` library, which carries the notices' holidays *and* make-up
   working days (调休上班) and refuses years it does not know;
3. otherwise the year is *provisional*: weekends off plus the fixed-date holidays only
   (元旦 1/1, 劳动节 5/1, 国庆节 10/1-10/3), no make-up days. Every working-day result
   that touches such a year is flagged ``provisional``.

See docs/calendar.md for why ``chinese_calendar`` and not ``holidays``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import chinese_calendar  # type: ignore[import-untyped]
import yaml

from letterbox.core.errors import Problem
from letterbox.core.yamlio import syntax_problem

DayKind = Literal["workday", "weekend", "holiday", "makeup_workday"]
Unit = Literal["working_days", "calendar_days"]

ONE_DAY = timedelta(days=1)
WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
WEEKEND_REASON = "周末"
DEFAULT_HOLIDAY_NAME = "法定节假日"
LIBRARY_SOURCE = "chinese_calendar"
PROVISIONAL_HOLIDAYS: dict[tuple[int, int], str] = {
    (1, 1): "元旦",
    (5, 1): "劳动节",
    (10, 1): "国庆节",
    (10, 2): "国庆节",
    (10, 3): "国庆节",
}


def format_day(d: date) -> str:
    """``2025-01-26（周日）``."""
    return f"{d.isoformat()}（{WEEKDAY_NAMES[d.weekday()]}）"


def _is_weekend(d: date) -> bool:
    return d.weekday() >= 5


# --------------------------------------------------------------------------- data types


@dataclass(frozen=True)
class DayInfo:
    """What one calendar day is, and on whose authority."""

    day: date
    kind: DayKind
    name: str | None = None
    provisional: bool = False

    @property
    def is_working_day(self) -> bool:
        return self.kind in ("workday", "makeup_workday")

    @property
    def reason(self) -> str:
        """Why the day is off (or what a make-up day belongs to), in Chinese."""
        if self.kind == "weekend":
            return WEEKEND_REASON
        return self.name or ""


@dataclass(frozen=True)
class YearOverride:
    """One year transcribed from a State Council notice into calendar.yaml."""

    year: int
    source: str
    holidays: Mapping[date, str]
    workdays: Mapping[date, str | None]


@dataclass(frozen=True)
class DeadlineComputation:
    """A due date together with everything needed to explain it to staff."""

    start: date
    due: date
    days: int
    unit: Unit
    clock_start: date
    skipped: list[tuple[date, str]] = field(default_factory=list)
    makeup_days_counted: list[date] = field(default_factory=list)
    provisional: bool = False
    provisional_years: list[int] = field(default_factory=list)
    extension_days: int = 0
    original_due: date | None = None
    rule: str = ""
    rolled_from: date | None = None  # a calendar-day period's last day, when it was a day off
    roll_reason: str = ""  # why that day was off (周末, 国庆节, ...)

    def copy(self) -> DeadlineComputation:
        """An equal computation with lists of its own (cached computations are handed out so)."""
        new = object.__new__(DeadlineComputation)
        new.__dict__.update(self.__dict__, skipped=list(self.skipped),
                            makeup_days_counted=list(self.makeup_days_counted),
                            provisional_years=list(self.provisional_years))
        return new

    def explain(self) -> list[str]:
        """The computation step by step, in plain Chinese."""
        lines = [f"适用规则：{self.rule}"] if self.rule else []
        lines.append(f"起算：{format_day(self.start)}，自次日 {format_day(self.clock_start)}起计算")
        lines.append(_period_line(self.unit, self.days))
        lines.extend(_skipped_lines(self.skipped))
        if self.makeup_days_counted:
            days = "、".join(format_day(d) for d in self.makeup_days_counted)
            lines.append(f"调休上班日按工作日计入：{days}")
        if self.extension_days:
            lines.append(_extension_line(self))
        if self.rolled_from is not None:
            lines.append(f"期间届满日 {format_day(self.rolled_from)}是{self.roll_reason}，"
                         f"顺延至其后第一个工作日（见 docs/deadlines.md）")
        lines.append(f"到期日：{format_day(self.due)}")
        if self.provisional:
            lines.append(provisional_note(self.provisional_years))
        return lines


def _period_line(unit: Unit, days: int) -> str:
    if unit == "working_days":
        return f"期限：{days} 个工作日（周末、法定节假日不计，调休上班日计入）"
    return f"期限：{days} 日（按日历日计算，节假日不扣除）"


def _skipped_lines(skipped: Sequence[tuple[date, str]]) -> list[str]:
    lines = []
    for first, last, reason in _runs(skipped):
        if first == last:
            lines.append(f"跳过 {format_day(first)}：{reason}")
        else:
            count = (last - first).days + 1
            lines.append(f"跳过 {format_day(first)}至 {format_day(last)}：{reason}（{count} 天）")
    return lines


def _runs(skipped: Sequence[tuple[date, str]]) -> list[tuple[date, date, str]]:
    """Group consecutive skipped days with the same reason."""
    runs: list[tuple[date, date, str]] = []
    for day, reason in skipped:
        if runs and runs[-1][2] == reason and runs[-1][1] + ONE_DAY == day:
            runs[-1] = (runs[-1][0], day, reason)
        else:
            runs.append((day, day, reason))
    return runs


def _extension_line(comp: DeadlineComputation) -> str:
    unit = "个工作日" if comp.unit == "working_days" else "日"
    original = format_day(comp.original_due) if comp.original_due else "原期限"
    if comp.unit == "working_days":
        return f"延期：{comp.extension_days} {unit}，自原到期日 {original}次日起算，延至 {format_day(comp.due)}"
    until = comp.rolled_from or comp.due  # counted from the period's own last day, not a rolled one
    return f"延期：{comp.extension_days} {unit}，自原期间届满日 {original}次日起算，至 {format_day(until)}"


def provisional_note(years: Iterable[int]) -> str:
    """The caveat shown next to any deadline computed with a provisional year."""
    listed = "、".join(str(y) for y in years)
    return (
        f"暂定：{listed} 年的法定节假日安排尚未公布或尚未录入，暂按周末及固定日期节日"
        "（元旦、劳动节、国庆节）推算，不含调休；正式安排录入后期限可能变化。"
    )


# --------------------------------------------------------------------------- library


def library_knows_year(year: int) -> bool:
    """True if chinese_calendar holds the State Council arrangement for ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def _chinese_holiday_name(english: str) -> str:
    try:
        return str(chinese_calendar.Holiday(english).chinese)
    except ValueError:
        return english


def _library_day_info(d: date) -> DayInfo:
    off, english = chinese_calendar.get_holiday_detail(d)
    name = _chinese_holiday_name(english) if english else None
    if not off:
        kind: DayKind = "makeup_workday" if _is_weekend(d) else "workday"
    else:
        kind = "holiday" if name else "weekend"
    return DayInfo(d, kind, name)


def _override_day_info(d: date, override: YearOverride) -> DayInfo:
    if d in override.workdays:
        kind: DayKind = "makeup_workday" if _is_weekend(d) else "workday"
        return DayInfo(d, kind, override.workdays[d])
    if d in override.holidays:
        return DayInfo(d, "holiday", override.holidays[d])
    return DayInfo(d, "weekend" if _is_weekend(d) else "workday")


def _provisional_day_info(d: date) -> DayInfo:
    name = PROVISIONAL_HOLIDAYS.get((d.month, d.day))
    if name:
        return DayInfo(d, "holiday", name, provisional=True)
    return DayInfo(d, "weekend" if _is_weekend(d) else "workday", provisional=True)


# --------------------------------------------------------------------------- calendar


class WorkCalendar:
    """Mainland China working days: library data, repository overrides, provisional rest."""

    def __init__(
        self,
        overrides: Mapping[int, YearOverride] | None = None,
        *,
        problems: Sequence[Problem] = (),
        calendar_file_name: str = "calendar.yaml",
    ) -> None:
        self.overrides: dict[int, YearOverride] = dict(overrides or {})
        self.problems: list[Problem] = list(problems)
        self.calendar_file_name = calendar_file_name
        self._days: dict[date, DayInfo] = {}
        self._known: dict[int, bool] = {}

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> WorkCalendar:
        """Library data plus the overrides in ``path`` (a missing file means none)."""
        overrides, problems = load_calendar_file(path)
        return cls(overrides, problems=problems, calendar_file_name=Path(path).name)

    # ---- years

    def is_known_year(self, year: int) -> bool:
        """Announced: in the override file or in the library. Otherwise provisional."""
        if year not in self._known:
            self._known[year] = year in self.overrides or library_knows_year(year)
        return self._known[year]

    def year_source(self, year: int) -> str | None:
        """Where the year's arrangement comes from, or None if provisional."""
        if year in self.overrides:
            return self.overrides[year].source
        return LIBRARY_SOURCE if library_knows_year(year) else None

    def provisional_years(self, first: date, last: date) -> list[int]:
        """Years between two dates (inclusive, any order) that are not announced."""
        low, high = sorted((first.year, last.year))
        return [y for y in range(low, high + 1) if not self.is_known_year(y)]

    # ---- days

    def day_info(self, d: date) -> DayInfo:
        info = self._days.get(d)
        if info is None:
            info = self._compute_day_info(d)
            self._days[d] = info
        return info

    def _compute_day_info(self, d: date) -> DayInfo:
        if d.year in self.overrides:
            return _override_day_info(d, self.overrides[d.year])
        if self.is_known_year(d.year):
            return _library_day_info(d)
        return _provisional_day_info(d)

    def is_working_day(self, d: date) -> bool:
        return self.day_info(d).is_working_day

    # ---- arithmetic

    def add_working_days(self, start: date, n: int) -> DeadlineComputation:
        """The n-th working day after ``start`` (the clock starts the day after)."""
        _require_non_negative(n, "工作日数")
        day, counted = start, 0
        skipped: list[tuple[date, str]] = []
        makeup: list[date] = []
        while counted < n:
            day += ONE_DAY
            info = self.day_info(day)
            if not info.is_working_day:
                skipped.append((day, info.reason))
                continue
            counted += 1
            if info.kind == "makeup_workday":
                makeup.append(day)
        years = self.provisional_years(start, day)
        return DeadlineComputation(
            start=start,
            due=day,
            days=n,
            unit="working_days",
            clock_start=start + ONE_DAY,
            skipped=skipped,
            makeup_days_counted=makeup,
            provisional=bool(years),
            provisional_years=years,
        )

    def add_calendar_days(self, start: date, n: int) -> DeadlineComputation:
        """``start`` + n calendar days (the clock starts the day after).

        Never provisional: the result does not depend on any holiday arrangement.
        """
        _require_non_negative(n, "日数")
        return DeadlineComputation(
            start=start,
            due=start + timedelta(days=n),
            days=n,
            unit="calendar_days",
            clock_start=start + ONE_DAY,
        )

    def roll_forward(self, day: date) -> tuple[date, str]:
        """``day`` when it is a working day, else the first working day after it, with the
        reason the first day was off ("" when not moved): a calendar-day period that ends on a
        weekend or statutory holiday ends on the next working day (docs/deadlines.md)."""
        info = self.day_info(day)
        if info.is_working_day:
            return day, ""
        moved = day + ONE_DAY
        while not self.is_working_day(moved):
            moved += ONE_DAY
        return moved, info.reason

    def working_days_between(self, a: date, b: date) -> int:
        """Working days after ``a`` up to and including ``b``; negative if ``b`` < ``a``."""
        if b < a:
            return -self.working_days_between(b, a)
        span = (b - a).days
        return sum(1 for k in range(1, span + 1) if self.is_working_day(a + timedelta(days=k)))

    # ---- warnings

    def missing_next_year_warning(
        self, today: date, calendar_file_name: str | None = None
    ) -> str | None:
        """From 1 December: a warning if next year's arrangement is not recorded yet.

        Also warns (any month) if the current year itself is not recorded.
        """
        file_name = calendar_file_name or self.calendar_file_name
        if not self.is_known_year(today.year):
            return missing_year_message(today.year, file_name)
        if today.month == 12 and not self.is_known_year(today.year + 1):
            return missing_year_message(today.year + 1, file_name)
        return None


def missing_year_message(year: int, calendar_file_name: str) -> str:
    return (
        f"{year} 年的法定节假日安排尚未录入：请按国务院办公厅通知更新 {calendar_file_name}；"
        f"在此之前 {year} 年的期限均为暂定。"
    )


def _require_non_negative(n: int, what: str) -> None:
    if n < 0:
        raise ValueError(f"{what}不能为负数：{n}")


# --------------------------------------------------------------------------- calendar.yaml

_YEAR_RE = re.compile(r"^\d{4}$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEAR_KEYS = ("source", "holidays", "workdays")
_DATE_EXAMPLE = "应为 YYYY-MM-DD 格式的日期，例如 2027-01-01"


class _Collector:
    """Problems found in one calendar file, each tied to a YAML node's line."""

    def __init__(self, file_name: str) -> None:
        self.file_name = file_name
        self.problems: list[Problem] = []

    def add(self, node: yaml.Node, message: str, field_path: str = "") -> None:
        mark = node.start_mark
        self.problems.append(
            Problem(
                file=self.file_name,
                message=message,
                field=field_path,
                line=mark.line + 1,
                column=mark.column + 1,
            )
        )


def load_calendar_file(
    path: str | os.PathLike[str],
) -> tuple[dict[int, YearOverride], list[Problem]]:
    """Read calendar.yaml. A missing file means no overrides and no problems.

    A year with any problem is left out (it stays with the library or provisional).
    """
    file_name = Path(path).name
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, []
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [
            Problem(file=file_name, message=f"无法读取（{exc}）：应为 UTF-8 编码的 YAML 文件。")
        ]
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        return {}, [syntax_problem(file_name, exc)]
    collector = _Collector(file_name)
    overrides = _parse_root(root, collector)
    return overrides, collector.problems


def _parse_root(root: yaml.Node | None, out: _Collector) -> dict[int, YearOverride]:
    if root is None or _is_null(root):
        return {}
    if not isinstance(root, yaml.MappingNode):
        out.add(root, "文件顶层应为映射，形如 “years:” 下按年份列出节假日安排。")
        return {}
    years_node: yaml.Node | None = None
    for key, value in root.value:
        if _scalar(key) == "years":
            years_node = value
        else:
            out.add(key, f"未知的键 “{_scalar(key)}”：顶层只应有 years。")
    if years_node is None:
        out.add(root, "缺少 years：应在 years 下按年份列出节假日安排。")
        return {}
    return _parse_years(years_node, out)


def _parse_years(node: yaml.Node, out: _Collector) -> dict[int, YearOverride]:
    if _is_null(node):
        return {}
    if not isinstance(node, yaml.MappingNode):
        out.add(node, "years 下应为按年份（如 2027:）排列的映射。", "years")
        return {}
    overrides: dict[int, YearOverride] = {}
    seen: set[int] = set()
    for key, value in node.value:
        year = _parse_year_key(key, seen, out)
        if year is None:
            continue
        before = len(out.problems)
        override = _parse_year(year, value, out)
        if override is not None and len(out.problems) == before:
            overrides[year] = override
    return overrides


def _parse_year_key(key: yaml.Node, seen: set[int], out: _Collector) -> int | None:
    text = _scalar(key)
    if text is None or not _YEAR_RE.match(text):
        out.add(key, f"年份 “{text}” 无效：应为四位数字的年份，例如 2027。", "years")
        return None
    year = int(text)
    if year in seen:
        out.add(key, f"{year} 年重复出现：每个年份只应写一次。", f"years.{year}")
        return None
    seen.add(year)
    return year


def _parse_year(year: int, node: yaml.Node, out: _Collector) -> YearOverride | None:
    where = f"years.{year}"
    if not isinstance(node, yaml.MappingNode):
        out.add(node, f"{year} 年下应为映射，包含 source、holidays、workdays。", where)
        return None
    fields: dict[str, yaml.Node] = {}
    for key, value in node.value:
        name = _scalar(key) or ""
        if name not in _YEAR_KEYS:
            out.add(
                key, f"未知的键 “{name}”：{year} 年下只应有 source、holidays、workdays。", where
            )
        else:
            fields[name] = value
    source = _parse_source(year, node, fields.get("source"), out)
    holidays = _parse_dates(year, "holidays", fields.get("holidays"), out)
    workdays = _parse_dates(year, "workdays", fields.get("workdays"), out)
    _check_overlap(year, holidays, workdays, out)
    _check_makeup_on_weekend(year, workdays, out)
    if source is None:
        return None
    return YearOverride(
        year=year,
        source=source,
        holidays={d: name or DEFAULT_HOLIDAY_NAME for d, (name, _) in holidays.items()},
        workdays={d: name for d, (name, _) in workdays.items()},
    )


def _parse_source(
    year: int, year_node: yaml.Node, node: yaml.Node | None, out: _Collector
) -> str | None:
    where = f"years.{year}.source"
    if node is None:
        out.add(
            year_node,
            f"{year} 年缺少 source：应写明依据的通知文号，例如 “国办发明电〔2026〕X号”。",
            where,
        )
        return None
    text = _scalar(node)
    if not text or not text.strip():
        out.add(node, f"{year} 年的 source 应为非空文字，写明依据的通知文号。", where)
        return None
    return text.strip()


_Dated = dict[date, tuple[str | None, yaml.Node]]


def _parse_dates(year: int, key: str, node: yaml.Node | None, out: _Collector) -> _Dated:
    """A list of dates, or a mapping date -> name (e.g. ``2027-02-06: 春节``)."""
    where = f"years.{year}.{key}"
    if node is None or _is_null(node):
        return {}
    if isinstance(node, yaml.SequenceNode):
        pairs: list[tuple[yaml.Node, yaml.Node | None]] = [(item, None) for item in node.value]
    elif isinstance(node, yaml.MappingNode):
        pairs = list(node.value)
    else:
        out.add(node, f"{year} 年的 {key} 应为日期列表，例如 [{year}-01-01, {year}-01-02]。", where)
        return {}
    dated: _Dated = {}
    for date_node, name_node in pairs:
        d = _parse_date(year, key, date_node, out)
        if d is not None:
            dated[d] = (_parse_name(year, key, name_node, out), date_node)
    return dated


def _parse_date(year: int, key: str, node: yaml.Node, out: _Collector) -> date | None:
    where = f"years.{year}.{key}"
    text = _scalar(node)
    try:
        d = date.fromisoformat(text) if text and _DATE_RE.match(text) else None
    except ValueError:
        d = None
    if d is None:
        out.add(node, f"{year} 年的 {key} 中 “{text}” 不是有效日期：{_DATE_EXAMPLE}。", where)
        return None
    if d.year != year:
        out.add(
            node, f"{year} 年的 {key} 中出现了 {d.isoformat()}：应为 {year} 年内的日期。", where
        )
        return None
    return d


def _parse_name(year: int, key: str, node: yaml.Node | None, out: _Collector) -> str | None:
    if node is None or _is_null(node):
        return None
    text = _scalar(node)
    if not text or not text.strip():
        out.add(node, f"{year} 年的 {key} 中节日名称应为文字，例如 春节。", f"years.{year}.{key}")
        return None
    return text.strip()


def _check_overlap(year: int, holidays: _Dated, workdays: _Dated, out: _Collector) -> None:
    for d in sorted(holidays.keys() & workdays.keys()):
        out.add(
            workdays[d][1],
            f"{d.isoformat()} 同时列在 holidays 和 workdays 中：一天只能是放假或调休上班之一。",
            f"years.{year}.workdays",
        )


def _check_makeup_on_weekend(year: int, workdays: _Dated, out: _Collector) -> None:
    for d, (_, node) in sorted(workdays.items()):
        if not _is_weekend(d):
            out.add(
                node,
                f"{format_day(d)}本来就是工作日：workdays 只应列出调休上班的周六或周日。",
                f"years.{year}.workdays",
            )


def _scalar(node: yaml.Node) -> str | None:
    if isinstance(node, yaml.ScalarNode) and not _is_null(node):
        return str(node.value)
    return None


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"
