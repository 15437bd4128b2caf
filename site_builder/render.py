"""Render: redacted entries → Markdown pages, data files and mkdocs.yml (no I/O here).

Every page is a Jinja2 template rendered to Markdown; letter text is escaped so that what a
writer typed is shown as text, never as Markdown or HTML.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from letterbox.core.config import Config
from letterbox.core.process import CATEGORIES, STATUSES
from letterbox.reports.analysis import Group, timing
from site_builder.select import Entry
from site_builder.settings import (
    REQUIRED_EXTENSIONS,
    SiteSettings,
    content_security_policy,
    load_settings,
    merged,
)
from site_builder.shell import SHELL_DIR, SHELLS, clean, paragraphs, shell_markdown

HERE = Path(__file__).parent
PAGE_SIZE = 50
LATEST = 10
SEARCH_PAGE = "search/"  # Pagefind's search page, its box and a result link (tests, bench)
SEARCH_INPUT = "#search-input"
SEARCH_RESULT = "a.search-result-link"
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>])")  # not ~: Python-Markdown would show \~


def md(text: str) -> str:
    """Inline text safe for Markdown: HTML escaped, Markdown punctuation backslashed."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(clean(text), quote=False))


def paras(text: str) -> str:
    return "\n\n".join(md(line) for line in paragraphs(text)) or "（无）"


def one_line(text: str) -> str:
    return " ".join(clean(text).split())


def day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


MARKDOWN_EXTENSIONS = REQUIRED_EXTENSIONS  # the site's, besides MkDocs' own (more in mkdocs.yml)
OUTCOME_NOTES = {"on_time": "（按期办结）", "extended": "（经批准延期后办结）", "late": "（超期办结）"}


FIELDS = ("title", "code", "category_label", "category", "received", "answered", "reply_by", "days",
          "body", "reply")


def letter_fields(e: Entry) -> dict[str, str]:
    """The text of a letter page (templates/letter.md.j2 and shell.LetterContent), unescaped."""
    return {"title": one_line(e.title), "code": e.code, "category_label": one_line(e.category_label),
            "category": e.category or "none", "received": day(e.received),
            "answered": day(e.answered), "reply_by": one_line(e.reply_by),
            "days": duration_text(e.working_days, e.outcome),
            "body": str(e.body), "reply": str(e.reply)}


def duration_text(working_days: int, outcome: str | None) -> str:
    """A letter's handling time as its page says it: "3 个工作日（按期办结）", or 当日办结 when no
    working day passed (the note only when that was not on time, which the limits never allow)."""
    note = OUTCOME_NOTES.get(outcome or "", "")
    if working_days == 0:
        return "当日办结" + ("" if outcome in (None, "", "on_time") else note)
    return f"{working_days} 个工作日{note}"


def month_label(month: str) -> str:
    year, mon = month.split("-")
    return f"{year}年{int(mon)}月"


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), undefined=StrictUndefined,
                      keep_trailing_newline=True, autoescape=False)
    env.filters.update(md=md, paras=paras, day=day, cell=lambda s: str(s).replace("\n", " "))
    return env


@dataclass(frozen=True)
class Site:
    """What a build produces before MkDocs: Markdown and data files by path, and mkdocs.yml."""

    files: dict[str, str]
    mkdocs: dict[str, Any]
    letters: dict[str, tuple[str, str]] = field(default_factory=dict)  # code → (shell, Markdown)
    plain: dict[str, dict[str, str]] = field(default_factory=dict)  # code → letter_fields, for
    # the letters without related letters, whose pages shell.LetterContent makes without Markdown


# --------------------------------------------------------------------------- statistics

STATS_SCOPE = ("只统计本站公开的来信（已办结且未决定不予公开）；不予公开、不予受理和尚未办结的来信"
               "不计入任何数字。")
ON_TIME_RULE = ("与本区信访工作督办通报的规则相同：在办理期限内办结为按期，"
                "经批准延期的，以延长后的期限为准（《管理办法》第十一条、第十六条），"
                "因此按期办结率 =（原定期限内办结 + 经批准延期后在延长期限内办结）÷ 已办结；"
                "两者和逾期办结的件数分列在表中。")


def _rate_text(rate: float | None, row: dict[str, Any] | None = None) -> str:
    """The on-time rate with the count it comes from: "50%（2 封中 1 封）" (a rate of one
    letter alone says little without it)."""
    if rate is None:
        return "—"
    text = f"{rate * 100:.1f}".rstrip("0").rstrip(".") + "%"
    if row is not None:
        text += f"（{row['closed']} 封中 {row['on_time'] + row['late_with_extension']} 封）"
    return text


