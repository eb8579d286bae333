"""The store's schema, as ordered migrations tracked in ``PRAGMA user_version``.

``MIGRATIONS[n]`` takes a store from schema version n to n + 1. Never edit a released step; append one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from pipeline.report.schema import Report
from pipeline.store.records import report_metrics
from pipeline.store.search import SEARCH_DDL, reindex_all

_V1 = """
CREATE TABLE calls (
    call_id          TEXT PRIMARY KEY,
    sha256           TEXT NOT NULL UNIQUE,
    source           TEXT NOT NULL,
    rep              TEXT,
    call_date        TEXT,
    status           TEXT NOT NULL CHECK (status IN ('queued', 'processing', 'done', 'failed')),
    error            TEXT,
    worker_pid       INTEGER,
    claimed_at       REAL,
    pipeline_version TEXT,
    model            TEXT,
    duration_s       REAL,
    meeting_pushed   INTEGER,
    concrete         INTEGER,
    downgraded       INTEGER,
    distracted       INTEGER,
    report_json      TEXT,
    report_path      TEXT,
    updated_at       REAL NOT NULL
);
CREATE INDEX calls_status ON calls (status);
"""

_V2 = """
ALTER TABLE calls ADD COLUMN kind TEXT;
ALTER TABLE calls ADD COLUMN language TEXT;
ALTER TABLE calls ADD COLUMN outcome TEXT;
ALTER TABLE calls ADD COLUMN adapted INTEGER;
ALTER TABLE calls ADD COLUMN score REAL;
ALTER TABLE calls ADD COLUMN error_kind TEXT;
ALTER TABLE calls ADD COLUMN formats TEXT;
ALTER TABLE calls ADD COLUMN worker_host TEXT;
ALTER TABLE calls ADD COLUMN worker_started TEXT;
ALTER TABLE calls ADD COLUMN lease_until REAL;
ALTER TABLE calls ADD COLUMN crashes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN run_id INTEGER;
ALTER TABLE calls ADD COLUMN finished_at REAL;
CREATE INDEX calls_rep_date ON calls (rep, call_date);
CREATE INDEX calls_report_path ON calls (report_path);

CREATE TABLE runs (
    run_id           INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at       REAL NOT NULL,
    finished_at      REAL,
    status           TEXT NOT NULL,
    pid              INTEGER NOT NULL,
    host             TEXT NOT NULL,
    archive          TEXT,
    out_dir          TEXT,
    workers          INTEGER,
    pipeline_version TEXT,
    model            TEXT,
    discovered       INTEGER,
    done             INTEGER,
    skipped          INTEGER,
    failed           INTEGER,
    audio_s          REAL,
    wall_s           REAL
);

CREATE TABLE events (
    event_id INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id  TEXT NOT NULL,
    run_id   INTEGER,
    event    TEXT NOT NULL,
    pid      INTEGER,
    host     TEXT,
    at       REAL NOT NULL,
    detail   TEXT
);
CREATE INDEX events_call ON events (call_id);

-- Discovery cache: a file whose size and mtime are unchanged is not hashed or probed again.
CREATE TABLE files (
    path       TEXT PRIMARY KEY,
    size       INTEGER NOT NULL,
    mtime_ns   INTEGER NOT NULL,
    sha256     TEXT NOT NULL,
    kind       TEXT NOT NULL,
    duration_s REAL,
    detail     TEXT,
    seen_at    REAL NOT NULL
);
"""


# v3: the web app (docs/web.md): accounts, server-side sign-in sessions, who uploaded which call, and the
# coaches' judgements of findings. Every other table stays as the batch wrote it.
_V3 = """
CREATE TABLE users (
    user_id       INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('rep', 'coach', 'admin')),
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    REAL NOT NULL
);

CREATE TABLE web_sessions (
    token_sha256 TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   REAL NOT NULL,
    expires_at   REAL NOT NULL
);

CREATE TABLE uploads (
    upload_id   INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    call_id     TEXT,
    filename    TEXT NOT NULL,
    size        INTEGER,
    status      TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
    reason      TEXT,
    uploaded_at REAL NOT NULL
);
CREATE INDEX uploads_user_time ON uploads (user_id, uploaded_at);
CREATE INDEX uploads_call ON uploads (call_id);

