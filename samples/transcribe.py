"""The ASR-text sets: the rendered calls as the recogniser hears them, with their labels.

Each recording of a labeled folder is transcribed by the pipeline (Whisper, roles decided as in
``callcoach analyze``) and written as a labeled transcript, so the language analysis can be scored on what
Whisper wrote next to the same calls' scripts (``benchmarks/text_vs_asr.py``):

- ``tests/data/asr/samples.jsonl``: the 30 bundled samples (evaluation only);
- ``models/training/asr/train_audio.jsonl``: the 24 training calls (for tuning and training).

Whisper words a sentence differently on other CPUs (int8 kernels), so a set is a snapshot, regenerated with

    .venv/bin/python samples/transcribe.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.analyze import Analyzer  # noqa: E402
from pipeline.paths import REPO_ROOT  # noqa: E402
from pipeline.training.data import AUDIO_DIR  # noqa: E402
from pipeline.training.evaluate import load_labeled  # noqa: E402

SETS = {
    REPO_ROOT / "samples": REPO_ROOT / "tests" / "data" / "asr" / "samples.jsonl",
    AUDIO_DIR: REPO_ROOT / "models" / "training" / "asr" / "train_audio.jsonl",
}


def transcribe_set(folder: Path, analyzer: Analyzer) -> list[dict]:
    """Every labeled recording of ``folder`` as a labeled transcript of what the pipeline heard."""
    lines = []
    for call in load_labeled(folder):
        if call.path is None or call.path.suffix == ".json":
            continue
        report = analyzer.analyze(call.path).report
        lines.append({
            "id": call.id,
            "language": report.language,
            "source": f"whisper {report.transcription.model if report.transcription else ''} of {call.path.name}",
            "turns": [{"speaker": t.speaker, "text": t.text, "start": t.start, "end": t.end} for t in report.turns],
            "labels": call.labels,
        })
        print(f"{call.id}: {len(report.turns)} turns", file=sys.stderr)
    return lines


def main() -> None:
    analyzer = Analyzer()
    for folder, target in SETS.items():
        lines = transcribe_set(folder, analyzer)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), "utf-8")
        print(f"{target}: {len(lines)} calls", file=sys.stderr)


if __name__ == "__main__":
    main()
