"""Was the customer really listening, did the rep check first, and did he adapt?

Text signals from the customer's turns and sound signals from ``acoustics`` are fused into one
score: each signal has a weight (its chance, on its own, that the customer is distracted) and the
score is the chance that at least one is right (noisy-OR), lowered by signs of engagement.
"""

from __future__ import annotations

import re

from pipeline.analyzers.call import Call
from pipeline.nlp import clauses, cue_labels
from pipeline.report.schema import Distraction, Signal

DISTRACTED_THRESHOLD = 0.5
TEXT_SIGNALS = {  # cue label -> (signal kind, weight, detail zh, detail en)
    "STATE_BUSY": ("explicit_state", 0.6, "客户说明自己在忙/不方便", "customer says they are busy or cannot talk"),
    "GAME": ("side_activity", 0.5, "客户在玩游戏或做别的事", "customer is playing a game or doing something else"),
    "REPEAT": ("asked_to_repeat", 0.45, "客户要求重复，没听清", "customer asks to repeat, did not catch it"),
    "SIDE_TALK": ("talking_to_someone_else", 0.5, "客户在跟旁边的人说话", "customer talks to someone else"),
}
BACKCHANNEL_STREAK = 3  # customer turns in a row that are only "嗯/好/对" or "uh huh/yeah"
STREAK_WEIGHT = 0.55
REPEATED_BACKCHANNEL_WEIGHT = 0.25  # "好好好，对对对" in one turn
SLOW_RESPONSES_MIN = 2
SLOW_RESPONSE_WEIGHT = 0.3
NOISE_WEIGHTS = {"tonal": 0.3, "broadband": 0.2}
ENGAGEMENT_DISCOUNT = 0.15  # per sharp customer question, at most 3
AVAILABILITY_CHECK_WITHIN_REP_TURNS = 3
ENDED_CALL_WEIGHT = 0.3  # the customer ends the call while the rep is still pitching
NOT_MEASURED = {  # why a sound signal is missing, per language
    "text_only": ("声音信号：文字转写输入，没有录音", "sound signals: text-only input, no recording"),
    "no_customer_channel": (
        "声音信号：单声道录音，客户没有独立声道（未区分角色）",
        "sound signals: mono recording, the customer has no channel of their own",
    ),
    "no_customer_silence": ("背景声音：客户声道没有静默片段", "background sound: the customer's channel has no silent stretch"),
}

_ZH_BACKCHANNEL = re.compile(r"^[嗯好对是行哦噢啊呃嗯哼恩喔唔昂诶欸哎嘛呀的吧了，。、！？,.!?~～\s]+$")
_EN_BACKCHANNEL_WORDS = {
    "yeah", "yes", "yep", "yup", "uh", "huh", "uh-huh", "mhm", "mm", "hmm", "ok", "okay", "right", "sure",
    "alright", "got", "it", "i", "see", "cool", "fine", "good", "great", "oh",
}
_QUESTION = re.compile(r"[?？吗嘛]|方不方便|可以不|行不|is now|good time|got a|have a")
_MEETING_OR_TIME = {"MEET_VISIT", "MEET_INVITE", "MEET_NEUTRAL", "MEET_GENERIC", "TIME"}
_ZH_REPEATED = re.compile(r"([好对是嗯行])\1{1,}")


def is_backchannel(text: str, language: str) -> bool:
    """Only acknowledgement sounds, nothing said: 好好好 / 对对 / 嗯 / "uh huh, yeah"."""
    if language == "zh":
        return bool(_ZH_BACKCHANNEL.match(text)) and any(ch in text for ch in "嗯好对是行哦噢啊恩")
    words = re.findall(r"[a-z'-]+", text.lower())
    return bool(words) and len(words) <= 6 and all(w in _EN_BACKCHANNEL_WORDS for w in words)


def _detail(language: str, zh: str, en: str) -> str:
    return zh if language == "zh" else en


