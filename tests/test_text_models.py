"""The trained text classifiers: real training from the repo's data, determinism, staleness, and the
rules-only fallback."""

import pytest

from pipeline.language import classifiers
from pipeline.training import classifiers as training


@pytest.fixture
def fresh_models(tmp_path, monkeypatch):
    monkeypatch.setenv("CALLCOACH_MODELS_DIR", str(tmp_path))
    classifiers.load.cache_clear()
    yield tmp_path
    classifiers.load.cache_clear()


@pytest.mark.refit  # trains a classifier from its data
def test_reply_classifier_trains_deterministically_and_reads_clear_replies(fresh_models):
    path = training.train(classifiers.ANSWERS, "en")
    assert path.parent == fresh_models and (path / "meta.json").is_file()
    assert classifiers.classify(classifiers.ANSWERS, "Sure, Thursday at ten works, see you then.", "en")[0] == "accepted"
    assert classifiers.classify(classifiers.ANSWERS, "No thanks, we're not interested, don't bother coming.", "en")[0] == "declined"
    first = classifiers.load("answers", "en")("let me check my calendar and get back to you").cats
    training.train(classifiers.ANSWERS, "en")
    assert classifiers.load("answers", "en")("let me check my calendar and get back to you").cats == first


@pytest.mark.refit  # trains a classifier from its data
def test_proposal_classifier_separates_a_push_from_a_past_meeting(fresh_models):
    training.train(classifiers.PROPOSALS, "zh")
    label, p = classifiers.classify(classifiers.PROPOSALS, "王总，周四下午两点我去您厂里当面给您演示一下？", "zh")
    assert label == "push" and p > 0.5
    assert classifiers.classify(classifiers.PROPOSALS, "上次见面的时候您说想看看新款，资料我发您微信。", "zh")[0] == "no_push"


def test_a_classifier_is_retrained_exactly_when_its_data_changes(fresh_models, monkeypatch):
    training.train(classifiers.ADAPT, "en")
    assert training.is_current(classifiers.ADAPT, "en")
    monkeypatch.setattr(training, "training_digest", lambda task, language: "other data")
    assert not training.is_current(classifiers.ADAPT, "en")


def test_the_checkout_s_classifiers_are_current():
    """`make setup` (and every analysing command) trains them from the data as it is now."""
    stale = [f"{task.name}-{language}" for task, language in training.trainable() if not training.is_current(task, language)]
    assert not stale, f"stale text classifiers {stale}: run `callcoach models prepare text`"


def test_without_a_trained_classifier_the_rules_decide_alone(fresh_models):
    assert classifiers.classify(classifiers.ANSWERS, "行，周四见", "zh") == ("other", 0.0)
    assert classifiers.classify(classifiers.PROPOSALS, "周四我去您厂里", "zh") == ("no_push", 0.0)
