"""Was the customer really listening, did the rep check first, and did he adapt?

Signals come from the customer's turns (cue rules, then a trained classifier for what the cues miss)
and from ``acoustics`` (the customer's channel). Each signal is shown to the coach with its time and
a detail; the decision comes from a logistic regression over call-level features of those signals
(``pipeline.analysis.distraction_score``), fitted on the train split with its threshold chosen there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.analysis.call import Call
from pipeline.analysis.distraction_score import FEATURES, load_model
from pipeline.language import classifiers
from pipeline.language.nlp import clauses, cue_labels, reading_of
from pipeline.report.schema import Distraction, Signal, SignalKind
from pipeline.report.strings import NOT_MEASURED, SIGNAL_DETAILS, say

# Customer-state kinds: the cue label and the classifier label that point to each.
STATE_KINDS: dict[SignalKind, tuple[str, str]] = {
    "explicit_state": ("STATE_BUSY", "busy"),
    "asked_to_repeat": ("REPEAT", "not_heard"),
    "talking_to_someone_else": ("SIDE_TALK", "side_talk"),
    "side_activity": ("GAME", "side_activity"),
}
BACKCHANNEL_STREAK = 3  # customer turns in a row that are only "嗯/好/对" or "uh huh/yeah"
SLOW_RESPONSES_MIN = 2  # one slow reply is thinking; two are a pattern worth showing
AVAILABILITY_CHECK_WITHIN_REP_TURNS = 3

_ZH_BACKCHANNEL = re.compile(r"^[嗯好对是行哦噢啊呃嗯哼恩喔唔昂诶欸哎嘛呀的吧了，。、！？,.!?~～\s]+$")
_EN_BACKCHANNEL_WORDS = {
    "yeah", "yes", "yep", "yup", "uh", "huh", "uh-huh", "mhm", "mm", "hmm", "ok", "okay", "right", "sure",
    "alright", "got", "it", "i", "see", "cool", "fine", "good", "great", "oh",
}
_QUESTION = re.compile(r"[?？吗嘛]|骂[,，。]?$|方不方便|可以不|行不|is now|good time|got a|have a")
_OPEN_QUESTION = re.compile(r"什么|怎么|哪|多少|几|为什么|如何|\b(?:what|how|which|when|why|where|who)\b", re.IGNORECASE)
_MEETING_OR_TIME = {"MEET_VISIT", "MEET_INVITE", "MEET_NEUTRAL", "MEET_GENERIC", "TIME"}
_MEETING = {"MEET_VISIT", "MEET_INVITE", "MEET_NEUTRAL", "MEET_GENERIC"}
_ZH_REPEATED = re.compile(r"([好对是嗯行])\1{1,}")


def is_backchannel(text: str, language: str) -> bool:
    """Only acknowledgement sounds, nothing said: 好好好 / 对对 / 嗯 / "uh huh, yeah" (Mandarin read as heard:
    嗯嗯 that the recogniser spelled 文文 counts)."""
    if language == "zh":
        text = reading_of(text, language)
        return bool(_ZH_BACKCHANNEL.match(text)) and any(ch in text for ch in "嗯好对是行哦噢啊恩")
    words = re.findall(r"[a-z'-]+", text.lower())
    return bool(words) and len(words) <= 6 and all(w in _EN_BACKCHANNEL_WORDS for w in words)


def _single_acknowledgement(text: str, language: str) -> bool:
    """One acknowledgement said once ("Yes," / "Okay." / 嗯 / 好的), not a repeated 好好好 or "yeah yeah"."""
    if not is_backchannel(text, language):
        return False
    if language == "zh":
        letters = [ch for ch in reading_of(text, language) if "\u4e00" <= ch <= "\u9fff"]
        return len(letters) <= 2 and not _ZH_REPEATED.search(text)
    words = re.findall(r"[a-z'-]+", text.lower())
    return len(words) <= 2 and len(set(words)) == len(words)  # "yeah, yeah" is repeated


def _customer_turns(call: Call):
    for turn, doc in zip(call.transcript.turns, call.docs, strict=True):
        if turn.speaker == "customer" or (turn.speaker == "unknown" and not call.roles_known):
            yield turn, doc


def state_kind_by_rules(labels: set[str]) -> SignalKind | None:
    """The customer-state kind the cue labels of a turn point to, if any."""
    return next((kind for kind, spec in STATE_KINDS.items() if spec[0] in labels), None)


def names_time_to_meet_or_call(labels: set[str]) -> bool:
    """The cue rule for adapting: a meeting or a call back, with a time (docs/labels.md)."""
    return bool((labels & _MEETING or "PHONE_LATER" in labels) and "TIME" in labels)


def customer_state(
    text: str, labels: set[str], language: str
) -> tuple[SignalKind | None, SignalKind | None, float, SignalKind | None]:
    """(state kind the cue rules see, state kind the classifier is sure of, classifier confidence that
    the turn is not engaged, the state kind the classifier leans to however unsure).

    A turn counts with the rules' kind, else with the classifier's when it is at least
    STATES.min_confidence sure; the graded confidence is a feature of its own. Cross-validation over the
    train calls chose this (F1 0.978, against 0.962 for rule kinds only and 0.917 for the classifier
    from 0.35): the written turns it learned from do not cover every way customers talk.
    """
    rule_kind = state_kind_by_rules(labels)
    cats = classifiers.scores(classifiers.STATES, text, language)
    if not cats:
        return rule_kind, None, 0.0, None
    label = max(cats, key=lambda name: cats[name])
    sure_kind = None
    if cats[label] >= classifiers.STATES.min_confidence:
        sure_kind = next((kind for kind, spec in STATE_KINDS.items() if spec[1] == label), None)
    leaning = max((kind for kind in STATE_KINDS), key=lambda kind: cats.get(STATE_KINDS[kind][1], 0.0))
    return rule_kind, sure_kind, 1.0 - cats["engaged"], leaning


@dataclass
class CustomerSigns:
    """What the customer's turns and line showed, before any decision."""

    signals: list[Signal] = field(default_factory=list)
    state_turns: dict[SignalKind, int] = field(default_factory=dict)  # state kind -> customer turns showing it
    max_not_engaged: float = 0.0
    least_engaged: tuple[int, SignalKind] | None = None  # the turn whose wording reads least engaged, and how
    longest_streak: int = 0
    customer_turns: int = 0
    backchannel_turns: int = 0
    short_answers_to_open_questions: int = 0
    sharp_questions: int = 0
    first_sign_turn: int | None = None

    def add(self, kind: SignalKind, turn: int | None, start: float | None, end: float | None, detail: str) -> None:
        self.signals.append(Signal(kind=kind, turn=turn, start=start, end=end, detail=detail))
        if turn is not None and kind not in ("ended_call", "slow_responses"):
            self.first_sign_turn = turn if self.first_sign_turn is None else min(self.first_sign_turn, turn)


