import numpy as np
import soundfile as sf

from pipeline.audio.acoustics import measure
from pipeline.audio.decode import load_audio
from pipeline.transcript import Transcript, Turn

RATE = 16000


def _call(tmp_path, background: np.ndarray):
    """Rep speaks 0-2 s on the left; customer 'speaks' 5-6 s on the right; background elsewhere on the right."""
    n = 8 * RATE
    rng = np.random.default_rng(1)
    left = np.zeros(n, np.float32)
    left[: 2 * RATE] = 0.3 * rng.standard_normal(2 * RATE)
    right = background.astype(np.float32).copy()
    right[5 * RATE : 6 * RATE] += 0.3 * rng.standard_normal(RATE)
    path = tmp_path / "call.wav"
    sf.write(path, np.stack([left, right], axis=1), RATE)
    turns = [
        Turn(0, "rep", "hello", 0.0, 2.0, channel=0),
        Turn(1, "customer", "yeah", 5.0, 6.0, channel=1),
    ]
    return load_audio(path), Transcript("en", turns, 8.0)


def test_latency_and_quiet_line(tmp_path):
    audio, transcript = _call(tmp_path, np.zeros(8 * RATE))
    evidence = measure(audio, transcript, customer_channel=1)
    assert evidence.response_latencies_s == {1: 3.0}
    assert evidence.slow_responses == {1: 3.0}
    assert evidence.background_kind == "quiet" and not evidence.noisy_spans


def test_tonal_background_is_told_from_broadband(tmp_path):
    t = np.arange(8 * RATE) / RATE
    melody = 0.1 * np.sin(2 * np.pi * (440 + 220 * (np.floor(t * 4) % 3)) * t)
    audio, transcript = _call(tmp_path, melody)
    tonal = measure(audio, transcript, customer_channel=1)
    assert tonal.background_kind == "tonal" and tonal.noisy_spans and tonal.noisy_spans[0].kind == "tonal"

    noise = 0.05 * np.random.default_rng(2).standard_normal(8 * RATE)
    audio, transcript = _call(tmp_path, noise)
    broadband = measure(audio, transcript, customer_channel=1)
    assert broadband.background_kind == "broadband"
    assert broadband.background_level_dbfs > -40


def test_mono_says_what_it_could_not_measure(tmp_path):
    audio, transcript = _call(tmp_path, np.zeros(8 * RATE))
    evidence = measure(audio, transcript, customer_channel=None)
    assert evidence.not_measured and evidence.background_level_dbfs is None


def test_overlap_interruptions_and_speech_rate(tmp_path):
    from pipeline.transcript import Word

    audio, _ = _call(tmp_path, np.zeros(8 * RATE))
    rep = Turn(0, "rep", "one two three four", 0.0, 4.0, channel=0,
               words=[Word(0, 1, "one"), Word(1, 2, " two"), Word(2, 3, " three"), Word(3, 4, " four")])
    customer = Turn(1, "customer", "wait what", 2.5, 3.5, channel=1, words=[Word(2.5, 3.0, "wait"), Word(3.0, 3.5, " what")])
    evidence = measure(audio, Transcript("en", [rep, customer], 8.0), customer_channel=1)
    assert evidence.overlap_s == 1.0
    assert evidence.customer_interruptions == 1
    assert evidence.customer_speech_rate == 2.0  # two words in one second of speech
