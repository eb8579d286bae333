"""Search across the archive: an SQLite FTS5 index of every analysed call's turns.

Chinese has no spaces, so each turn is segmented with jieba (``cut_for_search``: 展厅 is found inside 我们展厅,
a compound also by its parts) and indexed as space-separated tokens; English as lower-cased words. A query
is segmented the same way and every token is quoted, so user input is never read as FTS5 syntax. The index
is kept in step with the ``calls`` table by the store (``mark_done`` indexes, ``delete_call`` removes).
"""

from __future__ import annotations

import logging
import re
import sqlite3
from dataclasses import dataclass
from functools import lru_cache

from pipeline.errors import CallcoachError
from pipeline.language.text import to_simplified
from pipeline.report.schema import Report

# The turns in a plain table (indexed by call, so a call is re-indexed or removed without scanning the
# index), and an FTS5 index over their tokens with the table as its content. Tokens are written
# pre-segmented; unicode61 splits them on the spaces only (CJK tokens stay whole).
SEARCH_DDL = """
CREATE TABLE search_turns (
    turn_id INTEGER PRIMARY KEY, call_id TEXT NOT NULL, turn INTEGER NOT NULL, start_s REAL,
    speaker TEXT NOT NULL, text TEXT NOT NULL, tokens TEXT NOT NULL
);
CREATE INDEX search_turns_call ON search_turns (call_id);
CREATE VIRTUAL TABLE transcript_search USING fts5(
    tokens, content = 'search_turns', content_rowid = 'turn_id', tokenize = "unicode61 remove_diacritics 2"
);
CREATE TRIGGER search_turns_added AFTER INSERT ON search_turns BEGIN
    INSERT INTO transcript_search (rowid, tokens) VALUES (new.turn_id, new.tokens);
END;
CREATE TRIGGER search_turns_removed AFTER DELETE ON search_turns BEGIN
    INSERT INTO transcript_search (transcript_search, rowid, tokens) VALUES ('delete', old.turn_id, old.tokens);
END;
"""
_WORD = re.compile(r"[0-9A-Za-z\u00C0-\u024F]+(?:['’][A-Za-z]+)?|[\u3400-\u9fff]+")
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class SearchHit:
    call_id: str
    turn: int
    start_s: float | None
    speaker: str
    text: str
    rep: str | None
    call_date: str | None
    source: str

    def as_dict(self) -> dict[str, object]:
        """The JSON record of a hit; ``start`` in seconds, as a turn's start in the report JSON."""
        return {"call_id": self.call_id, "turn": self.turn, "start": self.start_s, "speaker": self.speaker,
                "text": self.text, "rep": self.rep, "call_date": self.call_date, "source": self.source}


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def segment(text: str) -> list[str]:
    """Search tokens of a text: Chinese runs by jieba (search mode), other words lower-cased."""
    tokens: list[str] = []
    for run in _WORD.findall(to_simplified(text)):
        if _CJK.match(run):
            tokens.extend(token for token in _jieba().cut_for_search(run, HMM=False) if token.strip())
        else:
            tokens.append(run.lower())
    return tokens


def index_report(db: sqlite3.Connection, call_id: str, report: Report) -> None:
    """(Re)index one call's turns; runs inside the caller's transaction."""
    unindex(db, call_id)
    db.executemany(
        "INSERT INTO search_turns (tokens, call_id, turn, start_s, speaker, text) VALUES (?, ?, ?, ?, ?, ?)",
        [(" ".join(segment(turn.text)), call_id, turn.index, turn.start, turn.speaker, turn.text)
         for turn in report.turns if turn.text.strip()],
    )


def unindex(db: sqlite3.Connection, call_id: str) -> None:
    db.execute("DELETE FROM search_turns WHERE call_id = ?", (call_id,))


def reindex_all(db: sqlite3.Connection) -> int:
    """Index every finished call from its stored report (a migration for stores made before the index);
    reports of an incompatible schema are skipped. How many calls were indexed."""
    indexed = 0
    for call_id, report_json in db.execute(
            "SELECT call_id, report_json FROM calls WHERE status = 'done' AND report_json IS NOT NULL").fetchall():
        try:
            report = Report.model_validate_json(report_json)
        except ValueError:
            continue
        index_report(db, call_id, report)
        indexed += 1
    return indexed


def marked(text: str, query: str) -> list[tuple[str, bool]]:
    """``text`` cut into (piece, is a query word) pieces, to show a hit with its words marked."""
    # The query's runs whole first (问过 where jieba indexes 问 and 过), then its search tokens.
    runs = {run.lower() for run in _WORD.findall(to_simplified(query))}
    words = sorted(runs | set(segment(query)), key=len, reverse=True)
    if not words:
        return [(text, False)]
    simplified = to_simplified(text)
    if len(simplified) != len(text):  # a phrase conversion moved the offsets: show the text unmarked
        return [(text, False)]
    pattern = re.compile("|".join(re.escape(word) for word in words), re.I)
    pieces, cursor = [], 0
    for match in pattern.finditer(simplified):
        if match.start() > cursor:
            pieces.append((text[cursor : match.start()], False))
        pieces.append((text[match.start() : match.end()], True))
        cursor = match.end()
    if cursor < len(text):
        pieces.append((text[cursor:], False))
    return pieces


def _match_expression(query: str) -> str | None:
    tokens = list(dict.fromkeys(segment(query)))
    return " AND ".join('"' + token.replace('"', '""') + '"' for token in tokens) or None


def search(db: sqlite3.Connection, query: str, rep: str | None = None, since: str | None = None,
           limit: int = 50) -> list[SearchHit]:
    """The turns holding every word of ``query`` (of done calls; of ``rep``'s, dated ``since`` or later),
    best match first, then newest."""
    if since is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", since):
        raise CallcoachError(f"--since must be a date like 2026-12-01, not {since!r}")
    expression = _match_expression(query)
    if expression is None:
        return []
    where, params = ["transcript_search MATCH ?", "c.status = 'done'"], [expression]
    if rep is not None:
        where.append("c.rep = ?")
        params.append(rep)
    if since is not None:
        where.append("c.call_date >= ?")
        params.append(since)
    rows = db.execute(
        "SELECT t.call_id, t.turn, t.start_s, t.speaker, t.text, c.rep, c.call_date, c.source "
        "FROM transcript_search JOIN search_turns t ON t.turn_id = transcript_search.rowid "
        "JOIN calls c ON c.call_id = t.call_id "
        f"WHERE {' AND '.join(where)} ORDER BY bm25(transcript_search), c.call_date DESC LIMIT ?",
        [*params, limit],
    ).fetchall()
    return [SearchHit(r[0], int(r[1]), r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows]
