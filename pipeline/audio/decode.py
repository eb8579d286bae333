"""Decoding recordings into per-channel 16 kHz samples (PyAV: wav, mp3, m4a, ogg, flac, amr, ...).

Held as 16-bit PCM (half the memory of float32: a 2-hour stereo call is 460 MB) and converted to float32
piece by piece where a stage needs it. A recording longer than the limit is refused from its header
before anything is decoded, and again while decoding if the header lied. A damaged stretch (a packet the
decoder rejects, a gap in the time stamps) does not end the call: decoding goes on past it, the stretch
stays silent in the timeline, and ``Audio.lost_spans_s`` names it for the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

from pipeline.errors import CallcoachError

SAMPLE_RATE_HZ = 16_000
DEFAULT_MAX_DURATION_S = 3 * 3600.0
# Two channels that correlate this strongly are one signal copied twice ("fake stereo").
_FAKE_STEREO_CORRELATION = 0.98
_FAKE_STEREO_SAMPLES = 2_000_000  # the correlation is measured on at most this many samples, evenly spread
_PCM_SCALE = 32767.0
# A jump in the packets' time stamps longer than this is audio the file lost; shorter ones are codec jitter.
_LOST_GAP_S = 0.1
_MAX_UNEXPLAINED_GAP_S = 30.0
# This many undecodable packets in a row and the rest of the file is taken as garbage.
_MAX_BAD_PACKETS_IN_A_ROW = 200


@dataclass
class Audio:
    """A decoded recording: ``pcm`` has shape (n_channels, n_samples), 16-bit, at ``sample_rate_hz``."""

    source: Path
    pcm: np.ndarray
    sample_rate_hz: int
    original_channel_count: int
    fake_stereo: bool = False
    lost_spans_s: list[tuple[float, float]] = field(default_factory=list)  # damaged stretches, silent here

    @property
    def n_channels(self) -> int:
        return int(self.pcm.shape[0])

    @property
    def duration_s(self) -> float:
        return self.pcm.shape[1] / self.sample_rate_hz

    @property
    def is_stereo(self) -> bool:
        return self.n_channels == 2

    def samples(self, channel: int, start: int = 0, end: int | None = None) -> np.ndarray:
        """float32 in [-1, 1] of one channel, samples ``start``..``end``."""
        return self.pcm[channel, start:end].astype(np.float32) / _PCM_SCALE

    def mixed_to_mono(self) -> Audio:
        """Both parties on one channel, as a phone app records them (for mono evaluation and benchmarks)."""
        if self.n_channels == 1:
            return self
        mono = (self.pcm.astype(np.int32).sum(axis=0) // self.n_channels).astype(np.int16)
        return Audio(self.source, mono[None, :], self.sample_rate_hz, self.original_channel_count,
                     self.fake_stereo, list(self.lost_spans_s))


def to_pcm(samples: np.ndarray) -> np.ndarray:
    """float samples in [-1, 1] → 16-bit PCM (what ``Audio.pcm`` holds)."""
    return np.round(np.clip(samples, -1.0, 1.0) * _PCM_SCALE).astype(np.int16)


class _Timeline:
    """Decoded samples written in place into a buffer that grows by doubling (zeros cost no memory until
    written), with gaps left silent where the file lost audio."""

    def __init__(self, n_channels: int, expected_samples: int, max_samples: int, name: str):
        self.buffer = np.zeros((n_channels, max(SAMPLE_RATE_HZ, expected_samples)), dtype=np.int16)
        self.length = 0
        self.max_samples = max_samples
        self.name = name
        self.lost: list[tuple[float, float]] = []

    def skip_to(self, position: int) -> None:
        if position - self.length > _LOST_GAP_S * SAMPLE_RATE_HZ:
            self.lost.append((round(self.length / SAMPLE_RATE_HZ, 2), round(position / SAMPLE_RATE_HZ, 2)))
            self._reserve(position)
            self.length = position

    def append(self, pcm: np.ndarray) -> None:
        end = self.length + pcm.shape[1]
        self._reserve(end)
        self.buffer[:, self.length : end] = pcm
        self.length = end

    def _reserve(self, end: int) -> None:
        if end > self.max_samples:
            raise CallcoachError(f"{self.name}: longer than the limit of {self.max_samples / SAMPLE_RATE_HZ / 60:.0f} "
                                 "minutes (raise it with --max-minutes)")
        if end > self.buffer.shape[1]:
            grown = np.zeros((self.buffer.shape[0], max(end, 2 * self.buffer.shape[1])), dtype=np.int16)
            grown[:, : self.length] = self.buffer[:, : self.length]
            self.buffer = grown

    def pcm(self) -> np.ndarray:
        return self.buffer[:, : self.length]


def _header_duration_s(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _decode(path: Path, max_duration_s: float) -> tuple[np.ndarray, int, list[tuple[float, float]]]:
    with av.open(str(path), metadata_errors="ignore") as container:
        if not container.streams.audio:
            raise CallcoachError(f"{path.name}: no audio stream in file")
        stream = container.streams.audio[0]
        channel_count = stream.codec_context.channels or 1
        announced_s = _header_duration_s(container, stream)
        if announced_s is not None and announced_s > max_duration_s:
            raise CallcoachError(f"{path.name}: {announced_s / 60:.0f} minutes long, over the limit of "
                                 f"{max_duration_s / 60:.0f} minutes (raise it with --max-minutes)")
        layout = "stereo" if channel_count >= 2 else "mono"
        resampler = av.AudioResampler(format="s16p", layout=layout, rate=SAMPLE_RATE_HZ)
        expected = int(min(announced_s or 60.0, max_duration_s) * SAMPLE_RATE_HZ)
        timeline = _Timeline(2 if channel_count >= 2 else 1, expected, int(max_duration_s * SAMPLE_RATE_HZ), path.name)
        origin_s = float(stream.start_time * stream.time_base) if stream.start_time and stream.time_base else 0.0
        bad_in_a_row = 0
        damaged = False
        for packet in _packets(container, stream):
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                bad_in_a_row += 1
                damaged = True
                if bad_in_a_row > _MAX_BAD_PACKETS_IN_A_ROW:
                    break
                continue
            bad_in_a_row = 0
            for frame in frames:
                # A frame whose time stamp lies ahead of the audio so far follows a stretch the file lost (a
                # rejected packet, a page or frame the demuxer dropped): the timeline keeps it silent. Phone
                # apps also write stamps that jump for no reason, so without damage only short jumps count.
                if frame.pts is not None and frame.time_base is not None:
                    position = int((float(frame.pts * frame.time_base) - origin_s) * SAMPLE_RATE_HZ)
                    if damaged or position - timeline.length <= _MAX_UNEXPLAINED_GAP_S * SAMPLE_RATE_HZ:
                        timeline.skip_to(position)
                damaged = False
                frame.pts = None
                for out in resampler.resample(frame):
                    timeline.append(out.to_ndarray())
        for out in resampler.resample(None):
            timeline.append(out.to_ndarray())
        if damaged and announced_s is not None:  # damage up to the end: the rest of the file is lost
            timeline.lost.append((round(timeline.length / SAMPLE_RATE_HZ, 2), round(announced_s, 2)))
    if timeline.length == 0:
        raise CallcoachError(f"{path.name}: no audio samples could be decoded")
    lost = [(start, end) for start, end in timeline.lost if end - start >= _LOST_GAP_S]
    return timeline.pcm(), channel_count, lost


def _packets(container, stream):
    """The stream's packets; a demuxer error skips ahead instead of ending the file (FFmpeg resyncs)."""
    failures = 0
    while failures <= _MAX_BAD_PACKETS_IN_A_ROW:
        try:
            for packet in container.demux(stream):
                failures = 0
                if packet.size == 0:  # the demuxer's flush packet: end of file
                    return
                yield packet
            return
        except av.error.EOFError:
            return
        except av.error.FFmpegError:
            failures += 1


