"""`callcoach customers` and `callcoach search`: the coach's workbench over a store."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from enum import Enum
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipeline.cli._util import DbOpt, ListFormat, app, fail, open_store
from pipeline.errors import CallcoachError


class UiLanguage(str, Enum):
    en = "en"
    zh = "zh"


LangOpt = Annotated[UiLanguage, typer.Option("--lang", help="Language of the flags: en or zh.")]


def _console() -> Console:
    console = Console()
    return console if console.is_terminal else Console(width=240)  # piped: do not squeeze the table


def _yes_no(value: bool | None) -> str:
    return "—" if value is None else ("yes" if value else "no")


@app.command()
def customers(
    db: DbOpt,
    rep: Annotated[str | None, typer.Option(help="Only this rep's calls.")] = None,
    customer: Annotated[str | None, typer.Option(help="One customer: their calls in order.")] = None,
    format: Annotated[ListFormat, typer.Option("--format", help="table or json.")] = ListFormat.table,
    lang: LangOpt = UiLanguage.en,
) -> None:
    """Customers across calls: how many calls, met yet, agreed meetings, and flags ("4 calls, never asked to
    meet", "meeting agreed for 周四, no call since") — those needing attention first."""
    from pipeline.report.workbench import flag_text
    from pipeline.store.customers import customer_histories

    with open_store(db, create=False) as store:
        histories = customer_histories(store, rep=rep)
    if customer is not None:
        histories = [h for h in histories if h.customer == customer]
        if not histories:
            fail(f"no analysed call of customer {customer!r} in {db}")
    if format == ListFormat.json:
        sys.stdout.write(json.dumps([h.as_dict() for h in histories], ensure_ascii=False, indent=2) + "\n")
        return
    console = _console()
    if customer is not None:
        for history in histories:
            table = Table("date", "rep", "call", "pushed", "concrete", "outcome", "downgraded", "agreed for", "happened",
                          title=f"{escape(history.customer)} — {len(history.calls)} calls")
            for call in history.calls:
                agreed = " ".join(x for x in (call.agreed_when, f"({call.agreed_date})" if call.agreed_date else None) if x)
                table.add_row(call.call_date or "—", escape(call.rep or "—"), call.call_id, _yes_no(call.pushed),
                              _yes_no(call.concrete), call.outcome or "—", _yes_no(call.downgraded), escape(agreed or "—"),
                              _yes_no(call.meeting_happened))
            console.print(table)
            for flag in history.flags:
                console.print(f"⚑ {escape(flag_text(lang.value, flag))}", highlight=False)
        return
    table = Table("customer", "rep", "calls", "last call", "pushed", "met", "flags",
                  title=f"{db} — {len(histories)} customers")
    for history in histories:
        table.add_row(escape(history.customer), escape(", ".join(history.reps) or "—"), str(len(history.calls)), history.last_date or "—",
                      str(sum(bool(c.pushed) for c in history.calls)), _yes_no(history.met),
                      escape("; ".join(flag_text(lang.value, flag) for flag in history.flags) or "—"))
    console.print(table)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Words to find (all of them), Chinese or English: 展厅, 'trade show'.")],
    db: DbOpt,
    rep: Annotated[str | None, typer.Option(help="Only this rep's calls.")] = None,
    since: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Only calls dated on or after this day.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many hits.")] = 50,
    format: Annotated[ListFormat, typer.Option("--format", help="table or json.")] = ListFormat.table,
) -> None:
    """Search every transcript in the store: the turns that contain all the words, best match first."""

    from pipeline.store.search import search as search_store

    with open_store(db, create=False) as store:
        try:
            hits = search_store(store.db, query, rep=rep, since=since.date().isoformat() if since else None, limit=limit)
        except CallcoachError as error:
            fail(str(error))
    if format == ListFormat.json:
        sys.stdout.write(json.dumps([hit.as_dict() for hit in hits], ensure_ascii=False, indent=2) + "\n")
        return
    table = Table("call_id", "date", "rep", "turn", "start", "speaker", "text", title=f"{escape(repr(query))} — {len(hits)} hits")
    for hit in hits:
        start = "—" if hit.start_s is None else f"{int(hit.start_s) // 60:02d}:{int(hit.start_s) % 60:02d}"
        table.add_row(hit.call_id, hit.call_date or "—", escape(hit.rep or "—"), str(hit.turn), start, hit.speaker,
                      escape(hit.text))
    _console().print(table)
