"""The web app's dependencies (FastAPI ``Depends``): the settings, an open store per request, the signed-in
session, the coach check and small forms with their CSRF token. Routes declare what they need with the
``Annotated`` aliases at the bottom.

Security in one place:
- every page but /signin needs a session (``current_session``); without one, pages redirect to /signin
  and the JSON endpoints answer 401;
- every POST checks the session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``);
  sign-in itself uses a double-submit cookie, as there is no session yet.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from pipeline.store.database import Store
from pipeline.web import accounts
from pipeline.web.config import SESSION_COOKIE, WebConfig
from pipeline.web.errors import Refused, SignInRequired

MAX_FORM_BYTES = 64 * 1024


def get_config(request: Request) -> WebConfig:
    return request.app.state.config


ConfigDep = Annotated[WebConfig, Depends(get_config)]


def open_store(config: ConfigDep) -> Iterator[Store]:
    """One store connection for the request, closed after it."""
    store = Store(config.db, create=False, any_thread=True)
    try:
        yield store
    finally:
        store.close()


StoreDep = Annotated[Store, Depends(open_store)]


def current_session(request: Request, store: StoreDep) -> accounts.Session:
    session = accounts.session_of(store, request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise SignInRequired()
    return session


SessionDep = Annotated[accounts.Session, Depends(current_session)]


def coach_session(session: SessionDep) -> accounts.Session:
    if not session.user.is_coach:
        raise Refused(403, "only coaches can do this")
    return session


CoachDep = Annotated[accounts.Session, Depends(coach_session)]


async def small_form(request: Request) -> dict[str, str]:
    """A POSTed form of bounded size (the length is checked before a byte is parsed)."""
    length = request.headers.get("content-length")
    if length is None:
        raise Refused(411, "a form must say its length")
    if not length.isdigit() or int(length) > MAX_FORM_BYTES:
        raise Refused(413, "form too large")
    form = await request.form(max_files=0, max_fields=50)
    return {key: value for key, value in form.items() if isinstance(value, str)}


FormDep = Annotated[dict[str, str], Depends(small_form)]


def check_csrf(request: Request, session: accounts.Session, form: dict[str, str] | None = None) -> None:
    sent = (form or {}).get("csrf_token") or request.headers.get("x-csrf-token") or ""
    if not secrets.compare_digest(str(sent).encode(), session.csrf_token.encode()):
        raise Refused(403, "the form's security token is missing or out of date: reload the page and try again")


def checked_form(request: Request, session: SessionDep, form: FormDep) -> dict[str, str]:
    """The form of a signed-in user's POST, after its CSRF token was checked."""
    check_csrf(request, session, form)
    return form


CheckedFormDep = Annotated[dict[str, str], Depends(checked_form)]
