"""spaCy pipelines for the call's language, with the cue patterns as a registered component.

Mandarin uses ``spacy.blank("zh")`` with the jieba segmenter, English ``spacy.blank("en")``.
Cue patterns live in ``patterns/cues_<lang>.json`` (data, not code). They are matched on the
characters of the text and aligned to tokens: jieba segments ASR text unpredictably
("我加您微信" → 我加 / 您 / 微信), so token-bound phrase matching would miss cues.
Matches are stored on the Doc as labelled spans in ``doc.spans["cues"]``. Mandarin cues are matched on
the corrected reading of the text (``pipeline.language.reading``: misheard domain words respelled, same
length), kept in ``doc._.reading``; the spans are the recogniser's own characters.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span

from pipeline.language.reading import corrected_reading

CUES_KEY = "cues"
if not Doc.has_extension("reading"):
    Doc.set_extension("reading", default=None)


@dataclass(frozen=True)
class CuePattern:
    label: str
    regex: re.Pattern[str]
    source: str  # the phrase or regex as written in the data file
    per_clause: bool  # a regex's ^ and $ are a clause's edges ("您想看吗，我带您去" asks at 吗)


def load_cue_patterns(language: str) -> list[CuePattern]:
    """Compile the cue data file for a language ("zh" or "en")."""
    data = json.loads(resources.files("pipeline.language.patterns").joinpath(f"cues_{language}.json").read_text("utf-8"))
    patterns: list[CuePattern] = []
    flags = re.IGNORECASE
    for label, group in data.items():
        if label.startswith("_"):
            continue
        for phrase in group.get("phrases", []):
            escaped = re.escape(phrase)
            # English phrases match whole words only ("meet" must not fire inside "meeting").
            body = rf"(?<![\w']){escaped}(?![\w'])" if language == "en" else escaped
            patterns.append(CuePattern(label, re.compile(body, flags), phrase, per_clause=False))
        for entry in group.get("regex", []):
            patterns.append(CuePattern(label, re.compile(entry["re"], flags), entry["re"], per_clause=True))
    return patterns


@Language.factory("callcoach_cues", default_config={"language": "zh"})
def make_cue_matcher(nlp: Language, name: str, language: str):
    return CueMatcher(load_cue_patterns(language), corrected_reading if language == "zh" else None)


def reading_of(text: str, language: str) -> str:
    """What the cues and classifiers read: the corrected reading of Mandarin, English as it is."""
    return corrected_reading(text) if language == "zh" else text


class CueMatcher:
    """Adds one span per cue match to ``doc.spans["cues"]`` (overlaps allowed, label = cue kind)."""

    def __init__(self, patterns: list[CuePattern], reading=None):
        self.patterns = patterns
        self.reading = reading  # text -> same-length corrected text, or None

    def __call__(self, doc: Doc) -> Doc:
        spans: list[Span] = []
        seen: set[tuple[int, int, str]] = set()
        reading = doc._.reading = self.reading(doc.text) if self.reading is not None else doc.text
        whole = [(0, len(reading))]
        parts = clause_ranges(reading)
        for pattern in self.patterns:
            matches = (
                (lo + m.start(), lo + m.end())
                for lo, hi in (parts if pattern.per_clause else whole)
                for m in pattern.regex.finditer(reading[lo:hi])
            )
            for start_char, end_char in matches:
                span = doc.char_span(start_char, end_char, label=pattern.label, alignment_mode="expand")
                if span is None or (span.start, span.end, pattern.label) in seen:
                    continue
                seen.add((span.start, span.end, pattern.label))
                spans.append(span)
        doc.spans[CUES_KEY] = sorted(spans, key=lambda s: (s.start, s.end))
        return doc


def blank_pipeline(language: str, segmenter: str = "jieba") -> Language:
    """An empty spaCy pipeline with the language's tokenizer (jieba words for Mandarin, or ``"char"``: one
    token per character)."""
    if language == "zh":
        import jieba

        jieba.setLogLevel(logging.WARNING)
        return spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": segmenter}}})
    if language == "en":
        return spacy.blank("en")
    raise ValueError(f"unsupported language {language!r}")


@lru_cache(maxsize=2)
def load_nlp(language: str) -> Language:
    """The pipeline for a language, built once per process."""
    nlp = blank_pipeline(language)
    nlp.add_pipe("callcoach_cues", config={"language": language})
    return nlp


def cue_labels(doc: Doc | Span) -> set[str]:
    """The cue kinds present in a Doc or in a span of it (a clause)."""
    if isinstance(doc, Doc):
        return {span.label_ for span in doc.spans[CUES_KEY]}
    parent = doc.doc
    return {s.label_ for s in parent.spans[CUES_KEY] if s.start >= doc.start and s.end <= doc.end}


def cues_in(doc_or_span: Doc | Span, label: str) -> list[Span]:
    doc = doc_or_span if isinstance(doc_or_span, Doc) else doc_or_span.doc
    lo, hi = (0, len(doc)) if isinstance(doc_or_span, Doc) else (doc_or_span.start, doc_or_span.end)
    return [s for s in doc.spans[CUES_KEY] if s.label_ == label and s.start >= lo and s.end <= hi]


QUOTE_TRIM = " \t，。；,.;、…"


def quote_of(span: Span) -> str:
    """A span's text as evidence: exact words from the turn, without the clause's trailing punctuation."""
    return span.text.strip(QUOTE_TRIM) or span.text.strip()


_CLAUSE_END = re.compile(r"[，。？！；,.?!;…]+|\s{2,}|(?<=[\u4e00-\u9fff])\s(?=[\u4e00-\u9fff])")


def clause_ranges(text: str) -> list[tuple[int, int]]:
    """Character ranges of a turn's clauses, each with the punctuation that ends it."""
    ranges: list[tuple[int, int]] = []
    start_char = 0
    for match in _CLAUSE_END.finditer(text):
        ranges.append((start_char, match.end()))
        start_char = match.end()
    if start_char < len(text):
        ranges.append((start_char, len(text)))
    return ranges


def clauses(doc: Doc) -> list[Span]:
    """Split a turn at punctuation into clauses (cues are judged together only within a clause)."""
    spans = (doc.char_span(lo, hi, alignment_mode="expand") for lo, hi in clause_ranges(doc.text))
    return [span for span in spans if span is not None and span.text.strip()]
