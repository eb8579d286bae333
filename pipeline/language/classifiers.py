"""Trained spaCy text classifiers at run time, for what the cue rules do not generalise to.

Four tasks, each a textcat (bag of words and word pairs; jieba tokens for Mandarin, characters and their
pairs and triples for Mandarin proposals — see pipeline.training.classifiers.FEATURES):

- ``answers``: the customer's reply to a meeting proposal → accepted / declined / deferred / other.
- ``proposals``: one rep turn → push (asks to meet in person) / no_push.
- ``states``: one customer turn → busy / not_heard / side_talk / side_activity / engaged.
- ``adapt``: the rep's turn after a sign of distraction → adapted (stops, names a time) / not_adapted.

They are trained from files in the repository by ``pipeline.training.classifiers`` (``callcoach models
prepare text``, which every CLI command that analyses runs first when a classifier is missing or stale)
into ``models/<task>-<lang>/``. Here they are only loaded: a missing classifier leaves the cue rules to
decide alone, with a warning. How each is combined with the rules, and at which confidence, is chosen
by cross-validation (benchmarks/text_models_cv.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import spacy
from spacy.language import Language

from pipeline.language.nlp import reading_of
from pipeline.paths import models_dir

log = logging.getLogger(__name__)
TRAINING_RECORD = "training.json"  # written beside the model: examples, data digest, seed


@dataclass(frozen=True)
class Task:
    name: str
    labels: tuple[str, ...]
    text_key: str  # field holding the text in the written examples
    min_confidence: float  # below this the cue rules decide (chosen by cross-validation)


ANSWERS = Task("answers", ("accepted", "declined", "deferred", "other"), "answer", 0.35)
# 0.8 for proposals, after the cue rules: the best meeting.pushed F1 on the beike tuning part among 0.7–0.95
# (train calls flat), and no push on the real customer-service calls of ../shared/realdata/seretod (0.7 gave one:
# "那我帮你查看一下，请您稍等" at 0.73).
PROPOSALS = Task("proposals", ("push", "no_push"), "text", 0.8)
# States: a graded feature of the distraction fusion; a sign shown to the coach from 0.8. Adapt: after the cue
# rules, when at least 0.8 sure (benchmarks/distraction_cv.py, on the train calls the classifier never saw).
STATES = Task("states", ("busy", "not_heard", "side_talk", "side_activity", "engaged"), "text", 0.8)
ADAPT = Task("adapt", ("adapted", "not_adapted"), "text", 0.8)
TASKS = {task.name: task for task in (ANSWERS, PROPOSALS, STATES, ADAPT)}
LANGUAGES = ("zh", "en")


# Candidate classifiers being judged before they replace the trained ones (see ``candidates``).
_CANDIDATES: dict[str, Path] = {}


def model_name(task: Task, language: str) -> str:
    return f"{task.name}-{language}"


def model_path(task: Task, language: str) -> Path:
    name = model_name(task, language)
    return _CANDIDATES.get(name) or models_dir() / name


@contextmanager
def candidates(folders: dict[str, Path]) -> Iterator[None]:
    """Analyse with these classifier folders (by model name, e.g. ``proposals-zh``) in place of the trained
    ones, within this block: a retrain is scored before it may replace anything."""
    _CANDIDATES.update(folders)
    load.cache_clear()
    try:
        yield
    finally:
        for name in folders:
            _CANDIDATES.pop(name, None)
        load.cache_clear()


def is_trained(task: Task, language: str) -> bool:
    return (model_path(task, language) / "meta.json").is_file()


def training_record(task: Task, language: str) -> dict | None:
    """What the trained classifier was trained from (None when it is not trained)."""
    path = model_path(task, language) / TRAINING_RECORD
    return json.loads(path.read_text("utf-8")) if path.is_file() else None


@lru_cache(maxsize=8)
def load(task_name: str, language: str) -> Language | None:
    """A trained classifier, or None (the cue rules then decide alone)."""
    task = TASKS[task_name]
    if not is_trained(task, language):
        log.warning("no %s classifier for %s at %s (run `callcoach models prepare text`): cue rules only",
                    task.name, language, model_path(task, language))
        return None
    return spacy.load(model_path(task, language))


def scores(task: Task, text: str, language: str) -> dict[str, float]:
    """Probability of every label (read on the corrected reading of Mandarin); empty without a classifier."""
    nlp = load(task.name, language)
    return dict(nlp(reading_of(text, language)).cats) if nlp is not None else {}


def classify(task: Task, text: str, language: str) -> tuple[str, float]:
    """(label, probability) of the most likely label; probability 0 when no classifier is available."""
    cats = scores(task, text, language)
    if not cats:
        return task.labels[-1], 0.0
    label = max(cats, key=lambda name: cats[name])
    return label, cats[label]
