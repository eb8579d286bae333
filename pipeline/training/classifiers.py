"""Training the spaCy text classifiers of ``pipeline.language.classifiers`` from files in the repository.

Each task learns from written examples in ``models/training/<task>_<lang>.jsonl``; answers and proposals
also from examples mined from the train split's labeled calls (``models/training/calls``; never the
evaluation sets). States and adapt mine nothing (see ``_mine_nothing``). Training is deterministic and
takes seconds; the trained folder records the SHA-256 of the data it came from, so ``ensure_trained``
retrains exactly when that data changed.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.training import Example

from pipeline.analysis.call import Call
from pipeline.analysis.meeting import proposal_turns
from pipeline.language.classifiers import (
    ADAPT,
    ANSWERS,
    LANGUAGES,
    PROPOSALS,
    STATES,
    TASKS,
    TRAINING_RECORD,
    Task,
    load,
    model_path,
    training_record,
)
from pipeline.language.nlp import blank_pipeline, reading_of
from pipeline.paths import REPO_ROOT, TRAINING_DIR
from pipeline.training.data import (
    data_digest,
    feedback_calls,
    feedback_calls_path,
    labeled_call_files,
    labeled_calls,
    read_jsonl,
)
from pipeline.training.noise import noisy_text
from pipeline.transcript import transcript_from_dict

log = logging.getLogger(__name__)
PATTERNS_DIR = REPO_ROOT / "pipeline" / "language" / "patterns"
SEED = 13
EPOCHS = 12
# How a classifier is made from its data; bump it when that changes (the trained folders are then stale).
RECIPE = 3  # 2: every example also seen with recognition noise; 3: Mandarin proposals read as characters


@dataclass(frozen=True)
class Features:
    segmenter: str = "jieba"  # Mandarin tokens (spaCy's zh tokenizer: "jieba" words or "char")
    ngram_size: int = 2
    length: int = 65536  # hashed feature slots


# The proposal classifier reads Mandarin as characters and their pairs and triples: real agents invite in
# phrasings no written example has ("过来瞅瞅", "来坐坐"), and character n-grams carry over where jieba's word
# boundaries do not. Against jieba words and pairs, pushed F1 on the six beike held-out parts moved by +0.007 on
# average (−0.006 to +0.014; the sixth, blind: 0.871 → 0.882); tuning parts −0.013 to +0.005; dev, unseen unchanged.
FEATURES = {("proposals", "zh"): Features(segmenter="char", ngram_size=3, length=262144)}


# Which examples to learn from, by the industry they were written about (None: untagged); None keeps all.
IndustryFilter = Callable[[str | None], bool] | None


# Coach-corrected calls to mine beside the train split; None: those accepted before (data.feedback_calls).
Feedback = list[dict] | None


def _train_calls(language: str, keep: IndustryFilter = None, feedback: Feedback = None):
    """(labels, Call) for every labeled call of the train split in a language (whose industry ``keep``
    accepts), then every coach-corrected call (untagged: a leave-one-industry-out run keeps them out)."""
    corrected = feedback_calls(language) if feedback is None else [c for c in feedback if c["language"] == language]
    for item in labeled_calls(language) + (corrected if keep is None else []):
        if keep is None or keep(item.get("industry")):
            yield item["labels"], Call.parse(transcript_from_dict(item, item["id"]))


def _mine_replies(language: str, keep: IndustryFilter = None, feedback: Feedback = None) -> list[tuple[str, str]]:
    """The customer's first reply after the rep's (single) proposal, labeled with the call's outcome."""
    pairs: list[tuple[str, str]] = []
    for labels, call in _train_calls(language, keep, feedback):
        meeting = labels["meeting"]
        if not meeting["pushed"] or meeting["outcome"] == "none" or meeting.get("attempts", 1) > 1:
            continue  # only single proposals give an unambiguous reply label
        turns = proposal_turns(call)
        reply = next((t for t in call.transcript.turns[turns[0] + 1 :] if t.speaker == "customer"), None) if turns else None
        if reply is not None:
            pairs.append((reply.text, meeting["outcome"]))
    return pairs


def _mine_rep_turns(language: str, keep: IndustryFilter = None, feedback: Feedback = None) -> list[tuple[str, str]]:
    """Rep turns of calls labeled not pushed are all no_push; in pushed calls the turns the rules flag are push."""
    pairs: list[tuple[str, str]] = []
    for labels, call in _train_calls(language, keep, feedback):
        if labels["meeting"]["pushed"]:
            pairs.extend((call.transcript.turns[i].text, "push") for i in proposal_turns(call))
        else:
            pairs.extend((t.text, "no_push") for t in call.transcript.turns if t.speaker == "rep")
    return pairs


def _mine_nothing(language: str, keep: IndustryFilter = None, feedback: Feedback = None) -> list[tuple[str, str]]:
    """The states classifier learns from written turns only: the distraction fusion model is fitted on the
    train calls' features, and a classifier that had seen those calls would look better there than on new
    calls, so the fusion would over-trust it. Adapt likewise (its threshold is chosen on those calls)."""
    return []


MINERS: dict[str, Callable[[str, IndustryFilter, Feedback], list[tuple[str, str]]]] = {
    ANSWERS.name: _mine_replies,
    PROPOSALS.name: _mine_rep_turns,
    STATES.name: _mine_nothing,
    ADAPT.name: _mine_nothing,
}


