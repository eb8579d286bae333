"""Search across the archive: a Chinese word is found inside a turn, filters narrow the hits, user input is
never read as FTS5 syntax, and the index follows the calls table (done, deleted, migrated)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

from pipeline.errors import CallcoachError
from pipeline.store import DiscoveredCall, Owner, Store
from pipeline.store.migrations import MIGRATIONS
from pipeline.store.search import marked, search, segment
from pipeline.transcript import transcript_from_dict

OWNER = Owner.current()
SHOWROOM = [("rep", "王总您好，我是小李。"), ("customer", "你好。"),
            ("rep", "您这周六上午方便来我们展厅看一下样机吗？"), ("customer", "周六可以。")]
WECHAT = [("rep", "Hi Sarah, I'll send the deck over WeChat."), ("customer", "Sure, send it.")]


@pytest.fixture(scope="module")
def analyzer():
    from pipeline.analyze import Analyzer

    return Analyzer()


def _add(store: Store, analyzer, n: int, turns, rep: str, day: str, language: str = "zh",
         finish: bool = True) -> str:
    sha = f"{n:016x}" * 4
    call = DiscoveredCall(call_id=sha[:16], sha256=sha, source=f"/archive/{rep}/call{n}.json", kind="transcript",
                          rep=rep, call_date=day, duration_s=None, report_path=f"/out/{rep}/call{n}")
    store.enqueue([call], {"transcript": "t" * 16})
    if finish:
        transcript = transcript_from_dict({"language": language,
                                           "turns": [{"speaker": s, "text": t} for s, t in turns]})
        report = analyzer.analyze_transcript(transcript, source=f"call{n}.json")
        assert store.claim(call.call_id, OWNER)
        assert store.mark_done(call.call_id, OWNER, report, None, "json")
    return call.call_id


def test_segmentation_splits_chinese_into_words_and_lowercases_english():
    tokens = segment("您这周六上午方便来我们展厅看一下吗？Send the DECK")
    assert "展厅" in tokens and "周六" in tokens and "deck" in tokens
    assert "我们展厅" not in tokens  # words, not the whole run


def test_a_hit_marks_the_query_s_words():
    assert marked("您这周六上午方便来我们展厅看一下吗", "展廳 周六") == [
        ("您这", False), ("周六", True), ("上午方便来我们", False), ("展厅", True), ("看一下吗", False)]
    assert marked("Send the DECK", "deck") == [("Send the ", False), ("DECK", True)]
    assert marked("你好", "  ") == [("你好", False)]


def test_a_chinese_word_inside_a_turn_is_found_with_its_turn_and_time(tmp_path, analyzer):
    with Store(tmp_path / "s.db") as store:
        call_id = _add(store, analyzer, 1, SHOWROOM, "li", "2026-11-02")
        _add(store, analyzer, 2, WECHAT, "wu", "2026-11-05", language="en")
        [hit] = search(store.db, "展厅")
        assert (hit.call_id, hit.turn, hit.speaker, hit.rep) == (call_id, 2, "rep", "li")
        assert "展厅" in hit.text
        # Every word must be there; traditional characters find simplified text.
        assert [h.turn for h in search(store.db, "周六 展廳")] == [2]
        assert search(store.db, "展厅 微信") == []
        assert [h.rep for h in search(store.db, "deck")] == ["wu"]  # English as words, any case


def test_filters_by_rep_and_date(tmp_path, analyzer):
    with Store(tmp_path / "s.db") as store:
        _add(store, analyzer, 1, SHOWROOM, "li", "2026-11-02")
        _add(store, analyzer, 2, SHOWROOM, "wu", "2026-11-20")
        assert {h.rep for h in search(store.db, "展厅")} == {"li", "wu"}
        assert [h.rep for h in search(store.db, "展厅", rep="li")] == ["li"]
        assert [h.rep for h in search(store.db, "展厅", since="2026-11-10")] == ["wu"]
        assert len(search(store.db, "展厅", limit=1)) == 1
        with pytest.raises(CallcoachError, match="--since"):
            search(store.db, "展厅", since="last week")


@pytest.mark.parametrize("query", ['"', 'NEAR(展厅', "展厅 OR *", "deck AND", "-", "''", "   ", "col:deck"])
def test_search_syntax_in_the_query_is_only_text(tmp_path, analyzer, query):
    with Store(tmp_path / "s.db") as store:
        _add(store, analyzer, 1, SHOWROOM, "li", "2026-11-02")
        search(store.db, query)  # never an sqlite3 error


def test_the_index_follows_the_calls(tmp_path, analyzer):
    with Store(tmp_path / "s.db") as store:
        unfinished = _add(store, analyzer, 1, SHOWROOM, "li", "2026-11-02", finish=False)
        assert search(store.db, "展厅") == []  # queued calls have no transcript yet
        done = _add(store, analyzer, 2, SHOWROOM, "li", "2026-11-02")
        assert [h.call_id for h in search(store.db, "展厅")] == [done]
        store.delete_call(done)
        assert search(store.db, "展厅") == []
        assert unfinished


def test_a_v5_store_is_indexed_when_migrated(tmp_path, analyzer):
    path = tmp_path / "v5.db"
    report = analyzer.analyze_transcript(
        transcript_from_dict({"language": "zh", "turns": [{"speaker": s, "text": t} for s, t in SHOWROOM]}),
        source="old.json")
    old = sqlite3.connect(path, isolation_level=None)
    old.execute("BEGIN")
    for step in MIGRATIONS[:5]:
        step(old)
    old.execute("PRAGMA user_version = 5")
    old.execute("INSERT INTO calls (call_id, sha256, source, rep, call_date, status, report_json, updated_at) "
                "VALUES ('aaaa', 'aaaa0', '/a/li/x.json', 'li', '2026-11-02', 'done', ?, 1.0)",
                (report.model_dump_json(),))
    old.execute("COMMIT")
    old.close()
    with Store(path) as store:
        assert [h.call_id for h in search(store.db, "展厅")] == ["aaaa"]
        row = store.call("aaaa")
        assert row.agreed_day is not None  # the agreed meeting backfilled from the stored report


def test_search_command(tmp_path, analyzer):
    db = tmp_path / "s.db"
    with Store(db) as store:
        call_id = _add(store, analyzer, 1, SHOWROOM, "li", "2026-11-02")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pipeline.cli", "search", *args, "--db", str(db)],
                              capture_output=True, text=True, timeout=120)

    found = run("展厅", "--format", "json")
    assert found.returncode == 0, found.stderr
    [hit] = json.loads(found.stdout)
    assert (hit["call_id"], hit["turn"], hit["speaker"]) == (call_id, 2, "rep") and "展厅" in hit["text"]
    assert "start" in hit
    assert call_id in run("展厅").stdout
    assert "[red]" in run("展厅 [red]").stdout  # the query is shown as typed, not read as markup
    bad = run("展厅", "--since", "yesterday")
    assert bad.returncode != 0 and "--since" in bad.stderr and "Traceback" not in bad.stderr
