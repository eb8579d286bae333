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
    assert audio.pcm.shape == (2, 2 * SAMPLE_RATE_HZ)
    assert audio.is_stereo and not audio.fake_stereo
    assert abs(audio.duration_s - 2.0) < 0.01
    assert audio.samples(0).std() > 5 * audio.samples(1).std()


def test_identical_channels_are_fake_stereo_and_become_mono(tmp_path):
    path = tmp_path / "fake.wav"
    mono = _tone(1, 300) + 0.01 * np.random.default_rng(0).standard_normal(8000).astype(np.float32)
    sf.write(path, np.stack([mono, mono], axis=1), 8000)
    audio = load_audio(path)
    assert audio.fake_stereo and audio.n_channels == 1 and audio.original_channel_count == 2


@pytest.mark.parametrize("suffix", [".mp3", ".wav", ".m4a", ".ogg", ".flac"])
def test_every_bundled_format_decodes(suffix):
    found = sorted(SAMPLES.glob(f"*{suffix}"))
    assert found, f"no bundled sample in {suffix}"
    audio = load_audio(found[0])
    assert audio.n_channels == 2 and audio.duration_s > 10


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


def _damaged(source, target, where: str):
    """A copy of a bundled recording with a tenth of its bytes overwritten in the middle, or garbage appended."""
    data = bytearray(source.read_bytes())
    garbage = np.random.default_rng(0).integers(0, 256, len(data) // 10, dtype=np.uint8).tobytes()
    if where == "middle":
        data[len(data) // 2 : len(data) // 2 + len(garbage)] = garbage
    else:
        data += garbage * 3
    target.write_bytes(bytes(data))
    return target


@pytest.mark.parametrize("name", ["zh_declined_then_wechat.m4a", "zh_engaged_noisy_street.ogg",
                                  "zh_distracted_meeting_adapts.flac"])
def test_a_damaged_middle_is_decoded_past_and_named(tmp_path, name):
    """The decoder rejects packets (AAC) or the demuxer drops pages/frames (Ogg, FLAC): the call goes on after
    the damage, in its own time (the lost stretch is silent), and the stretch is named."""
    whole = load_audio(SAMPLES / name)
    damaged = load_audio(_damaged(SAMPLES / name, tmp_path / name, "middle"))
    assert abs(damaged.duration_s - whole.duration_s) < 0.5
    assert len(damaged.lost_spans_s) >= 1
    start, end = damaged.lost_spans_s[0]
    assert 0.3 * whole.duration_s < start < end < 0.8 * whole.duration_s
    # after the damage the audio is the original's, at the same time (within the resampler's few milliseconds)
    after, reach = int((end + 1.0) * SAMPLE_RATE_HZ), int(0.005 * SAMPLE_RATE_HZ)
    for channel in range(whole.n_channels):
        original = whole.samples(channel)[after : after + 2 * SAMPLE_RATE_HZ]
        heard = damaged.samples(channel)[after - reach : after + 2 * SAMPLE_RATE_HZ + reach]
        similarity = np.correlate(heard, original, "valid") / (np.linalg.norm(original) ** 2)
        assert similarity.max() > 0.8


@pytest.mark.parametrize("name", ["zh_concrete_visit_accepted.mp3", "zh_engaged_noisy_street.ogg"])
def test_trailing_garbage_keeps_the_recording(tmp_path, name):
    whole = load_audio(SAMPLES / name)
    damaged = load_audio(_damaged(SAMPLES / name, tmp_path / name, "tail"))
    assert abs(damaged.duration_s - whole.duration_s) < 0.5


def test_a_recording_over_the_limit_is_refused_before_decoding(tmp_path):
    path = tmp_path / "long.flac"
    sf.write(path, np.zeros(8000 * 150, dtype=np.float32), 8000)  # 2.5 minutes of silence
    with pytest.raises(CallcoachError, match="over the limit of 2 minutes") as error:
        load_audio(path, max_duration_s=120)
    assert "\n" not in str(error.value)
    assert load_audio(path, max_duration_s=200).duration_s == pytest.approx(150, abs=0.1)