def analyze(call: Call) -> Distraction:
    transcript = call.transcript
    language = transcript.language
    turns = transcript.turns
    signals: list[tuple[Signal, float]] = []

    def add(kind: str, weight: float, turn: int | None, start, end, detail: str) -> None:
        signals.append((Signal(kind=kind, turn=turn, start=start, end=end, detail=detail), weight))

    streak: list[int] = []
    sharp_questions = 0
    for turn, doc in zip(turns, call.docs, strict=True):
        if turn.speaker != "customer" and not (turn.speaker == "unknown" and not call.roles_known):
            continue
        labels = cue_labels(doc)
        for cue, (kind, weight, zh, en) in TEXT_SIGNALS.items():
            if cue in labels:
                add(kind, weight, turn.index, turn.start, turn.end, f"{_detail(language, zh, en)}: “{turn.text}”")
        if is_backchannel(turn.text, language):
            streak.append(turn.index)
            if language == "zh" and len(_ZH_REPEATED.findall(turn.text)) >= 2:
                add(
                    "backchannel_repeat", REPEATED_BACKCHANNEL_WEIGHT, turn.index, turn.start, turn.end,
                    _detail(language, f"连声附和，敷衍回应：“{turn.text}”", f"rapid-fire agreement: “{turn.text}”"),
                )
        else:
            if len(streak) >= BACKCHANNEL_STREAK:
                _add_streak(add, call, streak)
            streak = []
            is_question = "?" in turn.text or "？" in turn.text or "QUESTION_SHARP" in labels
            if is_question and "QUESTION_SHARP" in labels and len(turn.text) >= 5:
                sharp_questions += 1
    if len(streak) >= BACKCHANNEL_STREAK:
        _add_streak(add, call, streak)
    ended = _customer_ended_call(call)
    if ended is not None:
        add(
            "ended_call", ENDED_CALL_WEIGHT, ended.index, ended.start, ended.end,
            _detail(language, f"销售还在介绍时客户结束了通话：“{ended.text}”", f"the customer ended the call mid-pitch: “{ended.text}”"),
        )

    not_measured: list[str] = []
    acoustics = call.acoustics
    if acoustics is None:
        not_measured.append(_detail(language, *NOT_MEASURED["text_only"]))
    else:
        not_measured.extend(_detail(language, *NOT_MEASURED[code]) for code in acoustics.not_measured)
        slow = acoustics.slow_responses
        if len(slow) >= SLOW_RESPONSES_MIN:
            first = min(slow)
            add(
                "slow_responses", SLOW_RESPONSE_WEIGHT, first, turns[first].start, turns[first].end,
                _detail(
                    language,
                    f"客户有 {len(slow)} 次停顿超过 2.5 秒才回答（最长 {max(slow.values()):.1f} 秒）",
                    f"{len(slow)} replies came after more than 2.5 s (longest {max(slow.values()):.1f} s)",
                ),
            )
        for span in acoustics.noisy_spans:
            label = {"tonal": ("音乐/游戏类声音", "music/game-like sound"), "broadband": ("噪声（交通/办公室）", "noise (traffic/office)")}
            add(
                "background_sound", NOISE_WEIGHTS[span.kind], None, span.start_s, span.end_s,
                _detail(
                    language,
                    f"客户沉默时背景有{label[span.kind][0]}，{span.level_dbfs:.0f} dBFS",
                    f"{label[span.kind][1]} at {span.level_dbfs:.0f} dBFS while the customer was silent",
                ),
            )

    miss = 1.0
    for _, weight in signals:
        miss *= 1.0 - weight
    score = max(0.0, min(1.0, (1.0 - miss) - ENGAGEMENT_DISCOUNT * min(sharp_questions, 3)))
    distracted = score >= DISTRACTED_THRESHOLD

    return Distraction(
        distracted=distracted,
        score=round(score, 3),
        rep_checked_availability=_rep_checked_availability(call),
        rep_adapted=_rep_adapted(call, signals) if distracted else None,
        signals=[signal for signal, _ in signals],
        not_measured=not_measured,
    )


def _add_streak(add, call: Call, streak: list[int]) -> None:
    turns = call.transcript.turns
    first, last = turns[streak[0]], turns[streak[-1]]
    quotes = "、".join(turns[i].text for i in streak[:4])
    add(
        "backchannel_streak", STREAK_WEIGHT, first.index, first.start, last.end,
        _detail(
            call.transcript.language,
            f"客户连续 {len(streak)} 次只回应附和词：{quotes}",
            f"{len(streak)} customer replies in a row were only acknowledgements: {quotes}",
        ),
    )


def _customer_ended_call(call: Call):
    """The last customer turn says goodbye ("先这样，挂了") right after a rep turn that was still pitching."""
    turns = call.transcript.turns
    if len(turns) < 2 or turns[-1].speaker != "customer" or turns[-2].speaker != "rep":
        return None
    last, before = cue_labels(call.docs[-1]), cue_labels(call.docs[-2])
    pitching = "PITCH" in before and not (before & _MEETING_OR_TIME) and "ADAPT" not in before
    return turns[-1] if "HANG_UP" in last and pitching else None


def _rep_checked_availability(call: Call) -> bool:
    """An opening question about the customer's time ("现在说话方便吗？"), asked before they said they were busy.

    "就一分钟" pleaded after "我在忙" is not a check, nor is "您看方便吗" about a proposed meeting.
    """
    rep_turns_seen = 0
    for turn, doc in zip(call.transcript.turns, call.docs, strict=True):
        if turn.speaker == "customer":
            if "STATE_BUSY" in {s.label_ for s in doc.spans["cues"]}:
                return False
            continue
        rep_turns_seen += 1
        if rep_turns_seen > AVAILABILITY_CHECK_WITHIN_REP_TURNS:
            return False
        for clause in clauses(doc):
            labels = cue_labels(clause)
            if "AVAILABILITY_CHECK" not in labels or labels & _MEETING_OR_TIME:
                continue
            if _QUESTION.search(clause.text):
                return True
    return False


def _rep_adapted(call: Call, signals: list[tuple[Signal, float]]) -> bool:
    """After the first clear sign of distraction, did the rep stop and name a time to meet or call back?"""
    text_turns = [s.turn for s, weight in signals if s.turn is not None and weight >= 0.3]
    first_sign = min(text_turns) if text_turns else 0
    for turn, doc in zip(call.transcript.turns[first_sign:], call.docs[first_sign:], strict=True):
        if turn.speaker not in ("rep", "unknown"):
            continue
        labels = cue_labels(doc)
        if "ADAPT" in labels:
            return True
        proposes_meeting = labels & {"MEET_VISIT", "MEET_INVITE", "MEET_NEUTRAL", "MEET_GENERIC"}
        if (proposes_meeting or "PHONE_LATER" in labels) and "TIME" in labels:
            return True
    return False
