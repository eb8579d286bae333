"""Two-speaker diarisation of a mono call: which of the two voices said each Whisper word.

Works on Whisper's words, not its segments, so a change of speaker inside a Whisper segment still
splits the turn:
1. Words are grouped into stretches of speech ("pieces"): a pause of 0.25 s or more, or 2 s of
   speech, starts a new piece. Turn changes almost always come with such a pause.
2. Each piece is described by its voice. Default ``spectral`` (librosa + scikit-learn, no torch):
   mean MFCCs (timbre), median pitch (YIN) and mean level, computed after subtracting the
   background measured in the pauses around it. Optional ``embedding`` (the
   ``speaker-embeddings`` extra: resemblyzer + torch): a neural speaker embedding per piece.
3. Spectral clustering (nearest-neighbour graph) splits the pieces into two voices; a short piece
   wedged between the other voice's pieces joins them; every word takes its piece's voice. Which
   voice is the rep is decided later from what it says (speakers.decide_roles_diarised).

The split confidence is the silhouette of the two voices (how far apart they are compared with how
spread out each one is), mapped to 0..1; see docs/mono.md for how it relates to measured accuracy.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import librosa
import numpy as np

from pipeline.errors import CallcoachError
from pipeline.transcript import Word

METHODS = ("spectral", "embedding")
DEFAULT_METHOD = "spectral"
HOP_S = 0.010
_N_FFT = 512
_N_MELS, _N_MFCC = 40, 20
# Phone audio carries 300-3400 Hz; the mel bank spans a little more so both edges of the band count.
_FMIN_HZ, _FMAX_HZ = 100.0, 3800.0
_F0_RANGE_HZ = (60.0, 400.0)
# Background: measured in the pauses (this far from any word) within this many seconds of a frame.
_PAUSE_MARGIN_S = 0.1
_NOISE_CONTEXT_S = 3.0
_OVERSUBTRACTION, _SPECTRAL_FLOOR = 1.5, 0.05
# A pause this long starts a new piece; a piece is cut after this much speech (a missed turn change
# then costs at most one piece).
PIECE_GAP_S = 0.25
PIECE_MAX_S = 2.0
_NEIGHBOURS = 10
# A quiet stretch this long inside a Whisper word is a pause it swallowed; "quiet" = this far above
# the call's noise floor or this far below its speech level, whichever is higher.
QUIET_RUN_S = 0.2
_QUIET_ABOVE_FLOOR_DB, _QUIET_BELOW_SPEECH_DB = 6.0, 25.0
_MIN_VOICED_FRAMES = 5  # a word is trimmed only to a voiced side at least this long (50 ms)
# A piece shorter than this, with pauses under _FRAGMENT_GAP_S on both sides, belongs with its neighbours.
_FRAGMENT_MAX_S, _FRAGMENT_GAP_S = 1.0, 0.5
# Below this there is nothing to tell apart: everything goes to one voice with confidence 0.
_MIN_PIECES, _MIN_SPEECH_S = 4, 2.0
# Silhouette at which a split counts as fully clear, per method (embeddings are on a tighter scale).
# Set from benchmarks/bench_diarize.py: calls below 0.5 confidence hold most of the badly split ones.
_SILHOUETTE_FOR_FULL_CONFIDENCE = {"spectral": 0.3, "embedding": 0.2}


@dataclass
class Diarisation:
    speaker_of_word: list[int]  # 0 or 1 per word, in the order given
    confidence: float  # 0..1, how clearly the two voices separate
    method: str
    second_voice_share: float  # speech share of the less talkative voice


def available_methods() -> list[str]:
    try:
        import resemblyzer  # noqa: F401
    except ImportError:
        return ["spectral"]
    return list(METHODS)


def pieces_of(words: list[Word]) -> list[list[int]]:
    """Word indices grouped into stretches of speech, cut at pauses and after PIECE_MAX_S."""
    pieces: list[list[int]] = []
    for index, word in enumerate(words):
        if pieces:
            piece = pieces[-1]
            if word.start - words[piece[-1]].end < PIECE_GAP_S and word.end - words[piece[0]].start <= PIECE_MAX_S:
                piece.append(index)
                continue
        pieces.append([index])
    return pieces


def quiet_frames(samples: np.ndarray, sample_rate_hz: int) -> np.ndarray:
    """Frames (HOP_S) well below the call's speech level: the pauses between words, heard in the audio."""
    hop = int(round(HOP_S * sample_rate_hz))
    level_db = librosa.amplitude_to_db(librosa.feature.rms(y=samples, frame_length=2 * hop, hop_length=hop)[0], ref=1.0)
    floor_db, speech_db = np.percentile(level_db, [10, 90])
    if speech_db - floor_db < _QUIET_ABOVE_FLOOR_DB:  # no pauses to hear (constant noise, or no speech)
        return np.zeros(len(level_db), dtype=bool)
    return level_db < max(floor_db + _QUIET_ABOVE_FLOOR_DB, speech_db - _QUIET_BELOW_SPEECH_DB)


