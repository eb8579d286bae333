"""Server-rendered pages: the Jinja2 environment of the web app's templates, and the helpers every route
uses to answer with a page (or to tell that a client wants JSON)."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from functools import lru_cache

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from pipeline.report.strings import ui
from pipeline.report.timefmt import mmss
from pipeline.web import i18n
from pipeline.web.accounts import Session


@lru_cache(maxsize=1)
def templates() -> Environment:
    env = Environment(
        loader=PackageLoader("pipeline.web", "templates"),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["mmss"] = mmss
    env.filters["when"] = lambda t: time.strftime("%Y-%m-%d %H:%M", time.localtime(t)) if t else "—"
    env.filters["anchor"] = finding_anchor
    return env


def finding_anchor(key: str) -> str:
    """The id of a finding's block on the call page ("meeting.pushed" -> "finding-meeting-pushed")."""
    return "finding-" + re.sub(r"[^a-z0-9]+", "-", key.lower())


def page(template: str, status: int = 200, session: Session | None = None, **context) -> HTMLResponse:
    """A page in the user's language (``pipeline.web.i18n``): templates say ``t("key")`` for every string."""
    lang = i18n.language_of(session)
    html = templates().get_template(template).render(
        session=session, user=session.user if session else None, lang=lang, html_lang=i18n.HTML_LANG[lang],
        t=lambda key, **values: ui(lang, key, **values), finding_label=lambda key: i18n.finding_label(lang, key),
        shown=lambda value: i18n.shown(lang, value), script_strings=i18n.script_strings(lang), **context)
    return HTMLResponse(html, status_code=status, headers={"Content-Language": i18n.HTML_LANG[lang], "Vary": "Accept-Language, Cookie"})


def wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path == "/uploads" or "application/json" in request.headers.get("accept", "")


def script_hashes(template_source: str) -> str:
    """CSP sources for exactly the inline scripts a *template* holds (hashed from the template's own text, so
    a script that reached the rendered page any other way is not allowed)."""
    hashes = []
    for body in re.findall(r"<script>(.*?)</script>", template_source, flags=re.S):
        if "{{" in body or "{%" in body:
            raise ValueError("an inline script with template tags cannot be hashed from its template")
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        hashes.append(f"'sha256-{digest}'")
    return " ".join(hashes) or "'none'"
