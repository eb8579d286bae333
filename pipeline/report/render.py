"""Report views: a Markdown summary and a self-contained HTML page (inline CSS/JS, inline SVG timeline,
optional embedded audio) rendered from a :class:`~pipeline.report.schema.Report`.

All UI strings live in ``LABELS`` / ``NAMES`` below, keyed by the report's language. The templates are
presentational only; every derived value (times, highlight segments, timeline geometry, card verdicts)
is computed here so it can be tested without a browser.

HTML escaping is done by Jinja's autoescape: transcript text is split into plain-string segments
(highlighted or not) in Python and the template wraps the highlighted ones in ``<mark>``, so no
transcript text is ever marked safe.
"""

from __future__ import annotations

import base64
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from pipeline.coaching import CHANNEL_NAMES, SIGNAL_NAMES
from pipeline.report.schema import LOW_SPLIT_CONFIDENCE, Report, TurnOut

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "销售通话辅导报告",
        "source": "来源文件",
        "call_id": "通话编号",
        "language": "语言",
        "duration": "时长",
        "text_only": "仅文字转写",
        "summary": "总览",
        "topic": "主题",
        "check": "检查项",
        "result": "结果",
        "meeting": "见面推进",
        "meeting_q": "有没有争取当面见面？",
        "distraction": "客户状态",
        "distraction_q": "客户在认真听吗？销售有没有察觉？",
        "pushed": "提出见面",
        "concrete": "提议具体（时间/地点）",
        "outcome": "客户回应",
        "downgraded": "降级到更弱的渠道",
        "attempts": "争取次数",
        "distance_excuse": "以距离为借口",
        "distracted": "客户分心",
        "score": "分心指数",
        "threshold": "判定线",
        "checked": "开场确认是否方便",
        "adapted": "发现分心后及时调整",
        "yes": "是",
        "no": "否",
        "na": "不适用",
        "roles": "角色判断",
        "method": "判断方式",
        "rep_channel": "销售所在声道",
        "confidence": "可信度",
        "split_confidence": "两人声音区分可信度",
        "mono_warning": "⚠ 单声道录音：谁是销售、谁是客户是从混在一起的声音里推断的，区分可信度低，涉及角色的结论请核对。",
        "mono_note": "单声道录音：角色是从混在一起的两人声音里推断的。",
        "basis": "依据",
        "coaching": "辅导要点",
        "principle": "原则",
        "evidence": "证据",
        "no_evidence": "（无具体语句，针对整通电话）",
        "no_points": "没有辅导要点。",
        "meeting_evidence": "见面相关证据",
        "proposals": "见面提议",
        "when": "时间",
        "where": "地点",
        "distraction_signals": "分心信号",
        "not_measured": "未能测量的信号",
        "none_found": "无",
        "transcript": "通话记录",
        "kind": "类型",
        "speaker": "说话人",
        "time": "时间",
        "quote": "原话",
        "span": "时间段",
        "detail": "说明",
        "turn": "第 {n} 句",
        "timeline": "通话时间线",
        "timeline_hint": "点击色块或标记可从该处播放。",
        "no_times": "转写没有时间信息，无法绘制时间线。",
        "legend_meeting": "见面相关证据",
        "legend_signal": "分心信号",
        "text_only_note": "本报告来自文字转写，没有录音。",
        "audio_missing_note": "录音未嵌入本页面（文件过大或未提供）。",
        "player": "录音",
        "tech": "技术信息",
        "pipeline_version": "流程版本",
        "asr_model": "识别模型",
        "language_probability": "语言置信度",
        "channels": "声道数",
        "fake_stereo": "伪立体声",
        "latency": "客户回答延迟中位数",
        "long_pauses": "客户长停顿次数",
        "background": "客户背景声",
        "overlap": "双方同时说话",
        "interruptions": "客户插话次数",
        "speech_rate": "客户语速",
        "generated_by": "由 callcoach 生成",
        "colon": "：",
        "list_sep": "、",
        "lp": "（",
        "rp": "）",
        "vl": "【",
        "vr": "】",
        "comma": "，",
        "play_from": "从 {t} 播放",
    },
    "en": {
        "title": "Sales call coaching report",
        "source": "Source",
        "call_id": "Call ID",
        "language": "Language",
        "duration": "Duration",
        "text_only": "text only",
        "summary": "Summary",
        "topic": "Topic",
        "check": "Check",
        "result": "Result",
        "meeting": "Meeting",
        "meeting_q": "Did the rep push for an in-person meeting?",
        "distraction": "Customer state",
        "distraction_q": "Was the customer really listening, and did the rep notice?",
        "pushed": "Meeting pushed",
        "concrete": "Concrete (day / time / place)",
        "outcome": "Outcome",
        "downgraded": "Downgraded to a weaker channel",
        "attempts": "Attempts",
        "distance_excuse": "Distance used as an excuse",
        "distracted": "Customer distracted",
        "score": "score",
        "threshold": "threshold",
        "checked": "Checked availability up front",
        "adapted": "Adapted to the distraction",
        "yes": "Yes",
        "no": "No",
        "na": "n/a",
        "roles": "Who is who",
        "method": "Method",
        "rep_channel": "Rep's channel",
        "confidence": "Confidence",
        "split_confidence": "Voice split confidence",
        "mono_warning": "⚠ Mono recording: who is the rep and who is the customer was inferred from one mixed channel and the split is unclear; check role-dependent findings.",
        "mono_note": "Mono recording: roles were inferred from the two voices on one mixed channel.",
        "basis": "Basis",
        "coaching": "Coaching points",
        "principle": "Principle",
        "evidence": "Evidence",
        "no_evidence": "(no specific turn: about the whole call)",
        "no_points": "No coaching points.",
        "meeting_evidence": "Meeting evidence",
        "proposals": "Meeting proposals",
        "when": "when",
        "where": "where",
        "distraction_signals": "Distraction signals",
        "not_measured": "Signals not measured",
        "none_found": "None",
        "transcript": "Transcript",
        "kind": "Kind",
        "speaker": "Speaker",
        "time": "Time",
        "quote": "Quote",
        "span": "Time span",
        "detail": "Detail",
        "turn": "turn {n}",
        "timeline": "Call timeline",
        "timeline_hint": "Click a block or marker to play from there.",
        "no_times": "The transcript has no timestamps, so there is no timeline.",
        "legend_meeting": "meeting evidence",
        "legend_signal": "distraction signal",
        "text_only_note": "This report was made from a text transcript; there is no recording.",
        "audio_missing_note": "The recording is not embedded in this page (too large or not provided).",
        "player": "Recording",
        "tech": "Technical details",
        "pipeline_version": "Pipeline version",
        "asr_model": "ASR model",
        "language_probability": "Language probability",
        "channels": "Channels",
        "fake_stereo": "Fake stereo",
        "latency": "Customer reply latency (median)",
        "overlap": "Both talking at once",
        "interruptions": "Customer talked over the rep",
        "speech_rate": "Customer speech rate",
        "long_pauses": "Customer long pauses",
        "background": "Customer background",
        "generated_by": "Generated by callcoach",
        "colon": ": ",
        "list_sep": ", ",
        "lp": " (",
        "rp": ")",
        "vl": "[",
        "vr": "] ",
        "comma": ", ",
        "play_from": "Play from {t}",
    },
}

