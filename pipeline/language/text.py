"""Small text helpers shared by the stages: script conversion and language guess."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")


@lru_cache(maxsize=1)
def _t2s():
    import opencc  # opencc-python-reimplemented: pure Python, offline dictionaries

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → Simplified Chinese (Whisper often emits traditional characters)."""
    return _t2s().convert(text)


def detect_language_of_text(text: str) -> Literal["zh", "en"]:
    """"zh" when Chinese characters outnumber Latin words, else "en"."""
    return "zh" if len(_CJK.findall(text)) >= len(_LATIN_WORD.findall(text)) else "en"
