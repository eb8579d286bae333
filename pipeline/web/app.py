"""The web app's routes and pages (FastAPI, server-rendered Jinja2, a little JavaScript for uploads).

Security in one place:
- every page but /signin needs a session (``current``); without one, pages redirect to /signin and the
  JSON endpoints answer 401;
- every POST checks the session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``);
  sign-in itself uses a double-submit cookie, as there is no session yet;
- cookies are HttpOnly and SameSite=Lax, Secure when configured (HTTPS deployments);
- every template is autoescaped, pages carry a Content-Security-Policy without inline script (the
  report page allows exactly its own inline script, by hash);
- errors are short pages (or JSON) with a status code, never a traceback.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import secrets
import time
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote, unquote

from fastapi import FastAPI, Request
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipeline import feedback as fb
from pipeline.errors import CallcoachError
from pipeline.report.render import AUDIO_MIME, mmss, render_html
from pipeline.store import CallRow, Store
from pipeline.team import render_team_html
from pipeline.web import accounts, listing, uploads
from pipeline.web.access import CALL_ID, can_see, display_names, name_of, own_calls
from pipeline.web.config import WebConfig
from pipeline.web.queue import QueueSupervisor

log = logging.getLogger(__name__)
SESSION_COOKIE = "cc_session"
SIGNIN_COOKIE = "cc_signin"  # double-submit CSRF token of the sign-in form
MAX_FORM_BYTES = 64 * 1024
SIGNIN_FAILURES_PER_10_MIN = 10  # per user name, then 429 until the window passes
STATIC = Path(__file__).parent / "static"
APP_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
    "frame-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'self'; object-src 'none'"
)



class SignInRequired(Exception):
    pass


class Refused(Exception):
    """A request refused with a status and a one-line reason (shown as a page or JSON)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("pipeline.web", "templates"),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["mmss"] = mmss
    env.filters["when"] = lambda t: time.strftime("%Y-%m-%d %H:%M", time.localtime(t)) if t else "—"
    env.filters["yesno"] = lambda v: "—" if v is None else ("yes" if v else "no")
    env.filters["anchor"] = lambda key: "finding-" + re.sub(r"[^a-z0-9]+", "-", key.lower())
    return env


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/uploads" or "application/json" in request.headers.get(
        "accept", ""
    )


def _script_hashes(html: str) -> str:
    """CSP sources for exactly the inline scripts of a page we rendered ourselves."""
    hashes = []
    for body in re.findall(r"<script>(.*?)</script>", html, flags=re.S):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        hashes.append(f"'sha256-{digest}'")
    return " ".join(hashes) or "'none'"


