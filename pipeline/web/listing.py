"""Lists of calls for pages: one row per call as the templates and /api/calls show it, the dashboard's
filters, and the team view's links pointed at the web app's review pages."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from pipeline.report.timefmt import mmss
from pipeline.store.database import Store
from pipeline.store.records import CallRow
from pipeline.web.access import display_names, name_of, owns
from pipeline.web.accounts import User

# Dashboard flag filter: key -> what the coach reads in the menu.
MIN_JUDGEABLE_S = 10.0  # shorter recordings hold no conversation to coach: their verdicts would be noise

FLAGS = {
    "": "any",
    "pushed": "pushed for a meeting",
    "not_pushed": "did not push",
    "vague": "vague push",
    "downgraded": "downgraded",
    "distracted": "customer distracted",
    "not_adapted": "distracted, rep did not adapt",
    "unreviewed": "not reviewed yet",
    "reviewed": "reviewed",
    "failed": "failed",
    "pending": "queued or processing",
}


def entries(store: Store, rows: list[CallRow], viewer: User) -> list[dict]:
    """What a page (or /api/calls) shows of each call to ``viewer``; plain values, escaped by whoever renders
    them. A recording the viewer uploaded but another rep owns shows as the viewer's, unreviewed."""
    names = display_names(store, viewer)
    reviewed = dict(store.db.execute("SELECT call_id, COUNT(*) FROM feedback GROUP BY call_id").fetchall())
    return [
        {
            "call_id": row.call_id,
            "name": name_of(row, names),
            "rep": (row.rep or "—") if owns(viewer, row) else viewer.name,
            "date": row.call_date or "—",
            "status": row.status,
            "too_short": row.status == "done" and row.duration_s is not None and row.duration_s < MIN_JUDGEABLE_S,
            # The worker names the file it read (the server's hash name); the user knows their own name for it.
            "error": row.error.replace(Path(row.source).name, name_of(row, names)) if row.error else row.error,
            "duration": mmss(row.duration_s) if row.duration_s else "—",
            "pushed": row.meeting_pushed,
            "concrete": row.concrete,
            "outcome": row.outcome,
            "downgraded": row.downgraded,
            "distracted": row.distracted,
            "adapted": row.adapted,
            "score": f"{row.score * 100:.0f}" if row.score is not None else "—",
            "judgements": reviewed.get(row.call_id, 0) if owns(viewer, row) else 0,
            "href": f"/calls/{row.call_id}",
        }
        for row in rows
    ]


def filtered(store: Store, rep: str, date_from: str, date_to: str, flag: str, search: str = "") -> list[CallRow]:
    """The calls matching the dashboard's filters (empty string: no filter). Dates are YYYY-MM-DD; ``search``
    matches the file name (as uploaded, or the archive's) or the rep, ignoring case."""
    reviewed = {r[0] for r in store.db.execute("SELECT DISTINCT call_id FROM feedback")}
    names = display_names(store) if search else {}
    needle = search.casefold()
    tests: dict[str, Callable[[CallRow], bool]] = {
        "pushed": lambda r: r.status == "done" and bool(r.meeting_pushed),
        "not_pushed": lambda r: r.status == "done" and r.meeting_pushed is False,
        "vague": lambda r: r.status == "done" and bool(r.meeting_pushed) and not r.concrete,
        "downgraded": lambda r: r.status == "done" and bool(r.downgraded),
        "distracted": lambda r: r.status == "done" and bool(r.distracted),
        "not_adapted": lambda r: r.status == "done" and bool(r.distracted) and r.adapted is False,
        "unreviewed": lambda r: r.status == "done" and r.call_id not in reviewed,
        "reviewed": lambda r: r.call_id in reviewed,
        "failed": lambda r: r.status == "failed",
        "pending": lambda r: r.status in ("queued", "processing"),
    }
    keep = tests.get(flag, lambda r: True)
    return [
        r for r in store.calls()
        if (not rep or r.rep == rep)
        and (not date_from or (r.call_date or "") >= date_from)
        and (not date_to or (r.call_date or "9999") <= date_to)
        and keep(r)
        and (not needle or needle in name_of(r, names).casefold() or needle in (r.rep or "").casefold())
    ]


def relink_team(html: str, rows: list[CallRow], page_dir: Path) -> str:
    """The team page links each listed call to its report file (relative to ``page_dir``, as
    ``pipeline.report.team`` computes it); in the web app, link the call's review page instead, in the whole
    window (the team view is shown in a frame)."""
    by_href: dict[str, str] = {}
    for row in rows:
        for fmt in ("html", "md", "json"):
            target = row.report_file(fmt)
            if target is not None and target.exists():
                href = quote(Path(os.path.relpath(target.resolve(), page_dir.resolve())).as_posix())
                by_href.setdefault(href, row.call_id)
                break

    def relink(match: re.Match) -> str:
        href = match.group(1)
        if href.startswith("#"):
            return match.group(0)
        call_id = by_href.get(href)
        return f'href="/calls/{call_id}" target="_top"' if call_id else 'href="#"'

    return re.sub(r'href="([^"]*)"', relink, html)
