"""Team view: per rep and per ISO week, how often reps push for a meeting, make it concrete, downgrade to a
weaker channel, meet distracted customers and adapt — as one self-contained HTML page with inline SVG charts
(no JavaScript, no external URL) and links to each rep's best and worst calls' reports.

Everything shown is computed here from store rows (``pipeline.store.CallRow``); the template
``report/templates/team.html.j2`` only lays it out, in the style of the call report.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from pipeline.report.files import write_all_or_nothing
from pipeline.report.render import html_env
from pipeline.report.strings import ui
from pipeline.report.workbench import TALK_METRICS, format_talk_value, team_medians

if TYPE_CHECKING:
    from pipeline.store.records import CallRow

NO_REP = "(no rep)"
BEST_WORST_N = 3
PALETTE = ("#2563eb", "#d97706", "#0f766e", "#9333ea", "#dc2626", "#65a30d", "#db2777", "#4b5563")
TEAM_COLOUR = "#6b7280"


@dataclass
class Tally:
    """Counts over a set of analysed calls; each rate has its own denominator."""

    calls: int = 0
    pushed: int = 0
    concrete: int = 0  # concrete pushes
    downgraded: int = 0
    distracted: int = 0
    adapted: int = 0
    adapt_chances: int = 0  # distracted calls where adapting could be judged
    audio_s: float = 0.0
    rep_talk_s: float = 0.0  # the rep's share of each timed call times its length
    timed_talk_s: float = 0.0  # the length of the calls with a talk share

    def add(self, row: CallRow) -> None:
        self.calls += 1
        self.pushed += bool(row.meeting_pushed)
        self.concrete += bool(row.meeting_pushed and row.concrete)
        self.downgraded += bool(row.downgraded)
        self.distracted += bool(row.distracted)
        if row.distracted and row.adapted is not None:
            self.adapt_chances += 1
            self.adapted += bool(row.adapted)
        self.audio_s += row.duration_s or 0.0
        if row.rep_talk_share is not None and row.duration_s:
            self.rep_talk_s += row.rep_talk_share * row.duration_s
            self.timed_talk_s += row.duration_s


@dataclass(frozen=True)
class Metric:
    key: str
    en: str
    zh: str
    basis: str  # what the rate is out of
    higher_is_better: bool
    count: Callable[[Tally], tuple[int, int]]  # (numerator, denominator)


METRICS: tuple[Metric, ...] = (
    Metric("push", "Push rate", "推进见面率", "of calls · 占通话", True, lambda t: (t.pushed, t.calls)),
    Metric("concrete", "Concrete rate", "提议具体率", "of pushes · 占推进", True, lambda t: (t.concrete, t.pushed)),
    Metric("downgrade", "Downgrade rate", "降级率", "of calls · 占通话", False, lambda t: (t.downgraded, t.calls)),
    Metric("distraction", "Distraction rate", "客户分心率", "of calls · 占通话", False, lambda t: (t.distracted, t.calls)),
    Metric(
        "adapted", "Adapted rate", "分心后调整率", "of distracted calls · 占分心通话", True, lambda t: (t.adapted, t.adapt_chances)
    ),
    # Weighted by call length: a week's share of the calls' time the rep talked (seconds in the tooltip).
    Metric("talk_share", "Rep talk share", "销售说话占比", "of call time, s · 占通话时长（秒）", False,
           lambda t: (round(t.rep_talk_s), round(t.timed_talk_s))),
)


def iso_week(call_date: str | None) -> str:
    """"2024-05-08" -> "2024-W19" (ISO year and week); unknown dates -> "unknown"."""
    try:
        year, week, _ = date.fromisoformat(call_date or "").isocalendar()
    except ValueError:
        return "unknown"
    return f"{year}-W{week:02d}"


def week_span(week: str) -> str:
    """"2024-W19" -> "2024-05-06 – 05-12"."""
    try:
        year, number = week.split("-W")
        monday = date.fromisocalendar(int(year), int(number), 1)
        sunday = date.fromisocalendar(int(year), int(number), 7)
    except ValueError:
        return week
    return f"{monday.isoformat()} – {sunday.strftime('%m-%d')}"


def rate_cell(metric: Metric, tally: Tally) -> dict:
    numerator, denominator = metric.count(tally)
    if denominator == 0:
        return {"text": "—", "title": "nothing to rate", "pct": None}
    pct = 100.0 * numerator / denominator
    return {"text": f"{pct:.0f}%", "title": f"{numerator}/{denominator}", "pct": pct}


def _link(row: CallRow, page_dir: Path) -> str | None:
    for fmt in ("html", "md", "json"):
        target = row.report_file(fmt)
        if target is not None and target.exists():
            return quote(Path(os.path.relpath(target.resolve(), page_dir.resolve())).as_posix())
    return None


def _call_entry(row: CallRow, page_dir: Path) -> dict:
    flags = []
    if row.meeting_pushed:
        flags.append("concrete push 具体推进" if row.concrete else "vague push 推进不具体")
    else:
        flags.append("no push 未推进")
    if row.downgraded:
        flags.append("downgraded 降级")
    if row.distracted:
        flags.append("distracted 分心" + (" · adapted 已调整" if row.adapted else ""))
    return {
        "name": Path(row.source).name,
        "date": row.call_date or "—",
        "score": f"{row.score * 100:.0f}" if row.score is not None else "—",
        "flags": " · ".join(flags),
        "href": _link(row, page_dir),
        "call_id": row.call_id,
    }


def _best_and_worst(rows: list[CallRow], page_dir: Path) -> tuple[list[dict], list[dict]]:
    """Up to three best (highest coaching score) and three worst (lowest) calls, disjoint; the most recent
    call first among equal scores."""
    recent_first = sorted((row for row in rows if row.score is not None), key=lambda r: r.call_date or "", reverse=True)
    best = sorted(recent_first, key=lambda r: -(r.score or 0.0))[:BEST_WORST_N]
    chosen = {row.call_id for row in best}
    worst = [row for row in sorted(recent_first, key=lambda r: r.score or 0.0) if row.call_id not in chosen][:BEST_WORST_N]
    return [_call_entry(r, page_dir) for r in best], [_call_entry(r, page_dir) for r in worst]


# ------------------------------------------------------------------------------------------------ charts

_W, _H = 640, 220
_LEFT, _RIGHT, _TOP, _BOTTOM = 52, 36, 12, 40  # wide enough for a centred week label at either end


@dataclass
class Series:
    name: str
    colour: str
    dashed: bool
    values: list[tuple[float | None, str]]  # per week: (percentage or None, tooltip)


def line_chart(weeks: Sequence[str], series: Sequence[Series]) -> dict:
    """Geometry of one rate chart (0–100 % against ISO weeks): polyline segments broken where a week has
    nothing to rate, points with tooltips, grid lines and axis labels. Pure numbers for the template."""
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    step = plot_w / max(1, len(weeks) - 1) if len(weeks) > 1 else 0.0

    def x_of(i: int) -> float:
        return round(_LEFT + (i * step if len(weeks) > 1 else plot_w / 2), 1)

    def y_of(pct: float) -> float:
        return round(_TOP + plot_h * (1 - pct / 100.0), 1)

    label_every = max(1, -(-len(weeks) // 10))  # at most ~10 week labels
    out_series = []
    for s in series:
        segments: list[list[str]] = []
        points = []
        current: list[str] = []
        for i, (pct, title) in enumerate(s.values):
            if pct is None:
                if current:
                    segments.append(current)
                current = []
                continue
            x, y = x_of(i), y_of(pct)
            current.append(f"{x},{y}")
            points.append({"x": x, "y": y, "title": f"{s.name} · {weeks[i]} · {title}"})
        if current:
            segments.append(current)
        out_series.append(
            {
                "name": s.name,
                "colour": s.colour,
                "dashed": s.dashed,
                "lines": [" ".join(seg) for seg in segments if len(seg) > 1],
                "points": points,
            }
        )
    return {
        "width": _W,
        "height": _H,
        "left": _LEFT,
        "right": _W - _RIGHT,
        "grid": [{"y": y_of(p), "label": f"{p}%"} for p in (0, 25, 50, 75, 100)],
        "xlabels": [
            {"x": x_of(i), "y": _H - _BOTTOM + 16, "text": week}
            for i, week in enumerate(weeks)
            if i % label_every == 0 or i == len(weeks) - 1
        ],
        "series": out_series,
    }


# ------------------------------------------------------------------------------------------------- page


@dataclass
class RepView:
    name: str
    colour: str
    total: Tally
    weeks: dict[str, Tally] = field(default_factory=dict)
    failed: int = 0


def team_context(rows: Sequence[CallRow], page: Path) -> dict:
    """Everything the team template shows, from the store's rows."""
    page_dir = page.parent
    done = [row for row in rows if row.status == "done"]
    reps: dict[str, RepView] = {}
    team = Tally()
    team_weeks: dict[str, Tally] = {}
    for row in sorted(rows, key=lambda r: (r.rep or "", r.call_date or "", r.source)):
        name = row.rep or NO_REP
        view = reps.get(name)
        if view is None:
            view = reps[name] = RepView(name, PALETTE[len(reps) % len(PALETTE)], Tally())
        if row.status == "failed":
            view.failed += 1
        if row.status != "done":
            continue
        week = iso_week(row.call_date)
        view.total.add(row)
        view.weeks.setdefault(week, Tally()).add(row)
        team.add(row)
        team_weeks.setdefault(week, Tally()).add(row)
    weeks = sorted(team_weeks)

    charts = []
    for metric in METRICS:
        series = []
        for view in reps.values():
            values = []
            for week in weeks:
                cell = rate_cell(metric, view.weeks[week]) if week in view.weeks else None
                values.append((cell["pct"], cell["title"]) if cell else (None, ""))
            series.append(Series(view.name, view.colour, False, values))
        if len(reps) > 1:
            team_cells = [rate_cell(metric, team_weeks[week]) for week in weeks]
            series.append(Series("team 团队", TEAM_COLOUR, True, [(c["pct"], c["title"]) for c in team_cells]))
        charts.append({"metric": metric, "chart": line_chart(weeks, series)})

    def cells(tally: Tally) -> list[dict]:
        return [rate_cell(metric, tally) for metric in METRICS]

    rep_rows = []
    for view in reps.values():
        rows_of_rep = [row for row in done if (row.rep or NO_REP) == view.name]
        best, worst = _best_and_worst(rows_of_rep, page_dir)
        rep_rows.append(
            {
                "name": view.name,
                "colour": view.colour,
                "calls": view.total.calls,
                "failed": view.failed,
                "audio_min": f"{view.total.audio_s / 60:.0f}",
                "cells": cells(view.total),
                "weeks": [
                    {"week": week, "span": week_span(week), "calls": view.weeks[week].calls, "cells": cells(view.weeks[week])}
                    for week in weeks
                    if week in view.weeks
                ],
                "best": best,
                "worst": worst,
            }
        )
    return {
        "talk": _talk_context(done, reps),
        "generated": time.strftime("%Y-%m-%d %H:%M"),
        "metrics": METRICS,
        "charts": charts,
        "reps": rep_rows,
        "team": {"calls": team.calls, "cells": cells(team), "audio_min": f"{team.audio_s / 60:.0f}"},
        "failed": sum(view.failed for view in reps.values()),
        "weeks": weeks,
        "first_week": week_span(weeks[0]) if weeks else "—",
        "last_week": week_span(weeks[-1]) if weeks else "—",
    }


def _talk_context(done: Sequence[CallRow], reps: dict[str, RepView]) -> dict:
    """Each rep's median talk metrics, and the team's."""
    def values(medians: dict[str, float | None]) -> list[str]:
        return [format_talk_value(metric, medians[metric]) for metric in TALK_METRICS]

    return {
        "metrics": [{"en": ui("en", f"talk.{m}"), "zh": ui("zh", f"talk.{m}")} for m in TALK_METRICS],
        "reps": [{"name": view.name, "colour": view.colour,
                  "values": values(team_medians(row for row in done if (row.rep or NO_REP) == view.name))}
                 for view in reps.values()],
        "team": values(team_medians(done)),
    }


def render_team_html(rows: Sequence[CallRow], page: Path) -> str:
    """The team page for ``rows``; ``page`` is where it will be written (links are relative to it)."""
    return html_env().get_template("team.html.j2").render(**team_context(rows, page))


def write_team_page(rows: Sequence[CallRow], page: Path) -> None:
    page.parent.mkdir(parents=True, exist_ok=True)
    write_all_or_nothing({page: render_team_html(rows, page)})