def _text_evidence(call: Call) -> CustomerSigns:
    language = call.transcript.language
    turns = call.transcript.turns
    evidence = CustomerSigns()
    streak: list[int] = []

    def close_streak() -> None:
        evidence.longest_streak = max(evidence.longest_streak, len(streak))
        if len(streak) >= BACKCHANNEL_STREAK:
            first, last = turns[streak[0]], turns[streak[-1]]
            quotes = "、".join(turns[i].text for i in streak[:4])
            evidence.add(
                "backchannel_streak", first.index, first.start, last.end,
                say(language, SIGNAL_DETAILS, "backchannel_streak", count=len(streak), quotes=quotes),
            )

    for turn, doc in _customer_turns(call):
        evidence.customer_turns += 1
        labels = cue_labels(doc)
        backchannel = is_backchannel(turn.text, language)
        rule_kind, sure_kind, not_engaged, leaning = customer_state(turn.text, labels, language)
        if leaning is not None and not_engaged > evidence.max_not_engaged:
            evidence.least_engaged = (turn.index, leaning)
        evidence.max_not_engaged = max(evidence.max_not_engaged, not_engaged)
        if rule_kind is not None:
            evidence.state_turns[rule_kind] = evidence.state_turns.get(rule_kind, 0) + 1
            state = say(language, SIGNAL_DETAILS, rule_kind)
            evidence.add(rule_kind, turn.index, turn.start, turn.end,
                         say(language, SIGNAL_DETAILS, "by_rules", state=state, quote=turn.text))
        elif sure_kind is not None:
            evidence.state_turns[sure_kind] = evidence.state_turns.get(sure_kind, 0) + 1
            state = say(language, SIGNAL_DETAILS, sure_kind)
            evidence.add(sure_kind, turn.index, turn.start, turn.end,
                         say(language, SIGNAL_DETAILS, "by_wording", state=state, confidence=not_engaged, quote=turn.text))
        previous = turns[turn.index - 1] if turn.index > 0 else None
        if previous is not None and call.rep_side(previous) and _OPEN_QUESTION.search(previous.text) and (
            "?" in previous.text or "？" in previous.text
        ):
            if backchannel or len(turn.text.strip()) <= 2:
                evidence.short_answers_to_open_questions += 1
        if backchannel:
            evidence.backchannel_turns += 1
            streak.append(turn.index)
            if language == "zh" and len(_ZH_REPEATED.findall(turn.text)) >= 2:
                evidence.add("backchannel_repeat", turn.index, turn.start, turn.end,
                             say(language, SIGNAL_DETAILS, "backchannel_repeat", quote=turn.text))
        else:
            close_streak()
            streak = []
            if "QUESTION_SHARP" in labels and len(turn.text) >= 5:
                evidence.sharp_questions += 1
    close_streak()
    ended = _customer_ended_call(call)
    if ended is not None:
        evidence.add("ended_call", ended.index, ended.start, ended.end,
                     say(language, SIGNAL_DETAILS, "ended_call", quote=ended.text))
    return evidence