# Enumerated values from the schema and the analyzers' evidence/signal kinds. Unknown keys fall back to
# the raw value, so a new kind added by an analyzer still renders.
NAMES: dict[str, dict[str, str]] = {
    "zh": {
        # speakers
        "rep": "销售",
        "customer": "客户",
        "unknown": "未知",
        # verdicts
        "good": "做得好",
        "missed": "错失",
        "warning": "注意",
        # principles
        "meeting_push": "推动见面",
        "concrete_proposal": "提议具体",
        "channel": "不降级渠道",
        "distance": "距离不是借口",
        "availability_check": "确认是否方便",
        "customer_state": "察觉客户状态",
        "roles": "角色判断",
        "commitment_return": "承诺再来一趟",
        # outcomes
        "accepted": "接受",
        "declined": "拒绝",
        "deferred": "推迟",
        "none": "无",
        # role methods / channels
        "stereo_content": "立体声，按说话内容判断",
        "stereo_forced": "立体声，按指定声道",
        "diarised_mono": "单声道，按声音分人后按说话内容判断",
        "given": "已给定",
        "left": "左声道",
        "right": "右声道",
        # evidence kinds
        "proposal": "见面提议",
        "answer": "客户回应",
        "downgrade": "降级",
        "downgrade accepted": "附和客户的降级",
        "distance_excuse": "距离借口",
        "not_a_push": "不算见面邀约",
        "talked_out_of_meeting": "自己打消了见面",
        "visit_customer": "上门拜访",
        "invite_to_our_site": "邀请来访",
        "neutral_place": "约在第三方地点",
        "unspecified": "未说明方式",
        "past meeting": "以前的见面",
        "video / online meeting": "视频/线上会议",
        "delivery, installation or event logistics": "送货、安装或会务安排",
        # background kinds
        "quiet": "安静",
        "tonal": "音乐/游戏类",
        "broadband": "噪声",
    },
    "en": {
        "rep": "Rep",
        "customer": "Customer",
        "unknown": "Unknown",
        "good": "Good",
        "missed": "Missed",
        "warning": "Warning",
        "meeting_push": "Push for the meeting",
        "concrete_proposal": "Be concrete",
        "channel": "Don't downgrade the channel",
        "distance": "Distance is no excuse",
        "availability_check": "Check availability",
        "customer_state": "Read the customer's state",
        "roles": "Roles",
        "commitment_return": "Commitment to come back",
        "accepted": "accepted",
        "declined": "declined",
        "deferred": "deferred",
        "none": "none",
        "stereo_content": "stereo, by content",
        "stereo_forced": "stereo, channel given",
        "diarised_mono": "mono, voices split, then by content",
        "given": "given",
        "left": "left",
        "right": "right",
        "proposal": "proposal",
        "answer": "answer",
        "downgrade": "downgrade",
        "downgrade accepted": "went along with a downgrade",
        "distance_excuse": "distance excuse",
        "not_a_push": "not a push",
        "talked_out_of_meeting": "talked himself out of it",
        "visit_customer": "visit the customer",
        "invite_to_our_site": "invite to our site",
        "neutral_place": "neutral place",
        "unspecified": "unspecified",
        "past meeting": "past meeting",
        "video / online meeting": "video / online meeting",
        "delivery, installation or event logistics": "delivery, installation or event logistics",
        "quiet": "quiet",
        "tonal": "music/game-like",
        "broadband": "noise",
    },
}
# Channel and distraction-signal names are the coaching module's, so report and coaching say the same.
for _lang, _names in NAMES.items():
    _names.update(CHANNEL_NAMES[_lang])
    _names.update(SIGNAL_NAMES[_lang])
