"""A user's own account: the interface language and the password."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from pipeline.errors import CallcoachError
from pipeline.web import accounts
from pipeline.web.deps import CheckedFormDep, SessionDep, StoreDep
from pipeline.web.errors import Refused
from pipeline.web.pages import page

router = APIRouter()


@router.get("/account")
def account(session: SessionDep, saved: str = "") -> Response:
    return page("account.html.j2", session=session, saved=saved if saved in ("language", "password") else "")


@router.post("/account/language")
def set_language(session: SessionDep, store: StoreDep, form: CheckedFormDep) -> Response:
    choice = form.get("language", "")
    try:
        accounts.set_ui_language(store, session.user, choice or None)
    except CallcoachError as error:
        raise Refused(400, str(error)) from error
    return RedirectResponse("/account?saved=language", status_code=303)


@router.post("/account/password")
def change_password(session: SessionDep, store: StoreDep, form: CheckedFormDep) -> Response:
    new = form.get("new", "")
    if new != form.get("repeat", ""):
        raise Refused(400, "the two new passwords differ")
    try:
        accounts.change_password(store, session.user, form.get("current", ""), new)
    except CallcoachError as error:
        raise Refused(400, str(error)) from error
    # Every session of the user ended, this one too: sign in with the new password.
    return RedirectResponse("/signin?next=/account%3Fsaved%3Dpassword", status_code=303)
