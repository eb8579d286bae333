"""The rep/customer decision: committed model current with the train split, symmetric, robust to misplaced pieces."""

from __future__ import annotations

import json
import random

import pytest

from pipeline.analysis import roles as rm
from pipeline.analysis.call import parse_turns
from pipeline.analysis.roles import decide_roles, decide_roles_diarised
from pipeline.training import roles as fitting
from pipeline.transcript import Transcript, Turn


@pytest.fixture(scope="module")
def committed():
    return json.loads(rm.model_path().read_text("utf-8"))


def test_committed_model_is_fitted_on_the_current_train_split(committed):
    assert committed["training"]["data_sha256"] == fitting.data_sha256(), (
        "train data changed: run `callcoach models prepare roles` and commit pipeline/analysis/role_model.json"
    )
    assert committed["features"] == list(rm.FEATURES)


@pytest.mark.refit
def test_a_refit_gives_the_committed_model(committed):
    refit = fitting.fit()
    assert committed["C"] == refit["C"]
    for stored, again in zip(committed["coef"], refit["coef"], strict=True):
        assert abs(stored - again) <= 0.05 * max(1.0, abs(again))


def test_what_the_model_learned_points_the_right_way(committed):
    weight = dict(zip(committed["features"], committed["coef"], strict=True))
    assert weight["cue_score"] > 0 and weight["says_nin"] > 0 and weight["says_ni"] < 0 and weight["talk_share"] > 0
    right = committed["cross_validation"]["roles_right_by_move_probability"]
    assert min(right["0.0"].values()) >= 0.95 and min(right["0.2"].values()) >= 0.85, right


def _call() -> dict:
    return {"language": "zh", "turns": [
        {"speaker": "rep", "text": "王总您好，我是华工机械的小李，现在说话方便吗？"},
        {"speaker": "customer", "text": "方便，你说。"},
        {"speaker": "rep", "text": "我们的新款折弯机速度快了两成，周四下午我去您厂里当面演示一下，您看行吗？"},
        {"speaker": "customer", "text": "价格怎么样？"},
        {"speaker": "rep", "text": "比老款贵一点，电话里说不清楚，见面我给您算一笔账。"},
        {"speaker": "customer", "text": "行，周四见。"},
    ]}


def test_swapping_the_sides_swaps_the_answer():
    transcript = fitting.as_two_sides(_call(), 0.0, random.Random(0))
    docs = parse_turns(transcript)
    score = rm.load_model().rep_score(transcript, docs, 0)
    assert score > 0 and rm.load_model().rep_score(transcript, docs, 1) == pytest.approx(-score)
    for turn in transcript.turns:
        turn.channel = 1 - turn.channel
    assert decide_roles(transcript, docs, "auto", 2).rep_channel == 1


def test_a_self_introduction_in_the_wrong_voice_does_not_flip_the_roles():
    """The mono failure that motivated the model, as Whisper and the diarisation gave it (sample
    zh_concrete_visit_accepted mixed to mono): "王总您好，我是" and a pitch fragment landed in the
    customer's voice. The hand-weighted cue score alone chose the customer (4.5 vs 2)."""
    lines = [(1, "王总您好,我是"), (0, "华宫机械的小李。王总,现在说话方便吗?"), (1, "方便着你说吧"),
             (0, "上个月您问过"), (1, "我们的速控折弯机"), (0, "现在新款出来了速度快了两成还更省电"),
             (1, "我新款价格怎么样低落"),
             (0, "款值贵一点电话里说不清楚周四向五两电我去宁厂里当面给宁眼试一下您看行吗"),
             (1, "周四向五啊请你过来吧好的那我周四"), (0, "向五两变最时盗顺便把样品合爆加单单上"),
             (1, "好,到了给我打电话没问题,"), (0, "往总,那周四见"), (1, "好,周四见")]
    turns = [Turn(i, "unknown", text, float(i), i + 0.9, channel=voice) for i, (voice, text) in enumerate(lines)]
    transcript = Transcript("zh", turns, 14.0)
    docs = parse_turns(transcript)
    hand = [sum(rm.cue_gain(doc) for turn, doc in zip(turns, docs, strict=True) if turn.channel == v) for v in (0, 1)]
    assert hand[1] > hand[0]  # the trap: by cues alone voice 1 looks like the rep
    decision = decide_roles_diarised(transcript, docs, split_confidence=0.6, diarisation_method="spectral")
    assert decision.rep_channel == 0 and transcript.turns[1].speaker == "rep"
    assert 0 < decision.confidence <= 0.6  # never surer than the split
