"""Trained spaCy text classifiers, for what rules do not generalise to.

Four tasks, each a textcat (bag of words and word pairs; jieba tokens for Mandarin):

- ``answers``: the customer's reply to a meeting proposal → accepted / declined / deferred / other.
- ``proposals``: one rep turn → push (asks to meet in person) / no_push.
- ``states``: one customer turn → busy / not_heard / side_talk / side_activity / engaged.
- ``adapt``: the rep's turn after a sign of distraction → adapted (stops, names a time) / not_adapted.

Each is trained from written examples in ``models/training/<task>_<lang>.jsonl``; answers and proposals
also from examples mined from the train split of ``tests/data`` (never the dev split; states and adapt
mine nothing, see ``_mine_nothing``). Training is deterministic and
takes seconds: ``callcoach models prepare text`` (or the first use) writes ``models/<task>-<lang>/``
with ``nlp.to_disk``. How each classifier is combined with the cue rules, and at which confidence,
is chosen by cross-validation on the training examples (benchmarks/text_models_cv.py).
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.training import Example

from pipeline.models import REPO_ROOT, models_dir

log = logging.getLogger(__name__)
TRAINING_DIR = REPO_ROOT / "models" / "training"
SEED = 13
EPOCHS = 12


@dataclass(frozen=True)
class Task:
    name: str
    labels: tuple[str, ...]
    text_key: str  # field holding the text in the written examples
    min_confidence: float  # below this the cue rules decide (chosen by cross-validation)
    mine: Callable[[str], list[tuple[str, str]]]  # examples from the labeled train calls


def _train_calls(language: str):
    """(labels, Call) for every call of the train split in a language."""
    from pipeline.analyzers.call import Call
    from pipeline.transcript import transcript_from_dict

    path = REPO_ROOT / "tests" / "data" / "train" / f"{language}.jsonl"
    if not path.is_file():
        return
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            yield item["labels"], Call.parse(transcript_from_dict(item, item["id"]))


def _mine_replies(language: str) -> list[tuple[str, str]]:
    """The customer's first reply after the rep's (single) proposal, labeled with the call's outcome."""
    from pipeline.analyzers.meeting import proposal_turns

    pairs = []
    for labels, call in _train_calls(language):
        meeting = labels["meeting"]
        if not meeting["pushed"] or meeting["outcome"] == "none" or meeting.get("attempts", 1) > 1:
            continue  # only single proposals give an unambiguous reply label
        turns = proposal_turns(call)
        reply = next((t for t in call.transcript.turns[turns[0] + 1 :] if t.speaker == "customer"), None) if turns else None
        if reply is not None:
            pairs.append((reply.text, meeting["outcome"]))
    return pairs


def _mine_rep_turns(language: str) -> list[tuple[str, str]]:
    """Rep turns of calls labeled not pushed are all no_push; in pushed calls the turns the rules flag are push."""
    from pipeline.analyzers.meeting import proposal_turns

    pairs = []
    for labels, call in _train_calls(language):
        if labels["meeting"]["pushed"]:
            pairs.extend((call.transcript.turns[i].text, "push") for i in proposal_turns(call))
        else:
            pairs.extend((t.text, "no_push") for t in call.transcript.turns if t.speaker == "rep")
    return pairs


def _mine_nothing(language: str) -> list[tuple[str, str]]:
    """The states classifier learns from written turns only: the distraction fusion model is fitted on the
    train calls' features, and a classifier that had seen those calls would look better there than on new
    calls, so the fusion would over-trust it."""
    return []


ANSWERS = Task("answers", ("accepted", "declined", "deferred", "other"), "answer", 0.35, _mine_replies)
# 0.7 for proposals: cross-validation is flat from 0.35 to 0.65 (benchmarks/text_models_cv.py), and on real
# customer-service calls (../shared/realdata/seretod) out-of-domain turns reach 0.66 — they must not count.
PROPOSALS = Task("proposals", ("push", "no_push"), "text", 0.7, _mine_rep_turns)
# States: a graded feature of the distraction fusion; a sign shown to the coach from 0.8. Adapt: after the cue
# rules, when at least 0.8 sure (benchmarks/distraction_cv.py, on the train calls the classifier never saw).
# Neither mines the train calls: the fusion and its thresholds are chosen on them.
STATES = Task("states", ("busy", "not_heard", "side_talk", "side_activity", "engaged"), "text", 0.8, _mine_nothing)
ADAPT = Task("adapt", ("adapted", "not_adapted"), "text", 0.8, _mine_nothing)
TASKS = {task.name: task for task in (ANSWERS, PROPOSALS, STATES, ADAPT)}


