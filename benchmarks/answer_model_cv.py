"""Cross-validation of the reply reader (pipeline.answer_model + cue rules) on the training replies.

For each language: k-fold accuracy of the classifier alone, of the cue rules alone, and of the two
orders of combining them at several confidence thresholds — the figures MIN_CONFIDENCE and the
order in pipeline.analyzers.meeting.read_reply are chosen from. Usage:

    .venv/bin/python benchmarks/answer_model_cv.py [--folds 5]
"""

from __future__ import annotations

import argparse
import random

from pipeline import answer_model
from pipeline.analyzers.meeting import CHANNEL_CUES, meeting_kind
from pipeline.nlp import cue_labels, load_nlp


def rules_only(text: str, language: str) -> str:
    labels = cue_labels(load_nlp(language)(text))
    if "DECLINE" in labels or (labels & set(CHANNEL_CUES) and meeting_kind(labels) is None):
        return "declined"
    if "DEFER" in labels:
        return "deferred"
    return "accepted" if "ACCEPT" in labels else "other"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    for language in ("zh", "en"):
        pairs = answer_model.training_examples(language)
        random.Random(0).shuffle(pairs)
        results = []  # (gold, classifier label, probability, rules label)
        for fold in range(args.folds):
            nlp = answer_model.fit(language, [p for i, p in enumerate(pairs) if i % args.folds != fold])
            for text, gold in pairs[fold :: args.folds]:
                cats = nlp(text).cats
                label = max(cats, key=cats.get)
                results.append((gold, label, cats[label], rules_only(text, language)))

        def accuracy(choose, results=results) -> float:
            return sum(gold == choose(label, p, rule) for gold, label, p, rule in results) / len(results)

        print(f"{language}: {len(pairs)} replies, {args.folds}-fold")
        print(f"  classifier alone {accuracy(lambda label, p, rule: label):.3f}, "
              f"rules alone {accuracy(lambda label, p, rule: rule):.3f}")
        for threshold in (0.35, 0.45, 0.6, 0.8):
            first = accuracy(lambda label, p, rule, t=threshold: label if p >= t else rule)
            second = accuracy(lambda label, p, rule, t=threshold: rule if rule != "other" else (label if p >= t else "other"))
            print(f"  threshold {threshold:.2f}: classifier first {first:.3f} | rules first {second:.3f}")


if __name__ == "__main__":
    main()
