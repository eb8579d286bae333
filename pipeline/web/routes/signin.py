"""Signing in (argon2, throttled per client address and name: pipeline/web/throttle.py) and out."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from pipeline.store.database import Store
from pipeline.web import accounts
from pipeline.web.config import SESSION_COOKIE, SIGNIN_COOKIE, WebConfig
from pipeline.web.deps import CheckedFormDep, ConfigDep, FormDep, StoreDep
from pipeline.web.errors import Refused
from pipeline.web.pages import page

router = APIRouter()


def set_cookie(response: Response, config: WebConfig, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=config.secure_cookies)


def safe_next(target: str) -> str:
    """Only same-site paths: no open redirect to another host."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/signin")
def signin_page(request: Request, config: ConfigDep, next: str = "/") -> Response:
    token = request.cookies.get(SIGNIN_COOKIE) or secrets.token_urlsafe(32)
    response = page("signin.html.j2", signin_token=token, next=safe_next(next), error=None, name="")
    set_cookie(response, config, SIGNIN_COOKIE, token, max_age=3600)
    return response


def _authenticate(config: WebConfig, name: str, password: str) -> accounts.User | None:
    with Store(config.db, create=False) as store:
        return accounts.authenticate(store, name, password)


def _open_session(config: WebConfig, user: accounts.User) -> str:
    with Store(config.db, create=False) as store:
        return accounts.open_session(store, user, config.session_hours)


@router.post("/signin")
async def signin(request: Request, config: ConfigDep, form: FormDep) -> Response:
    expected = request.cookies.get(SIGNIN_COOKIE) or ""
    if not expected or not secrets.compare_digest(form.get("csrf_token", "").encode(), expected.encode()):
        raise Refused(403, "the sign-in form's security token is missing or out of date: reload the page")
    name, password = form.get("name", "").strip(), form.get("password", "")
    address = request.client.host if request.client else "unknown"  # uvicorn puts a trusted proxy's X-Forwarded-For here
    attempt = request.app.state.signin_throttle.try_attempt(address, name)
    if attempt is None:
        raise Refused(429, "too many failed sign-ins from here; wait ten minutes")
    user = await run_in_threadpool(_authenticate, config, name, password)  # argon2 takes a while on purpose
    if user is None:  # the attempt keeps its slot: a failure
        return page("signin.html.j2", status=401, signin_token=expected, next=safe_next(form.get("next", "/")),
                    error="signin.wrong", name=name)
    attempt.succeeded()
    token = await run_in_threadpool(_open_session, config, user)
    response = RedirectResponse(safe_next(form.get("next", "/")), status_code=303)
    set_cookie(response, config, SESSION_COOKIE, token, max_age=int(config.session_hours * 3600))
    response.delete_cookie(SIGNIN_COOKIE, path="/")
    return response


@router.post("/signout")
def signout(request: Request, store: StoreDep, form: CheckedFormDep) -> Response:
    accounts.close_session(store, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
