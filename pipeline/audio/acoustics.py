"""Sound evidence from the customer's channel (librosa): response latency and background sound.

Computed once from the Audio and the turn times, then handed to the analysers beside the
Transcript, so no analyser decodes audio itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import librosa
import numpy as np

from pipeline.audio.decode import Audio
from pipeline.transcript import Transcript

FRAME_LENGTH = 512  # 32 ms at 16 kHz
HOP_LENGTH = 160  # 10 ms
# A reply that starts this long after the rep stops counts as slow.
SLOW_RESPONSE_S = 2.5
# Background louder than this while the customer is silent is worth a coach's attention.
NOISY_BACKGROUND_DBFS = -45.0
MIN_NOISY_SPAN_S = 1.5
# Spectral flatness separates tonal sound (music, game effects) from broadband noise (traffic, office).
TONAL_FLATNESS_MAX = 0.1
TELEPHONE_BAND_HZ = (300.0, 3400.0)
_SPEECH_MARGIN_S = 0.25
BLOCK_FRAMES = 6000  # 60 s of frames computed at a time


@dataclass
class NoisySpan:
    start_s: float
    end_s: float
    level_dbfs: float
    kind: str  # "tonal" or "broadband"


@dataclass
class AcousticEvidence:
    customer_channel: int | None  # the customer's channel; for a diarised mono call, the customer's voice
    response_latencies_s: dict[int, float] = field(default_factory=dict)  # customer turn index -> latency
    background_level_dbfs: float | None = None
    background_kind: str | None = None  # "quiet", "tonal", "broadband"
    noisy_spans: list[NoisySpan] = field(default_factory=list)
    overlap_s: float | None = None  # both parties speaking at once
    customer_interruptions: int | None = None  # customer starts while the rep is mid-turn
    customer_speech_rate: float | None = None  # Chinese characters or English words per second of speech
    not_measured: list[str] = field(default_factory=list)  # codes, see report/strings.NOT_MEASURED

    @property
    def median_latency_s(self) -> float | None:
        values = list(self.response_latencies_s.values())
        return float(np.median(values)) if values else None

    @property
    def slow_responses(self) -> dict[int, float]:
        return {turn: lat for turn, lat in self.response_latencies_s.items() if lat >= SLOW_RESPONSE_S}


def _frame_times_s(n_frames: int, sample_rate_hz: int) -> np.ndarray:
    return librosa.frames_to_time(np.arange(n_frames), sr=sample_rate_hz, hop_length=HOP_LENGTH)


def _speech_mask(times_s: np.ndarray, spans: list[tuple[float, float]]) -> np.ndarray:
    mask = np.zeros(times_s.shape, dtype=bool)
    for start, end in spans:
        mask |= (times_s >= start - _SPEECH_MARGIN_S) & (times_s <= end + _SPEECH_MARGIN_S)
    return mask


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index pairs of consecutive True values."""
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2], edges[1::2], strict=True))


def _band_flatness(signal: np.ndarray, sample_rate_hz: int) -> np.ndarray:
    """Spectral flatness per frame inside the telephone band, after pre-emphasis.

    Phone audio has nothing above ~3.4 kHz, which would drive full-band flatness to zero for any
    sound; pre-emphasis removes the low-frequency tilt that makes rumble (traffic) look tonal.
    """
    spectrum = np.abs(
        librosa.stft(librosa.effects.preemphasis(signal), n_fft=FRAME_LENGTH, hop_length=HOP_LENGTH, center=False)
    )
    freqs_hz = librosa.fft_frequencies(sr=sample_rate_hz, n_fft=FRAME_LENGTH)
    band = (freqs_hz >= TELEPHONE_BAND_HZ[0]) & (freqs_hz <= TELEPHONE_BAND_HZ[1])
    return librosa.feature.spectral_flatness(S=spectrum[band], amin=1e-7)[0]


def _level_and_flatness(audio: Audio, channel: int) -> tuple[np.ndarray, np.ndarray]:
    """Level (dBFS) and in-band flatness per frame of one channel, computed over blocks of BLOCK_FRAMES frames so
    memory does not grow with the call (a spectrogram of two hours would take 1.5 GB)."""
    n_samples = audio.pcm.shape[1]
    n_frames = 1 + n_samples // HOP_LENGTH
    levels, flatnesses = [], []
    half = FRAME_LENGTH // 2
    for first in range(0, n_frames, BLOCK_FRAMES):
        last = min(n_frames, first + BLOCK_FRAMES)
        # the samples frames first..last-1 see when centred (zeros beyond the call's ends, as librosa pads)
        start, end = first * HOP_LENGTH - half, (last - 1) * HOP_LENGTH + half
        segment = audio.samples(channel, max(0, start), min(n_samples, end))
        segment = np.pad(segment, (max(0, -start), max(0, end - n_samples)))
        rms = librosa.feature.rms(y=segment, frame_length=FRAME_LENGTH, hop_length=HOP_LENGTH, center=False)[0]
        levels.append(librosa.amplitude_to_db(rms, ref=1.0, amin=1e-5, top_db=None))
        flatnesses.append(_band_flatness(segment, audio.sample_rate_hz))
    return np.concatenate(levels)[:n_frames], np.concatenate(flatnesses)[:n_frames]


def _kind_of(flatness: np.ndarray) -> str:
    return "tonal" if float(np.median(flatness)) <= TONAL_FLATNESS_MAX else "broadband"


