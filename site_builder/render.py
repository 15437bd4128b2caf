"""Render: redacted entries → Markdown pages, data files and mkdocs.yml (no I/O here).

Every page is a Jinja2 template rendered to Markdown; letter text is escaped so that what a
writer typed is shown as text, never as Markdown or HTML.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from statistics import median
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from letterbox.config import Config
from letterbox.process import CATEGORIES, STATUSES
from site_builder.select import Entry
from site_builder.shell import SHELL_DIR, SHELLS, shell_markdown

HERE = Path(__file__).parent
PAGE_SIZE = 50
LATEST = 10
SEARCH_PAGE = "search/"  # Pagefind's search page, its box and a result link (tests, bench)
SEARCH_INPUT = "#search-input"
SEARCH_RESULT = "a.search-result-link"
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def md(text: str) -> str:
    """Inline text safe for Markdown: HTML escaped, Markdown punctuation backslashed."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False))


def paras(text: str) -> str:
    lines = [md(line.strip()) for line in str(text).splitlines() if line.strip()]
    return "\n\n".join(lines) or "（无）"


def day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


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


# --------------------------------------------------------------------------- statistics


def _figures(items: Sequence[Entry]) -> dict[str, Any]:
    timed = [e for e in items if e.on_time is not None]
    on_time = sum(1 for e in timed if e.on_time)
    mid = median(e.working_days for e in items) if items else None
    rate = round(on_time / len(timed), 4) if timed else None
    return {
        "letters": len(items), "on_time": on_time, "timed": len(timed), "on_time_rate": rate,
        "median_working_days": mid,
        "on_time_rate_text": f"{rate * 100:.1f}%" if rate is not None else "—",
        "median_text": f"{mid:g}" if mid is not None else "—",
    }


def _grouped(entries: Sequence[Entry], key: Callable[[Entry], str]) -> dict[str, list[Entry]]:
    groups: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        groups[key(e)].append(e)
    return dict(sorted(groups.items()))


def statistics(entries: Sequence[Entry]) -> dict[str, list[dict[str, Any]]]:
    """Figures per month, category and unit: the same numbers for the page, CSV and JSON."""
    dims = {
        "month": (lambda e: e.month, month_label),
        "category": (lambda e: e.category, lambda k: CATEGORIES.get(k, "未分类")),
        "unit": (lambda e: e.reply_by, lambda k: k),
    }
    out: dict[str, list[dict[str, Any]]] = {}
    for dim, (key, label) in dims.items():
        out[dim] = [{"key": k, "label": label(k), **_figures(v)}
                    for k, v in _grouped(entries, key).items()]
    out["total"] = [{"key": "all", "label": "合计", **_figures(entries)}]
    return out