CREATE TABLE feedback (
    feedback_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id        TEXT NOT NULL,
    finding        TEXT NOT NULL,
    verdict        TEXT NOT NULL CHECK (verdict IN ('correct', 'wrong')),
    pipeline_value TEXT,
    corrected      TEXT,
    comment        TEXT,
    user_id        INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    at             REAL NOT NULL,
    UNIQUE (call_id, finding, user_id)
);
CREATE INDEX feedback_call ON feedback (call_id);
"""


def _backfill_v2(db: sqlite3.Connection) -> None:
    """Fill the columns v2 derives from the stored report for calls finished under v1."""
    rows = db.execute("SELECT call_id, report_json FROM calls WHERE report_json IS NOT NULL").fetchall()
    for call_id, report_json in rows:
        try:
            report = Report.model_validate_json(report_json)
        except ValueError:
            continue  # a report from an incompatible schema stays as it is; re-run with --force
        metrics = report_metrics(report)
        db.execute(
            "UPDATE calls SET kind = :kind, language = :language, outcome = :outcome, adapted = :adapted, "
            "score = :score WHERE call_id = :call_id",
            {**metrics, "kind": "transcript" if report.transcription is None else "audio", "call_id": call_id},
        )
    db.execute("UPDATE calls SET formats = 'json,md,html' WHERE status = 'done' AND formats IS NULL")


Migration = Callable[[sqlite3.Connection], None]


def _script(sql: str) -> Migration:
    # Statement by statement: ``executescript`` would COMMIT first and break the migration's transaction.
    # A trigger's body holds semicolons: pieces are joined until SQLite calls the statement complete.
    def run(db: sqlite3.Connection) -> None:
        pending = ""
        for piece in sql.split(";"):
            pending += piece + ";"
            if sqlite3.complete_statement(pending):
                if pending.strip(" \n;"):
                    db.execute(pending)
                pending = ""

    return run


def _steps(*steps: Migration) -> Migration:
    def run(db: sqlite3.Connection) -> None:
        for step in steps:
            step(db)

    return run


# v4: the analysis fingerprint (pipeline.fingerprint) of each call's last result and of each run; the
# batch re-analyses a call whose fingerprint differs from the current one. Rows from before v4 have none.
_V4 = """
ALTER TABLE calls ADD COLUMN fingerprint TEXT;
ALTER TABLE runs ADD COLUMN fingerprint TEXT
"""

# v5: each web user's choice of interface language ("zh", "en"; NULL: as the browser asks).
_V5 = """
ALTER TABLE users ADD COLUMN ui_language TEXT
"""

# v6: the coach's workbench (docs/workbench.md): each call's customer (from a file-name pattern, the web
# upload, or as named in the call) and talk metrics as columns, and the full-text index of every transcript.
_V6 = """
ALTER TABLE calls ADD COLUMN customer TEXT;
ALTER TABLE calls ADD COLUMN customer_source TEXT;
ALTER TABLE calls ADD COLUMN rep_talk_share REAL;
ALTER TABLE calls ADD COLUMN longest_rep_monologue_s REAL;
ALTER TABLE calls ADD COLUMN rep_questions INTEGER;
ALTER TABLE calls ADD COLUMN customer_questions INTEGER;
ALTER TABLE calls ADD COLUMN customer_interruptions INTEGER;
ALTER TABLE calls ADD COLUMN agreed_when TEXT;
ALTER TABLE calls ADD COLUMN agreed_day TEXT;
ALTER TABLE calls ADD COLUMN agreed_clock TEXT;
ALTER TABLE calls ADD COLUMN mentions_past_meeting INTEGER;
ALTER TABLE uploads ADD COLUMN customer TEXT;
CREATE INDEX calls_customer ON calls (customer, call_date)
"""


def _backfill_v6(db: sqlite3.Connection) -> None:
    """The agreed meeting time of calls finished before v6, and the full-text index of their transcripts
    (their customer and talk figures fill in when the batch re-analyses them: new pattern files change
    every fingerprint)."""
    for call_id, report_json in db.execute("SELECT call_id, report_json FROM calls WHERE report_json IS NOT NULL").fetchall():
        try:
            report = Report.model_validate_json(report_json)
        except ValueError:
            continue
        db.execute("UPDATE calls SET agreed_when = :agreed_when, agreed_day = :agreed_day, agreed_clock = :agreed_clock, "
                   "mentions_past_meeting = :mentions_past_meeting WHERE call_id = :call_id",
                   {**report_metrics(report), "call_id": call_id})
    reindex_all(db)


MIGRATIONS: tuple[Migration, ...] = (
    _script(_V1),
    _steps(_script(_V2), _backfill_v2),
    _script(_V3),
    _script(_V4),
    _script(_V5),
    _steps(_script(_V6), _script(SEARCH_DDL), _backfill_v6),
)
SCHEMA_VERSION = len(MIGRATIONS)