def trimmed_to_speech(words: list[Word], quiet: np.ndarray) -> list[Word]:
    """Words with a pause of QUIET_RUN_S or more inside them trimmed to their longer voiced side.

    Whisper's word times often stretch across the pause at a turn change ("…开会 | 好的" as one
    12.0-12.9 s "好的" while the customer stopped at 12.2 and the rep started at 12.6); the piece
    cutting then sees no pause and glues the two voices together.
    """
    out = []
    min_run = int(QUIET_RUN_S / HOP_S)
    for word in words:
        first, last = int(word.start / HOP_S), min(len(quiet), int(word.end / HOP_S))
        span = quiet[first:last]
        runs, run_start = [], None
        for k, is_quiet in enumerate([*span, False]):
            if is_quiet and run_start is None:
                run_start = k
            elif not is_quiet and run_start is not None:
                if k - run_start >= min_run:
                    runs.append((run_start, k))
                run_start = None
        before, after = (runs[0][0], len(span) - runs[-1][1]) if runs else (0, 0)
        if max(before, after) < _MIN_VOICED_FRAMES:  # no pause inside, or no voice around it: keep as is
            out.append(word)
            continue
        if after >= before:
            out.append(Word(round((first + runs[-1][1]) * HOP_S, 2), word.end, word.text, word.probability))
        else:
            out.append(Word(word.start, round((first + runs[0][0]) * HOP_S, 2), word.text, word.probability))
    return out


def _frame_range(word: Word, n_frames: int) -> np.ndarray:
    start = min(int(word.start / HOP_S), n_frames - 1)
    return np.arange(start, min(n_frames, max(start + 1, int(word.end / HOP_S))))


def _speech_frames(words: list[Word], n_frames: int, margin_s: float) -> np.ndarray:
    speech = np.zeros(n_frames, dtype=bool)
    for word in words:
        start = max(0, int((word.start - margin_s) / HOP_S))
        speech[start : max(start + 1, int((word.end + margin_s) / HOP_S))] = True
    return speech


def _local_mean(power: np.ndarray, mask: np.ndarray, half_width: int) -> np.ndarray:
    """Mean of the masked frames within +-half_width frames of each frame (all masked frames where none are)."""
    summed = np.cumsum(np.pad(power * mask, ((0, 0), (1, 0))), axis=1)
    counted = np.cumsum(np.pad(mask.astype(float), (1, 0)))
    n = power.shape[1]
    low = np.clip(np.arange(n) - half_width, 0, n)
    high = np.clip(np.arange(n) + half_width + 1, 0, n)
    count = counted[high] - counted[low]
    overall = (power * mask).sum(axis=1, keepdims=True) / max(1.0, mask.sum())
    return np.where(count > 0, (summed[:, high] - summed[:, low]) / np.maximum(count, 1), overall)


def _mfcc_frames(samples: np.ndarray, sample_rate_hz: int, words: list[Word]) -> np.ndarray:
    """(n_frames, n_mfcc) MFCCs of the speech with the local background subtracted.

    In a mono mix the customer's traffic or office noise starts and stops with the scene; without
    subtracting it, "background on / off" is the strongest difference and the clusters split the
    call in time instead of by voice.
    """
    hop = int(round(HOP_S * sample_rate_hz))
    power = np.abs(librosa.stft(samples, n_fft=_N_FFT, hop_length=hop)) ** 2
    pauses = ~_speech_frames(words, power.shape[1], margin_s=_PAUSE_MARGIN_S)
    noise = _local_mean(power, pauses, int(_NOISE_CONTEXT_S / HOP_S))
    clean = np.maximum(power - _OVERSUBTRACTION * noise, _SPECTRAL_FLOOR * power)
    mel = librosa.feature.melspectrogram(S=clean, sr=sample_rate_hz, n_mels=_N_MELS, fmin=_FMIN_HZ, fmax=_FMAX_HZ)
    return librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=_N_MFCC).T


def _log_f0(samples: np.ndarray, sample_rate_hz: int, n_frames: int) -> np.ndarray:
    """Pitch per frame in octaves (YIN); unvoiced frames give noise, so only medians over pieces are used."""
    hop = int(round(HOP_S * sample_rate_hz))
    f0 = librosa.yin(samples, fmin=_F0_RANGE_HZ[0], fmax=_F0_RANGE_HZ[1], sr=sample_rate_hz,
                     frame_length=1024, hop_length=hop)
    return np.log2(np.pad(f0, (0, max(0, n_frames - len(f0))), mode="edge")[:n_frames])


