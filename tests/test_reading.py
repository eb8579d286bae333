"""The corrected reading of Mandarin recogniser text: misheard domain words respelled, nothing else touched."""

import pytest

from pipeline.language.nlp import cue_labels, load_nlp
from pipeline.language.reading import corrected_reading

from .conftest import labeled_calls


@pytest.mark.parametrize("heard, meant", [
    ("周四向五两电我去宁厂里", "周四下午两点我去您厂里"),  # 下午两点 → 项五两电, 您 → 宁 (the examples)
    ("欢迎来我们占听看看", "欢迎来我们展厅看看"),
    ("下周二向五两点吧", "下周二下午两点吧"),
    ("那看放不方便", "那看房不方便"),
    ("宁好我是华工机械的小李", "您好我是华工机械的小李"),
])
def test_misheard_domain_words_are_respelled(heard, meant):
    assert corrected_reading(heard) == meant


@pytest.mark.parametrize("text", ["我宁可不去", "南宁那边的客户", "这套是精装修两房的", "这个电力公司", "有证吗", "是几期的",
                                  "我是简道云的小万", "我是万科的置业顾问小宁"])
def test_real_words_that_sound_alike_stay(text):
    assert corrected_reading(text) == text


def test_the_reading_keeps_length_and_leaves_clean_written_calls_untouched():
    calls = [call for call in labeled_calls("train") if call["language"] == "zh"]
    changed = total = 0
    for call in calls:
        for turn in call["turns"]:
            reading = corrected_reading(turn["text"])
            assert len(reading) == len(turn["text"])
            # Calls written as a recogniser would write them are left out: respelling them is the point.
            if call.get("hard_case") != "asr_noise" and not call.get("recogniser_text"):
                total += 1
                changed += reading != turn["text"]
    assert total > 1000 and changed / total < 0.01


def test_cues_match_the_reading_and_quote_the_recogniser():
    doc = load_nlp("zh")("周四向五两电我去宁厂里当面给宁演示一下")
    assert {"TIME", "MEET_VISIT"} <= cue_labels(doc)
    assert doc._.reading.startswith("周四下午两点")
    assert [s.text for s in doc.spans["cues"] if s.label_ == "TIME"][:1] == ["周四"]
    assert any(s.text == "向五" or "向五" in s.text for s in doc.spans["cues"] if s.label_ == "TIME")
