import json

import pytest

from pipeline.errors import CallcoachError
from pipeline.transcript import Word, build_turns, load_transcript_json, transcript_from_dict


def words(channel_text: str, start: float, step: float = 0.3) -> list[Word]:
    return [Word(start + i * step, start + i * step + step * 0.9, w + " ") for i, w in enumerate(channel_text.split())]


def test_reply_inside_a_pause_splits_the_turn():
    rep = words("so what do you think", 0.0) + words("about the price", 3.0)
    customer = words("sounds expensive", 1.8)
    turns = build_turns([rep, customer], "en")
    assert [(t.channel, t.text) for t in turns] == [
        (0, "so what do you think"),
        (1, "sounds expensive"),
        (0, "about the price"),
    ]


def test_talking_over_each_other_does_not_fragment_turns():
    left = words("he began a confused complaint against the wizard", 0.0, 0.3)
    right = words("the horizon seems distant", 0.1, 0.3)
    turns = build_turns([left, right], "en")
    assert len(turns) == 2
    assert turns[0].text.startswith("he began") and turns[1].text.startswith("the horizon")


def test_long_silence_starts_a_new_turn_of_the_same_party():
    rep = words("hello", 0.0) + words("are you there", 5.0)
    turns = build_turns([rep, []], "en")
    assert [t.text for t in turns] == ["hello", "are you there"]


def test_chinese_words_join_without_spaces():
    turns = build_turns([[Word(0, 0.3, "周四"), Word(0.3, 0.6, " 下午"), Word(0.6, 0.9, "见")]], "zh")
    assert turns[0].text == "周四下午见"


def test_transcript_json_converts_traditional_and_guesses_language(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"turns": [{"speaker": "rep", "text": "週四我去拜訪您"}]}), "utf-8")
    transcript = load_transcript_json(path)
    assert transcript.language == "zh"
    assert transcript.turns[0].text == "周四我去拜访您"
    assert transcript.duration_s is None


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "empty file"),
        ("{not json", "not valid JSON"),
        ('{"turns": []}', "not a callcoach transcript"),
        ('{"turns": [{"speaker": "boss", "text": "hi"}]}', "turns.0.speaker"),
        ('{"turns": [{"speaker": "rep", "text": "   "}]}', "empty text"),
        ('[1, 2, 3]', "not a callcoach transcript"),
        ('{"language": "fr", "turns": [{"speaker": "rep", "text": "bonjour"}]}', "language"),
    ],
)
def test_bad_transcripts_give_one_line_errors(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content, "utf-8")
    with pytest.raises(CallcoachError) as caught:
        load_transcript_json(path)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_times_are_optional():
    transcript = transcript_from_dict({"language": "en", "turns": [{"speaker": "rep", "text": "hi", "start": 1.5}]})
    assert transcript.turns[0].start == 1.5 and transcript.turns[0].end is None


def test_whisper_token_loops_are_cut():
    from pipeline.audio.asr import MAX_REPEATED_WORDS, _extends_loop

    words: list[Word] = []
    for i in range(50):
        if not _extends_loop(words, "行"):
            words.append(Word(i * 0.1, i * 0.1 + 0.1, "行"))
    assert len(words) == MAX_REPEATED_WORDS
    assert not _extends_loop([Word(0, 1, "好"), Word(1, 2, "的")], "好")