LANGUAGE_NAMES = {"zh": {"zh": "中文", "en": "英文"}, "en": {"zh": "Mandarin", "en": "English"}}
METHOD_NONE = {"zh": "无法区分", "en": "could not tell apart"}

AUDIO_MIME = {
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".m4a": "audio/mp4",
    ".mp4": "audio/mp4",
    ".aac": "audio/aac",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".flac": "audio/flac",
    ".webm": "audio/webm",
}

MEETING_PRINCIPLES = ("meeting_push", "concrete_proposal", "channel", "distance")
DISTRACTION_PRINCIPLES = ("availability_check", "customer_state")
SPEAKER_ORDER = ("rep", "customer", "unknown")
TICK_STEPS = (1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 300, 600, 900, 1200, 1800, 3600)
MAX_TICKS = 8

# Timeline geometry (px, vertical only; horizontal positions are percentages of the SVG width).
_TOP_BAND = 18  # meeting-evidence triangles
_LANE_H = 40
_BAR_OFFSET, _BAR_H = 15, 20  # bar inside a lane, below the lane caption
_BOTTOM_BAND = 16  # distraction-signal triangles
_AXIS_H = 20


# --------------------------------------------------------------------------------------------- helpers


def _finite(t: float | None) -> float | None:
    return t if t is not None and math.isfinite(t) and t >= 0 else None


