"""Report views: a Markdown summary and a self-contained HTML page (inline CSS/JS, inline SVG timeline,
optional embedded audio), rendered from a :class:`~pipeline.report.schema.Report`.

The templates are presentational only; the sections (``pipeline.report.sections``) and the timeline
geometry (``pipeline.report.timeline``) are computed in Python so they can be tested without a browser.
Every string comes from ``pipeline.report.strings``.
"""

from __future__ import annotations

import base64
import re
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from pipeline.audio.formats import mime_of
from pipeline.report.schema import Report
from pipeline.report.sections import context
from pipeline.report.timefmt import mmss, secs
from pipeline.report.timeline import timeline


def _md_cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


@lru_cache(maxsize=1)
def html_env() -> Environment:
    env = Environment(
        loader=PackageLoader("pipeline", "report/templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["mmss"] = mmss
    env.filters["secs"] = secs
    return env


@lru_cache(maxsize=1)
def _md_env() -> Environment:
    env = Environment(
        loader=PackageLoader("pipeline", "report/templates"),
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["mmss"] = mmss
    env.filters["cell"] = _md_cell
    return env


def render_markdown(report: Report) -> str:
    """The coaching report as Markdown, in the report's language."""
    return _md_env().get_template("report.md.j2").render(**context(report))


@lru_cache(maxsize=1)
def html_template_source() -> str:
    """The HTML report template's own text (the web app hashes its inline script for the page's CSP)."""
    env = html_env()
    assert env.loader is not None
    return env.loader.get_source(env, "report.html.j2")[0]


MUTE_MARGIN_S = 0.3


def _html_context(report: Report, audio_src: str | None) -> dict:
    page = context(report)
    page["audio_src"] = audio_src or None
    # Redacted spans the player mutes, widened a little: the player reports its time only a few times a second.
    page["mute_spans"] = [[max(0.0, r.start - MUTE_MARGIN_S), r.end + MUTE_MARGIN_S]
                          for r in report.redactions if r.start is not None and r.end is not None]
    page["timeline"] = timeline(report, page["lang"])
    return page


def render_html(report: Report, audio_src: str | None) -> str:
    """One self-contained HTML page (no external resources). ``audio_src`` is a ``data:`` URI or a
    relative/absolute URL of the recording, or None for a page without a player."""
    return html_env().get_template("report.html.j2").render(**_html_context(report, audio_src))


def render_html_content(report: Report, audio_src: str | None) -> str:
    """The report's body alone (the template's ``content`` block), for a page that embeds it inline and
    serves ``report_style(scope)`` and ``report_script()`` beside it."""
    template = html_env().get_template("report.html.j2")
    return "".join(template.blocks["content"](template.new_context(_html_context(report, audio_src))))


def _static_block(tag: str) -> str:
    """The text of the report template's (tag-free) <style> or <script> element."""
    match = re.search(rf"<{tag}>(.*?)</{tag}>", html_template_source(), flags=re.S)
    assert match is not None and "{{" not in match.group(1) and "{%" not in match.group(1)
    return match.group(1)


@lru_cache(maxsize=1)
def report_script() -> str:
    return _static_block("script")


@lru_cache(maxsize=4)
def report_style(scope: str) -> str:
    """The report's CSS confined to ``scope`` (CSS nesting): its page-wide rules (``:root``, ``html``,
    ``body``) become rules of the scope element, so an embedding page keeps its own look."""
    css = re.sub(r"^(\s*)(:root|html|body)(\s*\{)", r"\1&\3", _static_block("style"), flags=re.M)
    return f"{scope} {{\n{css}\n}}\n"


def audio_data_uri(path: Path, max_bytes: int = 20_000_000) -> str | None:
    """``data:<mime>;base64,...`` for an audio file, or None when the file is larger than ``max_bytes``
    (base64 makes the page about 4/3 of the file size)."""
    path = Path(path)
    if path.stat().st_size > max_bytes:
        return None
    mime = mime_of(path.suffix)
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")
