"""Who is the rep: decide which channel carries the salesperson, from what each side says."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from spacy.tokens import Doc

from pipeline.role_model import cue_gain, load_model
from pipeline.transcript import Transcript

RepChannel = Literal["auto", "left", "right"]
CHANNEL_NAMES = ("left", "right")


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


def _examples(transcript: Transcript, docs: list[Doc], side: int) -> list[str]:
    """Up to two of the side's turns that sound most like a rep (for the report's basis sentence)."""
    scored = []
    for turn, doc in zip(transcript.turns, docs, strict=True):
        if turn.channel == side:
            gained = cue_gain(doc)
            if gained >= 2.0:
                scored.append((-gained, turn.index, f"#{turn.index}: “{turn.text[:40]}”"))
    return [example for _, _, example in sorted(scored)[:2]]


def _rep_side(transcript: Transcript, docs: list[Doc]) -> tuple[int, float, list[str]]:
    """(the side that is the rep, probability that it is, example turns); probability 0.5 = no evidence."""
    score = load_model().rep_score(transcript, docs, 0)
    chosen = 0 if score >= 0 else 1
    probability = 1.0 / (1.0 + math.exp(-abs(score)))
    return chosen, probability, _examples(transcript, docs, chosen)


_BASIS = {  # how the decision is explained, in the call's language
    "zh": {
        "mono": "单声道录音：双方在同一声道，未区分销售和客户",
        "forced": "用户指定 --rep-channel {channel}",
        "content": "{channel}声道说话像销售（可能性 {probability:.0%}，依据自我介绍、介绍产品、提出见面、用“您”称呼、说话多少）",
        "example": "；例如 ",
        "tie": "双方说话内容没有区分度，暂定左声道为销售",
        "channels": {"left": "左", "right": "右"},
        "diarised": "单声道录音，按声音分成两人（{method}，区分可信度 {split:.0%}）；",
        "voice_content": "说话像销售的一方定为销售（可能性 {probability:.0%}）",
        "voice_tie": "双方说话内容没有区分度，暂定先开口的一方为销售",
    },
    "en": {
        "mono": "mono recording: both voices on one channel, rep and customer not separated",
        "forced": "--rep-channel {channel} given by the user",
        "content": "{channel} channel talks like the rep ({probability:.0%} likely, from self-introduction, "
        "pitching, proposing, offering help, how much each side talks)",
        "example": "; e.g. ",
        "tie": "no content cue tells the parties apart; guessed the left channel is the rep",
        "channels": {"left": "left", "right": "right"},
        "diarised": "mono recording, voices told apart by diarisation ({method}, split confidence {split:.0%}); ",
        "voice_content": "the voice that talks like the rep is the rep ({probability:.0%} likely)",
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
    chosen, probability, why = _rep_side(transcript, docs)
    if probability == 0.5:  # nothing tells the voices apart
        chosen = next((t.channel for t in transcript.turns if t.channel is not None), 0)
        why, verdict = [], say["voice_tie"]
    else:
        verdict = say["voice_content"].format(probability=probability)
        if why:
            verdict += say["example"] + "; ".join(why)
    content_confidence = 2 * probability - 1
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
        chosen, probability, why = _rep_side(transcript, docs)
        confidence = round(2 * probability - 1, 2)
        channel = say["channels"][CHANNEL_NAMES[chosen]]
        basis = say["content"].format(channel=channel, probability=probability)
        if why:
            basis += say["example"] + "; ".join(why)
        if probability == 0.5:
            basis = say["tie"]
        decision = RoleDecision("stereo_content", chosen, confidence, basis)
    for turn in transcript.turns:
        turn.speaker = "rep" if turn.channel == decision.rep_channel else "customer"
    return decision
