"""Geometry of the report page's SVG timeline: one lane per speaker, turn bars, evidence and signal markers.

Horizontal positions are percentages of the SVG width; vertical ones pixels. Computed here, laid out by
``templates/report.html.j2``, so it can be tested without a browser.
"""

from __future__ import annotations

import math
from typing import Any

from pipeline.report.schema import Report
from pipeline.report.strings import NAMES, evidence_label
from pipeline.report.timefmt import finite, mmss, pct, secs

SPEAKER_ORDER = ("rep", "customer", "unknown")
TICK_STEPS = (1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 300, 600, 900, 1200, 1800, 3600)
MAX_TICKS = 8
# Vertical geometry (px).
_TOP_BAND = 18  # meeting-evidence triangles
_LANE_H = 40
_BAR_OFFSET, _BAR_H = 15, 20  # bar inside a lane, below the lane caption
_BOTTOM_BAND = 16  # distraction-signal triangles
_AXIS_H = 20


def _ticks(total: float) -> list[dict[str, str]]:
    step = next(
        (s for s in TICK_STEPS if total / s <= MAX_TICKS),
        TICK_STEPS[-1] * math.ceil(total / 3600 / MAX_TICKS),
    )
    ticks = []
    t = 0.0
    while t <= total + 1e-6:
        x = t / total * 100
        anchor = "start" if x < 3 else ("end" if x > 97 else "middle")
        ticks.append({"x": pct(x), "label": mmss(t), "anchor": anchor})
        t += step
    return ticks


def timeline(report: Report, lang: str) -> dict[str, Any] | None:
    """Geometry for the SVG timeline, or None when no turn has a time."""
    names = NAMES[lang]
    timed = [t for t in report.turns if finite(t.start) is not None]
    if not timed:
        return None
    last = max(max(finite(t.end) or 0.0, finite(t.start) or 0.0) for t in timed)
    total = max(finite(report.duration_s) or 0.0, last)
    if total <= 0:
        return None

    present = {t.speaker for t in report.turns}
    speakers = [s for s in SPEAKER_ORDER if s in present]  # rep, customer, and unknown on its own row
    lane_y = {s: _TOP_BAND + i * _LANE_H for i, s in enumerate(speakers)}
    lanes_end = _TOP_BAND + len(speakers) * _LANE_H
    lanes = [
        {"speaker": s, "label": names[s], "y": lane_y[s], "h": _LANE_H, "text_y": lane_y[s] + 11}
        for s in speakers
    ]

    min_w = 0.25  # percent, so very short turns stay visible and clickable
    bars = []
    for t in timed:
        start = finite(t.start) or 0.0
        end = finite(t.end)
        if end is None or end < start:
            end = start
        x = start / total * 100
        w = max((end - start) / total * 100, min_w)
        snippet = t.text if len(t.text) <= 60 else t.text[:57] + "…"
        bars.append(
            {
                "x": pct(x),
                "w": pct(min(w, 100 - x)) if x < 100 else pct(min_w),
                "y": lane_y[t.speaker] + _BAR_OFFSET,
                "h": _BAR_H,
                "speaker": t.speaker,
                "t": secs(start),
                "turn": t.index,
                "title": f"{mmss(start)}–{mmss(end)} {names[t.speaker]}: {snippet}",
            }
        )

    turns = {turn.index: turn for turn in report.turns}
    meeting_markers: dict[str, dict[str, Any]] = {}  # one marker per start time, tooltips joined
    for ev in report.meeting.evidence:
        ev_start = finite(ev.start)
        if ev_start is None:
            continue
        start = ev_start
        speaker = turns[ev.turn].speaker if ev.turn in turns else "unknown"
        title = f"{mmss(start)} {evidence_label(ev, lang)} — {names[speaker]}: “{ev.quote}”"
        if secs(start) in meeting_markers:
            meeting_markers[secs(start)]["title"] += "\n" + title
            continue
        meeting_markers[secs(start)] = {
            "x": pct(start / total * 100),
            "t": secs(start),
            "turn": ev.turn,
            "title": title,
        }
    signal_markers: dict[str, dict[str, Any]] = {}
    signal_spans = []
    for sig in report.distraction.signals:
        sig_start = finite(sig.start)
        if sig_start is None:
            continue
        start = sig_start
        end = finite(sig.end)
        title = f"{mmss(start)}" + (f"–{mmss(end)}" if end is not None and end > start else "")
        title += f" {names.get(sig.kind, sig.kind)} — {sig.detail}"
        if secs(start) in signal_markers:
            signal_markers[secs(start)]["title"] += "\n" + title
        else:
            signal_markers[secs(start)] = {
                "x": pct(start / total * 100),
                "t": secs(start),
                "turn": sig.turn,
                "title": title,
            }
        if end is not None and end > start:
            signal_spans.append(
                {
                    "x": pct(start / total * 100),
                    "w": pct((min(end, total) - start) / total * 100),
                    "t": secs(start),
                    "turn": sig.turn,
                    "title": title,
                }
            )

    bottom_y = lanes_end + 2
    axis_y = bottom_y + _BOTTOM_BAND
    return {
        "total": secs(total),
        "lanes": lanes,
        "bars": bars,
        "meeting_markers": list(meeting_markers.values()),
        "signal_markers": list(signal_markers.values()),
        "signal_spans": signal_spans,
        "lanes_top": _TOP_BAND,
        "lanes_end": lanes_end,
        "lanes_h": lanes_end - _TOP_BAND,
        "bottom_y": bottom_y,
        "axis_y": axis_y,
        "tick_label_y": axis_y + 14,
        "ticks": _ticks(total),
        "height": axis_y + _AXIS_H,
    }
