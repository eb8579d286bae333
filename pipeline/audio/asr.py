"""Transcription with faster-whisper: each call's speech packed into windows (pipeline.audio.plan), decoded batched, word timestamps."""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from pipeline.audio.decode import Audio
from pipeline.audio.plan import Plan, pack, speech_spans_by_channel
from pipeline.audio.whisper_batch import WindowDecoder
from pipeline.audio.whisper_models import DEFAULT_MODEL, resolve
from pipeline.errors import CallcoachError
from pipeline.language.text import to_simplified
from pipeline.transcript import Word

log = logging.getLogger(__name__)

SUPPORTED_LANGUAGES = ("zh", "en")
# The Mandarin prompt makes Whisper punctuate and names the words a coach looks for, so a telephone-quality
# 拜访 or 下午两点 is written as such. Chosen on the training calls' recordings (benchmarks/bench_asr.py
# --sets train_audio): CER 23.6 % → 19.8 %, key terms 131 → 140 of 183, no meeting word invented; on
# magicdata's tuning part unchanged (17.3 %). An English prompt gained nothing (WER 31.6 % → 31.2 %).
PROMPTS = {"zh": "以下是普通话的电话销售通话：拜访、见面、当面聊、展厅、微信、视频会议、资料、周四下午两点、明天上午十点。"}
_NON_WORD = re.compile(r"[\s\W_]+", re.UNICODE)
# Whisper sometimes ends a 30 s window early and skips the speech after it, mostly when noise sits
# under the voices (a mono mix with the customer's traffic under the rep). Stretches of speech the
# VAD found that no word covers, this long or longer, are transcribed again on their own.
MISSED_SPEECH_MIN_S = 1.0
_WORD_REACH_S = 0.3  # a word covers the speech this far around it (word times are approximate)
WINDOWS_PER_GROUP = 32  # windows whose audio and features are in memory at once (16 min of speech)
# Whisper sometimes loops on one token ("行行行行…" hundreds of times); a run longer than this is cut.
MAX_REPEATED_WORDS = 4


@dataclass(frozen=True)
class AsrSettings:
    model: str = DEFAULT_MODEL
    device: str = "cpu"
    compute_type: str = "int8"
    beam_size: int = 5
    cpu_threads: int = 0  # 0 = CTranslate2 default (all cores)
    batch_size: int = 4  # windows decoded together
    prompt: bool = True  # the Mandarin prompt (punctuation, the domain's words), see PROMPTS


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


def missed_speech(spans: list[tuple[float, float]], words: list[Word]) -> list[tuple[float, float]]:
    """Stretches (start_s, end_s) of the VAD's speech ``spans`` that no Whisper word covers, MISSED_SPEECH_MIN_S or longer."""
    covered = sorted((w.start - _WORD_REACH_S, w.end + _WORD_REACH_S) for w in words)
    missed = []
    for start, end in spans:
        for low, high in covered:  # walk the covered spans across the chunk, keeping what lies between
            if high <= start or low >= end:
                continue
            if low - start >= MISSED_SPEECH_MIN_S:
                missed.append((round(start, 2), round(low, 2)))
            start = max(start, high)
        if end - start >= MISSED_SPEECH_MIN_S:
            missed.append((round(start, 2), round(end, 2)))
    return missed


_SENTENCE_END = tuple("。！？.!?")


def without_hallucinations(words: list[Word]) -> list[Word]:
    """A piece's words minus the sentences that hold a phrase Whisper invents on noise ("谢谢观看")."""
    kept: list[Word] = []
    sentence: list[Word] = []
    for index, word in enumerate(words):
        sentence.append(word)
        if word.text.strip().endswith(_SENTENCE_END) or index == len(words) - 1:
            text = "".join(w.text for w in sentence)
            if is_hallucination(text):
                log.info("dropped hallucinated sentence: %s", text.strip())
            else:
                kept.extend(sentence)
            sentence = []
    return kept


def _without_loops(words: list[Word]) -> list[Word]:
    kept: list[Word] = []
    for word in words:
        if not _extends_loop(kept, word.text):
            kept.append(word)
    return kept


class Transcriber:
    """Loads a Whisper model once and transcribes calls with it: one decoding plan per call, batched windows."""

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
        prompts = PROMPTS if self.settings.prompt else {}
        self.decoder = WindowDecoder(self.model, self.settings.beam_size, self.settings.batch_size, prompts)

    def _run(self, audio: Audio, plan: Plan, language: str | None) -> tuple[list[tuple[int, Word]], str, float]:
        """Decode every window of ``plan``; words as (channel, word in recording time), language and its probability."""
        located: list[tuple[int, Word]] = []
        probability = None
        for group in plan.groups(WINDOWS_PER_GROUP):
            decoded, language, group_probability = self.decoder.decode(
                [plan.window_audio(audio, window) for window in group], language)
            probability = group_probability if probability is None else probability  # told by the first group
            for window, timed in zip(group, decoded, strict=True):
                words = [Word(window.start_s + w.start_s, window.start_s + w.end_s,
                              to_simplified(w.text) if language == "zh" else w.text, round(w.probability, 3))
                         for w in timed]
                for piece, piece_words in itertools.groupby(plan.locate(words), key=lambda pair: pair[0]):
                    kept = without_hallucinations([word for _, word in piece_words])
                    located.extend((piece.channel, word) for word in kept)
        return located, language or "zh", 1.0 if probability is None else probability

    def transcribe(self, audio: Audio, language: str | None) -> tuple[list[ChannelWords], str, float]:
        """All channels of a call in one language; returns (per-channel words, language, language probability)."""
        if language is not None and language not in SUPPORTED_LANGUAGES:
            raise CallcoachError(f"language '{language}' is not supported (use zh or en)")
        rate = audio.sample_rate_hz
        spans = speech_spans_by_channel(audio, self.settings.cpu_threads or os.cpu_count() or 1)
        plan = pack(spans, rate)
        by_channel: list[list[Word]] = [[] for _ in spans]
        if not plan.windows:
            return [ChannelWords([], 0.0) for _ in spans], language or "zh", 0.0
        located, language, probability = self._run(audio, plan, language)
        for channel, word in located:
            by_channel[channel].append(word)
        # Whisper sometimes ends a window early and skips the rest: decode what no word covers again, on its own.
        missed = [missed_speech(channel_spans, words) for channel_spans, words in zip(spans, by_channel, strict=True)]
        if any(missed):
            log.info("transcribing stretches of speech Whisper skipped: %s", missed)
            again, _, _ = self._run(audio, pack(missed, rate), language)
            for channel, word in again:
                by_channel[channel].append(word)
        channels = [
            ChannelWords(_without_loops(sorted(words, key=lambda w: w.start)), sum(end - start for start, end in channel_spans))
            for words, channel_spans in zip(by_channel, spans, strict=True)
        ]
        return channels, language, probability
