"""A trained spaCy text classifier for the customer's reply to a meeting proposal.

The cue rules catch explicit answers ("行，周四见", "不用了"); customers also answer in ways no
list covers ("我下午都在厂里，到了打我电话"). This textcat (bag of words and word pairs, jieba
tokens for Mandarin) is trained from labeled replies in ``models/training/answers_<lang>.jsonl``
and from the replies in the train split of ``tests/data``. It reads a reply first; the cue rules
decide when it is unsure (that order won on held-out replies: benchmarks/answer_model_cv.py).

Training is deterministic and takes seconds: ``callcoach models prepare answers`` (or the first
use) writes ``models/answers-<lang>/`` with ``nlp.to_disk``.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
from functools import lru_cache
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.training import Example

from pipeline.models import REPO_ROOT, models_dir

log = logging.getLogger(__name__)
LABELS = ("accepted", "declined", "deferred", "other")
TRAINING_DIR = REPO_ROOT / "models" / "training"
SEED = 13
EPOCHS = 12
# Below this probability the cue rules decide instead. Chosen by 5-fold cross-validation on the
# training replies (benchmarks/answer_model_cv.py).
MIN_CONFIDENCE = 0.35


def model_path(language: str) -> Path:
    return models_dir() / f"answers-{language}"


def _blank(language: str) -> Language:
    if language == "zh":
        import jieba

        jieba.setLogLevel(logging.WARNING)
        return spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    return spacy.blank("en")


def training_examples(language: str) -> list[tuple[str, str]]:
    """(reply text, label) pairs: written replies plus the replies in the labeled train calls."""
    pairs: list[tuple[str, str]] = []
    written = TRAINING_DIR / f"answers_{language}.jsonl"
    if written.is_file():
        for line in written.read_text("utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                pairs.append((item["answer"], item["label"]))
    pairs.extend(_replies_in_labeled_calls(language))
    return pairs


def _replies_in_labeled_calls(language: str) -> list[tuple[str, str]]:
    """The customer's first reply after the rep's first proposal-like turn, labeled with the call's outcome."""
    from pipeline.analyzers.call import Call
    from pipeline.analyzers.meeting import proposal_turns
    from pipeline.transcript import transcript_from_dict

    path = REPO_ROOT / "tests" / "data" / "train" / f"{language}.jsonl"
    if not path.is_file():
        return []
    pairs = []
    for line in path.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        meeting = item["labels"]["meeting"]
        if not meeting["pushed"] or meeting["outcome"] == "none" or meeting.get("attempts", 1) > 1:
            continue  # only single proposals give an unambiguous reply label
        call = Call.parse(transcript_from_dict(item, item["id"]))
        turns = proposal_turns(call)
        if not turns:
            continue
        reply = next((t for t in call.transcript.turns[turns[0] + 1 :] if t.speaker == "customer"), None)
        if reply is not None:
            pairs.append((reply.text, meeting["outcome"]))
    return pairs


def fit(language: str, pairs: list[tuple[str, str]]) -> Language:
    """A fresh textcat trained on (reply, label) pairs, deterministically."""
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
    for label in LABELS:
        textcat.add_label(label)
    examples = [
        Example.from_dict(nlp.make_doc(text), {"cats": {label: float(label == gold) for label in LABELS}})
        for text, gold in pairs
    ]
    optimizer = nlp.initialize(lambda: examples)
    shuffler = random.Random(SEED)
    for _ in range(EPOCHS):
        shuffler.shuffle(examples)
        for batch in spacy.util.minibatch(examples, size=16):
            nlp.update(batch, sgd=optimizer, drop=0.2)
    return nlp


def train(language: str) -> Path:
    """Train and save the reply classifier for a language; returns its folder."""
    pairs = training_examples(language)
    if not pairs:
        raise FileNotFoundError(f"no training replies for {language} in {TRAINING_DIR}")
    nlp = fit(language, pairs)
    target = model_path(language)
    staging = target.with_name(f".{target.name}.tmp{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    nlp.to_disk(staging)
    (staging / "training.json").write_text(
        json.dumps({"examples": len(pairs), "epochs": EPOCHS, "seed": SEED, "labels": LABELS}), "utf-8"
    )
    shutil.rmtree(target, ignore_errors=True)
    os.replace(staging, target)
    log.info("trained reply classifier %s on %d replies", target, len(pairs))
    return target


@lru_cache(maxsize=2)
def load(language: str) -> Language:
    """The reply classifier for a language, trained first if it is not on disk yet."""
    path = model_path(language)
    if not (path / "meta.json").is_file():
        train(language)
    return spacy.load(path)


def classify(text: str, language: str) -> tuple[str, float]:
    """(label, probability) for a customer's reply to a proposal."""
    cats = load(language)(text).cats
    label = max(cats, key=cats.get)
    return label, cats[label]
