"""The web app (FastAPI, server-rendered Jinja2, a little JavaScript for uploads), assembled from its parts:
dependencies (``deps``), refusals and error pages (``errors``), pages (``pages``) and route modules
(``routes/``). This module only wires them together and owns the app's lifetime (the store is migrated
and the analysis worker started when the server starts, and stopped with it).

Beyond the checks in ``deps``: cookies are HttpOnly and SameSite=Lax, Secure when configured (HTTPS
deployments); every template is autoescaped, pages carry a Content-Security-Policy without inline script
(the report page allows exactly its own inline script, by hash).
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

from pipeline.store.database import Store
from pipeline.web import errors
from pipeline.web.config import WebConfig
from pipeline.web.i18n import set_browser_language
from pipeline.web.queue import QueueSupervisor
from pipeline.web.routes import account, call, coach, rep, signin, workbench
from pipeline.web.throttle import SigninThrottle

STATIC = Path(__file__).parent / "static"
APP_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
    "frame-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'self'; object-src 'none'"
)


def create_app(config: WebConfig) -> FastAPI:
    supervisor = QueueSupervisor(config) if config.start_worker else None

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
    app.state.signin_throttle = SigninThrottle()
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    errors.install(app)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        set_browser_language(request.headers.get("accept-language"))
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", APP_CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        if request.url.path != "/static" and not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")

    for module in (signin, rep, call, coach, account, workbench):
        app.include_router(module.router)
    return app
