"""The processing queue of uploads: rows in the store's ``calls`` table, analysed by a worker process
that runs the worker code the nightly batch runs too (``pipeline.jobs.worker``).

Why this is restart-safe: an upload is a ``queued`` row before the browser hears "accepted"; the worker
claims a row (queued → processing, with its pid) before touching the file, writes the reports
all-or-nothing and only then marks the row done. When the server stops, or is killed (the worker dies
with it: ``PR_SET_PDEATHSIG``), the next start puts ``processing`` rows whose process is gone back in the
queue and the worker takes them again, oldest upload first.

The worker is a separate process, not a thread: Whisper and spaCy keep a core busy for seconds at a time
and must not slow down page requests; a decoder crash takes down the worker, not the server (the
supervisor restarts it, and a file that kills it twice is marked failed, as in the batch).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path

from pipeline import __version__
from pipeline.fingerprint import analysis_fingerprint
from pipeline.jobs.worker import CallTask, WorkerConfig, die_with_parent, init_worker, process_call
from pipeline.report.files import FORMATS, remove_stale_temp_files
from pipeline.store.database import Store
from pipeline.web.config import WebConfig

log = logging.getLogger(__name__)
RUN_ARCHIVE = "web uploads"  # how the server's runs are named in the store's runs table
_RESTART_BACKOFF_S = 2.0

# Fair across reps: the next upload is the oldest of the uploader the worker served least recently, so a
# rep who drops fifty calls does not make another rep's one call wait for all fifty.
_NEXT_UPLOAD = """
WITH queued AS (
    SELECT c.call_id, c.source, c.kind, c.report_path, c.duration_s, u.user_id, MIN(u.uploaded_at) AS first_upload
    FROM calls c JOIN uploads u ON u.call_id = c.call_id AND u.status = 'accepted'
    WHERE c.status = 'queued' GROUP BY c.call_id
), served AS (
    SELECT u.user_id, MAX(c.claimed_at) AS last_claim
    FROM calls c JOIN uploads u ON u.call_id = c.call_id AND u.status = 'accepted'
    WHERE c.claimed_at IS NOT NULL GROUP BY u.user_id
)
SELECT q.call_id, q.source, q.kind, q.report_path, q.duration_s FROM queued q LEFT JOIN served s ON s.user_id = q.user_id
ORDER BY COALESCE(s.last_claim, 0), q.first_upload LIMIT 1
"""


def next_task(store: Store) -> CallTask | None:
    """The next queued upload, fair across uploaders (calls queued by a batch run are left to that run)."""
    row = store.db.execute(_NEXT_UPLOAD).fetchone()
    if row is None:
        return None
    return CallTask(row["call_id"], row["source"], row["kind"] or "audio", row["report_path"], row["duration_s"] or 0.0)


def worker_main(config: WorkerConfig, poll_s: float, parent_pid: int) -> None:
    """The worker process: load the pipeline once, then analyse queued uploads one at a time, forever."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle
    die_with_parent(parent_pid)
    # Warnings from the pipeline's libraries, plus one line per analysed call from this module.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s callcoach worker: %(message)s")
    log.setLevel(logging.INFO)
    init_worker(config)
    store = Store(config.db)
    while True:
        task = next_task(store)
        if task is None:
            time.sleep(poll_s)
            continue
        result = process_call(task)  # claims the row; "elsewhere" when someone else was faster
        log.info("%s: %s%s", task.call_id, result.outcome, f" ({result.error})" if result.error else "")
        if result.outcome == "fatal":  # the model cannot load: the call went back to the queue; say so and wait
            log.error("cannot analyse uploads: %s", result.error)
            time.sleep(30)


def worker_config(config: WebConfig, run_id: int) -> WorkerConfig:
    threads = max(1, os.cpu_count() or 1)  # one worker: it may use every core
    return WorkerConfig(
        db=str(config.db),
        options=config.analyze.with_cpu_threads(threads),
        formats=FORMATS,
        embed_audio=False,  # the web app serves the recording; a report file links it relatively
        run_id=run_id,
        asr_cache=str(config.asr_cache_dir),
    )


class QueueSupervisor:
    """Starts the worker process with the server, restarts it if it dies, stops it with the server."""

    def __init__(self, config: WebConfig):
        self.config = config
        self.process: multiprocessing.process.BaseProcess | None = None
        self.run_id: int | None = None
        self.restarts = 0
        self._stopping = threading.Event()
        self._monitor: threading.Thread | None = None

    def start(self) -> None:
        config = self.config
        config.reports_dir.mkdir(parents=True, exist_ok=True)
        with Store(config.db) as store:
            self.run_id = store.start_run(RUN_ARCHIVE, str(config.reports_dir), 1, __version__, config.analyze.asr.model,
                                          analysis_fingerprint(config.analyze, "audio"))
            reclaimed = store.reclaim_stale()  # calls a killed server left half done go back to the queue
            remove_stale_temp_files(config.reports_dir, store.live_report_paths())
        if reclaimed:
            log.warning("%d call(s) left unfinished by a previous server go back to the queue", len(reclaimed))
        self._spawn()
        self._monitor = threading.Thread(target=self._watch, name="queue-supervisor", daemon=True)
        self._monitor.start()

    def _spawn(self) -> None:
        assert self.run_id is not None
        context = multiprocessing.get_context("spawn")  # CTranslate2 and threads do not survive a fork
        self.process = context.Process(
            target=worker_main,
            args=(worker_config(self.config, self.run_id), self.config.worker_poll_s, os.getpid()),
            name="callcoach-web-worker",
            daemon=True,
        )
        self.process.start()

    def _watch(self) -> None:
        while not self._stopping.is_set():
            process = self.process
            assert process is not None
            process.join(timeout=1.0)
            if process.is_alive() or self._stopping.is_set():
                continue
            log.error("the analysis worker died (exit code %s); restarting it", process.exitcode)
            with Store(self.config.db) as store:
                store.reclaim_stale(crashed_run=self.run_id)  # twice on one file: that file is failed
            self.restarts += 1
            if self._stopping.wait(_RESTART_BACKOFF_S):
                return
            self._spawn()

    def stop(self) -> None:
        """Stop the worker now; a call it was analysing goes back to the queue (redone on the next start)."""
        self._stopping.set()
        process = self.process
        if process is not None and process.is_alive():
            process.terminate()
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)
        if self._monitor is not None:
            self._monitor.join(timeout=5)
        with Store(self.config.db) as store:
            store.reclaim_stale()
            if self.run_id is not None:
                store.finish_run(self.run_id, "finished")


def pending_uploads(db: Path) -> int:
    with Store(db) as store:
        row = store.db.execute(
            "SELECT COUNT(DISTINCT c.call_id) FROM calls c JOIN uploads u USING (call_id) WHERE c.status IN ('queued', 'processing')"
        ).fetchone()
        return int(row[0])
