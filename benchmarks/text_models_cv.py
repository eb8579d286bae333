"""Cross-validation of the trained text classifiers (pipeline.language.classifiers, trained by pipeline.training.classifiers) against and with the cue rules.

For each task and language: k-fold accuracy of the classifier alone, of the cue rules alone, and of
the ways of combining them at several confidence thresholds — the figures the combination in
pipeline/analysis/meeting.py and each Task.min_confidence are chosen from. Usage:

    .venv/bin/python benchmarks/text_models_cv.py [--folds 5] [--task states --task adapt]
"""

from __future__ import annotations

import argparse
import random

from pipeline.analysis.call import Call
from pipeline.analysis.distraction import STATE_KINDS, names_time_to_meet_or_call, state_kind_by_rules
from pipeline.analysis.meeting import CHANNEL_CUES, meeting_kind, proposal_turns
from pipeline.language import classifiers
from pipeline.language.nlp import cue_labels, load_nlp
from pipeline.training import classifiers as training
from pipeline.transcript import transcript_from_dict

THRESHOLDS = (0.35, 0.5, 0.65, 0.8, 0.9)


def reply_by_rules(text: str, language: str) -> str:
    labels = cue_labels(load_nlp(language)(text))
    if "DECLINE" in labels or (labels & set(CHANNEL_CUES) and meeting_kind(labels) is None):
        return "declined"
    if "DEFER" in labels:
        return "deferred"
    return "accepted" if "ACCEPT" in labels else "other"


def proposal_by_rules(text: str, language: str) -> str:
    call = Call.parse(transcript_from_dict({"language": language, "turns": [{"speaker": "rep", "text": text}]}))
    return "push" if proposal_turns(call) else "no_push"


def state_by_rules(text: str, language: str) -> str:
    kind = state_kind_by_rules(cue_labels(load_nlp(language)(text)))
    return STATE_KINDS[kind][1] if kind else "engaged"


def adapt_by_rules(text: str, language: str) -> str:
    return "adapted" if names_time_to_meet_or_call(cue_labels(load_nlp(language)(text))) else "not_adapted"


RULES = {"answers": reply_by_rules, "proposals": proposal_by_rules, "states": state_by_rules, "adapt": adapt_by_rules}
NEGATIVE = {"answers": "other", "proposals": "no_push", "states": "engaged", "adapt": "not_adapted"}


def cross_validate(task: classifiers.Task, language: str, folds: int) -> list[tuple[str, str, float, str]]:
    """(gold, classifier label, probability, rules label) for every example, each predicted out of fold."""
    rules = RULES[task.name]
    pairs = training.training_examples(task, language)
    random.Random(0).shuffle(pairs)
    results = []
    for fold in range(folds):
        nlp = training.fit(task, language, [p for i, p in enumerate(pairs) if i % folds != fold])
        for text, gold in pairs[fold::folds]:
            cats = nlp(text).cats
            label = max(cats, key=cats.get)
            results.append((gold, label, cats[label], rules(text, language)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--task", choices=sorted(classifiers.TASKS), action="append", help="only these tasks")
    args = parser.parse_args()
    for task in classifiers.TASKS.values():
        if args.task and task.name not in args.task:
            continue
        negative = NEGATIVE[task.name]
        for language in ("zh", "en"):
            results = cross_validate(task, language, args.folds)

            def accuracy(choose, results=results) -> float:
                return sum(gold == choose(label, p, rule) for gold, label, p, rule in results) / len(results)

            print(f"{task.name} {language}: {len(results)} examples, {args.folds}-fold; "
                  f"classifier alone {accuracy(lambda label, p, rule: label):.3f}, "
                  f"rules alone {accuracy(lambda label, p, rule: rule):.3f}")
            for t in THRESHOLDS:
                first = accuracy(lambda label, p, rule, t=t: label if p >= t else rule)
                fallback = accuracy(lambda label, p, rule, t=t, negative=negative: rule if rule != negative else (label if p >= t else rule))
                print(f"  threshold {t:.2f}: classifier first {first:.3f} | rules first, classifier when they find nothing {fallback:.3f}")


if __name__ == "__main__":
    main()
