"""The decoding plan: speech of every channel packed into ≤ 30 s windows, words mapped back exactly."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.audio.decode import Audio, to_pcm
from pipeline.audio.plan import WINDOW_S, pack, speech_spans, speech_spans_by_channel
from pipeline.transcript import Word

from .conftest import SAMPLES

RATE = 16_000


def test_windows_hold_one_channel_in_time_order_and_never_exceed_30_s():
    spans = [[(0.0, 4.0), (10.0, 22.0), (40.0, 41.5)], [(4.5, 9.0), (23.0, 39.0)]]
    plan = pack(spans, RATE)
    assert all(w.end_s - w.start_s <= WINDOW_S + 1e-9 for w in plan.windows)
    assert all(len({p.channel for p in w.pieces}) == 1 for w in plan.windows)  # who said a word is never a guess
    for channel in (0, 1):
        starts = [p.start_s for p in plan.pieces if p.channel == channel]
        assert starts == sorted(starts)
    assert plan.speech_s == pytest.approx(4 + 12 + 1.5 + 4.5 + 16)
    assert len(plan.windows) == 2  # 17.5 s and 20.5 s of speech: one window each, not one per stretch


def test_a_span_longer_than_a_window_is_split():
    plan = pack([[(0.0, 70.0)]], RATE)
    assert [round(w.end_s - w.start_s, 3) for w in plan.windows] == [30.0, 30.0, 10.0]
    assert [p.start_s for p in plan.pieces] == [0.0, 30.0, 60.0]


def test_words_map_back_to_their_channel_and_time():
    spans = [[(2.0, 5.0)], [(6.0, 8.0)]]
    plan = pack(spans, RATE)
    # in the packed stream: channel 0's piece is 0..3 s, channel 1's 3..5 s
    located = plan.locate([Word(0.5, 1.0, "a"), Word(3.2, 3.6, "b"), Word(2.9, 3.3, "edge")])
    assert [(piece.channel, word.start, word.end) for piece, word in located] == [
        (0, 2.5, 3.0), (1, 6.2, 6.6), (1, 6.0, 6.3)]  # "edge" belongs where its middle is, clipped to the piece
    audio = Audio(SAMPLES, to_pcm(np.stack([np.full(10 * RATE, 0.25), np.full(10 * RATE, -0.5)])), RATE, 2)
    first, second = (plan.window_audio(audio, window) for window in plan.windows)
    assert len(first) == 3 * RATE and len(second) == 2 * RATE
    assert first.mean() == pytest.approx(0.25, abs=1e-3) and second.mean() == pytest.approx(-0.5, abs=1e-3)


def test_speech_spans_find_the_speech_of_a_real_call_and_nothing_in_silence():
    from pipeline.audio.decode import load_audio

    audio = load_audio(next(SAMPLES.glob("zh_concrete_visit_accepted.*")))
    spans = speech_spans(audio, 0)
    assert spans and all(end > start for start, end in spans)
    assert 10 < sum(end - start for start, end in spans) < audio.duration_s
    silent = Audio(SAMPLES, np.zeros((1, 20 * RATE), dtype=np.int16), RATE, 1)
    assert speech_spans(silent, 0) == []


def test_speech_spans_are_the_same_when_computed_in_blocks(monkeypatch):
    """Long calls are scanned block by block; a stretch cut by a block's edge is joined again."""
    import pipeline.audio.plan as plan_module
    from pipeline.audio.decode import load_audio

    audio = load_audio(next(SAMPLES.glob("zh_concrete_visit_accepted.*")))
    whole = speech_spans(audio, 0)
    monkeypatch.setattr(plan_module, "VAD_BLOCK_S", 10.0)
    blocked = speech_spans(audio, 0)
    covered = lambda spans: sum(end - start for start, end in spans)  # noqa: E731
    assert covered(blocked) == pytest.approx(covered(whole), rel=0.1)
    assert len(blocked) <= len(whole) + 4  # at most one extra cut per block edge


def test_channels_scanned_on_two_cores_give_each_channel_its_own_spans():
    from pipeline.audio.decode import load_audio

    audio = load_audio(next(SAMPLES.glob("zh_concrete_visit_accepted.*")))
    assert audio.n_channels == 2
    one_by_one = [speech_spans(audio, channel) for channel in range(audio.n_channels)]
    assert one_by_one[0] != one_by_one[1]  # rep and customer speak at different times
    assert speech_spans_by_channel(audio, cores=2) == one_by_one
    assert speech_spans_by_channel(audio, cores=1) == one_by_one
