import numpy as np
import pytest
import soundfile as sf

from pipeline.audio.decode import SAMPLE_RATE_HZ, load_audio
from pipeline.errors import CallcoachError

from .conftest import SAMPLES


def _tone(seconds: float, hz: float, rate: int = 8000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_stereo_keeps_one_party_per_channel_and_resamples(tmp_path):
    path = tmp_path / "call.wav"
    sf.write(path, np.stack([_tone(2, 440), _tone(2, 660) * 0.1], axis=1), 8000)
    audio = load_audio(path)
    assert audio.channels.shape == (2, 2 * SAMPLE_RATE_HZ)
    assert audio.is_stereo and not audio.fake_stereo
    assert abs(audio.duration_s - 2.0) < 0.01
    assert audio.channels[0].std() > 5 * audio.channels[1].std()


def test_identical_channels_are_fake_stereo_and_become_mono(tmp_path):
    path = tmp_path / "fake.wav"
    mono = _tone(1, 300) + 0.01 * np.random.default_rng(0).standard_normal(8000).astype(np.float32)
    sf.write(path, np.stack([mono, mono], axis=1), 8000)
    audio = load_audio(path)
    assert audio.fake_stereo and audio.channels.shape[0] == 1 and audio.original_channel_count == 2


@pytest.mark.parametrize("suffix", [".mp3", ".wav", ".m4a", ".ogg", ".flac"])
def test_every_bundled_format_decodes(suffix):
    found = sorted(SAMPLES.glob(f"*{suffix}"))
    assert found, f"no bundled sample in {suffix}"
    audio = load_audio(found[0])
    assert audio.channels.shape[0] == 2 and audio.duration_s > 10


@pytest.mark.parametrize(
    "content, message",
    [(b"", "empty file"), (b"this is not audio at all" * 50, "cannot decode audio"), (b"RIFF\x00\x00\x00\x00WAVEfmt ", "cannot decode")],
)
def test_bad_files_give_one_line_errors(tmp_path, content, message):
    path = tmp_path / "bad.mp3"
    path.write_bytes(content)
    with pytest.raises(CallcoachError) as caught:
        load_audio(path)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_missing_file(tmp_path):
    with pytest.raises(CallcoachError, match="file not found"):
        load_audio(tmp_path / "nope.wav")