def _sound_evidence(call: Call, evidence: CustomerSigns) -> tuple[dict[str, float], list[str]]:
    """Sound signals into ``evidence``; returns the sound features and what could not be measured."""
    language = call.transcript.language
    turns = call.transcript.turns
    acoustics = call.acoustics
    features = {"sound_measured": 0.0, "slow_replies": 0.0, "slow_reply_share": 0.0,
                "tonal_noise_share": 0.0, "broadband_noise_share": 0.0, "interruptions": 0.0}
    if acoustics is None:
        return features, [say(language, NOT_MEASURED, "text_only")]
    not_measured = [say(language, NOT_MEASURED, code) for code in acoustics.not_measured]
    if acoustics.customer_channel is None:
        return features, not_measured
    features["sound_measured"] = 1.0
    slow = acoustics.slow_responses
    features["slow_replies"] = float(min(len(slow), 4))
    if acoustics.response_latencies_s:
        features["slow_reply_share"] = len(slow) / len(acoustics.response_latencies_s)
    if len(slow) >= SLOW_RESPONSES_MIN:
        first = min(slow)
        evidence.add("slow_responses", first, turns[first].start, turns[first].end,
                     say(language, SIGNAL_DETAILS, "slow_responses", count=len(slow), longest_s=max(slow.values())))
    duration_s = call.transcript.duration_s or max((t.end or 0.0 for t in turns), default=0.0) or 1.0
    for span in acoustics.noisy_spans:
        features[f"{span.kind}_noise_share"] += (span.end_s - span.start_s) / duration_s
        kind = say(language, SIGNAL_DETAILS, span.kind)
        evidence.add("background_sound", None, span.start_s, span.end_s,
                     say(language, SIGNAL_DETAILS, "background_sound", kind=kind, level_dbfs=span.level_dbfs))
    features["interruptions"] = float(min(acoustics.customer_interruptions or 0, 3))
    return features, not_measured


