"""The seam between audio and language: words, turns and the Transcript.

Audio stages end here (words per channel become turns); language stages start
here. A transcript JSON written by another system enters at this seam too.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.errors import CallcoachError
from pipeline.language.text import detect_language_of_text, to_simplified

Speaker = Literal["rep", "customer", "unknown"]
Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")
# Same-party words further apart than this start a new turn (a long silence is a new turn).
MAX_INTRA_TURN_GAP_S = 2.0


@dataclass
class Word:
    start: float
    end: float
    text: str
    probability: float = 1.0


@dataclass
class Turn:
    """One party's continuous speech."""

    index: int
    speaker: Speaker
    text: str
    start: float | None = None
    end: float | None = None
    channel: int | None = None
    words: list[Word] = field(default_factory=list)


@dataclass
class Transcript:
    language: Language
    turns: list[Turn]
    duration_s: float | None = None


def _join_words(words: list[Word], language: str) -> str:
    text = "".join(word.text for word in words).strip()
    if language == "zh":
        # Whisper puts spaces between Chinese tokens now and then; they carry no meaning.
        text = re.sub(r"(?<=[\u4e00-\u9fff，。？！、])\s+|\s+(?=[\u4e00-\u9fff，。？！、])", "", text)
    return re.sub(r"\s{2,}", " ", text)


def _floor_taken_between(other_starts: list[float], after_s: float, before_s: float) -> bool:
    """True when another party started speaking inside this party's pause (after_s, before_s)."""
    return bisect_left(other_starts, before_s) > bisect_left(other_starts, after_s)


def _utterances(words: list[Word], others: list[Word]) -> list[list[Word]]:
    """Split one channel's words where it pauses long or where another party takes the floor."""
    other_starts = sorted(word.start for word in others)
    utterances: list[list[Word]] = []
    for word in sorted(words, key=lambda item: item.start):
        if utterances:
            previous = utterances[-1][-1]
            gap_s = word.start - previous.end
            if gap_s <= MAX_INTRA_TURN_GAP_S and not _floor_taken_between(other_starts, previous.end, word.start):
                utterances[-1].append(word)
                continue
        utterances.append([word])
    return utterances


def build_turns(words_by_channel: list[list[Word]], language: Language) -> list[Turn]:
    """Put each channel's utterances on one timeline; one turn = one party's continuous speech.

    Working from words (not Whisper segments) means a 30-second segment cannot
    swallow the other party's reply; talking over each other does not split a turn,
    taking the floor in the other's pause does.
    """
    pieces: list[tuple[int, list[Word]]] = []
    for channel, words in enumerate(words_by_channel):
        others = [word for other, other_words in enumerate(words_by_channel) if other != channel for word in other_words]
        pieces.extend((channel, utterance) for utterance in _utterances(words, others))
    pieces.sort(key=lambda piece: (piece[1][0].start, piece[0]))
    turns: list[Turn] = []
    for channel, words in pieces:
        text = _join_words(words, language)
        if not text:
            continue
        turns.append(
            Turn(
                index=len(turns),
                speaker="unknown",
                text=text,
                start=round(words[0].start, 2),
                end=round(words[-1].end, 2),
                channel=channel,
                words=words,
            )
        )
    return turns


class _TurnIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    speaker: Speaker
    text: str = Field(min_length=1)
    start: float | None = Field(default=None, ge=0)
    end: float | None = Field(default=None, ge=0)


class _TranscriptIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    language: Language | None = None
    turns: list[_TurnIn] = Field(min_length=1)

    @field_validator("turns")
    @classmethod
    def _text_not_blank(cls, turns: list[_TurnIn]) -> list[_TurnIn]:
        for position, turn in enumerate(turns):
            if not turn.text.strip():
                raise ValueError(f"turn {position} has empty text")
        return turns


def _first_validation_problem(error: ValidationError) -> str:
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem["loc"]) or "top level"
    return f"{where}: {problem['msg']}"


def transcript_from_dict(data: object, name: str = "transcript") -> Transcript:
    """Validate a transcript-input object ({language?, turns: [{speaker, text, start?, end?}]})."""
    try:
        parsed = _TranscriptIn.model_validate(data)
    except ValidationError as error:
        raise CallcoachError(f"{name}: not a callcoach transcript ({_first_validation_problem(error)})") from error
    language = parsed.language or detect_language_of_text(" ".join(t.text for t in parsed.turns))
    turns = []
    for index, turn_in in enumerate(parsed.turns):
        text = turn_in.text.strip()
        turns.append(
            Turn(
                index=index,
                speaker=turn_in.speaker,
                text=to_simplified(text) if language == "zh" else text,
                start=turn_in.start,
                end=turn_in.end,
            )
        )
    return Transcript(language=language, turns=turns, duration_s=None)


def load_transcript_json(path: Path) -> Transcript:
    """Read a transcript JSON file; every problem becomes a one-line CallcoachError."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise CallcoachError(f"{path}: file not found") from error
    except (OSError, UnicodeDecodeError) as error:
        raise CallcoachError(f"{path.name}: cannot read transcript ({error})") from error
    if not raw.strip():
        raise CallcoachError(f"{path.name}: empty file")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as error:
        raise CallcoachError(f"{path.name}: not valid JSON (line {error.lineno}: {error.msg})") from error
    return transcript_from_dict(data, path.name)
