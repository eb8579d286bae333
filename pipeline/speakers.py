"""Who is the rep: decide which channel carries the salesperson, from what each side says."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from spacy.tokens import Doc

from pipeline.nlp import cue_labels
from pipeline.transcript import Transcript

RepChannel = Literal["auto", "left", "right"]
CHANNEL_NAMES = ("left", "right")
# What a salesperson says and a customer rarely does, with how much each counts.
_REP_CUE_WEIGHTS = {
    "SELF_INTRO": 3.0,
    "AVAILABILITY_CHECK": 2.0,
    "MEET_VISIT": 2.0,
    "MEET_INVITE": 2.0,
    "PITCH": 1.0,
    "MATERIALS": 1.0,
    "PASSIVE": 1.0,
    "ADAPT": 1.0,
    "SERVICE_OFFER": 1.5,  # the agent's side of a service call ("how can I help", "很高兴为您服务")
}
_CUSTOMER_CUE_WEIGHTS = {
    "STATE_BUSY": 1.5,
    "QUESTION_SHARP": 0.5,
    "REPEAT": 1.0,
    "DECLINE": 1.0,
    "DEFER": 1.0,
    "CUSTOMER_REQUEST": 1.5,  # "I'm looking for …", "我想问一下"
}


@dataclass
class RoleDecision:
    method: Literal["stereo_content", "stereo_forced", "diarised_mono", "given", "none"]
    rep_channel: int | None  # stereo: the rep's channel; diarised mono: the rep's voice (0/1)
    confidence: float
    basis: str
    split_confidence: float | None = None  # diarised mono only: how clearly the two voices separate
    diarisation_method: str | None = None

    @property
    def customer_channel(self) -> int | None:
        return None if self.rep_channel is None else 1 - self.rep_channel


def _channel_scores(transcript: Transcript, docs: list[Doc], channel: int) -> tuple[float, list[str]]:
    score = 0.0
    reasons: list[str] = []
    for turn, doc in zip(transcript.turns, docs, strict=True):
        if turn.channel != channel:
            continue
        labels = cue_labels(doc)
        gained = sum(_REP_CUE_WEIGHTS.get(label, 0.0) for label in labels)
        gained -= sum(_CUSTOMER_CUE_WEIGHTS.get(label, 0.0) for label in labels)
        if gained >= 2.0 and len(reasons) < 2:
            reasons.append(f"#{turn.index}: “{turn.text[:40]}”")
        score += gained
    return score, reasons


_BASIS = {  # how the decision is explained, in the call's language
    "zh": {
        "mono": "单声道录音：双方在同一声道，未区分销售和客户",
        "forced": "用户指定 --rep-channel {channel}",
        "content": "{channel}声道说话像销售（得分 {high:.0f} 比 {low:.0f}：自我介绍、介绍产品、提出见面、提供帮助）",
        "example": "；例如 ",
        "tie": "双方说话内容没有区分度，暂定左声道为销售",
        "channels": {"left": "左", "right": "右"},
        "diarised": "单声道录音，按声音分成两人（{method}，区分可信度 {split:.0%}）；",
        "voice_content": "说话像销售的一方定为销售（得分 {high:.0f} 比 {low:.0f}）",
        "voice_tie": "双方说话内容没有区分度，暂定先开口的一方为销售",
    },
    "en": {
        "mono": "mono recording: both voices on one channel, rep and customer not separated",
        "forced": "--rep-channel {channel} given by the user",
        "content": "{channel} channel talks like the rep (score {high:.0f} vs {low:.0f} from self-introduction, "
        "pitching, proposing, offering help)",
        "example": "; e.g. ",
        "tie": "no content cue tells the parties apart; guessed the left channel is the rep",
        "channels": {"left": "left", "right": "right"},
        "diarised": "mono recording, voices told apart by diarisation ({method}, split confidence {split:.0%}); ",
        "voice_content": "the voice that talks like the rep is the rep (score {high:.0f} vs {low:.0f})",
        "voice_tie": "no content cue tells the voices apart; guessed the first voice to speak is the rep",
    },
}


def decide_roles_diarised(
    transcript: Transcript, docs: list[Doc], split_confidence: float, diarisation_method: str
) -> RoleDecision:
    """Mono call split into two voices (turn.channel = voice 0/1): which voice is the rep, from content.

    The confidence is the weaker of the two steps: telling the voices apart, then telling which one
    is the rep; either failing makes the roles unreliable.
    """
    say = _BASIS[transcript.language]
    (first, first_why), (second, second_why) = (_channel_scores(transcript, docs, voice) for voice in (0, 1))
    margin = abs(first - second)
    if margin == 0:
        opener = next((t.channel for t in transcript.turns if t.channel is not None), 0)
        chosen, why, verdict = opener, [], say["voice_tie"]
    else:
        chosen = 0 if first > second else 1
        why = (first_why, second_why)[chosen]
        verdict = say["voice_content"].format(high=max(first, second), low=min(first, second))
        if why:
            verdict += say["example"] + "; ".join(why)
    content_confidence = min(1.0, margin / 6.0)
    basis = say["diarised"].format(method=diarisation_method, split=split_confidence) + verdict
    decision = RoleDecision(
        "diarised_mono", chosen, round(min(content_confidence, split_confidence), 2), basis,
        split_confidence=round(split_confidence, 2), diarisation_method=diarisation_method,
    )
    for turn in transcript.turns:
        turn.speaker = "rep" if turn.channel == chosen else "customer"
    return decision


def decide_roles(transcript: Transcript, docs: list[Doc], rep_channel: RepChannel, channel_count: int) -> RoleDecision:
    """Label each turn rep/customer in place and say how the decision was made (``docs``: one per turn)."""
    say = _BASIS[transcript.language]
    if channel_count < 2:
        return RoleDecision("none", None, 0.0, say["mono"])
    if rep_channel != "auto":
        chosen = CHANNEL_NAMES.index(rep_channel)
        decision = RoleDecision("stereo_forced", chosen, 1.0, say["forced"].format(channel=rep_channel))
    else:
        (left, left_why), (right, right_why) = (_channel_scores(transcript, docs, c) for c in (0, 1))
        chosen = 0 if left >= right else 1
        margin = abs(left - right)
        confidence = round(min(1.0, margin / 6.0), 2)
        why = (left_why, right_why)[chosen]
        channel = say["channels"][CHANNEL_NAMES[chosen]]
        basis = say["content"].format(channel=channel, high=max(left, right), low=min(left, right))
        if why:
            basis += say["example"] + "; ".join(why)
        if margin == 0:
            basis = say["tie"]
        decision = RoleDecision("stereo_content", chosen, confidence, basis)
    for turn in transcript.turns:
        turn.speaker = "rep" if turn.channel == decision.rep_channel else "customer"
    return decision
