"""Finding and replacing personal data in a call's text: phone numbers (mobile, landline, 400/800, US),
18-digit PRC ID numbers (GB 11643 checksum), bank card numbers (Luhn) and e-mail addresses — also as
Whisper writes them: digits spoken as characters (一三八 幺二三四…), with spaces or dashes, in English
words ("one three eight …", "double five"), an e-mail read out ("wang at huagong dot com", 艾特, 点).

Precision matters for ordinary numbers: prices, dates, quantities and numbers introduced as an order,
contract or invoice number are left alone, and a long number that fails its checksum is not a card or an ID.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

PiiKind = Literal["phone", "id_number", "bank_card", "email"]
PLACEHOLDERS: dict[PiiKind, str] = {"phone": "[PHONE]", "id_number": "[ID_NUMBER]", "bank_card": "[BANK_CARD]",
                                    "email": "[EMAIL]"}

_ZH_DIGITS = {"零": "0", "〇": "0", "幺": "1", "一": "1", "二": "2", "两": "2", "三": "3", "四": "4", "五": "5",
              "六": "6", "七": "7", "八": "8", "九": "9"}
_EN_DIGITS = {"zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
              "six": "6", "seven": "7", "eight": "8", "nine": "9"}
_SEPARATORS = " -‐–—.()"
_MAX_SEPARATOR_CHARS = 2  # "(555) 123-4567": ") " between two digits
# A number introduced as one of these is a business number, not a person's.
_BUSINESS_NUMBER = re.compile(
    r"(?:(?:订单|单号|编号|合同|发票|快递|运单|工单|型号|批次|序列号|流水|房号)[^，。？！,.?!]{0,6}"
    r"|\b(?:order|invoice|contract|tracking|reference|ref|serial|model|po|sku|case|account|confirmation)"
    r"(?:\s+(?:number|no\.?|num|#|id|code))?(?:\s+(?:is|was))?\s*[:#]?\s*)$", re.I)
# Digit groups a speaker pauses between ("一八六，嗯，六六七七，八八九九"): joined when the whole is PII.
_GROUP_GAP = re.compile(r"^[\s,，、]*(?:(?:嗯|呃|啊|额|uh|um)[\s,，、]*)?$", re.I)
_MAX_GROUPS = 5
_MONEY_AFTER = re.compile(r"^\s*(?:元|块|万|千|百|美元|美金|刀|%|％|dollars?|usd|rmb|yuan|bucks)", re.I)
_MONEY_BEFORE = re.compile(r"(?:[¥￥$]|rmb|usd)\s*$", re.I)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# An address read out: a local part (Latin words joined by dot / 点 / spaces, or a Chinese name right after
# 是 / 箱 / a colon), 艾特 / at, then a domain ending in a known suffix.
_SPOKEN_EMAIL = re.compile(
    r"(?:(?<=[是箱：:])(?!是)[\u4e00-\u9fff]{1,4}[A-Za-z0-9._-]*|(?<![A-Za-z0-9._-])[A-Za-z0-9._-]+"
    r"(?:\s*(?:点|\bdot\b|\.|\s)\s*[A-Za-z0-9_-]+)?)"
    r"\s*(?:艾特|\bat\b|@)\s*[A-Za-z0-9-]+(?:\s*(?:点|\bdot\b|\.)\s*[A-Za-z0-9-]+)*"
    r"\s*(?:点|\bdot\b|\.)\s*(?:com|cn|net|org|io|edu|gov|co|info|biz)(?![A-Za-z])", re.I)
_EN_NUMBER_WORDS = re.compile(
    r"\b(?:(?:double|triple)\s+)?(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)\b"
    r"(?:[\s,-]+(?:(?:double|triple)\s+)?(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)\b)*", re.I)


@dataclass(frozen=True)
class PiiSpan:
    kind: PiiKind
    start: int  # character offsets into the text given
    end: int


@dataclass(frozen=True)
class Redacted:
    text: str  # with each span replaced by its placeholder
    spans: list[PiiSpan]  # offsets in the original text


def _digit(char: str) -> str | None:
    return char if char.isascii() and char.isdigit() else _ZH_DIGITS.get(char)


def _separator_gap(text: str, at: int) -> int:
    """How many separator characters at ``at`` lie between two digits (0: not between digits)."""
    for gap in range(1, _MAX_SEPARATOR_CHARS + 1):
        if at + gap < len(text) and all(ch in _SEPARATORS for ch in text[at : at + gap]) and _digit(text[at + gap]):
            return gap
    return 0


def _digit_runs(text: str) -> list[tuple[str, int, int]]:
    """Runs of digits (Arabic or Chinese), single separators allowed between them: (digits, start, end)."""
    runs, i = [], 0
    while i < len(text):
        if _digit(text[i]) is None:
            i += 1
            continue
        start, digits, j = i, [], i
        while j < len(text):
            value = _digit(text[j])
            if value is not None:
                digits.append(value)
                j += 1
            elif text[j] in _SEPARATORS and (gap := _separator_gap(text, j)):
                j += gap
            else:
                break
        if len(digits) == 17 and j < len(text) and text[j] in "Xx":  # an ID number's check character
            digits.append("X")
            j += 1
        runs.append(("".join(digits), start, j))
        i = j
    return runs


def _english_digit_runs(text: str) -> list[tuple[str, int, int]]:
    runs = []
    for match in _EN_NUMBER_WORDS.finditer(text):
        digits, repeat = [], 1
        for word in re.findall(r"[A-Za-z]+", match.group(0).lower()):
            if word in ("double", "triple"):
                repeat = 2 if word == "double" else 3
                continue
            digits.append(_EN_DIGITS[word] * repeat)
            repeat = 1
        end = match.end()
        check = re.match(r"[\s,]*(?:X|ex)\b", text[end:], re.I)
        if len("".join(digits)) == 17 and check:  # an ID number's check character, read out
            digits.append("X")
            end += check.end()
        runs.append(("".join(digits), match.start(), end))
    return runs


def id_checksum_ok(number: str) -> bool:
    """GB 11643-1999: the 18th character is the check of the first 17."""
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return False
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(number[:17], weights, strict=True))
    return "10X98765432"[total % 11] == number[17]


def luhn_ok(number: str) -> bool:
    if not number.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(number)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _is_date(digits: str) -> bool:
    if len(digits) not in (8, 12, 14) or not digits.startswith(("19", "20")):
        return False
    month, day = int(digits[4:6]), int(digits[6:8])
    return 1 <= month <= 12 and 1 <= day <= 31


def _kind_of(digits: str, language: str) -> PiiKind | None:
    if _is_date(digits):
        return None
    n = len(digits)
    if n == 18 and id_checksum_ok(digits):
        return "id_number"
    if 16 <= n <= 19 and luhn_ok(digits) and not digits.startswith(("0", "1")):
        return "bank_card"
    if n == 11 and re.match(r"1[3-9]", digits):
        return "phone"
    if n == 13 and re.match(r"861[3-9]", digits) or n == 15 and re.match(r"00861[3-9]", digits):
        return "phone"
    if digits.startswith(("400", "800")) and n == 10:
        return "phone"
    if digits.startswith("0") and not digits.startswith("00") and 10 <= n <= 12:
        return "phone"  # a landline: area code 0xx / 0xxx, then 7–8 digits
    if language == "en" and (n == 10 and digits[0] not in "01" or n == 11 and digits[0] == "1" and digits[1] not in "01"):
        return "phone"
    return None


def _birth_date_ok(number: str) -> bool:
    """Digits 7–14 of an ID number are the holder's birth date."""
    year, month, day = int(number[6:10]), int(number[10:12]), int(number[12:14])
    return 1900 <= year <= 2030 and 1 <= month <= 12 and 1 <= day <= 31