_CJK = re.compile(r"[\u4e00-\u9fff]")
_INTERRUPTION_AFTER_S = 0.5  # starting this far into the other's turn is talking over them, not a quick reply


def _intervals_overlap_s(first: list[tuple[float, float]], second: list[tuple[float, float]]) -> float:
    total, j = 0.0, 0
    for start, end in first:
        while j < len(second) and second[j][1] <= start:
            j += 1
        k = j
        while k < len(second) and second[k][0] < end:
            total += max(0.0, min(end, second[k][1]) - max(start, second[k][0]))
            k += 1
    return total


def _measure_turn_taking(evidence: AcousticEvidence, transcript: Transcript, customer_channel: int) -> None:
    """Overlap, interruptions and speech rate from the word timings of the two channels."""
    def words_of(channel_is_customer: bool):
        return sorted(
            (w.start, w.end)
            for t in transcript.turns
            if (t.channel == customer_channel) == channel_is_customer
            for w in t.words
        )

    customer_words, rep_words = words_of(True), words_of(False)
    evidence.overlap_s = round(_intervals_overlap_s(customer_words, rep_words), 2)
    rep_turns = [t for t in transcript.turns if t.channel != customer_channel and t.start is not None]
    evidence.customer_interruptions = sum(
        any(r.start + _INTERRUPTION_AFTER_S < t.start < r.end for r in rep_turns)  # type: ignore[operator]
        for t in transcript.turns
        if t.channel == customer_channel and t.start is not None
    )
    speech_s = sum(end - start for start, end in customer_words)
    if speech_s >= 1.0:
        text = "".join(t.text for t in transcript.turns if t.channel == customer_channel)
        units = len(_CJK.findall(text)) if transcript.language == "zh" else len(text.split())
        evidence.customer_speech_rate = round(units / speech_s, 2)


def _measure_diarised(evidence: AcousticEvidence, transcript: Transcript, customer_voice: int) -> None:
    """Mono split into voices: only what word timings of one shared channel can honestly show.

    Speech rate and reply latency come from the diarised words. Background sound is not measured
    (the customer's silence is the rep's speech or a shared pause on the same channel); overlap and
    interruptions are not either (each word gets one voice, so talking at once cannot be seen).
    """
    evidence.not_measured.append("mono_shared_channel")
    customer_words = [(w.start, w.end) for t in transcript.turns if t.channel == customer_voice for w in t.words]
    speech_s = sum(end - start for start, end in customer_words)
    if speech_s >= 1.0:
        text = "".join(t.text for t in transcript.turns if t.channel == customer_voice)
        units = len(_CJK.findall(text)) if transcript.language == "zh" else len(text.split())
        evidence.customer_speech_rate = round(units / speech_s, 2)


def measure(
    audio: Audio, transcript: Transcript, customer_channel: int | None, diarised: bool = False
) -> AcousticEvidence:
    """Latency of the customer's replies and the sound on the customer's line while they are silent.

    ``diarised``: a mono call whose turns carry the voice (0/1) in ``channel``; ``customer_channel``
    is then the customer's voice, not a channel of ``audio``.
    """
    evidence = AcousticEvidence(customer_channel=customer_channel)
    if customer_channel is None:
        evidence.not_measured.append("no_customer_channel")
        return evidence
    if diarised:
        _measure_diarised(evidence, transcript, customer_channel)
        _measure_latency(evidence, transcript, customer_channel)
        return evidence

    level_db, flatness = _level_and_flatness(audio, customer_channel)
    times_s = _frame_times_s(len(level_db), audio.sample_rate_hz)

    customer_turns = [t for t in transcript.turns if t.channel == customer_channel and t.start is not None]
    speech = _speech_mask(times_s, [(t.start, t.end) for t in customer_turns])  # type: ignore[misc]
    silent_frames = ~speech
    if silent_frames.sum() < 50:  # under half a second of silence: nothing to measure
        evidence.not_measured.append("no_customer_silence")
    else:
        background = level_db[silent_frames]
        evidence.background_level_dbfs = round(float(np.median(background)), 1)
        if evidence.background_level_dbfs < NOISY_BACKGROUND_DBFS:
            evidence.background_kind = "quiet"
        else:
            evidence.background_kind = _kind_of(flatness[silent_frames])
        loud = silent_frames & (level_db >= NOISY_BACKGROUND_DBFS)
        min_frames = int(MIN_NOISY_SPAN_S * audio.sample_rate_hz / HOP_LENGTH)
        for start, end in _runs(loud):
            if end - start >= min_frames:
                evidence.noisy_spans.append(
                    NoisySpan(
                        start_s=round(float(times_s[start]), 2),
                        end_s=round(float(times_s[end - 1]), 2),
                        level_dbfs=round(float(np.median(level_db[start:end])), 1),
                        kind=_kind_of(flatness[start:end]),
                    )
                )

    _measure_turn_taking(evidence, transcript, customer_channel)
    _measure_latency(evidence, transcript, customer_channel)
    return evidence


def _measure_latency(evidence: AcousticEvidence, transcript: Transcript, customer_channel: int) -> None:
    """From the end of a rep turn to the customer's reply right after it."""
    turns = transcript.turns
    for previous, turn in zip(turns, turns[1:], strict=False):
        if turn.channel != customer_channel or previous.channel == customer_channel:
            continue
        if previous.end is None or turn.start is None:
            continue
        latency_s = turn.start - previous.end
        if latency_s > 0:
            evidence.response_latencies_s[turn.index] = round(latency_s, 2)
