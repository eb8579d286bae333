"""Schema v3 (the web app's tables) and v4 (the analysis fingerprint) arrive by migration: a v2 store
written by the batch keeps every row and every column."""

from __future__ import annotations

import sqlite3

from pipeline.store import SCHEMA_VERSION, Store
from pipeline.store.migrations import MIGRATIONS
from pipeline.web import accounts
from pipeline.web.uploads import label_of


def _columns(db) -> dict[str, list[str]]:
    names = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {name: [column[1] for column in db.execute(f"PRAGMA table_info({name})")] for name in names}


def test_a_v2_store_gains_the_web_tables_and_keeps_its_calls(tmp_path):
    path = tmp_path / "v2.db"
    old = sqlite3.connect(path, isolation_level=None)
    old.execute("BEGIN")
    for step in MIGRATIONS[:2]:  # exactly what a v2 callcoach created
        step(old)
    old.execute("PRAGMA user_version = 2")
    old.execute(
        "INSERT INTO calls (call_id, sha256, source, rep, call_date, status, updated_at) "
        "VALUES ('aaaa', 'aaaa0', '/a/alice/x.mp3', 'alice', '2024-05-06', 'queued', 1.0)"
    )
    old.execute("COMMIT")
    before = _columns(old)
    old.close()

    with Store(path) as store:
        assert SCHEMA_VERSION == 6 and store.schema_version == 6
        tables = _columns(store.db)
        assert {"users", "web_sessions", "uploads", "feedback"} <= set(tables)
        assert all(set(columns) <= set(tables[name]) for name, columns in before.items())
        assert "fingerprint" in tables["calls"] and store.call("aaaa").fingerprint is None  # a re-run redoes it
        assert store.call("aaaa").rep == "alice"
        assert "ui_language" in tables["users"]  # v5: each user's interface language
        assert {"customer", "customer_source", "rep_talk_share", "agreed_day"} <= set(tables["calls"])  # v6
        assert "transcript_search" in tables  # v6: the archive's search index
        user = accounts.add_user(store, "alice", "rep", "long-enough-1")
        assert user.ui_language is None
        assert accounts.authenticate(store, "alice", "long-enough-1") == user
        assert accounts.authenticate(store, "alice", "wrong-password") is None
        assert accounts.authenticate(store, "nobody", "long-enough-1") is None


def test_upload_labels_are_names_not_paths():
    assert label_of("../../etc/passwd") == "passwd"
    assert label_of("C:\\Users\\alice\\call 1.mp3") == "call 1.mp3"
    assert label_of("bell\x07\nname.mp3") == "bellname.mp3"
    assert label_of("") == label_of(None) == "recording"
    assert len(label_of("x" * 500 + ".mp3")) == 120