def model_path(task: Task, language: str) -> Path:
    return models_dir() / f"{task.name}-{language}"


def _blank(language: str) -> Language:
    if language == "zh":
        import jieba

        jieba.setLogLevel(logging.WARNING)
        return spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    return spacy.blank("en")


def training_examples(task: Task, language: str) -> list[tuple[str, str]]:
    """(text, label) pairs: the written examples plus those mined from the train split."""
    pairs: list[tuple[str, str]] = []
    written = TRAINING_DIR / f"{task.name}_{language}.jsonl"
    if written.is_file():
        for line in written.read_text("utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                pairs.append((item[task.text_key], item["label"]))
    pairs.extend(task.mine(language))
    return pairs


def fit(task: Task, language: str, pairs: list[tuple[str, str]]) -> Language:
    """A fresh textcat trained on (text, label) pairs, deterministically."""
    spacy.util.fix_random_seed(SEED)
    nlp = _blank(language)
    textcat = nlp.add_pipe(
        "textcat",
        config={
            "model": {
                "@architectures": "spacy.TextCatBOW.v3",
                "exclusive_classes": True,
                "ngram_size": 2,
                "no_output_layer": False,
                "length": 65536,
            }
        },
    )
    for label in task.labels:
        textcat.add_label(label)
    examples = [
        Example.from_dict(nlp.make_doc(text), {"cats": {label: float(label == gold) for label in task.labels}})
        for text, gold in pairs
    ]
    optimizer = nlp.initialize(lambda: examples)
    shuffler = random.Random(SEED)
    for _ in range(EPOCHS):
        shuffler.shuffle(examples)
        for batch in spacy.util.minibatch(examples, size=16):
            nlp.update(batch, sgd=optimizer, drop=0.2)
    return nlp


def train(task: Task, language: str) -> Path:
    """Train and save one classifier; returns its folder (replaced atomically)."""
    pairs = training_examples(task, language)
    if not pairs:
        raise FileNotFoundError(f"no training examples for {task.name}/{language} in {TRAINING_DIR}")
    nlp = fit(task, language, pairs)
    target = model_path(task, language)
    staging = target.with_name(f".{target.name}.tmp{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    nlp.to_disk(staging)
    (staging / "training.json").write_text(
        json.dumps({"examples": len(pairs), "epochs": EPOCHS, "seed": SEED, "labels": task.labels}), "utf-8"
    )
    shutil.rmtree(target, ignore_errors=True)
    try:
        os.replace(staging, target)
    except OSError:
        if not (target / "meta.json").is_file():
            raise
        shutil.rmtree(staging, ignore_errors=True)  # another process trained the same model at the same time
    log.info("trained %s on %d examples", target, len(pairs))
    return target


@lru_cache(maxsize=8)
def load(task_name: str, language: str) -> Language | None:
    """A classifier, trained first if it is not on disk yet; None when there is nothing to train it from
    (an install without the repository's training files): the cue rules then decide alone."""
    task = TASKS[task_name]
    path = model_path(task, language)
    if not (path / "meta.json").is_file():
        if not (TRAINING_DIR / f"{task.name}_{language}.jsonl").is_file():
            log.warning("no %s classifier for %s and no training data at %s: cue rules only", task.name, language, TRAINING_DIR)
            return None
        train(task, language)
    return spacy.load(path)


def scores(task: Task, text: str, language: str) -> dict[str, float]:
    """Probability of every label; empty when no classifier is available."""
    nlp = load(task.name, language)
    return dict(nlp(text).cats) if nlp is not None else {}


def classify(task: Task, text: str, language: str) -> tuple[str, float]:
    """(label, probability) of the most likely label; probability 0 when no classifier is available."""
    cats = scores(task, text, language)
    if not cats:
        return task.labels[-1], 0.0
    label = max(cats, key=cats.get)
    return label, cats[label]