def mmss(t: float | None) -> str:
    """12.3 -> "00:12"; minutes are not wrapped into hours; None -> "—"."""
    t = _finite(t)
    if t is None:
        return "—"
    total = int(t)
    return f"{total // 60:02d}:{total % 60:02d}"


def secs(t: float | None) -> str:
    """Seconds for a ``data-t`` attribute: 12.3 -> "12.3", 6.5930 -> "6.593", 0 -> "0"."""
    t = _finite(t)
    if t is None:
        return ""
    text = f"{t:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def _pct(x: float) -> str:
    return f"{max(0.0, min(100.0, x)):.3f}".rstrip("0").rstrip(".") or "0"


def _kind_label(kind: str, lang: str) -> str:
    """ "proposal: visit_customer" -> "见面提议：上门拜访"; "downgrade: wechat, materials" -> "降级：微信、发资料"."""
    names, labels = NAMES[lang], LABELS[lang]
    head, sep, rest = kind.partition(":")
    head = head.strip()
    head_label = names.get(head, head)
    if not sep:
        return head_label
    rest = rest.strip()
    if rest in names:
        values = [names[rest]]
    else:
        values = [names.get(part.strip(), part.strip()) for part in rest.split(",")]
    return head_label + labels["colon"] + labels["list_sep"].join(values)


def _yes_no(value: bool | None, lang: str) -> str:
    labels = LABELS[lang]
    if value is None:
        return labels["na"]
    return labels["yes"] if value else labels["no"]


def _language(report: Report) -> str:
    return report.language if report.language in LABELS else "en"


def _turn_map(report: Report) -> dict[int, TurnOut]:
    return {turn.index: turn for turn in report.turns}


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
        ticks.append({"x": _pct(x), "label": mmss(t), "anchor": anchor})
        t += step
    return ticks