_CSV_FIELDS = ("dimension", "key", "label", "letters", "on_time", "timed", "on_time_rate",
               "median_working_days")


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
    data = {"generated": generated.isoformat(),
            **{dim: [{k: r[k] for k in keep} for r in rows] for dim, rows in stats.items()}}
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def _stats_tables(stats: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    titles = {"month": ("按月份（答复月份）", "月份"), "category": ("按类别", "类别"),
              "unit": ("按承办单位", "承办单位"), "total": ("合计", "")}
    tables = []
    for dim, rows in stats.items():
        top = max((r["letters"] for r in rows), default=0) or 1
        tables.append({"title": titles[dim][0], "heading": titles[dim][1] or "范围",
                       "rows": [{**r, "bar": round(100 * r["letters"] / top)} for r in rows]})
    return tables


# --------------------------------------------------------------------------- pages


def _root(path: str) -> str:
    """Relative prefix from the page's URL (directory URLs) to the site root."""
    url = path[: -len("index.md")] if path.endswith("index.md") else path[:-3] + "/"
    return "../" * url.count("/")


def _paged(base: str, title: str, items: list[Entry], env: Environment) -> dict[str, str]:
    pages = max(1, -(-len(items) // PAGE_SIZE))
    files = {}
    for n in range(1, pages + 1):
        path = f"{base}/index.md" if n == 1 else f"{base}/{n}.md"
        chunk = items[(n - 1) * PAGE_SIZE: n * PAGE_SIZE]
        files[path] = env.get_template("list.md.j2").render(
            title=title, items=chunk, page=n, pages=pages, count=len(items), base=base,
            root=_root(path))
    return files


def _newest_first(items: Iterable[Entry]) -> list[Entry]:
    return sorted(items, key=lambda e: (e.answered, e.code), reverse=True)


def _lists(entries: list[Entry], env: Environment) -> dict[str, str]:
    files: dict[str, str] = {}
    for dim, key, label, heading in (
        ("categories", lambda e: e.category or "none", lambda k: CATEGORIES.get(k, "未分类"), "类别"),
        ("months", lambda e: e.month, month_label, "月份"),
    ):
        groups = _grouped(entries, key)
        order = sorted(groups, reverse=dim == "months")
        for k in order:
            files.update(_paged(f"{dim}/{k}", label(k), _newest_first(groups[k]), env))
        index = f"{dim}/index.md"
        files[index] = env.get_template("groups.md.j2").render(
            title=f"按{heading}", heading=heading, root=_root(index),
            groups=[{"label": label(k), "path": f"{dim}/{k}", "count": len(groups[k])} for k in order])
    return files


def measures_markdown(text: str) -> str:
    """The Measures as published: title, then one paragraph per line, article numbers bold."""
    lines = [x.strip() for x in text.splitlines() if x.strip()]
    start = next((i for i, x in enumerate(lines) if x.endswith("管理办法")), 0)
    out = [f"# {md(lines[start])}" if lines else "# 管理办法"]
    for line in lines[start + 1:]:
        m = re.match(r"^(第[一二三四五六七八九十百]+条)\s*(.*)$", line)
        out.append(f"**{m.group(1)}** {md(m.group(2))}" if m else md(line))
    return "\n\n".join(out) + "\n"


def _this_month(entries: list[Entry], today: date) -> dict[str, Any]:
    month = f"{today.year:04d}-{today.month:02d}"
    figures = _figures([e for e in entries if e.month == month])
    return {"label": month_label(month), **figures, "median": figures["median_text"] + " 个工作日"
            if figures["median_working_days"] is not None else "—",
            "on_time_rate": figures["on_time_rate_text"]}


def _site_meta(config: Config) -> dict[str, Any]:
    return {"mailbox_name": config.mailbox_name, "government": config.government,
            "office_name": config.office_name, "rules": config.rules, "district": config.district}


def mkdocs_config(config: Config) -> dict[str, Any]:
    data: dict[str, Any] = {
        "site_name": f"{config.district}{config.mailbox_name} · 来信公开",
        "docs_dir": "docs",
        "use_directory_urls": True,
        "theme": {"name": "material", "language": "zh", "font": False,
                  "features": ["navigation.tabs"]},
        "plugins": [],  # no built-in search: Pagefind indexes the built site (build.py)
        "markdown_extensions": ["tables", "attr_list", "md_in_html"],
        "extra_css": ["assets/board.css"],
        "extra": {"generator": False},
        "nav": [{"首页": "index.md"}, {"按类别": "categories/index.md"},
                {"按月份": "months/index.md"}, {"统计": "stats/index.md"},
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
    return data


def render(entries: list[Entry], config: Config, today: date) -> Site:
    """Every file of the MkDocs project, from redacted entries only."""
    env = _env()
    public = {e.code for e in entries}
    files: dict[str, str] = {}
    letters: dict[str, tuple[str, str]] = {}
    template = env.get_template("letter.md.j2")
    for e in entries:  # filled into a page shell (shell.py), not built by MkDocs one by one
        earlier = e.follows_up if e.follows_up in public else None
        later = [c for c in e.followed_by if c in public]
        letters[e.code] = ("related" if earlier or later else "plain",
                           template.render(e=e, earlier=earlier, later=later))
    if entries:  # one shell page per shape, built by MkDocs from the first letter's page
        first = entries[0]
        for key, name in SHELLS.items():
            page = template.render(e=first, earlier=first.code if key == "related" else None, later=[])
            files[f"{SHELL_DIR}/{name}.md"] = shell_markdown(page)
    files.update(_lists(entries, env))
    stats = statistics(entries)
    files["stats/index.md"] = env.get_template("stats.md.j2").render(
        tables=_stats_tables(stats), generated=day(today))
    files["stats/stats.csv"] = stats_csv(stats)
    files["stats/stats.json"] = stats_json(stats, today)
    files["requests.json"] = open311_requests(entries)
    files["index.md"] = env.get_template("index.md.j2").render(
        site=_site_meta(config), month=_this_month(entries, today), total=len(entries),
        latest=_newest_first(entries)[:LATEST], root="")
    files["search/index.md"] = env.get_template("search.md.j2").render()
    files["lookup/index.md"] = env.get_template("lookup.md.j2").render(
        site=_site_meta(config), intake_url=config.intake_url or "")  # rating form with the service
    if config.intake_url:
        files["write/index.md"] = env.get_template("write.md.j2").render(
            site=_site_meta(config), intake_url=config.intake_url)
        files["assets/write.js"] = (HERE / "assets" / "write.js").read_text("utf-8")
    measures = (HERE / "assets" / "measures.txt").read_text("utf-8")
    files["measures/index.md"] = measures_markdown(measures)
    files["assets/board.css"] = (HERE / "assets" / "board.css").read_text("utf-8")
    files["assets/lookup.js"] = (HERE / "assets" / "lookup.js").read_text("utf-8")
    files["assets/search.js"] = (HERE / "assets" / "search.js").read_text("utf-8")
    return Site(files=dict(sorted(files.items())), mkdocs=mkdocs_config(config), letters=letters)


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
                "on_time": e.on_time,
                "received": e.received.isoformat(),
                "answered": e.answered.isoformat(),
                "working_days": e.working_days,
                "url": f"letters/{e.code}/",
            },
        })
    return json.dumps(requests, ensure_ascii=False, indent=1) + "\n"


def mkdocs_yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
