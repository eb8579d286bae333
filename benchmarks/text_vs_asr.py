"""The same calls as written and as Whisper heard them: every field's figure side by side.

Two pairs of sets (samples/transcribe.py makes the ASR-text sets):
- the 30 bundled samples: their scripts vs Whisper's transcripts (evaluation);
- the 24 training calls: their scripts vs Whisper's transcripts (tuning; figures there are tuned on).

    .venv/bin/python benchmarks/text_vs_asr.py

Binary fields print F1, the others accuracy; the last column is ASR minus text (the issue's target: every
field within 0.05). Both sides are text-only analyses (no sound signals), so the difference is what the
recogniser's wording costs the language analysis.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.analyze import Analyzer  # noqa: E402
from pipeline.training.evaluate import load_labeled, run  # noqa: E402

PAIRS = {
    "samples (evaluation)": ((ROOT / "samples" / "scripts", ROOT / "samples" / "labels.json"),
                             ROOT / "tests" / "data" / "asr" / "samples.jsonl"),
    "training audio (tuned on)": ((ROOT / "models" / "training" / "audio" / "scripts",
                                   ROOT / "models" / "training" / "audio" / "labels.json"),
                                  ROOT / "models" / "training" / "asr" / "train_audio.jsonl"),
}


def figures(result) -> dict[str, float]:
    out = {name: row["f1"] for name, row in result.binary.items()}
    out.update({name: row["accuracy"] for name, row in result.accuracy.items()})
    return out


def main() -> None:
    analyzer = Analyzer()
    both: dict[str, tuple[dict, dict]] = {}
    every_text, every_heard = [], []
    for name, ((scripts, labels), asr) in PAIRS.items():
        written, heard_calls = load_labeled(scripts, labels), load_labeled(asr)
        every_text += written
        every_heard += heard_calls
        text = run(written, lambda path: analyzer.analyze(path).report, analyzer.analyze_transcript)
        heard = run(heard_calls, None, analyzer.analyze_transcript)
        both[name] = (figures(text), figures(heard))
    both["all 54 rendered calls"] = (
        figures(run(every_text, lambda path: analyzer.analyze(path).report, analyzer.analyze_transcript)),
        figures(run(every_heard, None, analyzer.analyze_transcript)),
    )
    for name, (text, heard) in both.items():
        print(f"\n{name}")
        print(f"  {'field':38} {'text':>6} {'ASR':>6} {'ASR-text':>9}")
        for field in text:
            print(f"  {field:38} {text[field]:6.3f} {heard.get(field, float('nan')):6.3f} {heard.get(field, 0) - text[field]:+9.3f}")
    for name, (text, heard) in both.items():
        worst = min((heard.get(f, 0) - text[f], f) for f in text)
        print(f"largest ASR-text drop, {name}: {worst[0]:+.3f} ({worst[1]})")


if __name__ == "__main__":
    main()
