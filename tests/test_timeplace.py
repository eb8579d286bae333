import pytest

from pipeline.language.timeplace import parse_time, zh_number


@pytest.mark.parametrize(
    "text, day, daypart, clock",
    [
        ("周四下午两点我去您厂里", "Thursday", "afternoon", "14:00"),
        ("后天上午过去", "day after tomorrow", "morning", None),
        ("下周一上午十点半", "next Monday", "morning", "10:30"),
        ("明天下午3点", "tomorrow", "afternoon", "15:00"),
        ("12月3号见", "December 3", None, None),
        ("这周末来店里", "weekend", None, None),
        ("晚上八点", None, "evening", "20:00"),
    ],
)
def test_mandarin_times(text, day, daypart, clock):
    when = parse_time(text, "zh")
    assert (when.day, when.daypart, when.clock) == (day, daypart, clock)


@pytest.mark.parametrize(
    "text, day, clock",
    [
        ("How about Thursday at ten?", "Thursday", "10:00"),
        ("next Tuesday at 2:30", "next Tuesday", "14:30"),
        ("tomorrow morning at 9", "tomorrow", "09:00"),
        ("say 3pm?", None, "15:00"),
        ("at eleven thirty on Monday", "Monday", "11:30"),
    ],
)
def test_english_times(text, day, clock):
    when = parse_time(text, "en")
    assert (when.day, when.clock) == (day, clock)


def test_no_time_and_not_a_time():
    assert parse_time("我把资料发您", "zh") is None
    assert parse_time("比老款只贵一点，电话里说不清楚", "zh") is None  # "a little", not one o'clock
    assert parse_time("let's meet sometime", "en") is None
    assert zh_number("十二") == 12 and zh_number("两") == 2 and zh_number("二十三") == 23 and zh_number("x") is None
