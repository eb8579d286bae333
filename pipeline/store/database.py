"""The call store: one SQLite file that the nightly batch writes and the team view and the web app read.
Plain ``sqlite3``, WAL mode, schema from ``pipeline.store.migrations``.

A call is identified by the SHA-256 of its file content (``call_id`` is the first 16 hex digits, the same
as ``Report.call_id``). Its row moves through::

    queued ──claim──▶ processing ──▶ done
       ▲                  │    └────▶ failed
       └──reclaim─────────┘  (owner process died)

Every state change that decides who works on a call runs in a ``BEGIN IMMEDIATE`` transaction, so two
batch runs (or two workers) sharing one store never both claim the same row. ``events`` keeps an audit
trail (claimed / done / failed / reclaimed / released) per call.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from pipeline.errors import CallcoachError
from pipeline.report.schema import Report
from pipeline.store.migrations import MIGRATIONS, SCHEMA_VERSION
from pipeline.store.records import (
    CRASHES_BEFORE_FAILED,
    DEFAULT_LEASE_S,
    SELECT_ROWS,
    TALK_COLUMNS,
    CallRow,
    Decision,
    DiscoveredCall,
    ErrorKind,
    Event,
    FileInfo,
    Owner,
    report_metrics,
    row_of,
)
from pipeline.store.search import index_report, unindex


class Store:
    """One SQLite store. Open one ``Store`` per process (or per thread); it is cheap.

    ``create=False`` refuses to make a new file (for read commands pointed at a wrong path).
    ``any_thread=True`` lets the connection move between threads (never two at once)."""

    def __init__(self, path: Path | str, create: bool = True, busy_timeout_s: float = 60.0, any_thread: bool = False):
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise CallcoachError(f"no store at {self.path} (run `callcoach batch --db {self.path}` first)")
        if self.path.is_dir():
            raise CallcoachError(f"store path {self.path} is a folder, not a file")
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            # Autocommit mode: every transaction below is explicit (BEGIN IMMEDIATE ... COMMIT).
            # any_thread: one request's store may be opened in one worker thread and used in another
            # (FastAPI's dependencies); it is still used by one request at a time.
            self.db = sqlite3.connect(self.path, timeout=busy_timeout_s, isolation_level=None,
                                      check_same_thread=not any_thread)
        except (sqlite3.Error, OSError) as error:
            raise CallcoachError(f"cannot open store {self.path}: {_reason(error)}") from error
        self.db.row_factory = sqlite3.Row
        try:
            self._use_wal(busy_timeout_s)
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as error:
            self.db.close()
            raise CallcoachError(f"cannot use store {self.path}: {_reason(error)}") from error
        except CallcoachError:
            self.db.close()
            raise

    # -- plumbing

    def _use_wal(self, busy_timeout_s: float) -> None:
        """Switch to WAL once per file. The switch needs the file to itself and SQLite answers "locked" at once,
        without waiting, when another process is opening the same new store: wait and try again here."""
        deadline = time.monotonic() + busy_timeout_s
        while True:
            try:
                mode = self.db.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower()
                break
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        if mode != "wal":
            raise CallcoachError(f"store {self.path}: cannot switch to WAL mode (a network file system?)")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the database write lock up front (no upgrade deadlocks)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        if self.schema_version == SCHEMA_VERSION:
            return
        with self.transaction() as db:
            version = self.schema_version  # re-read under the lock: another process may have migrated
            if version > SCHEMA_VERSION:
                raise CallcoachError(
                    f"store {self.path} has schema v{version}, newer than this callcoach (v{SCHEMA_VERSION}): upgrade callcoach"
                )
            for step in range(version, SCHEMA_VERSION):
                MIGRATIONS[step](db)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _event(self, call_id: str, event: str, owner: Owner | None, run_id: int | None, detail: str | None = None) -> None:
        self.db.execute(
            "INSERT INTO events (call_id, run_id, event, pid, host, at, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (call_id, run_id, event, owner.pid if owner else None, owner.host if owner else None, time.time(), detail),
        )

    # -- discovery cache

    def cached_file(self, path: str, size: int, mtime_ns: int) -> FileInfo | None:
        row = self.db.execute(
            "SELECT path, size, mtime_ns, sha256, kind, duration_s, detail FROM files WHERE path = ? AND size = ? AND mtime_ns = ?",
            (path, size, mtime_ns),
        ).fetchone()
        return FileInfo(*row) if row else None

    def remember_files(self, infos: Iterable[FileInfo]) -> None:
        now = time.time()
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO files (path, size, mtime_ns, sha256, kind, duration_s, detail, seen_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(i.path, i.size, i.mtime_ns, i.sha256, i.kind, i.duration_s, i.detail, now) for i in infos],
            )

    # -- runs

    def start_run(self, archive: str, out_dir: str, workers: int, pipeline_version: str, model: str,
                  fingerprint: str | None = None) -> int:
        owner = Owner.current()
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO runs (started_at, status, pid, host, archive, out_dir, workers, pipeline_version, model, "
                "fingerprint) VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?)",
                (time.time(), owner.pid, owner.host, archive, out_dir, workers, pipeline_version, model, fingerprint),
            )
            return int(cursor.lastrowid or 0)

    def finish_run(self, run_id: int, status: str, **counts: float | int) -> None:
        allowed = {"discovered", "done", "skipped", "failed", "audio_s", "wall_s"}
        unknown = set(counts) - allowed
        if unknown:
            raise ValueError(f"unknown run fields: {sorted(unknown)}")
        assignments = "".join(f", {name} = :{name}" for name in counts)
        with self.transaction() as db:
            db.execute(
                f"UPDATE runs SET status = :status, finished_at = :now{assignments} WHERE run_id = :run_id",
                {"status": status, "now": time.time(), "run_id": run_id, **counts},
            )

    def runs(self) -> list[dict]:
        return [dict(row) for row in self.db.execute("SELECT * FROM runs ORDER BY run_id")]

    # -- the queue

    def enqueue(
        self,
        calls: Sequence[DiscoveredCall],
        fingerprints: Mapping[str, str],
        force: bool = False,
        retry_failed: bool = False,
        run_id: int | None = None,
    ) -> dict[str, tuple[Decision, str]]:
        """Record discovered calls and decide, in one transaction, which ones this run should analyse.

        ``fingerprints`` maps a call kind ("audio", "transcript") to the analysis fingerprint this run
        would produce. Returns ``{call_id: (decision, report_path)}``. A call is queued when it is new, when
        its last result has another fingerprint (other patterns, models, version or decoding settings),
        when it failed for a reason other than its input, or with ``force``. ``report_path`` is the planned
        one, made unique (``-<call_id[:8]>`` appended) when another call already writes there."""
        decisions: dict[str, tuple[Decision, str]] = {}
        now = time.time()
        with self.transaction() as db:
            taken = {
                row[0]: row[1]
                # A failed call wrote nothing, so its planned report path is free for a (re-uploaded) good copy.
                for row in db.execute(
                    "SELECT report_path, call_id FROM calls WHERE report_path IS NOT NULL AND status != 'failed'"
                )
            }
            for call in calls:
                row = db.execute(SELECT_ROWS + " WHERE call_id = ?", (call.call_id,)).fetchone()
                existing = row_of(row) if row else None
                decision = self._decide(existing, fingerprints.get(call.kind), force, retry_failed)
                if existing is not None and existing.status in ("done", "failed") and decision != "queued":
                    report_path = existing.report_path or call.report_path
                else:
                    report_path = call.report_path
                    if taken.get(report_path, call.call_id) != call.call_id:
                        report_path = f"{report_path}-{call.call_id[:8]}"
                taken[report_path] = call.call_id
                decisions[call.call_id] = (decision, report_path)
                if existing is None:
                    db.execute(
                        "INSERT INTO calls (call_id, sha256, source, kind, rep, call_date, status, duration_s, "
                        "report_path, run_id, updated_at, customer, customer_source) "
                        "VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)",
                        (call.call_id, call.sha256, call.source, call.kind, call.rep, call.call_date, call.duration_s,
                         report_path, run_id, now, call.customer, "pattern" if call.customer else None),
                    )
                    self._event(call.call_id, "queued", None, run_id)
                    continue
                if existing.status == "processing" and decision == "in_progress":
                    continue  # someone is working on it: leave the row alone
                # The archive is the truth about where, whose and when; keep those current.
                db.execute(
                    "UPDATE calls SET source = ?, kind = ?, rep = ?, call_date = ?, updated_at = ? WHERE call_id = ?",
                    (call.source, call.kind, call.rep, call.call_date, now, call.call_id),
                )
                if call.customer:
                    db.execute("UPDATE calls SET customer = ?, customer_source = 'pattern' WHERE call_id = ?",
                               (call.customer, call.call_id))
                if decision == "queued" and existing.status != "queued":
                    db.execute(
                        "UPDATE calls SET status = 'queued', report_path = ?, worker_pid = NULL, worker_host = NULL, "
                        "worker_started = NULL, claimed_at = NULL, lease_until = NULL, run_id = ? WHERE call_id = ?",
                        (report_path, run_id, call.call_id),
                    )
                    self._event(call.call_id, "queued", None, run_id, f"was {existing.status}")
                elif decision == "queued":
                    db.execute("UPDATE calls SET report_path = ? WHERE call_id = ?", (report_path, call.call_id))
        return decisions

    @staticmethod
    def _decide(existing: CallRow | None, fingerprint: str | None, force: bool, retry_failed: bool) -> Decision:
        if existing is None or existing.status == "queued":
            return "queued"
        if existing.status == "processing":
            return "in_progress" if _held(existing, time.time()) else "queued"
        same_analysis = fingerprint is not None and existing.fingerprint == fingerprint
        if force or not same_analysis:
            return "queued"
        if existing.status == "done":
            return "done"
        if existing.error_kind == "input" and not retry_failed:
            return "failed_before"
        return "queued"

    def claim(
        self,
        call_id: str,
        owner: Owner,
        run_id: int | None = None,
        lease_s: float = DEFAULT_LEASE_S,
        report_path: str | None = None,
    ) -> bool:
        """Take a queued call for ``owner`` (who will write its reports to ``report_path``, if given);
        False when it is not queued (another worker or run has it, or it is finished)."""
        now = time.time()
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE calls SET status = 'processing', worker_pid = ?, worker_host = ?, worker_started = ?, "
                "claimed_at = ?, lease_until = ?, run_id = ?, error = NULL, error_kind = NULL, updated_at = ?, "
                "report_path = COALESCE(?, report_path) WHERE call_id = ? AND status = 'queued'",
                (owner.pid, owner.host, owner.started, now, now + lease_s, run_id, now, report_path, call_id),
            )
            if cursor.rowcount != 1:
                return False
            self._event(call_id, "claimed", owner, run_id)
            return True

    _OWNED = "call_id = :call_id AND status = 'processing' AND worker_pid = :pid AND worker_host = :host"
    _CLEAR_OWNER = "worker_pid = NULL, worker_host = NULL, worker_started = NULL, lease_until = NULL"

    def mark_done(self, call_id: str, owner: Owner, report: Report, model: str | None, formats: str) -> bool:
        """Record a finished call. Call only after its report files are in place. False when ``owner`` no
        longer holds the claim (it was reclaimed meanwhile)."""
        now = time.time()
        with self.transaction() as db:
            cursor = db.execute(
                f"UPDATE calls SET status = 'done', error = NULL, error_kind = NULL, pipeline_version = :version, "
                f"model = :model, fingerprint = :fingerprint, language = :language, duration_s = :duration_s, "
                f"meeting_pushed = :meeting_pushed, "
                f"concrete = :concrete, outcome = :outcome, downgraded = :downgraded, distracted = :distracted, "
                f"adapted = :adapted, score = :score, report_json = :report_json, formats = :formats, crashes = 0, "
                f"{_TALK_ASSIGNMENTS}, agreed_when = :agreed_when, agreed_day = :agreed_day, "
                f"agreed_clock = :agreed_clock, mentions_past_meeting = :mentions_past_meeting, "
                # A customer the archive or the upload named stays; otherwise the one the call names.
                f"customer = CASE WHEN customer_source IN ('pattern', 'upload') THEN customer ELSE :spoken END, "
                f"customer_source = CASE WHEN customer_source IN ('pattern', 'upload') THEN customer_source "
                f"WHEN :spoken IS NULL THEN NULL ELSE 'spoken' END, "
                f"finished_at = :now, updated_at = :now, {self._CLEAR_OWNER} WHERE {self._OWNED}",
                {
                    **report_metrics(report),
                    "spoken": report.customer.key if report.customer else None,
                    "version": report.pipeline_version,
                    "model": model,
                    "fingerprint": report.analysis_fingerprint,
                    "report_json": report.model_dump_json(),
                    "formats": formats,
                    "now": now,
                    "call_id": call_id,
                    "pid": owner.pid,
                    "host": owner.host,
                },
            )
            if cursor.rowcount != 1:
                return False
            index_report(db, call_id, report)
            self._event(call_id, "done", owner, self._run_of(call_id))
            return True

    def mark_failed(
        self, call_id: str, owner: Owner, error: str, kind: ErrorKind, pipeline_version: str, model: str | None,
        fingerprint: str | None = None,
    ) -> bool:
        """Record a failed call, with the fingerprint of the analysis that failed (a different analysis
        tries an input failure again)."""
        now = time.time()
        with self.transaction() as db:
            cursor = db.execute(
                f"UPDATE calls SET status = 'failed', error = :error, error_kind = :kind, pipeline_version = :version, "
                f"model = :model, fingerprint = :fingerprint, finished_at = :now, updated_at = :now, {self._CLEAR_OWNER} "
                f"WHERE {self._OWNED}",
                {"error": error, "kind": kind, "version": pipeline_version, "model": model, "fingerprint": fingerprint,
                 "now": now, "call_id": call_id, "pid": owner.pid, "host": owner.host},
            )
            if cursor.rowcount != 1:
                return False
            self._event(call_id, "failed", owner, self._run_of(call_id), error)
            return True

    def delete_call(self, call_id: str) -> CallRow | None:
        """Remove a call and everything the store holds of it (uploads, judgements, events), in one
        transaction; the row as it was, or None when there is no such call or a worker is analysing it (the
        worker would write its report after the delete)."""
        with self.transaction() as db:
            values = db.execute(SELECT_ROWS + " WHERE call_id = ?", (call_id,)).fetchone()
            if values is None:
                return None
            row = row_of(values)
            if row.status == "processing" and _held(row, time.time()):
                return None
            for table in ("feedback", "uploads", "events", "calls"):
                db.execute(f"DELETE FROM {table} WHERE call_id = ?", (call_id,))
            unindex(db, call_id)
            return row

    def name_customer(self, call_id: str, customer: str) -> None:
        """The customer a rep gave when uploading the call: it wins over the one the call names (a file-name
        pattern's, set by the batch, wins over both)."""
        with self.transaction() as db:
            db.execute("UPDATE calls SET customer = ?, customer_source = 'upload' WHERE call_id = ? "
                       "AND (customer_source IS NULL OR customer_source = 'spoken')", (customer, call_id))

    def release(self, call_id: str, owner: Owner, reason: str) -> bool:
        """Give a claimed call back to the queue untouched (the worker could not start, not the file's fault)."""
        with self.transaction() as db:
            cursor = db.execute(
                f"UPDATE calls SET status = 'queued', updated_at = :now, {self._CLEAR_OWNER} WHERE {self._OWNED}",
                {"now": time.time(), "call_id": call_id, "pid": owner.pid, "host": owner.host},
            )
            if cursor.rowcount != 1:
                return False
            self._event(call_id, "released", owner, self._run_of(call_id), reason)
            return True

    def renew(self, call_ids: Iterable[str], owner: Owner, lease_s: float = DEFAULT_LEASE_S) -> int:
        """Extend ``owner``'s leases on calls it is still analysing (the heartbeat: a live claim on another
        host is never taken over); how many it still held."""
        until = time.time() + lease_s
        held = 0
        with self.transaction() as db:
            for call_id in call_ids:
                cursor = db.execute(
                    f"UPDATE calls SET lease_until = :until WHERE {self._OWNED}",
                    {"until": until, "call_id": call_id, "pid": owner.pid, "host": owner.host},
                )
                held += cursor.rowcount
        return held

    def count_crash(self, call_id: str, owner: Owner) -> int:
        """One more crash of the process analysing a call ``owner`` holds (a driver whose remote worker
        died keeps the claim); the file's crash count so far (CRASHES_BEFORE_FAILED makes it a failure)."""
        with self.transaction() as db:
            cursor = db.execute(
                f"UPDATE calls SET crashes = crashes + 1, updated_at = :now WHERE {self._OWNED}",
                {"now": time.time(), "call_id": call_id, "pid": owner.pid, "host": owner.host},
            )
            if cursor.rowcount == 1:
                self._event(call_id, "crashed", owner, self._run_of(call_id))
            row = db.execute("SELECT crashes FROM calls WHERE call_id = ?", (call_id,)).fetchone()
        return row[0] if row else 0

    def _run_of(self, call_id: str) -> int | None:
        row = self.db.execute("SELECT run_id FROM calls WHERE call_id = ?", (call_id,)).fetchone()
        return row[0] if row else None

    def reclaim_stale(self, crashed_run: int | None = None) -> list[CallRow]:
        """Put calls whose owner died back in the queue; returns the rows as they were.

        With ``crashed_run``, the caller saw its own worker processes die: each dead claim of that run
        counts as a crash of the file, and a file that crashed ``CRASHES_BEFORE_FAILED`` times becomes
        ``failed`` instead of being queued again (one poisonous file must not stop the batch)."""
        now = time.time()
        stale: list[CallRow] = []
        with self.transaction() as db:
            for values in db.execute(SELECT_ROWS + " WHERE status = 'processing'").fetchall():
                row = row_of(values)
                if _held(row, now):
                    continue
                stale.append(row)
                crashed = crashed_run is not None and row.run_id == crashed_run
                crashes = row.crashes + (1 if crashed else 0)
                if crashes >= CRASHES_BEFORE_FAILED:
                    message = f"{Path(row.source).name}: the worker process died while analysing this file ({crashes} times)"
                    db.execute(
                        f"UPDATE calls SET status = 'failed', error = ?, error_kind = 'crash', crashes = ?, "
                        f"finished_at = ?, updated_at = ?, {self._CLEAR_OWNER} WHERE call_id = ?",
                        (message, crashes, now, now, row.call_id),
                    )
                    self._event(row.call_id, "failed", row.owner, row.run_id, message)
                else:
                    db.execute(
                        f"UPDATE calls SET status = 'queued', crashes = ?, updated_at = ?, {self._CLEAR_OWNER} "
                        "WHERE call_id = ?",
                        (crashes, now, row.call_id),
                    )
                    self._event(row.call_id, "reclaimed", row.owner, row.run_id, f"owner pid {row.worker_pid} is gone")
        return stale

    # -- queries (also what the web app reads)

    def call(self, call_id: str) -> CallRow | None:
        row = self.db.execute(SELECT_ROWS + " WHERE call_id = ?", (call_id,)).fetchone()
        return row_of(row) if row else None

    def calls(self, rep: str | None = None, status: str | None = None) -> list[CallRow]:
        """Calls, oldest first (by call date, then source)."""
        where, params = [], []
        if rep is not None:
            where.append("rep = ?")
            params.append(rep)
        if status is not None:
            where.append("status = ?")
            params.append(status)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        query = f"{SELECT_ROWS} {clause} ORDER BY call_date, source"
        return [row_of(values) for values in self.db.execute(query, params)]

    def report_json(self, call_id: str) -> str | None:
        """The stored report as written (JSON text), whatever callcoach version wrote it."""
        row = self.db.execute("SELECT report_json FROM calls WHERE call_id = ?", (call_id,)).fetchone()
        return row[0] if row else None

    def report(self, call_id: str) -> Report | None:
        """The stored report as a :class:`Report` of this callcoach's schema."""
        text = self.report_json(call_id)
        if not text:
            return None
        try:
            return Report.model_validate_json(text)
        except ValueError as error:
            raise CallcoachError(
                f"the stored report of {call_id} does not match this callcoach's report schema "
                "(written by another version; run the batch with --force to redo it)"
            ) from error

    def events(self, call_id: str | None = None) -> list[Event]:
        query = "SELECT call_id, run_id, event, pid, at, detail FROM events"
        rows = self.db.execute(query + " WHERE call_id = ? ORDER BY event_id", (call_id,)) if call_id else self.db.execute(
            query + " ORDER BY event_id"
        )
        return [Event(*row) for row in rows]

    def live_report_paths(self) -> set[str]:
        """Report paths of calls being analysed right now by a live process (their temp files are in use)."""
        now = time.time()
        rows = [row_of(values) for values in self.db.execute(SELECT_ROWS + " WHERE status = 'processing'")]
        return {row.report_path for row in rows if row.report_path and _held(row, now)}


_TALK_ASSIGNMENTS = ", ".join(f"{name} = :{name}" for name in TALK_COLUMNS)


def _held(row: CallRow, now: float) -> bool:
    """A ``processing`` row whose owner still runs (on another host, where we cannot look: whose lease
    has not run out)."""
    alive = row.owner.is_alive() if row.owner else False
    return (row.lease_until or 0.0) > now if alive is None else alive


def _reason(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return getattr(error, "strerror", None) or text
