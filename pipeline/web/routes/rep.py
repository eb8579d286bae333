"""A rep's pages: their calls, and uploading recordings (streamed, limited, sniffed, queued)."""

from __future__ import annotations

from urllib.parse import unquote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from pipeline.store.database import Store
from pipeline.web import accounts, listing, uploads
from pipeline.web.access import own_calls
from pipeline.web.config import MIB, WebConfig
from pipeline.web.deps import ConfigDep, SessionDep, StoreDep, check_csrf
from pipeline.web.errors import Refused
from pipeline.web.pages import page

router = APIRouter()


@router.get("/")
def home(session: SessionDep) -> Response:
    return RedirectResponse("/dashboard" if session.user.is_coach else "/calls", status_code=303)


@router.get("/calls")
def my_calls(session: SessionDep, store: StoreDep, config: ConfigDep) -> Response:
    if not session.user.can_upload:  # a coach has no calls of their own
        return RedirectResponse("/dashboard", status_code=303)
    entries = listing.entries(store, own_calls(store, session.user), session.user)
    used = uploads.uploads_in_last_hour(store, session.user)
    return page("calls.html.j2", session=session, calls=entries, max_mb=config.max_upload_bytes // MIB,
                uploads_left=max(0, config.uploads_per_hour - used))


@router.get("/api/calls")
def calls_json(session: SessionDep, store: StoreDep) -> Response:
    return JSONResponse({"calls": listing.entries(store, own_calls(store, session.user), session.user)})


def _check_upload_allowed(config: WebConfig, request: Request, session: accounts.Session, label: str) -> None:
    """Refuse before reading the body: a bad token, a non-rep, the rate limit or a declared size too big."""
    check_csrf(request, session)
    if not session.user.can_upload:
        raise Refused(403, "only reps upload recordings")
    with Store(config.db, create=False) as store:
        try:
            uploads.check_rate(store, session.user, config)
            uploads.check_declared_size(request.headers.get("content-length"), config)
        except uploads.UploadRejected as rejected:
            if rejected.status != 429:  # a refused-for-rate attempt is not counted again
                uploads.record_rejection(store, session.user, label, None, rejected.reason)
            raise


def _accept_upload(config: WebConfig, user: accounts.User, received: uploads.Received, label: str,
                   customer: str | None) -> uploads.Accepted:
    """Sniffing (a decode) and hashing work off the event loop, so other requests are not held up."""
    with Store(config.db, create=False) as store:
        return uploads.accept(store, user, received, label, config, customer)


def _record_rejection(config: WebConfig, user: accounts.User, label: str, size: int | None, reason: str) -> None:
    with Store(config.db, create=False) as store:
        uploads.record_rejection(store, user, label, size, reason)


@router.post("/uploads")
async def upload(request: Request, config: ConfigDep, session: SessionDep) -> Response:
    label = uploads.label_of(unquote(request.headers.get("x-filename", "")))
    customer = uploads.customer_of(unquote(request.headers.get("x-customer", "")))
    await run_in_threadpool(_check_upload_allowed, config, request, session, label)
    received = None
    try:
        received = await uploads.receive(request.stream(), config)
        accepted = await run_in_threadpool(_accept_upload, config, session.user, received, label, customer)
    except uploads.UploadRejected as rejected:
        await run_in_threadpool(_record_rejection, config, session.user, label, received.size if received else None,
                                rejected.reason)
        raise
    return JSONResponse(
        {"call_id": accepted.call_id, "name": accepted.label, "status": accepted.status,
         "duplicate": accepted.duplicate, "href": f"/calls/{accepted.call_id}"},
        status_code=201,
    )
