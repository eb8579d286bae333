"""Who is the rep: which side (stereo channel, or diarised voice of a mono call) carries the salesperson.

A call's two sides are each described by four features: the hand-weighted cue score of their turns
(self-introduction, pitching, proposing a meeting … for the rep; asking to repeat, being busy,
declining … for the customer), how often they say the polite 您 and the plain 你, and their share of
the call's words. A logistic regression scores the difference between the two sides; no intercept,
so swapping the sides flips the answer exactly. Its weights are fitted by ``pipeline.training.roles``
and committed in ``role_model.json`` beside this module.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
from spacy.tokens import Doc

from pipeline.language.nlp import cue_labels
from pipeline.paths import packaged
from pipeline.report.schema import RoleMethod
from pipeline.report.strings import ROLE_BASIS, say
from pipeline.transcript import Transcript

RepChannel = Literal["auto", "left", "right"]
CHANNEL_NAMES = ("left", "right")
MODEL_FILE = "role_model.json"
# What a salesperson says and a customer rarely does, with how much each counts (set by hand from the
# coaching spec, and kept: a weight per cue learned from written sales calls alone over-fits them —
# e.g. it learns that "okay" marks the customer, which is wrong for the agent of a service call).
REP_CUE_WEIGHTS = {
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
CUSTOMER_CUE_WEIGHTS = {
    "STATE_BUSY": 1.5,
    "QUESTION_SHARP": 0.5,
    "REPEAT": 1.0,
    "DECLINE": 1.0,
    "DEFER": 1.0,
    "CUSTOMER_REQUEST": 1.5,  # "I'm looking for …", "我想问一下"
}
# The learned part weighs four things: the cue score above, the polite and the plain "you" (a rep
# says 您 to a customer, who says 你 back), and the side's share of the call's words.
FEATURES = ("cue_score", "says_nin", "says_ni", "talk_share")


def cue_gain(doc: Doc) -> float:
    """How much one turn sounds like the rep (positive) or the customer (negative), by the cue weights."""
    labels = cue_labels(doc)
    return sum(REP_CUE_WEIGHTS.get(label, 0.0) for label in labels) - sum(CUSTOMER_CUE_WEIGHTS.get(label, 0.0) for label in labels)


def side_features(transcript: Transcript, docs: list[Doc], side: int) -> dict[str, float]:
    """What one side (turn.channel == side) says and how much of the talk is theirs."""
    cue_score = nin = ni = 0.0
    talk = [0.0, 0.0]
    for turn, doc in zip(transcript.turns, docs, strict=True):
        size = len(turn.text) if transcript.language == "zh" else len(turn.text.split())
        talk[turn.channel == side] += size
        if turn.channel == side:
            cue_score += cue_gain(doc)
            nin += turn.text.count("您")
            ni += turn.text.count("你")
    return {"cue_score": cue_score, "says_nin": math.log1p(nin), "says_ni": math.log1p(ni),
            "talk_share": talk[1] / max(1.0, sum(talk))}


def side_difference(transcript: Transcript, docs: list[Doc], side: int) -> np.ndarray:
    """FEATURES of ``side`` minus those of the other side: what the model scores."""
    mine, theirs = side_features(transcript, docs, side), side_features(transcript, docs, 1 - side)
    return np.array([mine[name] - theirs[name] for name in FEATURES])


@dataclass(frozen=True)
class RoleModel:
    coef: tuple[float, ...]  # one per FEATURES entry, in that order

    def rep_score(self, transcript: Transcript, docs: list[Doc], side: int) -> float:
        """Log-odds that ``side`` is the rep rather than the other side."""
        return float(np.dot(side_difference(transcript, docs, side), self.coef))


def model_path() -> Path:
    return packaged("pipeline.analysis", MODEL_FILE)


@lru_cache(maxsize=1)
def load_model() -> RoleModel:
    data = json.loads(model_path().read_text("utf-8"))
    if tuple(data["features"]) != FEATURES:
        raise RuntimeError(f"{MODEL_FILE} was fitted on other features; run `callcoach models prepare roles`")
    return RoleModel(tuple(data["coef"]))


@dataclass
class RoleDecision:
    method: RoleMethod
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


def given_roles(transcript: Transcript) -> RoleDecision:
    """Text input: the transcript's speakers are taken as given."""
    known = any(turn.speaker != "unknown" for turn in transcript.turns)
    lang = transcript.language
    if known:
        return RoleDecision("given", None, 1.0, say(lang, ROLE_BASIS, "given"))
    return RoleDecision("none", None, 0.0, say(lang, ROLE_BASIS, "none"))


def decide_roles_diarised(
    transcript: Transcript, docs: list[Doc], split_confidence: float, diarisation_method: str
) -> RoleDecision:
    """Mono call split into two voices (turn.channel = voice 0/1): which voice is the rep, from content.

    The confidence is the weaker of the two steps: telling the voices apart, then telling which one
    is the rep; either failing makes the roles unreliable.
    """
    lang = transcript.language
    chosen, probability, why = _rep_side(transcript, docs)
    if probability == 0.5:  # nothing tells the voices apart
        chosen = next((t.channel for t in transcript.turns if t.channel is not None), 0)
        why, verdict = [], say(lang, ROLE_BASIS, "voice_tie")
    else:
        verdict = say(lang, ROLE_BASIS, "voice_content", probability=probability)
        if why:
            verdict += say(lang, ROLE_BASIS, "example") + "; ".join(why)
    content_confidence = 2 * probability - 1
    basis = say(lang, ROLE_BASIS, "diarised", method=diarisation_method, split=split_confidence) + verdict
    decision = RoleDecision(
        "diarised_mono", chosen, round(min(content_confidence, split_confidence), 2), basis,
        split_confidence=round(split_confidence, 2), diarisation_method=diarisation_method,
    )
    for turn in transcript.turns:
        turn.speaker = "rep" if turn.channel == chosen else "customer"
    return decision


def decide_roles(transcript: Transcript, docs: list[Doc], rep_channel: RepChannel, channel_count: int) -> RoleDecision:
    """Label each turn rep/customer in place and say how the decision was made (``docs``: one per turn)."""
    lang = transcript.language
    if channel_count < 2:
        return RoleDecision("none", None, 0.0, say(lang, ROLE_BASIS, "mono"))
    if rep_channel != "auto":
        chosen = CHANNEL_NAMES.index(rep_channel)
        decision = RoleDecision("stereo_forced", chosen, 1.0, say(lang, ROLE_BASIS, "forced", channel=rep_channel))
    else:
        chosen, probability, why = _rep_side(transcript, docs)
        confidence = round(2 * probability - 1, 2)
        channel = say(lang, ROLE_BASIS, CHANNEL_NAMES[chosen])
        basis = say(lang, ROLE_BASIS, "content", channel=channel, probability=probability)
        if why:
            basis += say(lang, ROLE_BASIS, "example") + "; ".join(why)
        if probability == 0.5:
            basis = say(lang, ROLE_BASIS, "tie")
        decision = RoleDecision("stereo_content", chosen, confidence, basis)
    for turn in transcript.turns:
        turn.speaker = "rep" if turn.channel == decision.rep_channel else "customer"
    return decision
