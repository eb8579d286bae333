"""The trained text classifiers: real training from the repo's data, determinism, and the rules-only fallback."""

import pytest

from pipeline import text_models


@pytest.fixture
def fresh_models(tmp_path, monkeypatch):
    monkeypatch.setenv("CALLCOACH_MODELS_DIR", str(tmp_path))
    text_models.load.cache_clear()
    yield tmp_path
    text_models.load.cache_clear()


def test_reply_classifier_trains_deterministically_and_reads_clear_replies(fresh_models):
    path = text_models.train(text_models.ANSWERS, "en")
    assert path.parent == fresh_models and (path / "meta.json").is_file()
    assert text_models.classify(text_models.ANSWERS, "Sure, Thursday at ten works, see you then.", "en")[0] == "accepted"
    assert text_models.classify(text_models.ANSWERS, "No thanks, we're not interested, don't bother coming.", "en")[0] == "declined"
    first = text_models.load("answers", "en")("let me check my calendar and get back to you").cats
    text_models.load.cache_clear()
    text_models.train(text_models.ANSWERS, "en")
    assert text_models.load("answers", "en")("let me check my calendar and get back to you").cats == first


def test_proposal_classifier_separates_a_push_from_a_past_meeting(fresh_models):
    label, p = text_models.classify(text_models.PROPOSALS, "王总，周四下午两点我去您厂里当面给您演示一下？", "zh")
    assert label == "push" and p > 0.5
    assert text_models.classify(text_models.PROPOSALS, "上次见面的时候您说想看看新款，资料我发您微信。", "zh")[0] == "no_push"


def test_without_training_data_the_rules_decide_alone(fresh_models, monkeypatch, tmp_path):
    monkeypatch.setattr(text_models, "TRAINING_DIR", tmp_path / "nothing-here")
    assert text_models.classify(text_models.ANSWERS, "行，周四见", "zh") == ("other", 0.0)
    assert text_models.classify(text_models.PROPOSALS, "周四我去您厂里", "zh") == ("no_push", 0.0)
