"""Who the customer is, from what is said: the name the rep addresses them by (王总, 李经理, Mr. Chen) and
the company the customer names as theirs ("我们华宫机械…", "您是华宫机械的王总吧").

This is the fallback identity of a call's customer: a file-name pattern (``--customer-pattern``) or the
customer field of a web upload wins over it (pipeline/store/customers.py). Words are lists in
``patterns/customer_names.json``; a name is taken only where jieba starts a word at its surname, so 提高总体
is not 高总.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from pipeline.language.text import to_simplified
from pipeline.paths import packaged
from pipeline.transcript import Transcript, Turn

# Followers that make "<surname>总/工" an ordinary word (高总体, 加工厂), not a title.
_NOT_A_TITLE_AFTER = {"总": "体共量部结之计额数价和裁监经", "工": "作厂程人资具期艺业地"}
_CJK = "\u4e00-\u9fff"


@dataclass(frozen=True)
class SpokenCustomer:
    name: str | None  # as addressed, normalised: 王总, 李经理, Mr. Chen
    company: str | None  # the customer's company, without 有限公司/公司
    turn: int  # the first turn that names them
    quote: str  # an exact substring of that turn

    @property
    def key(self) -> str:
        """One string per customer: the name, and the company when known (王总 · 华宫机械)."""
        return " · ".join(part for part in (self.name, self.company) if part)


@lru_cache(maxsize=1)
def _words() -> dict:
    return json.loads(packaged("pipeline.language.patterns", "customer_names.json").read_text("utf-8"))


@lru_cache(maxsize=1)
def _zh_name_re() -> re.Pattern[str]:
    words = _words()
    surnames = "|".join([*words["zh_compound_surnames"], f"[{words['zh_surnames']}]"])
    titles = "|".join(sorted(words["zh_titles"], key=len, reverse=True))
    return re.compile(f"(?<!我是)(?<!我叫)(?<!我姓)(?P<name>(?:{surnames})(?:{titles}))")


@lru_cache(maxsize=1)
def _zh_company_res() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(a company named as the speaker's own, a company the rep names as the customer's)."""
    words = _words()
    suffixes = "|".join(sorted(words["zh_company_suffixes"], key=len, reverse=True))
    name = f"(?P<company>[{_CJK}]{{2,8}}?(?:{suffixes}))"
    own = "|".join(sorted(words["zh_own_company_openers"], key=len, reverse=True))
    theirs = "|".join(sorted(words["zh_customer_company_openers"], key=len, reverse=True))
    return re.compile(f"(?:{own}){name}"), re.compile(f"(?:{theirs}){name}")


def _word_starts(text: str) -> set[int]:
    import jieba

    return {start for _, start, _ in jieba.tokenize(text, HMM=False)}


def _zh_names(turn: Turn) -> list[tuple[str, int]]:
    found = []
    starts = None
    for match in _zh_name_re().finditer(turn.text):
        name = match.group("name")
        after = turn.text[match.end() : match.end() + 1]
        if after and after in _NOT_A_TITLE_AFTER.get(name[-1], ""):
            continue
        clause = re.split(r"[，。？！,.?!；;]", turn.text[: match.start()])[-1]
        if re.search("我(?:是|叫)", clause):  # the rep introducing themself: 我是华工机械的王经理
            continue
        starts = starts if starts is not None else _word_starts(turn.text)
        if match.start() not in starts:  # the surname is inside another word (提高总体)
            continue
        found.append((name, match.start()))
    return found


def _normal_company(company: str) -> str | None:
    trimmed = re.sub("(?:股份有限公司|有限公司|股份公司|公司|集团)$", "", company)
    trimmed = re.sub("^(?:的|那个|这个)", "", trimmed)
    return trimmed if len(trimmed) >= 2 else None


def _zh_company(turn: Turn) -> tuple[str, int] | None:
    own, theirs = _zh_company_res()
    pattern = own if turn.speaker == "customer" else theirs
    match = pattern.search(turn.text)
    if match is None:
        return None
    company = _normal_company(match.group("company"))
    return (company, match.start("company")) if company else None


_EN_TITLE_RE = re.compile(r"\b(Mr|Mrs|Ms|Miss|Dr)\.? ([A-Z][a-z]+(?:-[A-Z][a-z]+)?)\b")
_EN_GREETING_RE = re.compile(r"^(?:hi|hello|hey|good (?:morning|afternoon|evening))[, ]+([A-Z][a-z]+)\b", re.I)
_EN_NOT_NAMES = {"There", "This", "It", "Its", "I", "Yes", "Yeah", "Sir", "Madam", "Again", "Everyone", "Team", "All"}
_EN_COMPANY_RE = re.compile(r"\b(?:I'm|I am|we're|we are|this is \w+)\s+(?:with|from|at)\s+((?:[A-Z][\w&'-]*\s?){1,4})")


def _en_names(turn: Turn, first_rep_turn: bool) -> list[tuple[str, int]]:
    found = [(f"{title}. {surname}" if title != "Miss" else f"Miss {surname}", match.start())
             for match in _EN_TITLE_RE.finditer(turn.text) for title, surname in [match.groups()]]
    greeting = _EN_GREETING_RE.match(turn.text.strip()) if first_rep_turn else None
    if greeting and greeting.group(1).capitalize() not in _EN_NOT_NAMES and not found:
        found.append((greeting.group(1).capitalize(), turn.text.find(greeting.group(1))))
    return found


def _en_company(turn: Turn) -> tuple[str, int] | None:
    if turn.speaker != "customer":
        return None
    match = _EN_COMPANY_RE.search(turn.text)
    return (match.group(1).strip(), match.start(1)) if match else None


def spoken_customer(transcript: Transcript) -> SpokenCustomer | None:
    """The customer as named in the call: the name the rep uses most (the earliest on a tie) and the
    company the customer gives as theirs; None when the call names neither."""
    names: Counter[str] = Counter()
    first_seen: dict[str, tuple[int, int]] = {}  # name -> (turn, offset)
    company: tuple[str, int, int] | None = None  # (company, turn, offset)
    rep_turns_seen = 0
    for turn in transcript.turns:
        if transcript.language == "zh":
            turn_names = _zh_names(turn) if turn.speaker != "customer" else []
            turn_company = _zh_company(turn)
        else:
            turn_names = _en_names(turn, rep_turns_seen == 0) if turn.speaker != "customer" else []
            turn_company = _en_company(turn)
        rep_turns_seen += turn.speaker != "customer"
        for said, offset in turn_names:
            said = to_simplified(said)
            names[said] += 1
            first_seen.setdefault(said, (turn.index, offset))
        if company is None and turn_company is not None:
            company = (to_simplified(turn_company[0]), turn.index, turn_company[1])
    if not names and company is None:
        return None
    name: str | None = None
    if names:
        name = max(names, key=lambda n: (names[n], -first_seen[n][0], -first_seen[n][1]))
        turn_index, offset = first_seen[name]
        quoted = name
    else:
        assert company is not None
        _, turn_index, offset = company
        quoted = company[0]
    turn = next(t for t in transcript.turns if t.index == turn_index)
    quote = turn.text[offset : offset + len(quoted)] if turn.text[offset : offset + len(quoted)] else quoted
    return SpokenCustomer(name=name, company=company[0] if company else None, turn=turn_index, quote=quote)
