"""Decoding recordings into per-channel 16 kHz float32 arrays (PyAV: wav, mp3, m4a, ogg, flac, ...)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from pipeline.errors import CallcoachError

SAMPLE_RATE_HZ = 16_000
# Two channels that correlate this strongly are one signal copied twice ("fake stereo").
_FAKE_STEREO_CORRELATION = 0.98


@dataclass
class Audio:
    """A decoded recording: ``channels`` has shape (n_channels, n_samples) at ``sample_rate_hz``."""

    source: Path
    channels: np.ndarray
    sample_rate_hz: int
    original_channel_count: int
    fake_stereo: bool = False

    @property
    def duration_s(self) -> float:
        return self.channels.shape[1] / self.sample_rate_hz

    @property
    def is_stereo(self) -> bool:
        return self.channels.shape[0] == 2

    def mixed_to_mono(self) -> Audio:
        """Both parties on one channel, as a phone app records them (for mono evaluation and benchmarks)."""
        if self.channels.shape[0] == 1:
            return self
        return Audio(
            source=self.source,
            channels=self.channels.mean(axis=0, keepdims=True),
            sample_rate_hz=self.sample_rate_hz,
            original_channel_count=self.original_channel_count,
            fake_stereo=self.fake_stereo,
        )


def _decode(path: Path, layout: str) -> np.ndarray:
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=SAMPLE_RATE_HZ)
    chunks: list[np.ndarray] = []
    with av.open(str(path), metadata_errors="ignore") as container:
        if not container.streams.audio:
            raise CallcoachError(f"{path.name}: no audio stream in file")
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            frame.pts = None  # the resampler re-times; broken pts in phone recordings must not matter
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray())
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray())
    if not chunks:
        raise CallcoachError(f"{path.name}: no audio samples could be decoded")
    return np.concatenate(chunks, axis=1).astype(np.float32, copy=False)


def _channel_count(path: Path) -> int:
    with av.open(str(path), metadata_errors="ignore") as container:
        if not container.streams.audio:
            raise CallcoachError(f"{path.name}: no audio stream in file")
        return container.streams.audio[0].codec_context.channels or 1


def is_fake_stereo(left: np.ndarray, right: np.ndarray) -> bool:
    """Both channels carry the same signal (a mono call saved as stereo)."""
    if left.size == 0:
        return False
    left_c, right_c = left - left.mean(), right - right.mean()
    denominator = float(np.sqrt((left_c**2).sum() * (right_c**2).sum()))
    if denominator == 0.0:
        return bool(np.allclose(left, right))
    return float((left_c * right_c).sum()) / denominator >= _FAKE_STEREO_CORRELATION


def load_audio(path: Path) -> Audio:
    """Decode any PyAV-readable recording; stereo keeps one party per channel, fake stereo becomes mono."""
    if not path.exists():
        raise CallcoachError(f"{path}: file not found")
    if not path.is_file():
        raise CallcoachError(f"{path}: not a file")
    if path.stat().st_size == 0:
        raise CallcoachError(f"{path.name}: empty file")
    try:
        channel_count = _channel_count(path)
        samples = _decode(path, "stereo" if channel_count >= 2 else "mono")
    except CallcoachError:
        raise
    except (av.error.FFmpegError, ValueError, OSError) as error:
        # FFmpeg errors carry a clean message in strerror ("Invalid data found when processing input").
        reason = getattr(error, "strerror", None) or (str(error).splitlines()[0] if str(error) else type(error).__name__)
        raise CallcoachError(f"{path.name}: cannot decode audio ({reason})") from error
    fake_stereo = False
    if samples.shape[0] == 2 and is_fake_stereo(samples[0], samples[1]):
        samples = samples[:1]
        fake_stereo = True
    return Audio(
        source=path,
        channels=samples,
        sample_rate_hz=SAMPLE_RATE_HZ,
        original_channel_count=channel_count,
        fake_stereo=fake_stereo,
    )
