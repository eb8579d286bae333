"""Redacting a whole transcript before analysis (``--redact``): each turn's personal data replaced by its
typed placeholder, in the turn's text and in its words, so that nothing downstream — quotes, reports, the
search index — ever holds the value. Each redacted span keeps its turn and its time (from the words it
covered), so the report can list it and the player can mute it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from pipeline.privacy.redact import PLACEHOLDERS, PiiKind, PiiSpan, redact
from pipeline.transcript import Transcript, Turn, Word


@dataclass(frozen=True)
class RedactedSpan:
    turn: int
    kind: PiiKind
    start_s: float | None  # None for text input (no word times)
    end_s: float | None


def _word_offsets(turn: Turn) -> list[tuple[int, int]]:
    """Where each word's characters sit in the turn's text (the text was joined from the words, with
    spaces dropped between Chinese characters); (-1, -1) for a word not found there."""
    offsets, cursor = [], 0
    for word in turn.words:
        piece = word.text.strip()
        at = turn.text.find(piece, cursor) if piece else -1
        if at < 0:
            offsets.append((-1, -1))
            continue
        offsets.append((at, at + len(piece)))
        cursor = at + len(piece)
    return offsets


def _redact_words(turn: Turn, spans: list[PiiSpan], placeholders: list[str]) -> tuple[list[Word], list[tuple[float, float] | None]]:
    """The turn's words with each span's first word replaced by the placeholder and its other words emptied
    (their times stay, so talk time and pauses are unchanged); and each span's time."""
    words = list(turn.words)
    offsets = _word_offsets(turn)
    times: list[tuple[float, float] | None] = []
    for span, placeholder in zip(spans, placeholders, strict=True):
        covered = [i for i, (start, end) in enumerate(offsets) if start >= 0 and start < span.end and end > span.start]
        if not covered:
            times.append(None)
            continue
        times.append((words[covered[0]].start, words[covered[-1]].end))
        for position, index in enumerate(covered):
            words[index] = replace(words[index], text=placeholder if position == 0 else "")
    return words, times


def redact_transcript(transcript: Transcript) -> tuple[Transcript, list[RedactedSpan]]:
    """The transcript with personal data replaced, and the spans replaced (no values)."""
    turns: list[Turn] = []
    spans_out: list[RedactedSpan] = []
    for turn in transcript.turns:
        result = redact(turn.text, transcript.language)
        if not result.spans:
            turns.append(turn)
            continue
        placeholders = [PLACEHOLDERS[span.kind] for span in result.spans]
        words, times = _redact_words(turn, result.spans, placeholders) if turn.words else ([], [None] * len(result.spans))
        turns.append(replace(turn, text=result.text, words=words))
        for span, span_time in zip(result.spans, times, strict=True):
            spans_out.append(RedactedSpan(turn.index, span.kind, *(span_time or (None, None))))
    return replace(transcript, turns=turns), spans_out
