"""What Whisper wrote of a recording, kept so that a re-analysis does not transcribe it again.

The nightly batch re-analyses every call whose analysis fingerprint changed: a cue pattern edited, a
classifier retrained with coaches' corrections, a model refitted. None of those change what Whisper hears,
so the batch and the web worker keep each recording's transcription (per channel: the words with their
times and probabilities, the speech seconds; the language and its probability) and read it back instead of
decoding again. An entry is keyed by the recording's SHA-256 and by everything that decides the
transcription: the package version, the recogniser's code and hallucination list, the Whisper model and
its decoding settings, the forced language and the mono mix. Any of them changing misses the cache.

Entries are gzip JSON files, one per recording and key, written whole and renamed; an entry that does not
read back is ignored (and transcribed again). With ``--redact`` nothing is cached: the words are what the
recording said, before redaction.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from pipeline import __version__
from pipeline.audio.asr import ChannelWords
from pipeline.audio.whisper_models import MODEL_SPECS
from pipeline.options import AnalyzeOptions
from pipeline.paths import packaged
from pipeline.transcript import Word

log = logging.getLogger(__name__)
AsrResult = tuple[list[ChannelWords], str, float]  # per-channel words, language, its probability
# The recogniser's own files: a change to any of them is a different transcription.
_RECOGNISER_FILES = ("asr.py", "plan.py", "whisper_batch.py", "decode.py", "hallucinations.json")
_SETTINGS_HEX_DIGITS = 16


@lru_cache(maxsize=1)
def _recogniser_digest() -> str:
    digest = hashlib.sha256(__version__.encode())
    for name in _RECOGNISER_FILES:
        digest.update(packaged("pipeline.audio", name).read_bytes())
    return digest.hexdigest()


def settings_key(options: AnalyzeOptions) -> str:
    """What decides a transcription besides the audio, as a short digest."""
    asr = options.asr
    spec = MODEL_SPECS.get(asr.model)
    settings = {"recogniser": _recogniser_digest(), "model": asr.model, "model_sha256": spec.sha256 if spec else None,
                "device": asr.device, "compute_type": asr.compute_type, "beam": asr.beam_size,
                "batch": asr.batch_size, "prompt": asr.prompt, "language": options.language,
                "mono": options.mix_to_mono}
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:_SETTINGS_HEX_DIGITS]


class TranscriptionCache(Protocol):
    def get(self, sha256: str, key: str) -> AsrResult | None: ...

    def put(self, sha256: str, key: str, transcription: AsrResult) -> None: ...


class OneCallCache:
    """One call's cache entry, for an analysis away from the cache's folder (a Ray actor on another node):
    ``get`` gives what the driver's cache held, ``put`` keeps a new transcription for the driver to store."""

    def __init__(self, given: AsrResult | None):
        self.given: AsrResult | None = given
        self.made: AsrResult | None = None

    def get(self, sha256: str, key: str) -> AsrResult | None:
        return self.given

    def put(self, sha256: str, key: str, transcription: AsrResult) -> None:
        self.made = transcription


def beside_store(db: Path) -> Path:
    """Where the batch keeps the cache of a store: ``calls.db`` → ``calls.asr-cache/``."""
    return db.with_suffix(".asr-cache")


class AsrCache:
    def __init__(self, folder: Path):
        self.folder = folder

    def _entry(self, sha256: str, key: str) -> Path:
        return self.folder / sha256[:2] / f"{sha256}.{key}.json.gz"

    def get(self, sha256: str, key: str) -> AsrResult | None:
        path = self._entry(sha256, key)
        try:
            data = json.loads(gzip.decompress(path.read_bytes()))
            channels = [ChannelWords([Word(*word) for word in channel["words"]], channel["speech_s"])
                        for channel in data["channels"]]
            return channels, data["language"], data["language_probability"]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, EOFError) as error:
            log.warning("ignoring an unreadable cached transcription %s: %s", path, error)
            return None

    def put(self, sha256: str, key: str, transcription: AsrResult) -> None:
        channels, language, probability = transcription
        data = {"language": language, "language_probability": probability,
                "channels": [{"speech_s": channel.speech_s,
                              "words": [[w.start, w.end, w.text, w.probability] for w in channel.words]}
                             for channel in channels]}
        path = self._entry(sha256, key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            staging.write_bytes(gzip.compress(json.dumps(data, ensure_ascii=False).encode(), mtime=0))
            staging.replace(path)
        except OSError as error:  # a cache that cannot be written costs a transcription later, nothing more
            log.warning("cannot cache the transcription in %s: %s", self.folder, error)

    def forget(self, sha256: str) -> int:
        """Drop every cached transcription of one recording (when its call is deleted); how many went."""
        gone = 0
        for path in (self.folder / sha256[:2]).glob(f"{sha256}.*.json.gz"):
            path.unlink(missing_ok=True)
            gone += 1
        return gone
