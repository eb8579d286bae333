"""The language of the web app's shell: the user's choice, else what the browser asks for
(``Accept-Language``), else English. Every string comes from the one home the report uses
(``pipeline.report.strings``: ``ui_strings.json`` for the shell, ``NAMES`` for verdicts and principles)."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from pipeline.report.strings import NAMES, UI_LANGUAGES, ui, ui_strings
from pipeline.web.accounts import Session

DEFAULT_LANGUAGE = "en"
HTML_LANG = {"zh": "zh-CN", "en": "en"}
_browser_language: ContextVar[str] = ContextVar("browser_language", default=DEFAULT_LANGUAGE)


def from_accept_language(header: str | None) -> str:
    """The first of our languages the browser accepts, by q-value ("zh-CN,zh;q=0.9,en;q=0.8" -> "zh")."""
    choices: list[tuple[float, int, str]] = []
    for order, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        base = tag.strip().lower().split("-")[0]
        if base in UI_LANGUAGES and quality > 0:
            choices.append((-quality, order, base))
    return min(choices)[2] if choices else DEFAULT_LANGUAGE


def set_browser_language(header: str | None) -> None:
    """Called once per request (app middleware); pages read it when the user has not chosen."""
    _browser_language.set(from_accept_language(header))


def language_of(session: Session | None) -> str:
    chosen = session.user.ui_language if session is not None else None
    return chosen if chosen in UI_LANGUAGES else _browser_language.get()


def finding_label(lang: str, key: str) -> str:
    """What a coach reads for a finding: "meeting.concrete" -> "邀约具体（日期、时间或地点）"."""
    if key.startswith("coaching."):
        principle = key.split(".", 1)[1]
        return ui(lang, "finding.coaching", principle=NAMES[lang].get(principle, principle.replace("_", " ")))
    return ui(lang, f"finding.{key}") if f"finding.{key}" in ui_strings()[lang] else key


def shown(lang: str, value: Any) -> str:
    """A finding's value in words: True -> "是", "accepted" -> "接受", "missed" -> "错失"."""
    if isinstance(value, bool):
        return ui(lang, "yes" if value else "no")
    if value is None:
        return "—"
    if f"outcome.{value}" in ui_strings()[lang]:
        return ui(lang, f"outcome.{value}")
    return NAMES[lang].get(str(value), str(value))


# What the pages' scripts need, in the page's language (passed as a data attribute, never inline script).
SCRIPT_KEYS = ("js.waiting", "js.uploading", "js.too_large", "js.already", "js.uploaded", "js.signed_out", "js.refused",
               "js.server_error", "js.network", "js.open", "push.concrete", "push.vague", "push.none", "push.downgraded",
               "customer.distracted", "customer.listening", "too_short", "calls.empty", "findings.saving",
               "findings.saved", "findings.not_saved", "findings.network", "status.queued", "status.processing",
               "status.done", "status.failed")


def script_strings(lang: str) -> dict[str, str]:
    return {key: ui_strings()[lang][key] for key in SCRIPT_KEYS}