def _kind_in_context(text: str, digits: str, start: int, end: int, language: str) -> PiiKind | None:
    before, after = text[max(0, start - 24) : start], text[end : end + 6]
    if _MONEY_AFTER.match(after) or _MONEY_BEFORE.search(before):
        return None
    kind = _kind_of(digits, language)
    # A checksum-valid ID with a real birth date is an ID even in a contract's sentence.
    if kind == "id_number" and _birth_date_ok(digits):
        return kind
    return None if _BUSINESS_NUMBER.search(before) else kind


def _grouped_runs(text: str, runs: list[tuple[str, int, int]], language: str) -> list[tuple[PiiKind, int, int]]:
    """Personal numbers read in groups with pauses between: the longest chain of runs that is one."""
    found, i = [], 0
    while i < len(runs):
        for j in range(min(len(runs), i + _MAX_GROUPS), i + 1, -1):
            chain = runs[i:j]
            if any(not _GROUP_GAP.match(text[a[2] : b[1]]) for a, b in zip(chain, chain[1:], strict=False)):
                continue
            if any(len(digits) < 2 for digits, _, _ in chain):
                continue
            digits, start, end = "".join(d for d, _, _ in chain), chain[0][1], chain[-1][2]
            if len(digits) == 17 and text[end : end + 1] in ("X", "x"):
                digits, end = digits + "X", end + 1
            kind = _kind_in_context(text, digits, start, end, language) if len(digits) >= 10 else None
            if kind is not None:
                found.append((kind, start, end))
                i = j - 1
                break
        i += 1
    return found


def find_pii(text: str, language: str) -> list[PiiSpan]:
    """Personal data in ``text``: non-overlapping spans, in order."""
    spans = [PiiSpan("email", m.start(), m.end()) for pattern in (_EMAIL, _SPOKEN_EMAIL) for m in pattern.finditer(text)]
    runs = sorted(_digit_runs(text) + (_english_digit_runs(text) if language == "en" else []), key=lambda r: r[1])
    found = [(kind, start, end) for digits, start, end in runs if len(digits) >= 10
             and (kind := _kind_in_context(text, digits, start, end, language)) is not None]
    found += _grouped_runs(text, runs, language)
    for kind, start, end in found:
        if start > 0 and text[start - 1] in "+(":
            start -= 1
        spans.append(PiiSpan(kind, start, end))
    chosen: list[PiiSpan] = []
    for span in sorted(spans, key=lambda s: (s.start, -(s.end - s.start))):
        if not chosen or span.start >= chosen[-1].end:
            chosen.append(span)
    return chosen


def redact(text: str, language: str) -> Redacted:
    """``text`` with every span of personal data replaced by its typed placeholder."""
    spans = find_pii(text, language)
    pieces, cursor = [], 0
    for span in spans:
        pieces += [text[cursor : span.start], PLACEHOLDERS[span.kind]]
        cursor = span.end
    pieces.append(text[cursor:])
    return Redacted("".join(pieces), spans)
