"""The decoding plan of a call: what Whisper must hear, packed into as few 30 s windows as possible.

Each channel's speech (from the VAD) is cut into pieces, laid end to end in time order into windows of
at most ``WINDOW_S``, one channel per window. Whisper decodes all windows of the call together
(batched), and every word it returns in the packed stream is mapped back to its piece: its time in the
recording. A stereo call then pays for its speech, not for 30 s windows full of the other party's
silence, and never for a second language-detection pass.

Windows never mix the channels. Mixing them in time order (the parties taking turns in a window) was
tried: Whisper then sometimes drops one party's short reply and times the other's first word into it
(a rep's "那" landed on the customer), the samples' stereo figures fell, and it was not faster on
2 cores (benchmarks/bench_analyze.py: 1.49× plain against 0.83× per channel, one run).
"""

from __future__ import annotations

import bisect
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from pipeline.audio.decode import Audio
from pipeline.transcript import Word

WINDOW_S = 30.0  # Whisper's input length
# The VAD keeps this much audio around speech (so no syllable is clipped) and merges pauses shorter than
# this: a pause inside a piece is heard by Whisper as in the call; a longer one is cut to the two pads.
SPEECH_PAD_MS = 400
MIN_SILENCE_MS = 500
VAD_BLOCK_S = 600.0


@dataclass(frozen=True)
class Piece:
    """One stretch of one channel's speech: ``start_s``..``end_s`` in the recording, from ``packed_s`` in the stream."""

    channel: int
    start_s: float
    end_s: float
    packed_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def to_recording(self, packed_time_s: float) -> float:
        return min(self.end_s, max(self.start_s, packed_time_s - self.packed_s + self.start_s))


@dataclass(frozen=True)
class Window:
    """One Whisper input: one channel's pieces laid end to end, ``start_s``..``end_s`` in the packed stream."""

    pieces: tuple[Piece, ...]

    @property
    def start_s(self) -> float:
        return self.pieces[0].packed_s

    @property
    def end_s(self) -> float:
        return self.pieces[-1].packed_s + self.pieces[-1].duration_s


@dataclass
class Plan:
    windows: list[Window]
    sample_rate_hz: int

    @cached_property
    def pieces(self) -> list[Piece]:
        return [piece for window in self.windows for piece in window.pieces]

    @cached_property
    def _packed_starts_s(self) -> list[float]:
        return [piece.packed_s for piece in self.pieces]

    @property
    def speech_s(self) -> float:
        return sum(piece.duration_s for piece in self.pieces)

    def groups(self, windows_per_group: int) -> list[list[Window]]:
        """Windows in groups of at most ``windows_per_group``: one group's audio and features are in memory at a time."""
        return [self.windows[k : k + windows_per_group] for k in range(0, len(self.windows), windows_per_group)]

    def window_audio(self, audio: Audio, window: Window) -> np.ndarray:
        """The window's pieces laid end to end (float32): what Whisper hears."""
        rate = self.sample_rate_hz
        return np.concatenate([audio.samples(p.channel, round(p.start_s * rate), round(p.end_s * rate))
                               for p in window.pieces])

    def locate(self, words: list[Word]) -> list[tuple[Piece, Word]]:
        """Words in packed time → (piece, word in recording time), each inside the piece its middle falls in."""
        pieces, starts = self.pieces, self._packed_starts_s
        out = []
        for word in words:
            middle = (word.start + word.end) / 2
            piece = pieces[max(0, bisect.bisect_right(starts, middle) - 1)]
            start, end = piece.to_recording(word.start), piece.to_recording(word.end)
            out.append((piece, Word(round(start, 2), round(max(start, end), 2), word.text, word.probability)))
        return out


def pack(spans_by_channel: list[list[tuple[float, float]]], sample_rate_hz: int, window_s: float = WINDOW_S) -> Plan:
    """Windows of at most ``window_s`` from each channel's (start_s, end_s) speech spans, in time order.

    A window holds one channel's consecutive pieces. A span longer than a window is split at window length
    (the VAD already cuts speech at its longest pause below that, see ``speech_spans``). Piece times are
    whole samples.
    """
    spans = [(start, end, channel) for channel, spans in enumerate(spans_by_channel) for start, end in spans]
    windows: list[Window] = []
    current: list[Piece] = []
    packed_samples = used = 0
    window_samples = int(window_s * sample_rate_hz)
    for start_s, end_s, channel in spans:
        start, end = round(start_s * sample_rate_hz), round(end_s * sample_rate_hz)
        while end > start:
            take = min(end - start, window_samples)
            if current and (used + take > window_samples or current[-1].channel != channel):
                windows.append(Window(tuple(current)))
                current, used = [], 0
            current.append(Piece(channel, start / sample_rate_hz, (start + take) / sample_rate_hz,
                                 packed_samples / sample_rate_hz))
            packed_samples += take
            used += take
            start += take
    if current:
        windows.append(Window(tuple(current)))
    return Plan(windows, sample_rate_hz)


def load_vad() -> None:
    """Load Silero's model now (faster-whisper keeps it for the process), not inside the first call."""
    from faster_whisper.vad import get_vad_model

    get_vad_model()


def speech_spans(audio: Audio, channel: int, window_s: float = WINDOW_S) -> list[tuple[float, float]]:
    """(start_s, end_s) of the speech in one channel (Silero VAD, as bundled with faster-whisper).

    Run over blocks of VAD_BLOCK_S, so memory does not grow with the call's length; a span cut by a block's
    edge is joined to its continuation in the next block.
    """
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=MIN_SILENCE_MS, speech_pad_ms=SPEECH_PAD_MS,
                         max_speech_duration_s=window_s)
    rate = audio.sample_rate_hz
    block = int(VAD_BLOCK_S * rate)
    spans: list[tuple[float, float]] = []
    for first in range(0, audio.pcm.shape[1], block):
        for chunk in get_speech_timestamps(audio.samples(channel, first, first + block), options, sampling_rate=rate):
            start, end = (first + chunk["start"]) / rate, (first + chunk["end"]) / rate
            if spans and start - spans[-1][1] < 2 * SPEECH_PAD_MS / 1000 and start * rate - first < rate:
                spans[-1] = (spans[-1][0], end)  # the same speech, cut by the block's edge
            else:
                spans.append((start, end))
    return spans


def speech_spans_by_channel(audio: Audio, cores: int) -> list[list[tuple[float, float]]]:
    """``speech_spans`` of every channel, on up to ``cores`` threads: Silero's session is single-threaded and
    releases the GIL, so a stereo call's two channels take the time of one on two cores."""
    channels = range(audio.n_channels)
    if audio.n_channels == 1 or cores <= 1:
        return [speech_spans(audio, channel) for channel in channels]
    with ThreadPoolExecutor(max_workers=min(audio.n_channels, cores)) as pool:
        return list(pool.map(lambda channel: speech_spans(audio, channel), channels))