def is_fake_stereo(left: np.ndarray, right: np.ndarray) -> bool:
    """Both channels carry the same signal (a mono call saved as stereo); measured on evenly spread samples."""
    if left.size == 0:
        return False
    step = max(1, left.size // _FAKE_STEREO_SAMPLES)
    left, right = left[::step].astype(np.float64), right[::step].astype(np.float64)
    left_c, right_c = left - left.mean(), right - right.mean()
    denominator = float(np.sqrt((left_c**2).sum() * (right_c**2).sum()))
    if denominator == 0.0:
        return bool(np.allclose(left, right))
    return float((left_c * right_c).sum()) / denominator >= _FAKE_STEREO_CORRELATION


def load_audio(path: Path, max_duration_s: float = DEFAULT_MAX_DURATION_S) -> Audio:
    """Decode any PyAV-readable recording; stereo keeps one party per channel, fake stereo becomes mono."""
    if not path.exists():
        raise CallcoachError(f"{path}: file not found")
    if not path.is_file():
        raise CallcoachError(f"{path}: not a file")
    if path.stat().st_size == 0:
        raise CallcoachError(f"{path.name}: empty file")
    try:
        pcm, channel_count, lost = _decode(path, max_duration_s)
    except CallcoachError:
        raise
    except (av.error.FFmpegError, ValueError, OSError) as error:
        # FFmpeg errors carry a clean message in strerror ("Invalid data found when processing input").
        reason = getattr(error, "strerror", None) or (str(error).splitlines()[0] if str(error) else type(error).__name__)
        raise CallcoachError(f"{path.name}: cannot decode audio ({reason})") from error
    fake_stereo = False
    if pcm.shape[0] == 2 and is_fake_stereo(pcm[0], pcm[1]):
        pcm = np.ascontiguousarray(pcm[:1])
        fake_stereo = True
    return Audio(source=path, pcm=pcm, sample_rate_hz=SAMPLE_RATE_HZ, original_channel_count=channel_count,
                 fake_stereo=fake_stereo, lost_spans_s=lost)