def written_examples_path(task: Task, language: str) -> Path:
    return TRAINING_DIR / f"{task.name}_{language}.jsonl"


def training_examples(task: Task, language: str, keep: IndustryFilter = None,
                      feedback: Feedback = None) -> list[tuple[str, str]]:
    """(text, label) pairs: the written examples plus those mined from the train split and the coach-corrected
    calls (with ``keep``: only those of the industries it accepts, for leave-one-industry-out evaluation)."""
    pairs: list[tuple[str, str]] = []
    written = written_examples_path(task, language)
    if written.is_file():
        pairs.extend((item[task.text_key], item["label"]) for item in read_jsonl(written)
                     if keep is None or keep(item.get("industry")))
    pairs.extend(MINERS[task.name](language, keep, feedback))
    return pairs


def mines_calls(task: Task) -> bool:
    """Whether a classifier learns from labeled calls (and so from coaches' corrections)."""
    return MINERS[task.name] is not _mine_nothing


def training_digest(task: Task, language: str) -> str:
    """SHA-256 of everything a classifier is trained from: its written examples and, when it mines, the
    calls and the cue patterns that pick the turns it mines."""
    files = [path for path in [written_examples_path(task, language)] if path.is_file()]
    if mines_calls(task):
        files += [*labeled_call_files(), *sorted(PATTERNS_DIR.glob("cues_*.json"))]
        files += [path for path in [feedback_calls_path()] if path.is_file()]
    return data_digest(files)


def with_recognition_noise(pairs: list[tuple[str, str]], language: str) -> list[tuple[str, str]]:
    """The pairs and, for each, one copy as a recogniser might have written it (same label), so the
    classifier has seen homophones, missing punctuation and lower-case English (pipeline.training.noise)."""
    rng = random.Random(SEED)
    return pairs + [(noisy_text(text, language, rng), label) for text, label in pairs]


# The classifiers of the meeting talk learn from noisy copies too; those of the customer's state do not
# (their short turns — 嗯嗯, 好好好 — lose their meaning to homophones, and the fused score was worse).
NOISY_TASKS = (PROPOSALS.name, ANSWERS.name)


def fit(task: Task, language: str, pairs: list[tuple[str, str]]) -> Language:
    """A fresh textcat trained on (text, label) pairs (and their noisy copies, for NOISY_TASKS), deterministically."""
    if task.name in NOISY_TASKS:
        pairs = with_recognition_noise(pairs, language)
    spacy.util.fix_random_seed(SEED)
    features = FEATURES.get((task.name, language), Features())
    nlp = blank_pipeline(language, features.segmenter)
    textcat = nlp.add_pipe(
        "textcat",
        config={
            "model": {
                "@architectures": "spacy.TextCatBOW.v3",
                "exclusive_classes": True,
                "ngram_size": features.ngram_size,
                "no_output_layer": False,
                "length": features.length,
            }
        },
    )
    for label in task.labels:
        textcat.add_label(label)  # type: ignore[attr-defined]
    examples = [
        Example.from_dict(nlp.make_doc(reading_of(text, language)), {"cats": {label: float(label == gold) for label in task.labels}})
        for text, gold in pairs
    ]
    optimizer = nlp.initialize(lambda: examples)
    shuffler = random.Random(SEED)
    for _ in range(EPOCHS):
        shuffler.shuffle(examples)
        for batch in spacy.util.minibatch(examples, size=16):
            nlp.update(batch, sgd=optimizer, drop=0.2)
    return nlp


def train(task: Task, language: str, keep: IndustryFilter = None) -> Path:
    """Train and save one classifier; returns its folder (replaced atomically)."""
    pairs = training_examples(task, language, keep)
    if not pairs:
        raise FileNotFoundError(f"no training examples for {task.name}/{language} in {TRAINING_DIR}")
    target = model_path(task, language)
    save_model(fit(task, language, pairs), target, training_facts(task, len(pairs)), training_digest(task, language))
    log.info("trained %s on %d examples", target, len(pairs))
    return target


def training_facts(task: Task, examples: int) -> dict:
    return {"examples": examples, "epochs": EPOCHS, "seed": SEED, "labels": task.labels, "recipe": RECIPE}


def save_model(nlp: Language, target: Path, facts: dict, data_sha256: str) -> None:
    """Write a trained classifier with its training record into ``target``, replacing what is there."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.tmp{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    nlp.to_disk(staging)
    (staging / TRAINING_RECORD).write_text(json.dumps({**facts, "data_sha256": data_sha256}), "utf-8")
    shutil.rmtree(target, ignore_errors=True)
    try:
        os.replace(staging, target)
    except OSError:
        if not (target / "meta.json").is_file():
            raise
        shutil.rmtree(staging, ignore_errors=True)  # another process trained the same model at the same time
    load.cache_clear()


def is_current(task: Task, language: str) -> bool:
    """Trained, and from the training data as it is now."""
    record = training_record(task, language)
    return (record is not None and record.get("recipe") == RECIPE
            and record.get("data_sha256") == training_digest(task, language))


def trainable() -> list[tuple[Task, str]]:
    """(task, language) of every classifier the repository has written examples for (a wheel install has none:
    the cue rules then decide)."""
    return [(task, language) for task in TASKS.values() for language in LANGUAGES
            if written_examples_path(task, language).is_file()]


def ensure_trained() -> list[Path]:
    """Train every classifier that is missing or was trained from other data; returns what was trained."""
    return [train(task, language) for task, language in trainable() if not is_current(task, language)]
