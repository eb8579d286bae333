"""The call as every analyser sees it."""

from __future__ import annotations

from dataclasses import dataclass

from spacy.tokens import Doc

from pipeline.audio.acoustics import AcousticEvidence
from pipeline.language.nlp import load_nlp
from pipeline.transcript import Transcript, Turn


def parse_turns(transcript: Transcript) -> list[Doc]:
    """One spaCy Doc per turn, parsed once and shared by the role decision and every analyser."""
    return list(load_nlp(transcript.language).pipe(turn.text for turn in transcript.turns))


@dataclass
class Call:
    """What every analyser sees: the transcript, one spaCy Doc per turn, and sound evidence (None for text)."""

    transcript: Transcript
    docs: list[Doc]
    acoustics: AcousticEvidence | None

    @classmethod
    def parse(cls, transcript: Transcript, acoustics: AcousticEvidence | None = None) -> Call:
        return cls(transcript, parse_turns(transcript), acoustics)

    @property
    def roles_known(self) -> bool:
        return any(turn.speaker != "unknown" for turn in self.transcript.turns)

    def rep_side(self, turn: Turn) -> bool:
        """Could this turn be the rep's? (unknown speakers are treated as either party)"""
        return turn.speaker in ("rep", "unknown")

    def customer_side(self, turn: Turn) -> bool:
        return turn.speaker in ("customer", "unknown")