def create_app(config: WebConfig) -> FastAPI:
    templates = _templates()
    supervisor = QueueSupervisor(config) if config.start_worker else None
    signin_failures: dict[str, list[float]] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        with Store(config.db):  # create / migrate the store before the first request
            pass
        config.uploads_dir.mkdir(parents=True, exist_ok=True)
        for partial in config.incoming_dir.glob("upload-*.part") if config.incoming_dir.is_dir() else ():
            partial.unlink(missing_ok=True)  # bodies a killed server was still receiving
        if supervisor is not None:
            supervisor.start()
        try:
            yield
        finally:
            if supervisor is not None:
                supervisor.stop()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.config = config
    app.state.supervisor = supervisor
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # ----------------------------------------------------------------------------------- plumbing

    def open_store() -> Store:
        return Store(config.db, create=False)

    def page(template: str, status: int = 200, session: accounts.Session | None = None, **context) -> HTMLResponse:
        html = templates.get_template(template).render(session=session, user=session.user if session else None, **context)
        return HTMLResponse(html, status_code=status)

    def current(request: Request, store: Store) -> accounts.Session:
        session = accounts.session_of(store, request.cookies.get(SESSION_COOKIE))
        if session is None:
            raise SignInRequired()
        return session

    def check_csrf(request: Request, session: accounts.Session, form: dict | None = None) -> None:
        sent = (form or {}).get("csrf_token") or request.headers.get("x-csrf-token") or ""
        if not secrets.compare_digest(str(sent).encode(), session.csrf_token.encode()):
            raise Refused(403, "the form's security token is missing or out of date: reload the page and try again")

    async def small_form(request: Request) -> dict:
        length = request.headers.get("content-length")
        if length is None:
            raise Refused(411, "a form must say its length")
        if not length.isdigit() or int(length) > MAX_FORM_BYTES:
            raise Refused(413, "form too large")
        form = await request.form(max_files=0, max_fields=50)
        return {key: value for key, value in form.items() if isinstance(value, str)}

    def call_row(store: Store, session: accounts.Session, call_id: str) -> CallRow:
        row = store.call(call_id) if CALL_ID.match(call_id) else None
        if row is None:
            raise Refused(404, "no such call")
        if not can_see(store, session.user, row):
            raise Refused(403, "this call belongs to another rep")
        return row

    def require_coach(session: accounts.Session) -> None:
        if not session.user.is_coach:
            raise Refused(403, "only coaches can do this")

    # ----------------------------------------------------------------------------------- errors

    @app.exception_handler(SignInRequired)
    async def sign_in_required(request: Request, exc: SignInRequired) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": "sign in first"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)

    def refusal(request: Request, status: int, reason: str) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": reason}, status_code=status)
        with open_store() as store:
            session = accounts.session_of(store, request.cookies.get(SESSION_COOKIE))
        return page("error.html.j2", status=status, session=session, status_code=status, reason=reason)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        return refusal(request, exc.status, exc.reason)

    @app.exception_handler(uploads.UploadRejected)
    async def upload_rejected(request: Request, exc: uploads.UploadRejected) -> Response:
        return refusal(request, exc.status, exc.reason)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        reasons = {404: "page not found", 405: "method not allowed"}
        return refusal(request, exc.status_code, reasons.get(exc.status_code, str(exc.detail)))

    @app.exception_handler(CallcoachError)
    async def callcoach_error(request: Request, exc: CallcoachError) -> Response:
        return refusal(request, 400, str(exc))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return refusal(request, 500, "something went wrong on the server; the error was logged")

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", APP_CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        if request.url.path != "/static" and not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    def set_cookie(response: Response, name: str, value: str, max_age: int | None) -> None:
        response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="lax",
                            secure=config.secure_cookies)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")

    # ----------------------------------------------------------------------------------- sign-in

    @app.get("/signin")
    def signin_page(request: Request, next: str = "/") -> Response:
        token = request.cookies.get(SIGNIN_COOKIE) or secrets.token_urlsafe(32)
        response = page("signin.html.j2", signin_token=token, next=_safe_next(next), error=None, name="")
        set_cookie(response, SIGNIN_COOKIE, token, max_age=3600)
        return response

    @app.post("/signin")
    async def signin(request: Request) -> Response:
        form = await small_form(request)
        expected = request.cookies.get(SIGNIN_COOKIE) or ""
        if not expected or not secrets.compare_digest(form.get("csrf_token", "").encode(), expected.encode()):
            raise Refused(403, "the sign-in form's security token is missing or out of date: reload the page")
        name, password = form.get("name", "").strip(), form.get("password", "")
        if len(signin_failures) > 10_000:  # names tried at random must not grow this forever
            signin_failures.clear()
        recent = [t for t in signin_failures.get(name, []) if t > time.time() - 600]
        if len(recent) >= SIGNIN_FAILURES_PER_10_MIN:
            raise Refused(429, "too many failed sign-ins for this name; wait ten minutes")
        with open_store() as store:
            user = await run_in_threadpool(_authenticate, config, name, password)  # argon2 takes a while on purpose
            if user is None:
                signin_failures[name] = [*recent, time.time()]
                response = page("signin.html.j2", status=401, signin_token=expected, next=_safe_next(form.get("next", "/")),
                                error="Wrong name or password.", name=name)
                return response
            signin_failures.pop(name, None)
            token = accounts.open_session(store, user, config.session_hours)
        response = RedirectResponse(_safe_next(form.get("next", "/")), status_code=303)
        set_cookie(response, SESSION_COOKIE, token, max_age=int(config.session_hours * 3600))
        response.delete_cookie(SIGNIN_COOKIE, path="/")
        return response

    @app.post("/signout")
    async def signout(request: Request) -> Response:
        form = await small_form(request)
        with open_store() as store:
            session = current(request, store)
            check_csrf(request, session, form)
            accounts.close_session(store, request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/signin", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # ----------------------------------------------------------------------------------- rep pages

    @app.get("/")
    def home(request: Request) -> Response:
        with open_store() as store:
            session = current(request, store)
        return RedirectResponse("/dashboard" if session.user.is_coach else "/calls", status_code=303)

    @app.get("/calls")
    def my_calls(request: Request) -> Response:
        with open_store() as store:
            session = current(request, store)
            if not session.user.can_upload:  # a coach has no calls of their own
                return RedirectResponse("/dashboard", status_code=303)
            entries = listing.entries(store, own_calls(store, session.user))
            used = uploads.uploads_in_last_hour(store, session.user)
        return page("calls.html.j2", session=session, calls=entries, max_mb=config.max_upload_bytes // (1024 * 1024),
                    uploads_left=max(0, config.uploads_per_hour - used))

    @app.get("/api/calls")
    def calls_json(request: Request) -> Response:
        with open_store() as store:
            session = current(request, store)
            entries = listing.entries(store, own_calls(store, session.user))
        return JSONResponse({"calls": entries})

    @app.post("/uploads")
    async def upload(request: Request) -> Response:
        with open_store() as store:
            session = current(request, store)
            check_csrf(request, session)
            if not session.user.can_upload:
                raise Refused(403, "only reps upload recordings")
            label = uploads.label_of(unquote(request.headers.get("x-filename", "")))
            try:
                uploads.check_rate(store, session.user, config)
                uploads.check_declared_size(request.headers.get("content-length"), config)
            except uploads.UploadRejected as rejected:
                if rejected.status != 429:  # a refused-for-rate attempt is not counted again
                    uploads.record_rejection(store, session.user, label, None, rejected.reason)
                raise
        received = None
        try:
            received = await uploads.receive(request.stream(), config)
            accepted = await run_in_threadpool(_accept_upload, config, session.user, received, label)
        except uploads.UploadRejected as rejected:
            with open_store() as store:
                uploads.record_rejection(store, session.user, label, received.size if received else None, rejected.reason)
            raise
        return JSONResponse(
            {"call_id": accepted.call_id, "name": accepted.label, "status": accepted.status,
             "duplicate": accepted.duplicate, "href": f"/calls/{accepted.call_id}"},
            status_code=201,
        )

    # ----------------------------------------------------------------------------------- one call

    @app.get("/calls/{call_id}")
    def call_page(request: Request, call_id: str) -> Response:
        with open_store() as store:
            session = current(request, store)
            row = call_row(store, session, call_id)
            entry = listing.entries(store, [row])[0]
            report = store.report(call_id) if row.status == "done" else None
            judged = fb.judgements(store, call_id)
        findings = fb.findings_of(report) if report else []
        mine = {j.finding: j for j in judged if j.coach == session.user.name}
        return page("call.html.j2", session=session, call=entry, report=report, findings=findings, mine=mine,
                    judgements=judged, can_judge=session.user.is_coach)

    @app.get("/calls/{call_id}/report")
    def call_report(request: Request, call_id: str) -> Response:
        with open_store() as store:
            session = current(request, store)
            row = call_row(store, session, call_id)
            report = store.report(call_id)
            label = name_of(row, display_names(store))
        if report is None:
            raise Refused(404, "this call has no report yet")
        audio = f"/calls/{call_id}/audio" if row.kind == "audio" and Path(row.source).is_file() else None
        # The reader knows the call by its file name, not by where the server keeps it.
        html = render_html(report.model_copy(update={"source": label}), audio)
        csp = (f"default-src 'none'; script-src {_script_hashes(html)}; style-src 'unsafe-inline'; img-src data:; "
               "media-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'")
        return HTMLResponse(html, headers={"Content-Security-Policy": csp})

    @app.get("/calls/{call_id}/audio")
    def call_audio(request: Request, call_id: str) -> Response:
        with open_store() as store:
            session = current(request, store)
            row = call_row(store, session, call_id)
        source = Path(row.source)
        if row.kind != "audio" or not source.is_file():
            raise Refused(404, "the recording is not available")
        # FileResponse answers Range requests, so the player can seek to any quoted moment.
        return FileResponse(source, media_type=AUDIO_MIME.get(source.suffix.lower(), "application/octet-stream"),
                            headers={"Cache-Control": "private, max-age=3600"})

    @app.post("/calls/{call_id}/feedback")
    async def judge(request: Request, call_id: str) -> Response:
        form = await small_form(request)
        with open_store() as store:
            session = current(request, store)
            check_csrf(request, session, form)
            require_coach(session)
            row = call_row(store, session, call_id)
            report = store.report(call_id) if row.status == "done" else None
            if report is None:
                raise Refused(409, "this call has no report to judge yet")
            fb.record(store, call_id, report, session.user.user_id, form.get("finding", ""), form.get("verdict", ""),
                      form.get("corrected"), form.get("comment"))
        if _wants_json(request):
            return JSONResponse({"saved": True, "finding": form.get("finding")})
        anchor = templates.filters["anchor"](form.get("finding", ""))
        return RedirectResponse(f"/calls/{call_id}#{anchor}", status_code=303)

    # ----------------------------------------------------------------------------------- coach pages

    def filter_values(request: Request) -> dict[str, str]:
        params = request.query_params
        values = {key: params.get(key, "").strip()[:64] for key in ("rep", "from", "to", "flag")}
        for key in ("from", "to"):
            if values[key] and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", values[key]):
                raise Refused(400, f"'{key}' must be a date like 2024-05-31")
        if values["flag"] not in listing.FLAGS:
            raise Refused(400, "unknown flag filter")
        return values

    def coach_view(request: Request, store: Store):
        """The signed-in coach's session, the dashboard filters from the query, and the calls they select."""
        session = current(request, store)
        require_coach(session)
        values = filter_values(request)
        return session, values, listing.filtered(store, values["rep"], values["from"], values["to"], values["flag"])

    @app.get("/dashboard")
    def dashboard(request: Request) -> Response:
        with open_store() as store:
            session, values, rows = coach_view(request, store)
            entries = sorted(listing.entries(store, rows), key=lambda e: (e["date"], e["name"]), reverse=True)
            reps = sorted({r.rep for r in store.calls() if r.rep} | {u.name for u in accounts.list_users(store) if u.role == "rep"})
        query = "&".join(f"{k}={quote(v)}" for k, v in values.items() if v)
        return page("dashboard.html.j2", session=session, calls=entries, reps=reps, values=values, flags=listing.FLAGS,
                    team_src="/team" + (f"?{query}" if query else ""))

    @app.get("/team")
    def team(request: Request) -> Response:
        with open_store() as store:
            _, _, rows = coach_view(request, store)
        html = render_team_html(rows, config.reports_dir / "team.html")
        # Link every call to its review page (not to report files), and open links in the whole window.
        html = listing.relink_team(html, rows, config.reports_dir)
        csp = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; "
               "base-uri 'none'; form-action 'none'")
        return HTMLResponse(html, headers={"Content-Security-Policy": csp})

    @app.get("/feedback.jsonl")
    def feedback_export(request: Request) -> Response:
        with open_store() as store:
            session = current(request, store)
            require_coach(session)
            lines = [json.dumps(line, ensure_ascii=False) + "\n" for line in fb.export_lines(store)]
        return StreamingResponse(iter(lines), media_type="application/x-ndjson",
                                 headers={"Content-Disposition": 'attachment; filename="callcoach-feedback.jsonl"'})

    return app


def _authenticate(config: WebConfig, name: str, password: str) -> accounts.User | None:
    with Store(config.db, create=False) as store:
        return accounts.authenticate(store, name, password)


def _accept_upload(config: WebConfig, user: accounts.User, received: uploads.Received, label: str) -> uploads.Accepted:
    """Sniffing (a decode) and hashing work off the event loop, so other requests are not held up."""
    with Store(config.db, create=False) as store:
        return uploads.accept(store, user, received, label, config)


def _safe_next(target: str) -> str:
    """Only same-site paths: no open redirect to another host."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
