"""Every cue pattern is data; each regex fires on its example and not on its counter-example."""

import json
from importlib import resources

import pytest

from pipeline.language.nlp import cue_labels, load_cue_patterns, load_nlp


def _regex_entries():
    for language in ("zh", "en"):
        data = json.loads(resources.files("pipeline.language.patterns").joinpath(f"cues_{language}.json").read_text("utf-8"))
        for label, group in data.items():
            if label.startswith("_"):
                continue
            for entry in group.get("regex", []):
                yield pytest.param(language, label, entry, id=f"{language}-{label}-{entry['example']}")


@pytest.mark.parametrize("language, label, entry", list(_regex_entries()))
def test_regex_fires_on_example_not_on_counter(language, label, entry):
    labels_on_example = cue_labels(load_nlp(language)(entry["example"]))
    assert label in labels_on_example
    matching = [p for p in load_cue_patterns(language) if p.source == entry["re"]]
    assert matching and not matching[0].regex.search(entry["counter"])


@pytest.mark.parametrize(
    "language, text, present, absent",
    [
        ("zh", "周四下午两点我去您厂里当面演示", {"TIME", "MEET_VISIT"}, {"PAST", "VIDEO"}),
        ("zh", "上次见面的时候您说要看看", {"PAST", "MEET_GENERIC"}, {"TIME"}),
        ("zh", "我们约个腾讯会议线上演示一下", {"VIDEO"}, {"MEET_VISIT", "MEET_INVITE"}),
        ("zh", "那我加您个微信，把资料发您", {"WECHAT", "MATERIALS"}, {"MEET_GENERIC"}),
        ("zh", "价格能便宜一点点吗", {"PITCH"}, {"TIME"}),
        ("zh", "您那边太远了，开车得四十分钟，那我就不过去了", {"DISTANCE", "SELF_CANCEL"}, set()),
        ("zh", "拜方您一下，周六来展听看看", {"MEET_VISIT", "MEET_INVITE", "TIME"}, set()),
        ("en", "We met at the expo last month", {"PAST"}, {"MEET_GENERIC", "TIME"}),
        ("en", "Could I come by your office Thursday at ten?", {"MEET_VISIT", "TIME"}, {"VIDEO"}),
        ("en", "Let's do a quick Zoom next week", {"VIDEO", "TIME_VAGUE"}, {"MEET_VISIT", "TIME"}),
        ("en", "I'm in a meeting, sorry, what?", {"STATE_BUSY", "REPEAT"}, {"MEET_GENERIC"}),
        ("en", "the meeting room is booked", set(), {"MEET_GENERIC"}),
    ],
)
def test_cues_on_examples_and_counter_examples(language, text, present, absent):
    labels = cue_labels(load_nlp(language)(text))
    assert present <= labels
    assert not (absent & labels)
