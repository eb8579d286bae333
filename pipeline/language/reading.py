"""A corrected reading of Mandarin recogniser text: domain words Whisper wrote with the wrong characters.

Whisper hears 展厅 and writes 占听, 下午两点 as 项五两电, 拜访 as 拜方, 您 as 宁. Matching cue words on
characters misses all of them. The reading replaces a stretch of characters by a domain word that sounds
the same — same toneless pinyin (pypinyin), or at most one syllable off by a near-homophone (zh/z, ch/c,
sh/s, n/l, and a final with or without its nasal: an/ang, in/ing, ia/iang) — when that stretch is not
itself a common word (jieba's dictionary) that the recogniser may well have meant.

Every replacement keeps the length, so a character offset in the reading is the same offset in what
Whisper wrote: cue spans found on the reading quote the exact recogniser text as evidence.

The domain words are the Mandarin cue phrases of the meeting and time cues (``patterns/cues_zh.json``)
plus the times, days and meeting words below; a respelled stretch must start and end where jieba's words do,
and a near-homophone (not an exact one) is only accepted for three characters or more: on clean text the
reading changes next to nothing (the test suite checks it).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources

_CJK = re.compile(r"^[\u4e00-\u9fff]+$")
MIN_WORD_CHARS, MAX_WORD_CHARS = 2, 6
MIN_NEAR_CHARS = 3  # two characters one near-syllable apart are too often another word (是几 ≈ 司机)
# The cue groups whose words the reading restores: what decides a meeting and its time.
LEXICON_LABELS = (
    "MEET_VISIT", "MEET_INVITE", "MEET_NEUTRAL", "MEET_GENERIC", "VIEW_TOPIC", "COMMIT_RETURN", "TIME",
    "STATE_BUSY", "REPEAT", "PHONE_LATER", "WECHAT", "PASSIVE", "AVAILABILITY_CHECK", "ADAPT", "SERVICE", "VIDEO",
    "PAST", "SELF_CANCEL", "MATERIALS",  # not DISTANCE: 车程 sounds like 车城 (汽车城) and invents excuses
)
# A number the recogniser misspelled before 点 (九点半 heard as 就点半): the digit it sounds like.
_DIGIT_SOUNDS = {"yi": "一", "er": "二", "liang": "两", "san": "三", "si": "四", "wu": "五", "liu": "六", "qi": "七",
                 "ba": "八", "jiu": "九", "shi": "十"}
_DIGITS = set("零一二两三四五六七八九十0123456789")
# A customer turn of a few syllables that all sound like acknowledgements is one, however they were spelled
# (嗯嗯 heard as 文文, 人, 本人是好).
_HUM_SOUNDS = {"en", "n", "ng", "ren", "wen", "ben", "hen", "eng"}
_ACK_SOUNDS = _HUM_SOUNDS | {"hao", "dui", "shi", "xing", "o", "a", "e", "ai", "ei", "ou", "ao"}
_MAX_ACK_CHARS = 6
# A stretch that jieba knows as a word is left as the recogniser wrote it (市府 is not 师傅, 哪天 not 那天).
COMMON_WORD_FREQUENCY = 1
# Nor is a character changed inside a word this common (商务一点 is not 上午一点, 三个月 not 上个月); rarer
# words the recogniser makes up by chance may be cut (项五两电 reads 五两, "five taels", and is 下午两点).
FIRM_WORD_FREQUENCY = 500
# A function word standing alone is heard right: no respelled stretch starts with one (是简 is not 时间).
FUNCTION_WORDS = frozenset("是的了在我你他她它这那就也都和跟与或把被让给不")
_NUMBERS = ("一", "二", "两", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二")
EXTRA_WORDS = (
    "上午", "下午", "中午", "晚上", "早上", "今天", "明天", "后天", "周末", "点半", "见面", "拜访", "当面", "展厅",
    "门店", "店里", "公司", "厂里", "微信", "电话", "视频", "资料", "过来", "过去", "看看", "看房", "带看",
    "样品", "合同", "咖啡", "楼下", "实地", "现场", "方便", "时间", "约一下",
    *(f"{day}{n}" for day in ("周", "星期", "礼拜") for n in ("一", "二", "三", "四", "五", "六", "日", "天")),
    *(f"{n}点" for n in _NUMBERS),
    *(f"{part}{n}点" for part in ("上午", "下午", "晚上") for n in _NUMBERS),
)
# Single characters are too ambiguous to correct by sound, except the polite "you": 宁 alone is 您.
_SINGLE = {"宁": "您"}
_NAME_PREFIXES = ("小", "老", "阿", "大")
_NASAL_FINAL = re.compile(r"(?<=[aeiouv])ng?$")
_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("l", "n"))


@lru_cache(maxsize=8192)
def syllable(char: str) -> str:
    """Toneless pinyin of one character (its most common reading); the character itself if it has none."""
    from pypinyin import Style, lazy_pinyin

    return lazy_pinyin(char, style=Style.NORMAL, errors="default")[0]


@lru_cache(maxsize=8192)
def near(syllable_text: str) -> str:
    """The syllable with the confusions an 8 kHz line and accents make folded away (zhan ≈ zan, xiang ≈ xia)."""
    for long, short in _FUZZY_INITIALS:
        if syllable_text.startswith(long):
            syllable_text = short + syllable_text[len(long) :]
            break
    return _NASAL_FINAL.sub("", syllable_text) or syllable_text


def _domain_words() -> list[str]:
    data = json.loads(resources.files("pipeline.language.patterns").joinpath("cues_zh.json").read_text("utf-8"))
    words = [phrase for label in LEXICON_LABELS for phrase in data.get(label, {}).get("phrases", [])]
    words += EXTRA_WORDS
    return [w for w in dict.fromkeys(words) if _CJK.match(w) and MIN_WORD_CHARS <= len(w) <= MAX_WORD_CHARS]


@lru_cache(maxsize=1)
def _lexicon() -> tuple[set[str], dict[tuple[str, ...], str], dict[tuple[str, ...], list[str]]]:
    """(the words, exact toneless key -> word, near key -> words). Listed mishearings (拜方 beside 拜访)
    share a key with their word: the first listed spelling wins."""
    words = _domain_words()
    exact: dict[tuple[str, ...], str] = {}
    by_near: dict[tuple[str, ...], list[str]] = {}
    for word in words:
        key = tuple(syllable(ch) for ch in word)
        exact.setdefault(key, word)
        by_near.setdefault(tuple(near(s) for s in key), []).append(word)
    return set(words), exact, by_near


@lru_cache(maxsize=1)
def _common_words() -> dict[str, int]:
    import jieba

    jieba.initialize()
    return jieba.dt.FREQ


def _is_common_word(text: str) -> bool:
    return _common_words().get(text, 0) >= COMMON_WORD_FREQUENCY


def _match(window: str, words: set[str], exact: dict, by_near: dict) -> str | None:
    """The domain word ``window`` sounds like, or None."""
    key = tuple(syllable(ch) for ch in window)
    word = exact.get(key)
    if word is not None or len(window) < MIN_NEAR_CHARS:
        return word
    for candidate in by_near.get(tuple(near(s) for s in key), ()):  # at most one syllable only near-equal
        if sum(syllable(a) != syllable(b) for a, b in zip(candidate, window, strict=True)) <= 1:
            return candidate
    return None


@lru_cache(maxsize=4096)
def corrected_reading(text: str) -> str:
    """``text`` with misheard domain words respelled; always the same length as ``text``."""
    words, exact, by_near = _lexicon()
    # Domain words already spelled right are kept whole: no stretch that overlaps one is respelled.
    kept = [False] * len(text)
    for position in range(len(text)):
        for length in range(MIN_WORD_CHARS, min(MAX_WORD_CHARS, len(text) - position) + 1):
            if text[position : position + length] in words:
                kept[position : position + length] = [True] * length
    starts, ends, words_of = _word_edges(text)
    out = list(text)
    position = 0
    while position < len(text):
        step = 1
        for length in range(min(MAX_WORD_CHARS, len(text) - position), MIN_WORD_CHARS - 1, -1):
            window = text[position : position + length]
            if not _CJK.match(window) or position not in starts or position + length not in ends:
                continue
            word = _match(window, words, exact, by_near)
            changed = [position + i for i, (a, b) in enumerate(zip(window, word or window, strict=True)) if a != b]
            breaks_word = any(words_of[i] for i in changed)
            if word is not None and not _is_common_word(window) and not any(kept[i] for i in changed) and not breaks_word:
                out[position : position + length] = word
                step = length
                break
        position += step
    return _correct_acknowledgement(_correct_digits(_correct_single("".join(out))))


def _word_edges(text: str) -> tuple[set[int], set[int], list[bool]]:
    """Where jieba's words start and end in ``text`` (a respelling never cuts a word in two), and which
    characters belong to a firm word (two characters or more, common enough); no respelled stretch starts with a
    function word standing alone (是简 is not 时间)."""
    import jieba

    starts, ends, at = set(), set(), 0
    in_firm_word = [False] * len(text)
    for token in jieba.cut(text, HMM=False):
        if token not in FUNCTION_WORDS:
            starts.add(at)
        ends.add(at + len(token))
        if len(token) >= MIN_WORD_CHARS and _common_words().get(token, 0) >= FIRM_WORD_FREQUENCY:
            in_firm_word[at : at + len(token)] = [True] * len(token)
        at += len(token)
    return starts, ends, in_firm_word


def _correct_digits(text: str) -> str:
    """A character before 点 that sounds like a digit and does not make a word with it is that digit."""
    out = list(text)
    for position in range(len(text) - 1):
        char = text[position]
        if text[position + 1] != "点" or char in _DIGITS or (position and text[position - 1] in _DIGITS):
            continue
        digit = _DIGIT_SOUNDS.get(syllable(char))
        in_word = position > 0 and _is_common_word(text[position - 1 : position + 1])  # 可以点击: 以 belongs to 可以
        if digit is not None and not in_word and not _is_common_word(text[position : position + 2]):
            out[position] = digit
    return "".join(out)


def _correct_acknowledgement(text: str) -> str:
    """Respell a short turn made only of acknowledgement sounds with 嗯 for the humming ones."""
    letters = [ch for ch in text if _CJK.match(ch)]
    if not letters or len(letters) > _MAX_ACK_CHARS:
        return text
    sounds = [syllable(ch) for ch in letters]
    if not all(s in _ACK_SOUNDS for s in sounds) or not any(s in _HUM_SOUNDS for s in sounds):
        return text
    return "".join("嗯" if _CJK.match(ch) and syllable(ch) in _HUM_SOUNDS else ch for ch in text)


def _correct_single(text: str) -> str:
    """宁 standing alone (not inside 宁可, 南宁, 安宁 …) is the polite 您."""
    if not any(ch in text for ch in _SINGLE):
        return text
    import jieba

    pieces: list[str] = []
    for token in jieba.cut(text, HMM=False):
        name = bool(pieces) and pieces[-1][-1:] in _NAME_PREFIXES  # 小宁, 老宁: a name
        pieces.append(token if name else _SINGLE.get(token, token))
    corrected = "".join(pieces)
    return corrected if len(corrected) == len(text) else text
