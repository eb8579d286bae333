"""The analysis fingerprint: a digest of everything that decides a report's findings.

Two reports with the same fingerprint came from the same analysis: package version, cue patterns,
fitted model files, the text classifiers' training data, and — for recordings — the Whisper model and
decoding settings. The nightly batch re-analyses a call whose stored fingerprint differs from the
current one (a pattern edit or a refit makes old reports stale even when the version number did not move).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pipeline import __version__
from pipeline.analysis.distraction_score import model_path as distraction_model_path
from pipeline.analysis.roles import model_path as role_model_path
from pipeline.audio.whisper_models import MODEL_SPECS
from pipeline.language.classifiers import LANGUAGES, TASKS, training_record
from pipeline.options import AnalyzeOptions
from pipeline.paths import packaged

FINGERPRINT_HEX_DIGITS = 16
CallKind = Literal["audio", "transcript"]


def _files_digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths, key=lambda path: path.name):  # by name: the same files anywhere give the same digest
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:FINGERPRINT_HEX_DIGITS]


@lru_cache(maxsize=1)
def _static_parts() -> dict[str, str]:
    """What does not depend on the options (read once per process: files do not change under a worker)."""
    patterns = packaged("pipeline.language", "patterns")
    hallucinations = packaged("pipeline.audio", "hallucinations.json")
    classifiers = {
        f"{task}-{language}": "{data_sha256}/{recipe}".format_map(
            {"data_sha256": "not trained", "recipe": None, **(training_record(TASKS[task], language) or {})})
        for task in TASKS
        for language in LANGUAGES
    }
    return {
        "version": __version__,
        "patterns": _files_digest([*patterns.glob("*.json"), hallucinations]),
        "fitted_models": _files_digest([role_model_path(), distraction_model_path()]),
        "classifiers": hashlib.sha256(json.dumps(classifiers, sort_keys=True).encode()).hexdigest()[:FINGERPRINT_HEX_DIGITS],
    }


def clear_cache() -> None:
    """Forget the file digests (after a refit or retraining in this process)."""
    _static_parts.cache_clear()


def fingerprint_parts(options: AnalyzeOptions, kind: CallKind) -> dict[str, str]:
    """The components of the fingerprint, by name."""
    parts = dict(_static_parts())
    parts["language"] = options.language or "auto"
    if options.redact:  # only when on: reports made without it keep their fingerprint
        parts["redact"] = "on"
    if kind == "audio":
        asr = options.asr
        spec = MODEL_SPECS.get(asr.model)
        model = f"{asr.model}@{spec.sha256[:12]}" if spec and spec.sha256 else asr.model
        parts["whisper"] = f"{model} {asr.device}/{asr.compute_type} beam {asr.beam_size}"
        parts["roles"] = f"rep_channel={options.rep_channel} mono={options.mix_to_mono} diarisation={options.diarisation}"
    return parts


def analysis_fingerprint(options: AnalyzeOptions, kind: CallKind) -> str:
    text = json.dumps(fingerprint_parts(options, kind), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:FINGERPRINT_HEX_DIGITS]


def fingerprints(options: AnalyzeOptions) -> dict[str, str]:
    """The fingerprint a run with ``options`` gives each kind of call (what the store's queue compares)."""
    return {kind: analysis_fingerprint(options, kind) for kind in ("audio", "transcript")}
