"""A coach's pages: the team dashboard with filters, the team view, and the export of judgements."""

from __future__ import annotations

import json
import re
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from pipeline.report.team import render_team_html
from pipeline.report.workbench import flag_text
from pipeline.store import feedback as fb
from pipeline.store.customers import customer_histories
from pipeline.store.records import CallRow
from pipeline.web import accounts, i18n, listing
from pipeline.web.deps import CoachDep, ConfigDep, StoreDep
from pipeline.web.errors import Refused
from pipeline.web.pages import page

router = APIRouter()
PAGE_SIZE = 50  # calls per dashboard page


def filter_values(request: Request) -> dict[str, str]:
    """The dashboard's filters from the query string: a search (file name or rep), rep, from, to
    (YYYY-MM-DD) and flag."""
    params = request.query_params
    values = {key: params.get(key, "").strip()[:64] for key in ("q", "rep", "from", "to", "flag")}
    for key in ("from", "to"):
        if values[key] and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", values[key]):
            raise Refused(400, f"'{key}' must be a date like 2024-05-31")
    if values["flag"] not in listing.FLAGS:
        raise Refused(400, "unknown flag filter")
    return values


FiltersDep = Annotated[dict[str, str], Depends(filter_values)]


def selected(store: StoreDep, session: CoachDep, values: FiltersDep) -> list[CallRow]:
    """The calls the coach's filters select."""
    return listing.filtered(store, values["rep"], values["from"], values["to"], values["flag"], values["q"])


SelectedDep = Annotated[list[CallRow], Depends(selected)]


@router.get("/dashboard")
def dashboard(session: CoachDep, store: StoreDep, values: FiltersDep, rows: SelectedDep, page_no: int = Query(1, alias="page", ge=1)) -> Response:
    entries = sorted(listing.entries(store, rows, session.user), key=lambda e: (e["date"], e["name"]), reverse=True)
    pages = max(1, -(-len(entries) // PAGE_SIZE))
    page_no = min(page_no, pages)
    reps = sorted({r.rep for r in store.calls() if r.rep} | {u.name for u in accounts.list_users(store) if u.role == "rep"})
    query = "&".join(f"{k}={quote(v)}" for k, v in values.items() if v)

    def page_href(n: int) -> str:
        return "/dashboard?" + "&".join([*([query] if query else []), f"page={n}"])

    lang = i18n.language_of(session)
    needs_push = [h for h in customer_histories(store, rep=values["rep"] or None) if h.needs_push]
    return page("dashboard.html.j2", session=session, calls=entries[(page_no - 1) * PAGE_SIZE : page_no * PAGE_SIZE],
                needs_push=needs_push, flag_text=lambda flag: flag_text(lang, flag),
                total=len(entries), pages=pages, page_no=page_no, page_href=page_href, reps=reps, values=values,
                flags=listing.FLAGS, team_src="/team" + (f"?{query}" if query else ""))


@router.get("/team")
def team(config: ConfigDep, rows: SelectedDep) -> Response:
    html = render_team_html(rows, config.reports_dir / "team.html")
    # Link every call to its review page (not to report files), and open links in the whole window.
    html = listing.relink_team(html, rows, config.reports_dir)
    csp = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; "
           "base-uri 'none'; form-action 'none'")
    return HTMLResponse(html, headers={"Content-Security-Policy": csp})


@router.get("/feedback.jsonl")
def feedback_export(session: CoachDep, store: StoreDep) -> Response:
    lines = [json.dumps(line, ensure_ascii=False) + "\n" for line in fb.export_lines(store)]
    return StreamingResponse(iter(lines), media_type="application/x-ndjson",
                             headers={"Content-Disposition": 'attachment; filename="callcoach-feedback.jsonl"'})
