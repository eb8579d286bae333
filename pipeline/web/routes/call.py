"""One call: its page (status, report summary, findings to judge), the report itself, the recording, and a
coach's judgement of a finding."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import Markup

from pipeline.audio.formats import mime_of
from pipeline.report.render import (
    html_template_source,
    render_html,
    render_html_content,
    report_script,
    report_style,
)
from pipeline.report.workbench import talk_lines, team_medians
from pipeline.store import feedback as fb
from pipeline.store.database import Store
from pipeline.store.records import CallRow
from pipeline.web import accounts, i18n, listing, removal
from pipeline.web.access import CALL_ID, can_see, display_names, name_of, owns
from pipeline.web.deps import CheckedFormDep, ConfigDep, SessionDep, StoreDep
from pipeline.web.errors import Refused
from pipeline.web.pages import finding_anchor, page, script_hashes, wants_json

router = APIRouter()


def call_row(store: Store, session: accounts.Session, call_id: str) -> CallRow:
    """The call a user may open, else 404 (no such call) or 403 (another rep's)."""
    row = store.call(call_id) if CALL_ID.match(call_id) else None
    if row is None:
        raise Refused(404, "no such call")
    if not can_see(store, session.user, row):
        raise Refused(403, "this call belongs to another rep")
    return row


def _audio_url(row: CallRow) -> str | None:
    return f"/calls/{row.call_id}/audio" if row.kind == "audio" and Path(row.source).is_file() else None


def _as_named(report, row: CallRow, store: Store, session: accounts.Session):
    """The report as the viewer knows the call: under their name for the file, not the server's."""
    return report.model_copy(update={"source": name_of(row, display_names(store, session.user))})


@router.get("/report.css")
def report_css() -> Response:
    return Response(report_style(".report-inline"), media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


@router.get("/report.js")
def report_js() -> Response:
    return Response(report_script(), media_type="text/javascript", headers={"Cache-Control": "public, max-age=3600"})


@router.get("/calls/{call_id}")
def call_page(call_id: str, session: SessionDep, store: StoreDep) -> Response:
    row = call_row(store, session, call_id)
    entry = listing.entries(store, [row], session.user)[0]
    report = store.report(call_id) if row.status == "done" else None
    judged = fb.judgements(store, call_id) if owns(session.user, row) else []  # the owner's call's notes
    findings = fb.findings_of(report) if report else []
    mine = {j.finding: j for j in judged if j.coach == session.user.name}
    # The report inline (not in a frame): its body as the report renders it (autoescaped there), its style
    # and script served beside it (/report.css, /report.js) under the app's CSP.
    report_html = Markup(render_html_content(_as_named(report, row, store, session), _audio_url(row))) if report else None
    talk = talk_lines(i18n.language_of(session), row, team_medians(store.calls(status="done"))) if report else []
    return page("call.html.j2", session=session, call=entry, report=report, report_html=report_html, findings=findings, mine=mine,
                talk=talk,
                judgements=judged, can_judge=session.user.is_coach, can_delete=removal.can_delete(store, session.user, row))


@router.get("/calls/{call_id}/report")
def call_report(call_id: str, session: SessionDep, store: StoreDep) -> Response:
    row = call_row(store, session, call_id)
    report = store.report(call_id)
    if report is None:
        raise Refused(404, "this call has no report yet")
    html = render_html(_as_named(report, row, store, session), _audio_url(row))
    csp = (f"default-src 'none'; script-src {script_hashes(html_template_source())}; style-src 'unsafe-inline'; img-src data:; "
           "media-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'")
    return HTMLResponse(html, headers={"Content-Security-Policy": csp})


@router.get("/calls/{call_id}/audio")
def call_audio(call_id: str, session: SessionDep, store: StoreDep) -> Response:
    row = call_row(store, session, call_id)
    source = Path(row.source)
    if row.kind != "audio" or not source.is_file():
        raise Refused(404, "the recording is not available")
    # FileResponse answers Range requests, so the player can seek to any quoted moment.
    return FileResponse(source, media_type=mime_of(source.suffix), headers={"Cache-Control": "private, max-age=3600"})


def _report_to_judge(store: Store, session: accounts.Session, call_id: str):
    """The report a coach may judge, else 403 (not a coach, or not theirs to open) or 409 (not done yet)."""
    if not session.user.is_coach:
        raise Refused(403, "only coaches can do this")
    row = call_row(store, session, call_id)
    report = store.report(call_id) if row.status == "done" else None
    if report is None:
        raise Refused(409, "this call has no report to judge yet")
    return report


@router.post("/calls/{call_id}/feedback")
def judge(request: Request, call_id: str, session: SessionDep, store: StoreDep, form: CheckedFormDep) -> Response:
    report = _report_to_judge(store, session, call_id)
    fb.record(store, call_id, report, session.user.user_id, form.get("finding", ""), form.get("verdict", ""),
              form.get("corrected"), form.get("comment"))
    if wants_json(request):
        return JSONResponse({"saved": True, "finding": form.get("finding")})
    return RedirectResponse(f"/calls/{call_id}#{finding_anchor(form.get('finding', ''))}", status_code=303)


@router.post("/calls/{call_id}/delete")
def delete_call(request: Request, call_id: str, session: SessionDep, store: StoreDep, config: ConfigDep,
                form: CheckedFormDep) -> Response:
    row = call_row(store, session, call_id)
    removed = removal.delete(store, session.user, row, config)
    if wants_json(request):
        return JSONResponse({"deleted": True, "call_removed": removed})
    return RedirectResponse("/dashboard" if session.user.is_coach else "/calls", status_code=303)


@router.post("/calls/{call_id}/feedback/all-correct")
def judge_all_correct(request: Request, call_id: str, session: SessionDep, store: StoreDep, form: CheckedFormDep) -> Response:
    """A quick review: every finding this coach has not judged yet is marked correct (their own judgements stay)."""
    report = _report_to_judge(store, session, call_id)
    mine = {j.finding for j in fb.judgements(store, call_id) if j.coach == session.user.name}
    marked = [f.key for f in fb.findings_of(report) if f.key not in mine]
    for key in marked:
        fb.record(store, call_id, report, session.user.user_id, key, "correct")
    if wants_json(request):
        return JSONResponse({"saved": True, "marked": marked})
    return RedirectResponse(f"/calls/{call_id}#findings", status_code=303)