def _timeline(report: Report, lang: str) -> dict[str, Any] | None:
    """Geometry for the SVG timeline, or None when no turn has a time."""
    names = NAMES[lang]
    timed = [t for t in report.turns if _finite(t.start) is not None]
    if not timed:
        return None
    last = max(max(_finite(t.end) or 0.0, _finite(t.start) or 0.0) for t in timed)
    total = max(_finite(report.duration_s) or 0.0, last)
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
        start = _finite(t.start) or 0.0
        end = _finite(t.end)
        if end is None or end < start:
            end = start
        x = start / total * 100
        w = max((end - start) / total * 100, min_w)
        snippet = t.text if len(t.text) <= 60 else t.text[:57] + "…"
        bars.append(
            {
                "x": _pct(x),
                "w": _pct(min(w, 100 - x)) if x < 100 else _pct(min_w),
                "y": lane_y[t.speaker] + _BAR_OFFSET,
                "h": _BAR_H,
                "speaker": t.speaker,
                "t": secs(start),
                "turn": t.index,
                "title": f"{mmss(start)}–{mmss(end)} {names[t.speaker]}: {snippet}",
            }
        )

    turns = _turn_map(report)
    meeting_markers: dict[str, dict[str, Any]] = {}  # one marker per start time, tooltips joined
    for ev in report.meeting.evidence:
        start = _finite(ev.start)
        if start is None:
            continue
        speaker = turns[ev.turn].speaker if ev.turn in turns else "unknown"
        title = f"{mmss(start)} {_kind_label(ev.kind, lang)} — {names[speaker]}: “{ev.quote}”"
        if secs(start) in meeting_markers:
            meeting_markers[secs(start)]["title"] += "\n" + title
            continue
        meeting_markers[secs(start)] = {
            "x": _pct(start / total * 100),
            "t": secs(start),
            "turn": ev.turn,
            "title": title,
        }
    signal_markers: dict[str, dict[str, Any]] = {}
    signal_spans = []
    for sig in report.distraction.signals:
        start = _finite(sig.start)
        if start is None:
            continue
        end = _finite(sig.end)
        title = f"{mmss(start)}" + (f"–{mmss(end)}" if end is not None and end > start else "")
        title += f" {names.get(sig.kind, sig.kind)} — {sig.detail}"
        if secs(start) in signal_markers:
            signal_markers[secs(start)]["title"] += "\n" + title
        else:
            signal_markers[secs(start)] = {
                "x": _pct(start / total * 100),
                "t": secs(start),
                "turn": sig.turn,
                "title": title,
            }
        if end is not None and end > start:
            signal_spans.append(
                {
                    "x": _pct(start / total * 100),
                    "w": _pct((min(end, total) - start) / total * 100),
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


def _context(report: Report) -> dict[str, Any]:
    """Everything both templates need, precomputed and already translated."""
    lang = _language(report)
    labels, names = LABELS[lang], NAMES[lang]
    turns = _turn_map(report)
    meeting, distraction = report.meeting, report.distraction

    def speaker_of(turn: int | None) -> str:
        return turns[turn].speaker if turn is not None and turn in turns else "unknown"

    def turn_ref(index: int) -> dict[str, Any]:
        turn = turns.get(index)
        start = _finite(turn.start) if turn else None
        return {
            "index": index,
            "label": labels["turn"].format(n=index + 1),
            "time": mmss(start),
            "t": secs(start),
            "speaker": turn.speaker if turn else "unknown",
            "speaker_label": names[turn.speaker if turn else "unknown"],
            "exists": turn is not None,
        }

    # Highlights: quotes of meeting evidence and proposals, per turn.
    marks: dict[int, list[tuple[str, str]]] = {}
    for ev in meeting.evidence:
        marks.setdefault(ev.turn, []).append((ev.quote, _kind_label(ev.kind, lang)))
    for prop in meeting.proposals:
        marks.setdefault(prop.turn, []).append((prop.quote, _kind_label(f"proposal: {prop.kind}", lang)))
    signal_kinds: dict[int, list[str]] = {}
    for sig in distraction.signals:
        if sig.turn is not None:
            kinds = signal_kinds.setdefault(sig.turn, [])
            label = names.get(sig.kind, sig.kind)
            if label not in kinds:
                kinds.append(label)
    evidence_turns = {i for point in report.coaching for i in point.evidence_turns}

    transcript = []
    for turn in report.turns:
        start, end = _finite(turn.start), _finite(turn.end)
        transcript.append(
            {
                "index": turn.index,
                "number": turn.index + 1,
                "speaker": turn.speaker,
                "speaker_label": names[turn.speaker],
                "time": mmss(start),
                "t": secs(start),
                "end_t": secs(end),
                "text": turn.text,
                "md_text": " ".join(turn.text.split())
                if "\n" in turn.text or "\r" in turn.text
                else turn.text,
                "segments": _segments(turn.text, marks.get(turn.index, [])),
                "signals": signal_kinds.get(turn.index, []),
                "is_evidence": turn.index in evidence_turns or turn.index in marks,
            }
        )

    coaching = [
        {
            "principle": point.principle,
            "principle_label": names.get(point.principle, point.principle),
            "verdict": point.verdict,
            "verdict_label": names[point.verdict],
            "message": point.message,
            "turns": [turn_ref(i) for i in point.evidence_turns],
        }
        for point in report.coaching
    ]

    channels = labels["list_sep"].join(names.get(c, c) for c in meeting.downgrade_channels)
    lp, rp = labels["lp"], labels["rp"]
    downgraded = _yes_no(meeting.downgraded, lang) + (f"{lp}{channels}{rp}" if channels else "")
    distracted = _yes_no(distraction.distracted, lang) + (
        f"{lp}{labels['score']} {distraction.score:.2f}{labels['list_sep']}{labels['threshold']} {distraction.threshold:.2f}{rp}"
    )
    meeting_rows = [
        {"label": labels["pushed"], "value": _yes_no(meeting.pushed, lang), "flag": meeting.pushed},
        {
            "label": labels["concrete"],
            "value": _yes_no(meeting.concrete, lang),
            "flag": meeting.concrete if meeting.pushed else None,
        },
        {
            "label": labels["outcome"],
            "value": names.get(meeting.outcome, meeting.outcome),
            "flag": {"accepted": True, "declined": False}.get(meeting.outcome),
        },
        {"label": labels["downgraded"], "value": downgraded, "flag": not meeting.downgraded},
        {"label": labels["attempts"], "value": str(meeting.attempts), "flag": None},
        {
            "label": labels["distance_excuse"],
            "value": _yes_no(meeting.distance_excuse, lang),
            "flag": not meeting.distance_excuse,
        },
    ]
    distraction_rows = [
        {"label": labels["distracted"], "value": distracted, "flag": not distraction.distracted},
        {
            "label": labels["checked"],
            "value": _yes_no(distraction.rep_checked_availability, lang),
            "flag": distraction.rep_checked_availability,
        },
        {
            "label": labels["adapted"],
            "value": _yes_no(distraction.rep_adapted, lang),
            "flag": distraction.rep_adapted,
        },
    ]

    def card(key: str, principles: tuple[str, ...], rows: list[dict[str, Any]]) -> dict[str, Any]:
        verdict = _combine_verdicts([p.verdict for p in report.coaching if p.principle in principles])
        return {
            "title": labels[key],
            "question": labels[key + "_q"],
            "verdict": verdict,
            "verdict_label": names[verdict] if verdict else "—",
            "rows": rows,
        }

    meeting_evidence = [
        {
            "kind": _kind_label(ev.kind, lang),
            "speaker": speaker_of(ev.turn),
            "speaker_label": names[speaker_of(ev.turn)],
            "time": mmss(ev.start),
            "t": secs(ev.start),
            "turn": ev.turn,
            "quote": ev.quote,
        }
        for ev in meeting.evidence
    ]
    proposals = [
        {
            "kind": names.get(p.kind, p.kind),
            "quote": p.quote,
            "time": mmss(p.start),
            "t": secs(p.start),
            "turn": p.turn,
            "when": labels["list_sep"].join(p.when) + _normalised_time(p.time, lang),
            "where": labels["list_sep"].join(p.where),
        }
        for p in meeting.proposals
    ]
    signals = []
    for sig in distraction.signals:
        start, end = _finite(sig.start), _finite(sig.end)
        span = mmss(start) if end is None or start is None or end <= start else f"{mmss(start)}–{mmss(end)}"
        signals.append(
            {
                "kind": names.get(sig.kind, sig.kind),
                "speaker": speaker_of(sig.turn) if sig.turn is not None else None,
                "speaker_label": names[speaker_of(sig.turn)] if sig.turn is not None else "—",
                "span": span,
                "t": secs(start),
                "turn": sig.turn,
                "detail": sig.detail,
            }
        )

    roles = report.roles
    tech = []
    if report.transcription is not None:
        tr = report.transcription
        tech.append(
            (labels["asr_model"], f"{tr.model} ({tr.compute_type}, {tr.device}, beam {tr.beam_size})")
        )
        if tr.language_probability is not None:
            tech.append((labels["language_probability"], f"{tr.language_probability:.2f}"))
        tech.append((labels["channels"], str(tr.channels)))
        tech.append((labels["fake_stereo"], _yes_no(tr.fake_stereo, lang)))
    if report.acoustics is not None:
        ac = report.acoustics
        if ac.customer_response_latency_median_s is not None:
            tech.append((labels["latency"], f"{ac.customer_response_latency_median_s:.1f} s"))
        if ac.customer_long_pauses is not None:
            tech.append((labels["long_pauses"], str(ac.customer_long_pauses)))
        if ac.customer_background_kind is not None:
            level = ac.customer_background_level_dbfs
            tech.append(
                (
                    labels["background"],
                    names.get(ac.customer_background_kind, ac.customer_background_kind)
                    + (f"{labels['comma']}{level:.0f} dBFS" if level is not None else ""),
                )
            )
        if ac.overlap_s is not None:
            tech.append((labels["overlap"], f"{ac.overlap_s:.1f} s"))
        if ac.customer_interruptions is not None:
            tech.append((labels["interruptions"], str(ac.customer_interruptions)))
        if ac.customer_speech_rate is not None:
            unit = "字/秒" if report.language == "zh" else "words/s"
            tech.append((labels["speech_rate"], f"{ac.customer_speech_rate:.1f} {unit}"))
    tech.append((labels["pipeline_version"], report.pipeline_version))

    duration = _finite(report.duration_s)
    return {
        "report": report,
        "lang": lang,
        "L": labels,
        "html_lang": "zh-CN" if lang == "zh" else "en",
        "language_name": LANGUAGE_NAMES[lang][report.language],
        "duration": mmss(duration) if duration is not None else labels["text_only"],
        "meeting_card": card("meeting", MEETING_PRINCIPLES, meeting_rows),
        "distraction_card": card("distraction", DISTRACTION_PRINCIPLES, distraction_rows),
        "roles": {
            "method": METHOD_NONE[lang] if roles.method == "none" else names.get(roles.method, roles.method),
            "rep_channel": names.get(roles.rep_channel, roles.rep_channel) if roles.rep_channel else "—",
            "confidence": f"{roles.confidence * 100:.0f}%",
            "low": roles.method == "none" or roles.confidence < 0.5,
            "basis": roles.basis,
            "mono": roles.method == "diarised_mono",
            "split_confidence": None if roles.split_confidence is None else f"{roles.split_confidence * 100:.0f}%",
            "split_low": roles.split_confidence is not None and roles.split_confidence < LOW_SPLIT_CONFIDENCE,
        },
        "coaching": coaching,
        "meeting_evidence": meeting_evidence,
        "proposals": proposals,
        "signals": signals,
        "not_measured": distraction.not_measured,
        "transcript": transcript,
        "tech": tech,
        "has_recording": report.transcription is not None or duration is not None,
    }


def _md_cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


# --------------------------------------------------------------------------------------------- public API


@lru_cache(maxsize=1)
def _html_env() -> Environment:
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
    return _md_env().get_template("report.md.j2").render(**_context(report))


def render_html(report: Report, audio_src: str | None) -> str:
    """One self-contained HTML page (no external resources). ``audio_src`` is a ``data:`` URI or a
    relative/absolute URL of the recording, or None for a page without a player."""
    context = _context(report)
    context["audio_src"] = audio_src or None
    context["timeline"] = _timeline(report, context["lang"])
    return _html_env().get_template("report.html.j2").render(**context)


_ZH_DAYS = {"Monday": "周一", "Tuesday": "周二", "Wednesday": "周三", "Thursday": "周四", "Friday": "周五",
            "Saturday": "周六", "Sunday": "周日", "weekend": "周末", "tomorrow": "明天", "today": "今天",
            "day after tomorrow": "后天", "in 3 days": "大后天"}
_ZH_DAYPARTS = {"morning": "上午", "noon": "中午", "afternoon": "下午", "evening": "晚上"}


def _normalised_time(time: Any, lang: str) -> str:
    """" (Thursday · afternoon · 14:00)" / "（周四 · 下午 · 14:00）" for a proposal's structured time."""
    if time is None:
        return ""
    day, daypart = time.day, time.daypart
    if lang == "zh":
        if day:
            day = day.replace("next ", "下")
            day = next((day.replace(en, zh) for en, zh in _ZH_DAYS.items() if en in day), day)
        daypart = _ZH_DAYPARTS.get(daypart, daypart) if daypart else None
    parts = [part for part in (day, daypart, time.clock) if part]
    return f"（{' · '.join(parts)}）" if lang == "zh" else f" ({' · '.join(parts)})"


def audio_data_uri(path: Path, max_bytes: int = 20_000_000) -> str | None:
    """``data:<mime>;base64,...`` for an audio file, or None when the file is larger than ``max_bytes``
    (base64 makes the page about 4/3 of the file size)."""
    path = Path(path)
    if path.stat().st_size > max_bytes:
        return None
    mime = AUDIO_MIME.get(path.suffix.lower(), "application/octet-stream")
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")
