"""Cross-validation of the reply classifier (pipeline.answer_model) on its training replies.

Prints, per language, the k-fold accuracy and, for each confidence threshold, how many guesses
would be used and how precise they are — the figure MIN_CONFIDENCE is chosen from. Usage:

    .venv/bin/python benchmarks/answer_model_cv.py [--folds 5]
"""

from __future__ import annotations

import argparse
import random

from pipeline import answer_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    for language in ("zh", "en"):
        pairs = answer_model.training_examples(language)
        random.Random(0).shuffle(pairs)
        results = []
        for fold in range(args.folds):
            held_out = pairs[fold :: args.folds]
            nlp = answer_model.fit(language, [p for i, p in enumerate(pairs) if i % args.folds != fold])
            for text, gold in held_out:
                cats = nlp(text).cats
                label = max(cats, key=cats.get)
                results.append((gold, label, cats[label]))
        accuracy = sum(gold == label for gold, label, _ in results) / len(results)
        print(f"{language}: {len(pairs)} replies, {args.folds}-fold accuracy {accuracy:.3f}")
        answers = sum(gold != "other" for gold, _, _ in results)
        for threshold in (0.3, 0.4, 0.45, 0.5, 0.6, 0.7):
            used = [(gold, label) for gold, label, p in results if p >= threshold and label != "other"]
            precision = sum(gold == label for gold, label in used) / max(1, len(used))
            print(f"  threshold {threshold:.2f}: {len(used):3d} answers read (of {answers}), precision {precision:.3f}")


if __name__ == "__main__":
    main()
