"""A coach's workbench pages: customers across calls, one customer's history, and search across every
transcript (a hit opens the call at that moment)."""

from __future__ import annotations

import re

from fastapi import APIRouter, Query, Response

from pipeline.report.workbench import flag_text
from pipeline.store.customers import customer_histories, customer_history
from pipeline.store.search import marked
from pipeline.store.search import search as search_store
from pipeline.web import i18n
from pipeline.web.access import display_names, name_of
from pipeline.web.deps import CoachDep, StoreDep
from pipeline.web.errors import Refused
from pipeline.web.pages import page

router = APIRouter()
MAX_QUERY_CHARS = 100
SEARCH_HITS = 100


@router.get("/customers")
def customers(session: CoachDep, store: StoreDep, rep: str = Query("", max_length=64)) -> Response:
    lang = i18n.language_of(session)
    histories = customer_histories(store, rep=rep or None)
    return page("customers.html.j2", session=session, histories=histories, rep=rep,
                flag_text=lambda flag: flag_text(lang, flag))


@router.get("/customer")
def customer(session: CoachDep, store: StoreDep, name: str = Query(..., max_length=200),
             rep: str = Query("", max_length=64)) -> Response:
    history = customer_history(store, name, rep or None)
    if history is None:
        raise Refused(404, "no analysed call of this customer")
    lang = i18n.language_of(session)
    names = display_names(store)
    rows = {row.call_id: row for row in store.calls(status="done") if row.call_id in {c.call_id for c in history.calls}}
    files = {call_id: name_of(row, names) for call_id, row in rows.items()}
    return page("customer.html.j2", session=session, history=history, files=files,
                flag_text=lambda flag: flag_text(lang, flag))


@router.get("/search")
def search(session: CoachDep, store: StoreDep, q: str = Query("", max_length=MAX_QUERY_CHARS),
           rep: str = Query("", max_length=64), since: str = Query("", max_length=10)) -> Response:
    if since and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", since):
        raise Refused(400, "'since' must be a date like 2024-05-31")
    hits = search_store(store.db, q, rep=rep or None, since=since or None, limit=SEARCH_HITS) if q.strip() else []
    names = display_names(store)
    rows = {row.call_id: row for row in store.calls(status="done")} if hits else {}
    files = {hit.call_id: name_of(rows[hit.call_id], names) if hit.call_id in rows else hit.call_id for hit in hits}
    return page("search.html.j2", session=session, q=q, rep=rep, since=since, hits=hits, files=files,
                marked={(hit.call_id, hit.turn): marked(hit.text, q) for hit in hits})