def call_features(evidence: CustomerSigns, sound: dict[str, float], ended_call: bool) -> dict[str, float]:
    """The fixed feature vector the fusion model reads (names in distraction_model.FEATURES)."""
    features: dict[str, float] = {kind: float(min(evidence.state_turns.get(kind, 0), 3)) for kind in STATE_KINDS}
    features.update(
        not_engaged_max=evidence.max_not_engaged,
        backchannel_share=evidence.backchannel_turns / evidence.customer_turns if evidence.customer_turns else 0.0,
        longest_streak=float(min(evidence.longest_streak, 6)),
        backchannel_repeat=float(min(sum(s.kind == "backchannel_repeat" for s in evidence.signals), 3)),
        short_answers=float(min(evidence.short_answers_to_open_questions, 3)),
        ended_call=float(ended_call),
        sharp_questions=float(min(evidence.sharp_questions, 3)),
        **sound,
    )
    assert set(features) == set(FEATURES), set(features) ^ set(FEATURES)
    return features


def gather(call: Call) -> tuple[CustomerSigns, dict[str, float], list[str]]:
    """All evidence of the call, its feature vector and what was not measured."""
    evidence = _text_evidence(call)
    sound, not_measured = _sound_evidence(call, evidence)
    ended = any(s.kind == "ended_call" for s in evidence.signals)
    return evidence, call_features(evidence, sound, ended), not_measured


def analyze(call: Call) -> Distraction:
    evidence, features, not_measured = gather(call)
    model = load_model()
    score = model.probability(features)
    distracted = score >= model.threshold
    if distracted and not evidence.signals:
        # Only the wording's overall lean made the verdict: show its strongest turn so the coach can check
        # it by ear, unless that turn is one "Yes," (the classifier's guess on it spreads evenly and reads
        # as "not engaged"): no verdict then.
        least = evidence.least_engaged
        if least is None or _single_acknowledgement(call.transcript.turns[least[0]].text, call.transcript.language):
            distracted = False
        else:
            _point_at_least_engaged_turn(call, evidence)
    adapted_turn = _rep_adapted_turn(call, evidence) if distracted else None
    return Distraction(
        distracted=distracted,
        score=round(score, 3),
        threshold=round(model.threshold, 3),
        rep_checked_availability=_rep_checked_availability(call),
        rep_adapted=(adapted_turn is not None) if distracted else None,
        adapted_turn=adapted_turn,
        signals=evidence.signals,
        not_measured=not_measured,
    )


def _point_at_least_engaged_turn(call: Call, evidence: CustomerSigns) -> None:
    """Add the turn whose wording reads least engaged as the verdict's evidence."""
    assert evidence.least_engaged is not None
    index, kind = evidence.least_engaged
    turn, language = call.transcript.turns[index], call.transcript.language
    state = say(language, SIGNAL_DETAILS, kind)
    evidence.add(kind, index, turn.start, turn.end, say(language, SIGNAL_DETAILS, "by_wording", state=state,
                                                         confidence=evidence.max_not_engaged, quote=turn.text))


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
            if "STATE_BUSY" in cue_labels(doc):
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


def rep_turn_adapts(text: str, labels: set[str], language: str) -> bool:
    """Does this rep turn name a time to meet or to call back (docs/labels.md)?

    The cue rules first (a meeting or a call back, with a time; "您先忙，回头联系" names none), then the
    classifier when it is sure. Order and threshold: benchmarks/distraction_cv.py on the train calls.
    """
    if names_time_to_meet_or_call(labels):
        return True
    label, probability = classifiers.classify(classifiers.ADAPT, text, language)
    return label == "adapted" and probability >= classifiers.ADAPT.min_confidence


def _rep_adapted_turn(call: Call, evidence: CustomerSigns) -> int | None:
    """The first rep turn after the first sign of distraction that adapts, if any."""
    first = evidence.first_sign_turn
    if first is None:  # only sound or a hang-up showed it: the whole call counts
        first = 0
    language = call.transcript.language
    for turn, doc in zip(call.transcript.turns[first:], call.docs[first:], strict=True):
        if call.rep_side(turn) and rep_turn_adapts(turn.text, cue_labels(doc), language):
            return turn.index
    return None
