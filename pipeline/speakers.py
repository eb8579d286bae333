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
    method: Literal["stereo_content", "stereo_forced", "given", "none"]
    rep_channel: int | None
    confidence: float
    basis: str

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
            reasons.append(f"turn {turn.index}: “{turn.text[:40]}”")
        score += gained
    return score, reasons


def decide_roles(transcript: Transcript, docs: list[Doc], rep_channel: RepChannel, channel_count: int) -> RoleDecision:
    """Label each turn rep/customer in place and say how the decision was made (``docs``: one per turn)."""
    if channel_count < 2:
        return RoleDecision(
            "none", None, 0.0, "mono recording: both voices on one channel, rep and customer not separated"
        )
    if rep_channel != "auto":
        chosen = CHANNEL_NAMES.index(rep_channel)
        decision = RoleDecision("stereo_forced", chosen, 1.0, f"--rep-channel {rep_channel} given by the user")
    else:
        (left, left_why), (right, right_why) = (_channel_scores(transcript, docs, c) for c in (0, 1))
        chosen = 0 if left >= right else 1
        margin = abs(left - right)
        confidence = round(min(1.0, margin / 6.0), 2)
        why = (left_why, right_why)[chosen]
        basis = (
            f"{CHANNEL_NAMES[chosen]} channel talks like the rep (score {max(left, right):.0f} vs "
            f"{min(left, right):.0f} from self-introduction, pitching, proposing, offering help)"
        )
        if why:
            basis += "; e.g. " + "; ".join(why)
        if margin == 0:
            basis = "no content cue tells the parties apart; guessed the left channel is the rep"
        decision = RoleDecision("stereo_content", chosen, confidence, basis)
    for turn in transcript.turns:
        turn.speaker = "rep" if turn.channel == decision.rep_channel else "customer"
    return decision