def _num_text(value: float | None) -> str:
    return f"{value:g}" if value is not None else "—"


def days_text(value: float | None) -> str:
    """Working days as a reader says them: 0 is 当日办结 (closed the day it was received)."""
    if value is None:
        return "—"
    return "当日办结" if value == 0 else f"{value:g} 个工作日"


def _row(group: Group) -> dict[str, Any]:
    t = group.timing
    row = {"key": group.key, "label": group.label, **t.to_json()}
    return {**row, "on_time_rate_text": _rate_text(t.on_time_rate, row),
            "median_text": _days_cell(t.median_days), "p90_text": _days_cell(t.p90_days)}


def _days_cell(value: float | None) -> str:
    """Working days in a table whose heading says 工作日: the number, or 当日办结 for 0."""
    return "当日办结" if value == 0 else _num_text(value)


def _empty_row(key: str, label: str) -> dict[str, Any]:
    return {"key": key, "label": label, **timing([]).to_json(), "on_time_rate_text": "—",
            "median_text": "—", "p90_text": "—"}


def _every_month(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The month rows with the months between the first and the last that had no letter, as
    zero rows: a month without letters is a figure too."""
    if not rows:
        return rows
    have = {r["key"]: r for r in rows}
    year, month = map(int, min(have).split("-"))
    last = max(have)
    out = []
    while (key := f"{year:04d}-{month:02d}") <= last:
        out.append(have.get(key) or _empty_row(key, key))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def statistics(groups: dict[str, list[Group]]) -> dict[str, list[dict[str, Any]]]:
    """Rows per month received (every month from the first to the last, zero when none came),
    category and unit, and in total, from `analysis.breakdown` of the published letters: the
    same numbers for the page, CSV and JSON."""
    out = {dim: [_row(g) for g in groups.get(dim, [])] for dim in ("month", "category", "unit")}
    out["month"] = _every_month(out["month"])
    for row in out["month"]:
        row["label"] = month_label(row["key"])
    out["total"] = [_row(g) for g in groups.get("total", [])] or [_empty_row("all", "合计")]
    return out


_CSV_FIELDS = ("dimension", "key", "label", "letters", "closed", "on_time", "late_with_extension",
               "late_without_extension", "on_time_rate", "median_working_days", "p90_working_days",
               "reviews", "reviews_changed", "reviews_pending")


def stats_csv(stats: dict[str, list[dict[str, Any]]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, _CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for dim, rows in stats.items():
        for row in rows:
            writer.writerow({"dimension": dim, **row})
    return buf.getvalue()


def stats_json(stats: dict[str, list[dict[str, Any]]], generated: date) -> str:
    keep = _CSV_FIELDS[1:]
    data = {"generated": generated.isoformat(), "scope": STATS_SCOPE, "on_time_rule": ON_TIME_RULE,
            **{dim: [{k: r[k] for k in keep} for r in rows] for dim, rows in stats.items()}}
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def _stats_tables(stats: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    titles = {"month": ("按来信月份", "来信月份"), "category": ("按类别", "类别"),
              "unit": ("按承办单位", "承办单位"), "total": ("合计", "范围")}
    return [{"title": titles[dim][0], "heading": titles[dim][1], "rows": rows}
            for dim, rows in stats.items()]


def svg_bars(title: str, rows: Sequence[tuple[str, float | None, str]], *, top: float | None = None,
             width: int = 340, bar_height: int = 14, gap: int = 10, font: int = 13) -> str:
    """A horizontal bar chart as inline SVG: role="img", its name giving every figure.

    ``rows`` are (label, value, value as text); a missing value draws no bar and says “—”.
    Each label stands on its own line above its bar, so a long unit name needs no room beside
    the bars, and the chart is narrow (340 units): on a phone's 390-pixel screen it is drawn at
    its own size, so the 13-unit text is 13 pixels, not shrunk to half with the chart.
    """
    scale = top or max((v for _, v, _ in rows if v is not None), default=0) or 1
    plot = width - 165  # room after the longest bar for the value ("100%（12 封中 12 封）")
    step = font + 4 + bar_height + gap
    height = gap + len(rows) * step
    summary = f"{title}：" + "；".join(f"{label} {text}" for label, _, text in rows) if rows \
        else f"{title}：无数据"
    parts = [f'<svg class="chart" role="img" aria-label="{html.escape(summary)}" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'font-size="{font}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{html.escape(summary, quote=False)}</title>"]
    for i, (label, value, text) in enumerate(rows):
        y = gap + i * step
        bar_y = y + font + 4
        w = round(plot * (value or 0) / scale, 1)
        parts.append(f'<text x="0" y="{y + font}" class="chart-label">'
                     f"{html.escape(label, quote=False)}</text>")
        if value is not None:
            parts.append(f'<rect x="0" y="{bar_y}" width="{max(w, 1)}" height="{bar_height}" '
                         f'class="chart-bar"></rect>')
        parts.append(f'<text x="{w + 6}" y="{bar_y + bar_height - 2}" class="chart-value">'
                     f"{html.escape(text, quote=False)}</text>")
    parts.append("</svg>")
    return "".join(parts)


def _stats_charts(stats: dict[str, list[dict[str, Any]]]) -> list[dict[str, str]]:
    units, months = stats["unit"], stats["month"]
    return [
        {"title": "每月收信（已公开）",
         "svg": svg_bars("每月收信件数", [(r["label"], r["letters"], f"{r['letters']} 件")
                                           for r in months])},
        {"title": "各承办单位按期办结率",
         "svg": svg_bars("各承办单位按期办结率", [(r["label"], r["on_time_rate"], r["on_time_rate_text"])
                                                 for r in units], top=1)},
        {"title": "各承办单位办理用时中位数（工作日）",
         "svg": svg_bars("各承办单位办理用时中位数", [
             (r["label"], r["median_working_days"],
              days_text(r["median_working_days"]))
             for r in units])},
    ]


# --------------------------------------------------------------------------- pages


def _root(path: str) -> str:
    """Relative prefix from the page's URL (directory URLs) to the site root."""
    url = path[: -len("index.md")] if path.endswith("index.md") else path[:-3] + "/"
    return "../" * url.count("/")


class KeptPages:
    """Pages of the last build kept by the digest of what they are made from (the list pages:
    `_paged`). `known`: path → digest of its inputs when it was made; `text(path)`: its text
    as kept, or None (then it is made again). `made`: path → digest, for this build's pages.
    The templates are code: other code, and the build keeps nothing (incremental.code_version)."""

    def __init__(self, known: dict[str, str] | None = None,
                 text: Callable[[str], str | None] | None = None) -> None:
        self.known = known or {}
        self.text = text or (lambda path: None)
        self.made: dict[str, str] = {}

    def page(self, path: str, inputs: list[Any], make: Callable[[], str]) -> str:
        key = hashlib.blake2b(json.dumps(inputs, ensure_ascii=False, default=str).encode(),
                              digest_size=16).hexdigest()
        self.made[path] = key
        if self.known.get(path) == key and (kept := self.text(path)) is not None:
            return kept
        return make()


def _paged(base: str, title: str, items: list[Entry], env: Environment,
           when: str = "answered", kept: KeptPages | None = None) -> dict[str, str]:
    """The list pages of ``items`` (newest first), with the day ``when`` (answered or received)
    in a column. The first page (`base/index.md`) shows the newest PAGE_SIZE letters and how
    many there are; the older ones are on pages numbered from the oldest letter (`base/1.md`:
    the oldest PAGE_SIZE, each page newest first), so a letter added to the list changes its
    first page and its last numbered page (and, every PAGE_SIZE letters, the page before a new
    one), not every page: no numbered page shows the count or the number of pages. A page
    made from the same inputs (every field the template shows) is `kept`'s."""
    kept = kept or KeptPages()
    template = env.get_template("list.md.j2")
    oldest_first = items[::-1]
    archived = oldest_first[:max(0, len(items) - PAGE_SIZE)]  # not on the first page
    numbered = -(-len(archived) // PAGE_SIZE)
    files = {}

    def url(n: int) -> str:
        return f"{base}/{n}/" if n else f"{base}/"

    def row(e: Entry) -> tuple[Any, ...]:
        return (getattr(e, when), e.title, e.code, e.merged, e.category_label, e.reply_by)

    for n in range(numbered + 1):  # 0: the first page
        path = f"{base}/index.md" if n == 0 else f"{base}/{n}.md"
        chunk = items[:PAGE_SIZE] if n == 0 else archived[(n - 1) * PAGE_SIZE: n * PAGE_SIZE][::-1]
        first, last = (n - 1) * PAGE_SIZE + 1, (n - 1) * PAGE_SIZE + len(chunk)
        links = {  # the pages before and after this one, the newest and the oldest
            "newer": None if n == 0 else url(n + 1 if n < numbered else 0),
            "older": url(numbered) if n == 0 and numbered else url(n - 1) if n > 1 else None,
            "latest": url(0) if 0 < n < numbered else None,
            "oldest": url(1) if (n == 0 and numbered > 1) or n > 2 else None,
        }
        count = len(items) if n == 0 else None
        inputs = [title, n, count, first, last, base, when, links, [row(e) for e in chunk]]
        files[path] = kept.page(path, inputs, lambda chunk=chunk, n=n, path=path, first=first, last=last,
                                count=count, links=links: template.render(
            title=title, items=chunk, page=n, count=count, first=first, last=last, links=links,
            root=_root(path), when=when, when_heading=LIST_DAYS[when]))
    return files


def _grouped(entries: Sequence[Entry], key: Callable[[Entry], str]) -> dict[str, list[Entry]]:
    groups: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        groups[key(e)].append(e)
    return dict(sorted(groups.items()))


LIST_DAYS = {"answered": "答复日期", "received": "来信日期"}


def _newest_first(items: Iterable[Entry], when: str = "answered") -> list[Entry]:
    return sorted(items, key=lambda e: (getattr(e, when), e.code), reverse=True)


def _month_title(month: str) -> str:
    return f"{month_label(month)}来信"


def _lists(entries: list[Entry], env: Environment, kept: KeptPages | None = None) -> dict[str, str]:
    """按类别 (newest answer first) and 按来信月份: the month a letter was received, as in the
    statistics (`Entry.month`), newest letter first."""
    files: dict[str, str] = {}
    for dim, key, label, heading, when in (
        ("categories", lambda e: e.category or "none", lambda k: CATEGORIES.get(k, "未分类"), "类别",
         "answered"),
        ("months", lambda e: e.month, _month_title, "来信月份", "received"),
    ):
        groups = _grouped(entries, key)
        order = sorted(groups, reverse=dim == "months")
        for k in order:
            files.update(_paged(f"{dim}/{k}", label(k), _newest_first(groups[k], when), env, when, kept))
        index = f"{dim}/index.md"
        files[index] = env.get_template("groups.md.j2").render(
            title=f"按{heading}", heading=heading, root=_root(index),
            groups=[{"label": label(k), "path": f"{dim}/{k}", "count": len(groups[k])} for k in order])
    return files


OTHER_DISTRICT = "汉台区"  # named in article 4(2) of the source text (another district's wording)


def measures_markdown(text: str, district: str = "") -> str:
    """The Measures as published: title, then one paragraph per line, article numbers bold.
    The source text names 汉台区 in article 4(2): kept as published, with an editor's note."""
    lines = [x.strip() for x in text.splitlines() if x.strip()]
    start = next((i for i, x in enumerate(lines) if x.endswith("管理办法")), 0)
    out = [f"# {md(lines[start])}" if lines else "# 管理办法"]
    for line in lines[start + 1:]:
        m = re.match(r"^(第[一二三四五六七八九十百]+条)\s*(.*)$", line)
        out.append(f"**{m.group(1)}** {md(m.group(2))}" if m else md(line))
        if OTHER_DISTRICT in line and district and district != OTHER_DISTRICT:
            out.append(f'<p class="editor-note">编者注：“{OTHER_DISTRICT}”系原文如此，本站照录原文未作改动；'
                       f"本信箱受理对{md(district)}各方面工作的意见和建议。</p>")
    return "\n\n".join(out) + "\n"


def _this_month(stats: dict[str, list[dict[str, Any]]], today: date) -> dict[str, Any]:
    month = f"{today.year:04d}-{today.month:02d}"
    row = next((r for r in stats["month"] if r["key"] == month), None)
    return {"label": month_label(month), "letters": row["letters"] if row else 0,
            "on_time_rate": row["on_time_rate_text"] if row else "—",
            "median": days_text(row["median_working_days"]) if row else "—"}


def _site_meta(config: Config) -> dict[str, Any]:
    return {"mailbox_name": config.mailbox_name, "government": config.government,
            "office_name": config.office_name, "rules": config.rules, "district": config.district,
            "office_contact": _office_contact(config).removeprefix(config.office_name).lstrip("，")}


def mkdocs_config(config: Config, settings: SiteSettings | None = None) -> dict[str, Any]:
    """mkdocs.yml of the build: the staff's settings (the case repository's mkdocs.yml, else the
    packaged default; site_builder/settings.py) with what the build owns on top."""
    data: dict[str, Any] = {
        "site_name": f"{config.district}{config.mailbox_name} · 来信公开",
        "docs_dir": "docs",
        "use_directory_urls": True,
        "plugins": [],  # no built-in search: Pagefind indexes the built site (build.py)
        "extra": {"csp": content_security_policy(config)},  # theme/main.html: every page's <meta>
        "nav": [{"首页": "index.md"}, {"按类别": "categories/index.md"},
                {"按来信月份": "months/index.md"}, {"统计": "stats/index.md"},
                {"管理办法": "measures/index.md"}, {"搜索": "search/index.md"},
                {"在线查询": "lookup/index.md"}],
        "not_in_nav": "/letters/\n/categories/*/\n/months/*/\n",
        "validation": {"nav": {"omitted_files": "ignore", "not_found": "warn"},
                       "links": {"not_found": "ignore", "unrecognized_links": "ignore",
                                 "absolute_links": "ignore"}},
    }
    if config.site_url:
        data["site_url"] = config.site_url
    if config.intake_url:  # the online intake service exists: the 写信 page is built
        data["nav"].append({"写信": "write/index.md"})
    settings = settings or load_settings(None)
    data["extra"]["footer"] = footer(config, settings.mkdocs.get("extra", {}).get("footer") or {})
    return merged(settings, data)


def _office_contact(config: Config) -> str:
    """The office and how to reach it (its public_contacts entry): whom a writer calls; the
    address as the footer says it (the government's street before the office's room)."""
    f = footer(config, {})
    parts = [config.office_name] + ([f"电话 {f['phone']}"] if f["phone"] else []) \
        + ([f"地址 {f['address']}"] if f["address"] else [])
    return "，".join(parts)


def footer(config: Config, staff: dict[str, Any]) -> dict[str, Any]:
    """The footer of every page (theme/partials/copyright.html): 主办单位 (the government),
    the office with its phone and address from `public_contacts` (the office's own entry; the
    government's place when the office has none), and what mkdocs.yml's extra.footer adds or
    changes: site_code (网站标识码), icp (ICP备案号), police (公安备案号), links (name, url)."""
    def entry(name: str) -> Any:
        return next((c for c in config.public_contacts if c.name == name), None)

    office, government = entry(config.office_name), entry(config.government)
    place = office.place if office is not None and office.place else None
    if government is not None and government.place:
        place = f"{government.place}{place or ''}"
    made = {"sponsor": config.government, "organiser": config.office_name,
            "phone": office.phone if office is not None else None, "address": place}
    return {**made, **staff}


def render(entries: list[Entry], config: Config, today: date,
           figures: dict[str, list[Group]] | None = None,
           settings: SiteSettings | None = None, kept: KeptPages | None = None) -> Site:
    """Every file of the MkDocs project, from redacted entries only. `kept`: list pages of the
    last build, used where made from the same inputs (`KeptPages`).

    ``figures`` is `letterbox.reports.analysis.breakdown` of the published letters (build.py); the
    statistics are empty without it. ``settings``: the site's look (the case repository's
    mkdocs.yml, `settings.load_settings`); the packaged default when None.
    """
    env = _env()
    settings = settings or load_settings(None)
    public = {e.code for e in entries}
    files: dict[str, str] = dict(settings.files)  # the staff's own style sheets and scripts
    letters: dict[str, tuple[str, str]] = {}
    template = env.get_template("letter.md.j2")
    plain = {}
    for e in entries:  # filled into a page shell (shell.py), not built by MkDocs one by one
        earlier = e.follows_up if e.follows_up in public else None
        later = [c for c in e.followed_by if c in public]
        fields = letter_fields(e)
        if earlier or later or e.merged:
            letters[e.code] = ("related", template.render(f=fields, earlier=earlier, later=later,
                                                           merged=e.merged))
        else:
            plain[e.code] = fields
    if entries:  # one shell page per shape, built by MkDocs from the first letter's page
        first = letter_fields(entries[0])
        for key, name in SHELLS.items():
            page = template.render(f=first, earlier=entries[0].code if key == "related" else None,
                                   later=[], merged=0)
            files[f"{SHELL_DIR}/{name}.md"] = shell_markdown(page)
    files.update(_lists(entries, env, kept))
    stats = statistics(figures or {})
    files["stats/index.md"] = env.get_template("stats.md.j2").render(
        tables=_stats_tables(stats), charts=_stats_charts(stats), generated=day(today),
        scope=STATS_SCOPE, rule=ON_TIME_RULE)
    files["stats/stats.csv"] = stats_csv(stats)
    files["stats/stats.json"] = stats_json(stats, today)
    files["requests.json"] = open311_requests(entries)
    files["index.md"] = env.get_template("index.md.j2").render(
        site=_site_meta(config), month=_this_month(stats, today), total=len(entries),
        latest=_newest_first(entries)[:LATEST], root="", write=bool(config.intake_url))
    files["search/index.md"] = env.get_template("search.md.j2").render()
    files["lookup/index.md"] = env.get_template("lookup.md.j2").render(
        site=_site_meta(config), intake_url=config.intake_url or "",  # rating form with the service
        contact=_office_contact(config))
    if config.intake_url:
        files["write/index.md"] = env.get_template("write.md.j2").render(
            site=_site_meta(config), intake_url=config.intake_url)
        files["assets/write.js"] = (HERE / "assets" / "write.js").read_text("utf-8")
    measures = (HERE / "assets" / "measures.txt").read_text("utf-8")
    files["measures/index.md"] = measures_markdown(measures, config.district)
    files["assets/board.css"] = (HERE / "assets" / "board.css").read_text("utf-8")
    files["assets/lookup.js"] = (HERE / "assets" / "lookup.js").read_text("utf-8")
    files["assets/search.js"] = (HERE / "assets" / "search.js").read_text("utf-8")
    return Site(files=dict(sorted(files.items())), mkdocs=mkdocs_config(config, settings),
                letters=letters, plain=plain)


def search_pages(entries: Sequence[Entry]) -> dict[str, str]:
    """code → the page Pagefind indexes for the letter (its searchable text alone; build.py)."""
    source = _env().get_template("search_source.html.j2")
    return {e.code: source.render(e=e) for e in entries}


def letter_markdown(fields: dict[str, str], earlier: str | None = None,
                    later: Sequence[str] = ()) -> str:
    """A letter page's Markdown (templates/letter.md.j2) from `letter_fields`."""
    return _env().get_template("letter.md.j2").render(f=fields, earlier=earlier, later=list(later), merged=0)


def open311_requests(entries: Sequence[Entry]) -> str:
    """Open311 GeoReport v2 `requests.json` of the public letters (redacted, no personal data).

    Every public letter is answered, so `status` is `closed`; the letter's own status, the
    handling unit, the deadline and the category are in `extended_attributes`. No address or
    position: a writer's location is personal data.
    """
    requests = []
    for e in entries:
        requests.append({
            "service_request_id": e.code,
            "status": "open" if e.status not in ("closed", "archived") else "closed",
            "status_notes": "已答复",
            "service_name": e.category_label,
            "service_code": e.category or "none",
            "description": e.title,
            "agency_responsible": e.reply_by,
            "service_notice": "",
            "requested_datetime": e.submitted_at,
            "updated_datetime": e.updated_at,
            "expected_datetime": e.due.isoformat() if e.due else None,
            "address": "",
            "media_url": "",
            "extended_attributes": {
                "status": e.status,
                "status_zh": STATUSES.get(e.status, e.status),
                "unit": e.reply_by,
                "category": e.category or None,
                "category_zh": e.category_label,
                "deadline": e.due.isoformat() if e.due else None,
                "deadline_provisional": e.due_provisional,
                "on_time": e.on_time,
                "timeliness": e.outcome,
                "received": e.received.isoformat(),
                "answered": e.answered.isoformat(),
                "letters": max(e.merged, 1),  # 合并办理: the letters this one answer answers
                "working_days": e.working_days,
                "url": f"letters/{e.code}/",
            },
        })
    # one request per line, each by orjson (~20x json.dumps: 100 000 requests at every build)
    return "[\n" + ",\n".join(_json_line(r) for r in requests) + "\n]\n"


def _json_line(value: Any) -> str:
    """`value` as one line of JSON: by orjson, or by the standard library (ASCII only) for a
    text orjson refuses (a lone surrogate), so that one odd letter never stops the board."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=True)


def mkdocs_yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
