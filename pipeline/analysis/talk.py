"""Talk metrics of one call (Gong-style): the rep's share of the talking, the rep's longest monologue,
questions asked by each side, and the customer's interruptions.

- Talk time is measured from the turns' start/end (the words' span); a transcript without times gets the
  share of characters (zh) or words (en), and None where only times can tell (monologue, interruptions).
- A monologue runs while the customer does not take the floor: a backchannel alone (嗯 / 对 / uh huh) does
  not end it.
- Questions are counted per clause from the words, not only from "？": Whisper often drops punctuation.
  One clause is at most one question; word lists in ``patterns/questions.json``.
- An interruption is a customer turn, other than a backchannel, that starts more than 0.5 s into a rep turn
  (the same rule as the sound evidence's, audio/acoustics.py, which counts backchannels too).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache

from pipeline.analysis.distraction import is_backchannel
from pipeline.paths import packaged
from pipeline.transcript import Transcript, Turn

INTERRUPTION_AFTER_S = 0.5
_ZH_CLAUSES = re.compile(r"[^，。？！；,.?!;…\s]+[？?]?")
_EN_CLAUSES = re.compile(r"[^.?!;]+[?]?")
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class TalkMetrics:
    rep_talk_share: float | None
    longest_rep_monologue_s: float | None
    rep_questions: int
    customer_questions: int
    customer_interruptions: int | None


@lru_cache(maxsize=1)
def _words() -> dict:
    return json.loads(packaged("pipeline.language.patterns", "questions.json").read_text("utf-8"))


@lru_cache(maxsize=1)
def _zh_patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    words = _words()
    asks = "|".join(sorted(words["zh_question_words"], key=len, reverse=True))
    not_asks = "|".join(re.escape(w) for w in sorted(words["zh_not_questions"], key=len, reverse=True))
    final = "".join(words["zh_final_particles"])
    return (re.compile(f"(?:{asks}|{words['zh_a_not_a']})"), re.compile(not_asks),
            re.compile(f"[{final}](?:[啊呀]|[？?])?$"))


def _zh_is_question(clause: str) -> bool:
    if clause.endswith(("？", "?")):
        return True
    asks, not_asks, final = _zh_patterns()
    if final.search(clause) and not clause.endswith(("的呢", "了呢")):
        return True
    stripped = not_asks.sub("", clause)
    return bool(asks.search(stripped))


def _en_is_question(clause: str) -> bool:
    text = clause.strip().lower()
    if text.endswith("?"):
        return True
    words = _words()
    if any(text.startswith(opening + " ") for opening in words["en_openings"]):
        # "what a day", "how nice" are exclamations; "I know what you mean" does not start the clause.
        return not re.match(r"^(?:what an? |how (?:nice|great|good|kind|lovely)\b)", text)
    return any(re.search(rf",\s*{re.escape(tag)}$", text) for tag in words["en_tags"])


def count_questions(text: str, language: str) -> int:
    """Questions in one turn's text, one per clause at most."""
    if language == "zh":
        clauses = [c for c in _ZH_CLAUSES.findall(text) if _CJK.search(c)]
        return sum(_zh_is_question(c) for c in clauses)
    return sum(_en_is_question(c) for c in _EN_CLAUSES.findall(text) if c.strip())


def _timed(turn: Turn) -> bool:
    return turn.start is not None and turn.end is not None


def _talk_share(transcript: Transcript) -> float | None:
    parties = [t for t in transcript.turns if t.speaker in ("rep", "customer")]
    if parties and all(_timed(t) for t in parties):
        amount = {t.index: max(0.0, t.end - t.start) for t in parties}  # type: ignore[operator]
    else:
        unit = (lambda text: len(_CJK.findall(text))) if transcript.language == "zh" else (lambda text: len(text.split()))
        amount = {t.index: float(unit(t.text)) for t in parties}
    rep = sum(amount[t.index] for t in parties if t.speaker == "rep")
    total = sum(amount.values())
    return round(rep / total, 3) if total > 0 else None


def _longest_monologue_s(transcript: Transcript) -> float | None:
    turns = sorted((t for t in transcript.turns if t.speaker in ("rep", "customer")), key=lambda t: t.start or 0.0)
    if not turns or not all(_timed(t) for t in turns):
        return None
    longest, run_start, run_end = 0.0, None, None
    for turn in turns:
        if turn.speaker == "rep":
            run_start = turn.start if run_start is None else run_start
            run_end = max(run_end or 0.0, turn.end)  # type: ignore[type-var]
            longest = max(longest, run_end - run_start)  # type: ignore[operator]
        elif not is_backchannel(turn.text, transcript.language):
            run_start = run_end = None  # the customer took the floor
    return round(longest, 2)


def _interruptions(transcript: Transcript) -> int | None:
    turns = [t for t in transcript.turns if t.speaker in ("rep", "customer")]
    if not turns or not all(_timed(t) for t in turns):
        return None
    rep_turns = [t for t in turns if t.speaker == "rep"]
    return sum(
        any(r.start + INTERRUPTION_AFTER_S < c.start < r.end for r in rep_turns)  # type: ignore[operator]
        for c in turns
        if c.speaker == "customer" and not is_backchannel(c.text, transcript.language)
    )


def talk_metrics(transcript: Transcript) -> TalkMetrics:
    """Who talked how much, who asked, who cut in (see the module docstring for the definitions)."""
    return TalkMetrics(
        rep_talk_share=_talk_share(transcript),
        longest_rep_monologue_s=_longest_monologue_s(transcript),
        rep_questions=sum(count_questions(t.text, transcript.language) for t in transcript.turns if t.speaker == "rep"),
        customer_questions=sum(count_questions(t.text, transcript.language)
                               for t in transcript.turns if t.speaker == "customer"),
        customer_interruptions=_interruptions(transcript),
    )
