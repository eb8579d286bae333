"""How the web app refuses: exceptions routes raise, and the handlers that turn them (and anything
unexpected) into a short page or JSON with a status code, never a traceback."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipeline.errors import CallcoachError
from pipeline.report.strings import ui_reason
from pipeline.store.database import Store
from pipeline.web import accounts, uploads
from pipeline.web.config import SESSION_COOKIE, WebConfig
from pipeline.web.i18n import language_of
from pipeline.web.pages import page, wants_json

log = logging.getLogger(__name__)


class SignInRequired(Exception):
    pass


class Refused(Exception):
    """A request refused with a status and a one-line reason (shown as a page or JSON)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def refusal(request: Request, status: int, reason: str) -> Response:
    """The refusal as JSON or as a page, its reason in the user's language."""
    config: WebConfig = request.app.state.config
    try:
        with Store(config.db, create=False) as store:
            session = accounts.session_of(store, request.cookies.get(SESSION_COOKIE))
    except CallcoachError:
        session = None  # the store itself is the trouble: answer without a user
    reason = ui_reason(language_of(session), reason)
    if wants_json(request):
        return JSONResponse({"error": reason}, status_code=status)
    return page("error.html.j2", status=status, session=session, status_code=status, reason=reason)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(SignInRequired)
    async def sign_in_required(request: Request, exc: SignInRequired) -> Response:
        if wants_json(request):
            return JSONResponse({"error": "sign in first"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)

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
