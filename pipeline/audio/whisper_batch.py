"""Whisper over a batch of windows: one encoder pass tells the language and feeds the decoder and the word timing.

Built from faster-whisper's parts (feature extractor, ``encode``, CTranslate2's ``detect_language`` and
``generate``, ``add_word_timestamps``) like its ``BatchedInferencePipeline``, with two differences that
matter for calls: the language is read from the encoder output the decoding uses (faster-whisper's
pipeline runs the encoder once more to detect it) and only zh or en can win; and word times come back
relative to each window, to the millisecond, for the decoding plan to map to the recording.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

FRAMES_PER_S = 100  # Whisper's feature frames
# faster-whisper's defaults for gluing punctuation to the word beside it
_PREPEND_PUNCTUATION = "\"'“¿([{-"
_APPEND_PUNCTUATION = "\"'.。,，!！?？:：”)]}、"
# Whisper's language tokens that mean this call's language (Cantonese and Wu guesses are a Chinese call).
_LANGUAGE_OF_TOKEN = {"<|zh|>": "zh", "<|yue|>": "zh", "<|en|>": "en"}


@dataclass(frozen=True)
class TimedWord:
    start_s: float  # from the start of its window
    end_s: float
    text: str
    probability: float


class WindowDecoder:
    """Decodes windows of audio (each at most 30 s) with one loaded ``faster_whisper.WhisperModel``."""

    def __init__(self, model, beam_size: int, batch_size: int, prompts: Mapping[str, str | None]):
        self.model = model
        self.beam_size = beam_size
        self.batch_size = batch_size
        self.prompts = prompts
        self._tokenizers: dict[str, object] = {}

    def _tokenizer(self, language: str):
        from faster_whisper.tokenizer import Tokenizer

        if language not in self._tokenizers:
            self._tokenizers[language] = Tokenizer(self.model.hf_tokenizer, self.model.model.is_multilingual,
                                                   task="transcribe", language=language)
        return self._tokenizers[language]

    def _language_of(self, encoder_output) -> tuple[str, float]:
        """zh or en, whichever the batch's windows hear more of on average, and that average probability."""
        if not self.model.model.is_multilingual:
            return "en", 1.0
        totals = {"zh": 0.0, "en": 0.0}
        results = self.model.model.detect_language(encoder_output)
        for window in results:
            for token, probability in window:
                if token in _LANGUAGE_OF_TOKEN:
                    totals[_LANGUAGE_OF_TOKEN[token]] += probability / len(results)
        language = "zh" if totals["zh"] >= totals["en"] else "en"
        return language, totals[language]

    def _features(self, chunk: np.ndarray) -> np.ndarray:
        """Log-mel features of one window, padded to 30 s with silent *audio*, as Whisper was trained and as
        faster-whisper's sequential path does (its batched path pads the features with zeros instead, which
        Whisper hears as a level, not as silence)."""
        extractor = self.model.feature_extractor
        window_samples = extractor.n_samples
        padding = max(0, window_samples - len(chunk))
        return extractor(chunk[:window_samples], padding=padding)[..., : window_samples // extractor.hop_length]

    def decode(self, chunks: list[np.ndarray], language: str | None) -> tuple[list[list[TimedWord]], str, float]:
        """Words of each chunk (16 kHz float32, ≤ 30 s each), the language (told from the first batch when None)
        and its probability (1.0 when given)."""
        from faster_whisper.transcribe import get_suppressed_tokens

        probability = 1.0
        words: list[list[TimedWord]] = []
        for first in range(0, len(chunks), self.batch_size):
            batch = chunks[first : first + self.batch_size]
            features = np.stack([self._features(chunk) for chunk in batch])
            encoder_output = self.model.encode(features)
            if language is None:
                language, probability = self._language_of(encoder_output)
            tokenizer = self._tokenizer(language)
            prompt_text = self.prompts.get(language)
            prompt = self.model.get_prompt(tokenizer, tokenizer.encode(prompt_text) if prompt_text else [],
                                           without_timestamps=True)
            results = self.model.model.generate(
                encoder_output,
                [list(prompt) for _ in batch],
                beam_size=self.beam_size,
                max_length=self.model.max_length,
                suppress_blank=True,
                suppress_tokens=get_suppressed_tokens(tokenizer, [-1]),
            )
            durations_s = [len(chunk) / self.model.feature_extractor.sampling_rate for chunk in batch]
            segments = [
                [{"tokens": [t for t in result.sequences_ids[0] if t < tokenizer.eot], "seek": 0,
                  "start": 0.0, "end": duration_s}]
                for result, duration_s in zip(results, durations_s, strict=True)
            ]
            frames = [min(3000, math.ceil(duration_s) * FRAMES_PER_S) for duration_s in durations_s]
            self.model.add_word_timestamps(segments, tokenizer, encoder_output, frames,
                                           _PREPEND_PUNCTUATION, _APPEND_PUNCTUATION, 0.0)
            words.extend(
                [TimedWord(w["start"], w["end"], w["word"], w["probability"]) for w in segment[0].get("words", [])]
                for segment in segments
            )
        return words, language or "zh", probability
