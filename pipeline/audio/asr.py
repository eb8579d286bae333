"""Transcription with faster-whisper: one pass per channel, VAD on, word timestamps."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from pipeline.audio.decode import SAMPLE_RATE_HZ, Audio
from pipeline.audio.whisper_models import DEFAULT_MODEL, resolve
from pipeline.errors import CallcoachError
from pipeline.language.text import to_simplified
from pipeline.transcript import Word

log = logging.getLogger(__name__)

SUPPORTED_LANGUAGES = ("zh", "en")
# A Mandarin prompt makes Whisper punctuate and prefer Simplified characters.
_PROMPTS = {"zh": "以下是普通话的电话销售通话，使用简体中文。", "en": None}
_NON_WORD = re.compile(r"[\s\W_]+", re.UNICODE)
# Whisper sometimes ends a 30 s window early and skips the speech after it, mostly when noise sits
# under the voices (a mono mix with the customer's traffic under the rep). Stretches of speech the
# VAD found that no word covers, this long or longer, are transcribed again on their own.
MISSED_SPEECH_MIN_S = 1.0
_WORD_REACH_S = 0.3  # a word covers the speech this far around it (word times are approximate)
# Whisper sometimes loops on one token ("行行行行…" hundreds of times); a run longer than this is cut.
MAX_REPEATED_WORDS = 4


@dataclass(frozen=True)
class AsrSettings:
    model: str = DEFAULT_MODEL
    device: str = "cpu"
    compute_type: str = "int8"
    beam_size: int = 5
    cpu_threads: int = 0  # 0 = CTranslate2 default (all cores)


@dataclass
class ChannelWords:
    words: list[Word]
    speech_s: float


@lru_cache(maxsize=1)
def hallucination_phrases() -> tuple[str, ...]:
    """Known phrases Whisper invents on silence/noise (subtitle credits, "thanks for watching")."""
    data = json.loads(resources.files("pipeline.audio").joinpath("hallucinations.json").read_text("utf-8"))
    return tuple(_normalise(phrase) for phrase in data["phrases"])


def _normalise(text: str) -> str:
    return _NON_WORD.sub("", to_simplified(text)).lower()


def is_hallucination(segment_text: str) -> bool:
    normalised = _normalise(segment_text)
    return bool(normalised) and any(phrase in normalised for phrase in hallucination_phrases())


def _extends_loop(words: list[Word], text: str) -> bool:
    """True when ``text`` would repeat the same word more than MAX_REPEATED_WORDS times in a row."""
    tail = words[-MAX_REPEATED_WORDS:]
    if len(tail) < MAX_REPEATED_WORDS:
        return False
    key = text.strip().lower()  # words are already Simplified here; no conversion on this per-word path
    return all(w.text.strip().lower() == key for w in tail)


def missed_speech(samples: np.ndarray, words: list[Word]) -> list[tuple[float, float]]:
    """Stretches (start_s, end_s) the VAD hears as speech but no Whisper word covers, MISSED_SPEECH_MIN_S or longer."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    covered = sorted((w.start - _WORD_REACH_S, w.end + _WORD_REACH_S) for w in words)
    missed = []
    for chunk in get_speech_timestamps(samples, VadOptions()):
        start, end = chunk["start"] / SAMPLE_RATE_HZ, chunk["end"] / SAMPLE_RATE_HZ
        for low, high in covered:  # walk the covered spans across the chunk, keeping what lies between
            if high <= start or low >= end:
                continue
            if low - start >= MISSED_SPEECH_MIN_S:
                missed.append((round(start, 2), round(low, 2)))
            start = max(start, high)
        if end - start >= MISSED_SPEECH_MIN_S:
            missed.append((round(start, 2), round(end, 2)))
    return missed


class Transcriber:
    """Loads a Whisper model once and transcribes channels with it."""

    def __init__(self, settings: AsrSettings | None = None):
        from faster_whisper import WhisperModel

        self.settings = settings or AsrSettings()
        model_path = resolve(self.settings.model)
        try:
            self.model = WhisperModel(
                model_path,
                device=self.settings.device,
                compute_type=self.settings.compute_type,
                cpu_threads=self.settings.cpu_threads,
            )
        except (RuntimeError, ValueError) as error:
            reason = str(error).splitlines()[0]
            raise CallcoachError(
                f"cannot load Whisper model '{self.settings.model}' on {self.settings.device}/"
                f"{self.settings.compute_type}: {reason}"
            ) from error

    def detect_language(self, audio: Audio) -> tuple[str, float]:
        """Pick zh or en from the channel with the most energy; returns (language, probability)."""
        loudest = int(np.argmax((audio.channels**2).sum(axis=1)))
        _, _, all_probs = self.model.detect_language(
            audio=audio.channels[loudest], vad_filter=True, language_detection_segments=2
        )
        probs = dict(all_probs)
        # Calls are Mandarin or English; Cantonese/Wu guesses still mean a Chinese call here.
        zh = probs.get("zh", 0.0) + probs.get("yue", 0.0)
        en = probs.get("en", 0.0)
        if zh == 0.0 and en == 0.0:
            return "zh", 0.0
        return ("zh", zh) if zh >= en else ("en", en)

    def transcribe_words(self, samples: np.ndarray, language: str, clips_s: list[float] | None = None):
        """Whisper words of the whole channel (VAD on), or of the given [start, end, …] clips only."""
        segments, info = self.model.transcribe(
            samples,
            language=language,
            beam_size=self.settings.beam_size,
            vad_filter=clips_s is None,
            clip_timestamps=clips_s if clips_s is not None else "0",
            word_timestamps=True,
            condition_on_previous_text=False,  # stops one misheard phrase from repeating through the call
            initial_prompt=_PROMPTS.get(language),
        )
        words: list[Word] = []
        for segment in segments:
            if is_hallucination(segment.text):
                log.info("dropped hallucinated segment %.1fs: %s", segment.start, segment.text.strip())
                continue
            for word in segment.words or []:
                text = to_simplified(word.word) if language == "zh" else word.word
                if not text.strip() or _extends_loop(words, text):
                    continue
                words.append(Word(round(word.start, 2), round(word.end, 2), text, round(word.probability, 3)))
        return words, info

    def transcribe_channel(self, samples: np.ndarray, language: str) -> ChannelWords:
        words, info = self.transcribe_words(samples, language)
        missed = missed_speech(samples, words)
        if missed:
            log.info("transcribing %d stretches of speech Whisper skipped: %s", len(missed), missed)
            again, _ = self.transcribe_words(samples, language, [t for span in missed for t in span])
            inside = [w for w in again if any(start <= (w.start + w.end) / 2 <= end for start, end in missed)]
            words = sorted(words + inside, key=lambda w: w.start)
        return ChannelWords(words=words, speech_s=float(info.duration_after_vad))

    def transcribe(self, audio: Audio, language: str | None) -> tuple[list[ChannelWords], str, float]:
        """All channels of a call in one language; returns (per-channel words, language, language probability)."""
        probability = 1.0
        if language is None:
            language, probability = self.detect_language(audio)
        if language not in SUPPORTED_LANGUAGES:
            raise CallcoachError(f"language '{language}' is not supported (use zh or en)")
        channels = [self.transcribe_channel(channel, language) for channel in audio.channels]
        return channels, language, probability
