"""Talk metrics against the timing truth of the bundled samples (samples/timing/): from the true turns
exactly, from unpunctuated text within a tolerance, and through real Whisper on one recording."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipeline.analysis.talk import count_questions, talk_metrics
from pipeline.transcript import Transcript, Turn

ROOT = Path(__file__).resolve().parent.parent
TIMING = sorted((ROOT / "samples" / "timing").glob("*.json"))


def _truth(path: Path) -> dict:
    return json.loads(path.read_text("utf-8"))


def _transcript(truth: dict, strip_punctuation: bool = False) -> Transcript:
    turns = []
    for i, turn in enumerate(truth["turns"]):
        text = re.sub(r"[，。？！,.?!]", " ", turn["text"]).strip() if strip_punctuation else turn["text"]
        turns.append(Turn(i, turn["speaker"], text, turn["start_s"], turn["end_s"]))
    return Transcript(truth["language"], turns)


def _true_share(truth: dict) -> float:
    seconds = {"rep": 0.0, "customer": 0.0}
    for turn in truth["turns"]:
        seconds[turn["speaker"]] += turn["end_s"] - turn["start_s"]
    return seconds["rep"] / sum(seconds.values())


def _true_longest_rep_run(truth: dict) -> float:
    """The rep's longest stretch from a turn's start until a customer turn that is not a backchannel."""
    from pipeline.analysis.distraction import is_backchannel

    longest, start, end = 0.0, None, None
    for turn in truth["turns"]:
        if turn["speaker"] == "rep":
            start = turn["start_s"] if start is None else start
            end = turn["end_s"]
            longest = max(longest, end - start)
        elif not is_backchannel(turn["text"], truth["language"]):
            start = None
    return longest


@pytest.mark.parametrize("path", TIMING, ids=[p.stem for p in TIMING])
def test_from_the_true_turns(path):
    truth = _truth(path)
    talk = talk_metrics(_transcript(truth))
    assert talk.rep_talk_share == pytest.approx(_true_share(truth), abs=0.002)
    assert talk.longest_rep_monologue_s == pytest.approx(_true_longest_rep_run(truth), abs=0.05)
    for speaker, counted in (("rep", talk.rep_questions), ("customer", talk.customer_questions)):
        marks = sum(t["text"].count("?") + t["text"].count("？") for t in truth["turns"] if t["speaker"] == speaker)
        assert counted >= marks  # every "?" is a question; words may find more ("您看呢。")
    # The samples' parties speak in turn: no customer turn starts inside a rep turn.
    overlapping = sum(1 for a, b in zip(truth["turns"], truth["turns"][1:], strict=False)
                      if a["speaker"] == "rep" and b["speaker"] == "customer" and b["start_s"] < a["end_s"] - 0.5)
    assert talk.customer_interruptions == overlapping


def test_questions_are_counted_from_the_words_when_whisper_drops_the_marks():
    found = truth_marks = 0
    for path in TIMING:
        truth = _truth(path)
        if truth["language"] != "zh":
            continue
        talk = talk_metrics(_transcript(truth, strip_punctuation=True))
        found += talk.rep_questions + talk.customer_questions
        truth_marks += sum(t["text"].count("？") + t["text"].count("?") for t in truth["turns"])
    assert truth_marks > 10 and found >= 0.8 * truth_marks, (found, truth_marks)


@pytest.mark.parametrize(("text", "language", "expected"), [
    ("您这周四下午方便吗", "zh", 1), ("您看什么时候有空", "zh", 1), ("是不是已经定了", "zh", 1),
    ("好的，我知道了", "zh", 0), ("我们什么都能做", "zh", 0), ("Do you have a minute", "en", 1),
    ("What time works? Is Thursday okay?", "en", 2), ("I'll send it over.", "en", 0),
])
def test_count_questions(text, language, expected):
    assert count_questions(text, language) == expected


def test_without_times_the_share_comes_from_the_text_and_time_figures_are_unknown():
    transcript = Transcript("zh", [Turn(0, "rep", "您好您好您好"), Turn(1, "customer", "你好")])
    talk = talk_metrics(transcript)
    assert talk.rep_talk_share == pytest.approx(0.75)
    assert talk.longest_rep_monologue_s is None and talk.customer_interruptions is None


def test_an_interruption_is_a_customer_turn_starting_inside_a_rep_turn():
    transcript = Transcript("zh", [Turn(0, "rep", "我跟您说一下我们这个方案的价格", 0.0, 6.0),
                                   Turn(1, "customer", "等一下等一下我现在开车", 2.0, 4.0),
                                   Turn(2, "customer", "嗯", 6.5, 6.8)])
    assert talk_metrics(transcript).customer_interruptions == 1


@pytest.mark.whisper
def test_through_whisper_the_share_is_near_the_truth(analyzer):
    stem = "zh_concrete_visit_accepted"
    truth = _truth(ROOT / "samples" / "timing" / f"{stem}.json")
    report = analyzer.analyze(next((ROOT / "samples").glob(f"{stem}.*"))).report
    assert report.talk is not None
    assert report.talk.rep_talk_share == pytest.approx(_true_share(truth), abs=0.1)
    assert report.talk.rep_questions >= 1 and report.talk.customer_interruptions == 0
