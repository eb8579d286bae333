"""Normalising what a proposal says about *when*: "周四下午两点" → Thursday, afternoon, 14:00.

Input is the text of the proposal turn; output is a small record a coach can read in any
language and a report can compare across calls.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from pipeline.report.schema import Daypart, ProposedTime

WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ZH_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": None}
_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_ZH_RELATIVE_DAYS = (("大后天", "in 3 days"), ("后天", "day after tomorrow"), ("明天", "tomorrow"), ("明早", "tomorrow"),
                     ("明晚", "tomorrow"), ("明儿", "tomorrow"), ("今天", "today"), ("今晚", "today"))
_ZH_DAYPARTS: tuple[tuple[str, Daypart], ...] = (("一早", "morning"), ("早上", "morning"), ("上午", "morning"), ("明早", "morning"), ("中午", "noon"),
                ("下午", "afternoon"), ("傍晚", "evening"), ("晚上", "evening"), ("今晚", "evening"), ("明晚", "evening"))
_EN_NUMBERS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}
_EN_DAYPARTS: tuple[tuple[str, Daypart], ...] = (("morning", "morning"), ("noon", "noon"), ("lunch", "noon"), ("afternoon", "afternoon"),
                ("evening", "evening"), ("tonight", "evening"))
_PM_DAYPARTS = {"afternoon", "evening"}
# Without a daypart, 1–6 o'clock in a business call means the afternoon.
_ASSUME_PM_BELOW = 7


def zh_number(text: str) -> int | None:
    """Chinese or Arabic numerals up to 99: "十二" → 12, "两" → 2, "23" → 23."""
    if text.isdigit():
        return int(text)
    if not text or any(ch not in _ZH_DIGITS and ch != "十" for ch in text):
        return None
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_ZH_DIGITS[tens] if tens else 1) * 10 + (_ZH_DIGITS[ones] if ones else 0)
    return _ZH_DIGITS[text] if len(text) == 1 else None


def _clock(hour: int, minute: int, daypart: str | None) -> str:
    if hour < 12 and (daypart in _PM_DAYPARTS or (daypart is None and 1 <= hour < _ASSUME_PM_BELOW)):
        hour += 12
    return f"{hour:02d}:{minute:02d}"


_ZH_WEEKDAY_RE = re.compile(r"(下个?|这个?|本)?(周|星期|礼拜)([一二三四五六日天末])")
_ZH_DATE_RE = re.compile(r"([0-9一二三四五六七八九十]{1,3})月([0-9一二三四五六七八九十]{1,3})(号|日)")
_ZH_CLOCK_RE = re.compile(r"(?<![有一差])(?!一点(?:[^钟半零一二三四五六七八九十0-9]|$))([0-9零一二两三四五六七八九十]{1,3})(?:点|:|：)(半|一刻|三刻|[0-9零一二三四五六七八九十]{1,3}分?)?")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def parse_zh(text: str) -> ProposedTime:
    when = ProposedTime()
    if match := _ZH_WEEKDAY_RE.search(text):
        prefix, _, day = match.groups()
        weekday = _ZH_WEEKDAY[day]
        name = "weekend" if weekday is None else WEEKDAYS_EN[weekday]
        when.day = f"next {name}" if prefix and prefix.startswith("下") else name
    elif match := _ZH_DATE_RE.search(text):
        month, day = zh_number(match.group(1)), zh_number(match.group(2))
        if month and day and 1 <= month <= 12:
            when.day = f"{_MONTHS[month - 1]} {day}"
    else:
        when.day = next((day for word, day in _ZH_RELATIVE_DAYS if word in text), None)
    when.daypart = next((part for word, part in _ZH_DAYPARTS if word in text), None)
    if match := _ZH_CLOCK_RE.search(text):
        hour = zh_number(match.group(1))
        minutes = match.group(2) or ""
        minute = {"半": 30, "一刻": 15, "三刻": 45}.get(minutes)
        if minute is None:
            minute = zh_number(minutes.rstrip("分")) or 0
        if hour is not None and hour <= 24 and minute < 60:
            when.clock = _clock(hour, minute, when.daypart)
    return when


_EN_WEEKDAY_RE = re.compile(r"\b(next |this )?(monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekend)\b", re.I)
_EN_CLOCK_RE = re.compile(
    r"\b(?:at\s+)?(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.|o'clock)\b|\bat\s+(\d{1,2})(?::(\d{2}))?\b"
    r"|\bat\s+(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)(?:\s+(thirty))?\b",
    re.I,
)


def parse_en(text: str) -> ProposedTime:
    when = ProposedTime()
    lowered = text.lower()
    if match := _EN_WEEKDAY_RE.search(lowered):
        prefix, day = match.groups()
        name = "weekend" if day == "weekend" else day.capitalize()
        when.day = f"next {name}" if prefix == "next " else name
    elif "tomorrow" in lowered:
        when.day = "tomorrow"
    elif "today" in lowered or "tonight" in lowered:
        when.day = "today"
    when.daypart = next((part for word, part in _EN_DAYPARTS if re.search(rf"\b{word}\b", lowered)), None)
    if match := _EN_CLOCK_RE.search(lowered):
        hour_digits, minute_digits, suffix, at_hour, at_minute, hour_word, thirty = match.groups()
        if hour_digits:
            hour, minute = int(hour_digits), int(minute_digits or 0)
            if suffix and suffix.startswith("p") and hour < 12:
                hour += 12
            daypart = None if suffix and suffix[0] in "ap" else when.daypart
            when.clock = f"{hour:02d}:{minute:02d}" if suffix and suffix[0] in "ap" else _clock(hour, minute, daypart)
        elif at_hour:
            when.clock = _clock(int(at_hour), int(at_minute or 0), when.daypart)
        elif hour_word:
            when.clock = _clock(_EN_NUMBERS[hour_word], 30 if thirty else 0, when.daypart)
    return when


def parse_time(text: str, language: str) -> ProposedTime | None:
    """The day, daypart and clock time a proposal names, or None when it names none."""
    when = parse_zh(text) if language == "zh" else parse_en(text)
    return when if (when.day or when.daypart or when.clock) else None


_RELATIVE_DAY_OFFSETS = {"today": 0, "tomorrow": 1, "day after tomorrow": 2, "in 3 days": 3}


def resolve_day(day: str, said_on: date) -> date | None:
    """The calendar date a normalised ``ProposedTime.day`` means when said on ``said_on``: "tomorrow",
    "Thursday" (the next one, today included), "next Thursday" (in the week after this one; 下周四),
    "weekend" (its Saturday), "December 3" (this year, or next when already past). None when unknown."""
    if day in _RELATIVE_DAY_OFFSETS:
        return said_on + timedelta(days=_RELATIVE_DAY_OFFSETS[day])
    next_week = day.startswith("next ")
    name = day.removeprefix("next ")
    if name == "weekend" or name in WEEKDAYS_EN:
        weekday = 5 if name == "weekend" else WEEKDAYS_EN.index(name)
        if next_week:
            return said_on + timedelta(days=7 - said_on.weekday() + weekday)
        return said_on + timedelta(days=(weekday - said_on.weekday()) % 7)
    month_day = re.fullmatch(r"([A-Z][a-z]+) (\d{1,2})", day)
    if month_day and month_day.group(1) in _MONTHS:
        month, number = _MONTHS.index(month_day.group(1)) + 1, int(month_day.group(2))
        for year in (said_on.year, said_on.year + 1):
            try:
                candidate = date(year, month, number)
            except ValueError:
                return None
            if candidate >= said_on:
                return candidate
    return None
