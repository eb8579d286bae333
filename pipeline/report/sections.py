"""The report's sections, computed from a :class:`~pipeline.report.schema.Report` and already translated:
summary cards, coaching points, evidence and signal tables, the transcript with highlighted quotes, roles
and technical details. Both views (Markdown and HTML) render the same context.

HTML escaping is Jinja's autoescape: transcript text is split into plain-string segments (highlighted or
not) here and the template wraps the highlighted ones in ``<mark>``, so no transcript text is marked safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.report.schema import LOW_SPLIT_CONFIDENCE, Distraction, Meeting, ProposedTime, Report, TurnOut
from pipeline.report.strings import LABELS, LANGUAGE_NAMES, METHOD_NONE, NAMES, evidence_label, kind_label, ui
from pipeline.report.timefmt import finite, mmss, secs
from pipeline.report.workbench import TALK_METRICS, format_talk_value

MEETING_PRINCIPLES = ("meeting_push", "concrete_proposal", "channel", "distance")
DISTRACTION_PRINCIPLES = ("availability_check", "customer_state")


@dataclass(frozen=True)
class _Words:
    """The report's language and its tables, and the turns by index (what every section reads)."""

    report: Report
    lang: str
    labels: dict[str, str]
    names: dict[str, str]
    turns: dict[int, TurnOut]

    @classmethod
    def of(cls, report: Report) -> _Words:
        lang = report.language if report.language in LABELS else "en"
        return cls(report, lang, LABELS[lang], NAMES[lang], {turn.index: turn for turn in report.turns})

    def yes_no(self, value: bool | None) -> str:
        if value is None:
            return self.labels["na"]
        return self.labels["yes"] if value else self.labels["no"]

    def speaker_of(self, turn: int | None) -> str:
        return self.turns[turn].speaker if turn is not None and turn in self.turns else "unknown"

    def turn_ref(self, index: int) -> dict[str, Any]:
        turn = self.turns.get(index)
        start = finite(turn.start) if turn else None
        speaker = turn.speaker if turn else "unknown"
        return {"index": index, "label": self.labels["turn"].format(n=index + 1), "time": mmss(start),
                "t": secs(start), "speaker": speaker, "speaker_label": self.names[speaker], "exists": turn is not None}


def _combine_verdicts(verdicts: list[str]) -> str | None:
    """Card verdict from the coaching points of one question: all good -> good, all missed -> missed,
    anything mixed or any warning -> warning, no points -> None."""
    if not verdicts:
        return None
    unique = set(verdicts)
    if unique == {"good"}:
        return "good"
    if unique == {"missed"}:
        return "missed"
    return "warning"


