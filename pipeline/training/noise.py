"""Recognition-style noise for written text: what Whisper does to a sentence on an 8 kHz line.

Mandarin: characters replaced by others that sound the same (toneless pinyin; the common characters of
jieba's dictionary), punctuation dropped, spaces where Whisper puts them. English: lower case, no
punctuation, a few words swapped for what they are misheard as. Whole calls: some adjacent turns merged
(the recogniser did not hear the change of speaker).

Used to train the text classifiers on noisy copies of their examples and to check that a verdict does
not hinge on one exact transcription (the real-data tests).
"""

from __future__ import annotations

import random
import re
from functools import lru_cache

from pipeline.language.reading import syllable

_CJK = re.compile(r"[\u4e00-\u9fff]")
_PUNCTUATION = re.compile(r"[，。？！；、,.?!;:：“”\"']")
COMMON_CHAR_FREQUENCY = 2000  # homophones are drawn from characters at least this common
# Misheard English words seen from Whisper on phone audio (and the reverse direction).
_EN_CONFUSIONS = {
    "thursday": "thirsty", "two": "to", "to": "two", "for": "four", "showroom": "show room", "by": "buy",
    "visit": "visited", "meet": "meat", "weekend": "week end", "morning": "mourning", "office": "offices",
    "can": "can't", "i'll": "ill", "we'll": "well", "you're": "your", "there": "their", "at": "it",
}


@lru_cache(maxsize=1)
def _homophones() -> dict[str, list[str]]:
    """Toneless syllable -> common characters that read so."""
    import jieba

    jieba.initialize()
    index: dict[str, list[str]] = {}
    for word, frequency in jieba.dt.FREQ.items():
        if len(word) == 1 and _CJK.match(word) and frequency >= COMMON_CHAR_FREQUENCY:
            index.setdefault(syllable(word), []).append(word)
    return index


def noisy_text(text: str, language: str, rng: random.Random, substitute: float = 0.12) -> str:
    """One recognition-style rendering of ``text``."""
    if language == "zh":
        out = []
        for char in text:
            if _CJK.match(char) and rng.random() < substitute:
                others = [c for c in _homophones().get(syllable(char), []) if c != char]
                out.append(rng.choice(others) if others else char)
            elif _PUNCTUATION.match(char):
                out.append(" " if rng.random() < 0.3 else "")
            else:
                out.append(char)
        return re.sub(r"\s+", " ", "".join(out)).strip() or text
    words = _PUNCTUATION.sub("", text.lower()).split()
    words = [_EN_CONFUSIONS.get(w, w) if rng.random() < substitute * 2 else w for w in words]
    return " ".join(words) or text


def noisy_turns(turns: list[dict], language: str, rng: random.Random, merge: float = 0.1) -> list[dict]:
    """A call's turns as a recogniser might give them: noisy text, and now and then two turns run together
    (the merged turn keeps the first speaker)."""
    out: list[dict] = []
    for turn in turns:
        text = noisy_text(turn["text"], language, rng)
        if out and rng.random() < merge:
            joiner = "" if language == "zh" else " "
            out[-1] = {**out[-1], "text": out[-1]["text"] + joiner + text}
        else:
            out.append({**turn, "text": text})
    return out