def _spectral_features(samples: np.ndarray, sample_rate_hz: int, words: list[Word], pieces: list[list[int]]):
    """Per piece: mean MFCC 1-19 (timbre), median pitch, mean c0 (level)."""
    mfcc = _mfcc_frames(samples, sample_rate_hz, words)
    log_f0 = _log_f0(samples, sample_rate_hz, len(mfcc))
    rows = []
    for piece in pieces:
        frames = np.concatenate([_frame_range(words[i], len(mfcc)) for i in piece])
        rows.append(np.concatenate([mfcc[frames, 1:].mean(axis=0), [np.median(log_f0[frames]), mfcc[frames, 0].mean()]]))
    return np.array(rows)


_ENCODER = None


def _embedding_features(samples: np.ndarray, sample_rate_hz: int, words: list[Word], pieces: list[list[int]]):
    """Per piece: a resemblyzer speaker embedding (d-vector) of its audio."""
    global _ENCODER
    try:
        from resemblyzer import VoiceEncoder
    except ImportError as error:
        raise CallcoachError(
            "diarisation method 'embedding' needs the optional extra: pip install 'callcoach[speaker-embeddings]'"
        ) from error
    if _ENCODER is None:
        _ENCODER = VoiceEncoder("cpu", verbose=False)
    wav = samples if sample_rate_hz == 16_000 else librosa.resample(samples, orig_sr=sample_rate_hz, target_sr=16_000)
    rows = []
    for piece in pieces:
        start, end = int(words[piece[0]].start * 16_000), int(words[piece[-1]].end * 16_000)
        rows.append(_ENCODER.embed_utterance(wav[start : max(end, start + 1600)]))
    return np.array(rows)


def _two_voices(features: np.ndarray) -> tuple[np.ndarray, float]:
    """Cluster labels (0/1) per piece and the silhouette of that split."""
    from sklearn.cluster import SpectralClustering
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    scaled = np.nan_to_num(StandardScaler().fit_transform(features))
    with warnings.catch_warnings():  # "graph is not fully connected" on tiny calls is harmless here
        warnings.simplefilter("ignore", UserWarning)
        labels = SpectralClustering(
            n_clusters=2, affinity="nearest_neighbors", n_neighbors=min(_NEIGHBOURS, len(scaled) - 1), random_state=0
        ).fit_predict(scaled)
    if len(set(labels)) < 2:
        return labels, 0.0
    return labels, float(silhouette_score(scaled, labels))


def _absorb_fragments(pieces: list[list[int]], labels: np.ndarray, words: list[Word]) -> np.ndarray:
    """A short piece between two pieces of the other voice, with barely a pause on either side, joins them.

    Such a piece is usually a sentence broken by a breath and misjudged on too little audio; a real
    reply after the other's words comes with a longer pause than _FRAGMENT_GAP_S.
    """
    labels = labels.copy()
    for k in range(1, len(pieces) - 1):
        before, piece, after = pieces[k - 1], pieces[k], pieces[k + 1]
        short = words[piece[-1]].end - words[piece[0]].start < _FRAGMENT_MAX_S
        tight = (words[piece[0]].start - words[before[-1]].end < _FRAGMENT_GAP_S
                 and words[after[0]].start - words[piece[-1]].end < _FRAGMENT_GAP_S)
        if short and tight and labels[k - 1] == labels[k + 1] != labels[k]:
            labels[k] = labels[k - 1]
    return labels


def diarise(samples: np.ndarray, sample_rate_hz: int, words: list[Word], method: str = DEFAULT_METHOD) -> Diarisation:
    """Split the words of a mono call between two voices (0 and 1; which one is the rep is decided later)."""
    if method not in METHODS:
        raise CallcoachError(f"unknown diarisation method '{method}' (use {' or '.join(METHODS)})")
    words = trimmed_to_speech(words, quiet_frames(samples, sample_rate_hz))
    pieces = pieces_of(words)
    speech_s = sum(w.end - w.start for w in words)
    if len(pieces) < _MIN_PIECES or speech_s < _MIN_SPEECH_S:
        return Diarisation([0] * len(words), 0.0, method, 0.0)
    describe = _embedding_features if method == "embedding" else _spectral_features
    labels, silhouette = _two_voices(describe(samples, sample_rate_hz, words, pieces))
    if _FRAGMENT_MAX_S > 0:
        labels = _absorb_fragments(pieces, labels, words)
    speaker_of_word = [0] * len(words)
    for piece, label in zip(pieces, labels, strict=True):
        for index in piece:
            speaker_of_word[index] = int(label)
    durations = np.array([w.end - w.start for w in words])
    share_0 = float(durations[np.array(speaker_of_word) == 0].sum() / max(durations.sum(), 1e-9))
    confidence = float(np.clip(silhouette / _SILHOUETTE_FOR_FULL_CONFIDENCE[method], 0.0, 1.0))
    return Diarisation(speaker_of_word, round(confidence, 2), method, round(min(share_0, 1 - share_0), 3))