def _segments(text: str, marks: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Split ``text`` into plain and highlighted pieces. ``marks`` are (quote, title) pairs; each quote is
    highlighted at its first exact occurrence; overlapping highlights are merged (titles joined)."""
    spans: list[list[Any]] = []
    for quote, title in marks:
        if not quote:
            continue
        at = text.find(quote)
        if at < 0:
            stripped = quote.strip()
            at = text.find(stripped) if stripped else -1
            quote = stripped
        if at < 0:
            continue
        spans.append([at, at + len(quote), [title]])
    spans.sort(key=lambda s: (s[0], -s[1]))
    merged: list[list[Any]] = []
    for start, end, titles in spans:
        if merged and start < merged[-1][1]:
            last = merged[-1]
            last[1] = max(last[1], end)
            last[2].extend(t for t in titles if t not in last[2])
        else:
            merged.append([start, end, list(titles)])
    segments: list[dict[str, Any]] = []
    pos = 0
    for start, end, titles in merged:
        if start > pos:
            segments.append({"text": text[pos:start], "mark": False, "title": ""})
        segments.append({"text": text[start:end], "mark": True, "title": " · ".join(titles)})
        pos = end
    if pos < len(text) or not segments:
        segments.append({"text": text[pos:], "mark": False, "title": ""})
    return segments


def transcript_section(w: _Words) -> list[dict[str, Any]]:
    """Every turn, with the quotes of meeting evidence and proposals highlighted and its signals named."""
    report = w.report
    marks: dict[int, list[tuple[str, str]]] = {}
    for ev in report.meeting.evidence:
        marks.setdefault(ev.turn, []).append((ev.quote, evidence_label(ev, w.lang)))
    for prop in report.meeting.proposals:
        marks.setdefault(prop.turn, []).append((prop.quote, kind_label("proposal", w.lang, prop.kind)))
    signal_kinds: dict[int, list[str]] = {}
    for sig in report.distraction.signals:
        if sig.turn is not None:
            kinds = signal_kinds.setdefault(sig.turn, [])
            label = w.names.get(sig.kind, sig.kind)
            if label not in kinds:
                kinds.append(label)
    evidence_turns = {i for point in report.coaching for i in point.evidence_turns}
    transcript = []
    for turn in report.turns:
        start, end = finite(turn.start), finite(turn.end)
        transcript.append(
            {
                "index": turn.index,
                "number": turn.index + 1,
                "speaker": turn.speaker,
                "speaker_label": w.names[turn.speaker],
                "time": mmss(start),
                "t": secs(start),
                "end_t": secs(end),
                "text": turn.text,
                "md_text": " ".join(turn.text.split()) if "\n" in turn.text or "\r" in turn.text else turn.text,
                "segments": _segments(turn.text, marks.get(turn.index, [])),
                "signals": signal_kinds.get(turn.index, []),
                "is_evidence": turn.index in evidence_turns or turn.index in marks,
            }
        )
    return transcript


def coaching_section(w: _Words) -> list[dict[str, Any]]:
    return [
        {
            "principle": point.principle,
            "principle_label": w.names.get(point.principle, point.principle),
            "verdict": point.verdict,
            "verdict_label": w.names[point.verdict],
            "message": point.message,
            "turns": [w.turn_ref(i) for i in point.evidence_turns],
        }
        for point in w.report.coaching
    ]


def _meeting_rows(w: _Words, meeting: Meeting) -> list[dict[str, Any]]:
    labels = w.labels
    channels = labels["list_sep"].join(w.names.get(c, c) for c in meeting.downgrade_channels)

    def sure(probability: float | None) -> str:  # how often a verdict on this basis is right (calibrated)
        return "" if probability is None else f"{labels['lp']}{labels['likely'].format(p=probability)}{labels['rp']}"

    downgraded = w.yes_no(meeting.downgraded) + (f"{labels['lp']}{channels}{labels['rp']}" if channels else "")
    return [
        {"label": labels["pushed"], "value": w.yes_no(meeting.pushed) + sure(meeting.pushed_probability), "flag": meeting.pushed},
        {"label": labels["concrete"], "value": w.yes_no(meeting.concrete) + sure(meeting.concrete_probability),
         "flag": meeting.concrete if meeting.pushed else None},
        {"label": labels["outcome"], "value": w.names.get(meeting.outcome, meeting.outcome),
         "flag": {"accepted": True, "declined": False}.get(meeting.outcome)},
        {"label": labels["downgraded"], "value": downgraded + sure(meeting.downgraded_probability), "flag": not meeting.downgraded},
        {"label": labels["attempts"], "value": str(meeting.attempts), "flag": None},
        {"label": labels["distance_excuse"], "value": w.yes_no(meeting.distance_excuse), "flag": not meeting.distance_excuse},
    ]


def _distraction_rows(w: _Words, distraction: Distraction) -> list[dict[str, Any]]:
    labels = w.labels
    score = (f"{labels['lp']}{labels['score']} {distraction.score:.2f}{labels['list_sep']}"
             f"{labels['threshold']} {distraction.threshold:.2f}{labels['rp']}")
    return [
        {"label": labels["distracted"], "value": w.yes_no(distraction.distracted) + score, "flag": not distraction.distracted},
        {"label": labels["checked"], "value": w.yes_no(distraction.rep_checked_availability),
         "flag": distraction.rep_checked_availability},
        {"label": labels["adapted"], "value": w.yes_no(distraction.rep_adapted), "flag": distraction.rep_adapted},
    ]


def _card(w: _Words, key: str, principles: tuple[str, ...], rows: list[dict[str, Any]]) -> dict[str, Any]:
    verdict = _combine_verdicts([p.verdict for p in w.report.coaching if p.principle in principles])
    return {"title": w.labels[key], "question": w.labels[key + "_q"], "verdict": verdict,
            "verdict_label": w.names[verdict] if verdict else "—", "rows": rows}


def meeting_evidence_section(w: _Words) -> list[dict[str, Any]]:
    return [
        {
            "kind": evidence_label(ev, w.lang),
            "speaker": w.speaker_of(ev.turn),
            "speaker_label": w.names[w.speaker_of(ev.turn)],
            "time": mmss(ev.start),
            "t": secs(ev.start),
            "turn": ev.turn,
            "quote": _with_reading(w, ev.quote, ev.reading),
        }
        for ev in w.report.meeting.evidence
    ]


def _with_reading(w: _Words, quote: str, reading: str | None) -> str:
    """The exact quote, and beside it how the analysis read misheard words ("占听 (read as: 展厅)")."""
    return quote if not reading else f"{quote}{w.labels['lp']}{w.labels['read_as']}{reading}{w.labels['rp']}"


def proposals_section(w: _Words) -> list[dict[str, Any]]:
    sep = w.labels["list_sep"]
    return [
        {
            "kind": w.names.get(p.kind, p.kind),
            "quote": _with_reading(w, p.quote, p.reading),
            "time": mmss(p.start),
            "t": secs(p.start),
            "turn": p.turn,
            "when": sep.join(p.when) + _normalised_time(p.time, w.lang),
            "where": sep.join(p.where),
        }
        for p in w.report.meeting.proposals
    ]


def signals_section(w: _Words) -> list[dict[str, Any]]:
    signals = []
    for sig in w.report.distraction.signals:
        start, end = finite(sig.start), finite(sig.end)
        span = mmss(start) if end is None or start is None or end <= start else f"{mmss(start)}–{mmss(end)}"
        signals.append(
            {
                "kind": w.names.get(sig.kind, sig.kind),
                "speaker": w.speaker_of(sig.turn) if sig.turn is not None else None,
                "speaker_label": w.names[w.speaker_of(sig.turn)] if sig.turn is not None else "—",
                "span": span,
                "t": secs(start),
                "turn": sig.turn,
                "detail": sig.detail,
            }
        )
    return signals


def roles_section(w: _Words) -> dict[str, Any]:
    roles = w.report.roles
    return {
        "method": METHOD_NONE[w.lang] if roles.method == "none" else w.names.get(roles.method, roles.method),
        "rep_channel": w.names.get(roles.rep_channel, roles.rep_channel) if roles.rep_channel else "—",
        "confidence": f"{roles.confidence * 100:.0f}%",
        "low": roles.method == "none" or roles.confidence < 0.5,
        "basis": roles.basis,
        "mono": roles.method == "diarised_mono",
        "split_confidence": None if roles.split_confidence is None else f"{roles.split_confidence * 100:.0f}%",
        "split_low": roles.split_confidence is not None and roles.split_confidence < LOW_SPLIT_CONFIDENCE,
    }


def tech_section(w: _Words) -> list[tuple[str, str]]:
    report, labels = w.report, w.labels
    tech = []
    if report.transcription is not None:
        tr = report.transcription
        tech.append((labels["asr_model"], f"{tr.model} ({tr.compute_type}, {tr.device}, beam {tr.beam_size})"))
        if tr.language_probability is not None:
            tech.append((labels["language_probability"], f"{tr.language_probability:.2f}"))
        tech.append((labels["channels"], str(tr.channels)))
        tech.append((labels["fake_stereo"], w.yes_no(tr.fake_stereo)))
        if tr.lost_spans:
            tech.append((labels["lost_audio"], labels["comma"].join(
                f"{mmss(span.start_s)}–{mmss(span.end_s)}" for span in tr.lost_spans)))
    if report.acoustics is not None:
        ac = report.acoustics
        if ac.customer_response_latency_median_s is not None:
            tech.append((labels["latency"], f"{ac.customer_response_latency_median_s:.1f} s"))
        if ac.customer_long_pauses is not None:
            tech.append((labels["long_pauses"], str(ac.customer_long_pauses)))
        if ac.customer_background_kind is not None:
            level = ac.customer_background_level_dbfs
            kind = w.names.get(ac.customer_background_kind, ac.customer_background_kind)
            tech.append((labels["background"], kind + (f"{labels['comma']}{level:.0f} dBFS" if level is not None else "")))
        if ac.overlap_s is not None:
            tech.append((labels["overlap"], f"{ac.overlap_s:.1f} s"))
        if ac.customer_interruptions is not None:
            tech.append((labels["interruptions"], str(ac.customer_interruptions)))
        if ac.customer_speech_rate is not None:
            unit = "字/秒" if report.language == "zh" else "words/s"
            tech.append((labels["speech_rate"], f"{ac.customer_speech_rate:.1f} {unit}"))
    tech.append((labels["pipeline_version"], report.pipeline_version))
    return tech


def talk_section(w: _Words) -> list[tuple[str, str]]:
    """Talk metrics, the customer the call names, and what personal data was removed (no values)."""
    report, labels = w.report, w.labels
    rows = []
    if report.talk is not None:
        talk = report.talk.model_dump()
        rows += [(ui(w.lang, f"talk.{metric}"), format_talk_value(metric, talk[metric])) for metric in TALK_METRICS]
    if report.customer is not None:
        rows.append((labels["customer_named"], report.customer.key))
    if report.redactions:
        kinds = labels["comma"].join(labels[f"pii_{kind}"] for kind in dict.fromkeys(r.kind for r in report.redactions))
        rows.append((labels["redacted"], labels["redacted_value"].format(count=len(report.redactions), kinds=kinds)))
    return rows


def uncertain_section(w: _Words) -> list[dict[str, Any]]:
    """"uncertain — listen at 01:23": the verdicts to check by ear, with where to listen."""
    values = {"meeting.pushed": w.report.meeting.pushed, "meeting.concrete": w.report.meeting.concrete,
              "meeting.downgraded": w.report.meeting.downgraded, "distraction.distracted": w.report.distraction.distracted}
    items = []
    for item in w.report.uncertain:
        start = finite(item.start)
        text = w.labels["uncertain_item"].format(
            finding=w.labels[item.finding], value=w.yes_no(values[item.finding]),
            probability=item.probability, reason=w.labels[item.reason],
        )
        items.append({"text": text, "time": mmss(start), "t": secs(start), "turn": item.turn,
                      "listen": w.labels["listen_at"].format(t=mmss(start)) if start is not None else ""})
    return items


def context(report: Report) -> dict[str, Any]:
    """Everything both templates need, precomputed and already translated."""
    w = _Words.of(report)
    duration = finite(report.duration_s)
    return {
        "report": report,
        "lang": w.lang,
        "L": w.labels,
        "html_lang": "zh-CN" if w.lang == "zh" else "en",
        "language_name": LANGUAGE_NAMES[w.lang][report.language],
        "duration": mmss(duration) if duration is not None else w.labels["text_only"],
        "meeting_card": _card(w, "meeting", MEETING_PRINCIPLES, _meeting_rows(w, report.meeting)),
        "distraction_card": _card(w, "distraction", DISTRACTION_PRINCIPLES, _distraction_rows(w, report.distraction)),
        "roles": roles_section(w),
        "coaching": coaching_section(w),
        "uncertain": uncertain_section(w),
        "meeting_evidence": meeting_evidence_section(w),
        "proposals": proposals_section(w),
        "signals": signals_section(w),
        "not_measured": report.distraction.not_measured,
        "transcript": transcript_section(w),
        "tech": tech_section(w),
        "talk": talk_section(w),
        "has_recording": report.transcription is not None or duration is not None,
    }


_ZH_DAYS = {"Monday": "周一", "Tuesday": "周二", "Wednesday": "周三", "Thursday": "周四", "Friday": "周五",
            "Saturday": "周六", "Sunday": "周日", "weekend": "周末", "tomorrow": "明天", "today": "今天",
            "day after tomorrow": "后天", "in 3 days": "大后天"}
_ZH_DAYPARTS = {"morning": "上午", "noon": "中午", "afternoon": "下午", "evening": "晚上"}


def _normalised_time(time: ProposedTime | None, lang: str) -> str:
    """" (Thursday · afternoon · 14:00)" / "（周四 · 下午 · 14:00）" for a proposal's structured time."""
    if time is None:
        return ""
    day: str | None = time.day
    daypart: str | None = time.daypart
    if lang == "zh":
        if day:
            day = day.replace("next ", "下")
            day = next((day.replace(en, zh) for en, zh in _ZH_DAYS.items() if en in day), day)
        daypart = _ZH_DAYPARTS.get(daypart, daypart) if daypart else None
    parts = [part for part in (day, daypart, time.clock) if part]
    return f"（{' · '.join(parts)}）" if lang == "zh" else f" ({' · '.join(parts)})"
