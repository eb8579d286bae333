"""The fused distraction score: committed model up to date with the train split, sane and calibrated."""

from __future__ import annotations

import json

import pytest

from pipeline.analysis import distraction_score
from pipeline.analysis.call import Call
from pipeline.analysis.distraction import gather
from pipeline.training import distraction as dm
from pipeline.transcript import transcript_from_dict


@pytest.fixture(scope="module")
def rows():
    return dm.training_rows()


@pytest.fixture(scope="module")
def committed():
    return json.loads(distraction_score.model_path().read_text("utf-8"))


def test_committed_model_is_fitted_on_the_current_train_split(committed):
    assert committed["training"]["data_sha256"] == dm.data_sha256(), (
        "train data changed: run `callcoach models prepare distraction` and commit pipeline/analysis/distraction_model.json"
    )
    assert committed["features"] == list(distraction_score.FEATURES)


@pytest.mark.refit
def test_a_refit_gives_the_committed_model(rows, committed):
    refit = dm.fit(rows)
    # Float noise between machines may move a tie in the cross-validation; a different model may not.
    assert abs(committed["cross_validation"]["f1"] - refit["cross_validation"]["f1"]) <= 0.01
    stored = distraction_score.load_model()
    again = distraction_score.DistractionModel(tuple(refit["mean"]), tuple(refit["scale"]), tuple(refit["coef"]), refit["intercept"],
                                refit["threshold"])
    agree = [
        (stored.probability(row.features) >= stored.threshold) == (again.probability(row.features) >= again.threshold)
        for row in rows
    ]
    assert sum(agree) >= 0.98 * len(rows)


def test_cross_validated_on_both_text_and_audio_calls(committed):
    training = committed["training"]
    assert training["audio_calls"] >= 16 and training["text_calls"] >= 100
    cv = committed["cross_validation"]
    assert cv["f1"] >= 0.9 and cv["brier"] <= 0.1, cv
    assert 0.2 <= committed["threshold"] <= 0.8


@pytest.mark.refit
def test_sound_features_come_from_the_audio_training_calls(rows):
    audio = [row for row in rows if row.source == "audio"]
    assert audio and all(row.features["sound_measured"] == 1.0 for row in audio)
    assert any(row.features["tonal_noise_share"] > 0.1 for row in audio)  # a game or music background
    assert any(row.features["slow_replies"] >= 2 for row in audio if row.distracted)
    assert all(row.features["sound_measured"] == 0.0 for row in rows if row.source == "text")


def _features(language: str, *turns: str) -> dict[str, float]:
    data = {"language": language, "turns": [{"speaker": "rep" if t[0] == "R" else "customer", "text": t[2:]} for t in turns]}
    return gather(Call.parse(transcript_from_dict(data)))[1]


def test_more_signs_of_distraction_raise_the_score():
    model = distraction_score.load_model()
    calm = _features("zh", "R:王总您好，我是云达软件的小李。", "C:你好，什么事？", "R:我们的系统能自动出报表。", "C:价格多少？支持多少用户？")
    busy = _features("zh", "R:王总您好，我是云达软件的小李。", "C:我在开会。", "R:我们的系统能自动出报表。", "C:嗯嗯。")
    busier = _features("zh", "R:王总您好，我是云达软件的小李。", "C:我在开会。", "R:我们的系统能自动出报表。", "C:啊？你说啥？没听清。")
    assert model.probability(calm) < model.threshold <= model.probability(busy) < model.probability(busier)
