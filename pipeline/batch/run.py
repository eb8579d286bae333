"""The nightly batch: analyse every new call in an archive folder, in parallel, into a store and a report folder.

    discover (pipeline.batch.discover)
      → enqueue in the store (what is new, what is done already with the same analysis fingerprint, what
        failed before)
      → executor (pipeline.jobs): claim a row, analyse, write the report files, mark done — one call at a time
      → summary (pipeline.batch.progress)

Crash safety: a worker claims a row (queued → processing, with its pid) before touching a file, writes the
report files all-or-nothing and only then marks the row done, in one transaction. A run that starts after
a crash puts rows whose owner process is gone back in the queue and deletes their stale temporary files.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal, Protocol

from pipeline import __version__
from pipeline.audio.asr_cache import beside_store
from pipeline.audio.whisper_models import resolve as resolve_model
from pipeline.batch.discover import Discovery, compile_customer_pattern, compile_rep_pattern, discover
from pipeline.errors import CallcoachError
from pipeline.fingerprint import fingerprints
from pipeline.jobs.executors import ExecutorFactory, ProcessPoolCallExecutor
from pipeline.jobs.worker import CallResult, CallTask, WorkerConfig
from pipeline.options import AnalyzeOptions
from pipeline.report.files import FORMATS, remove_stale_temp_files
from pipeline.store.database import Store
from pipeline.store.records import DEFAULT_LEASE_S

log = logging.getLogger(__name__)
_TRANSCRIPT_WEIGHT_S = 5.0  # progress weight of a transcript, in "seconds of audio"


@dataclass(frozen=True)
class BatchOptions:
    archive: Path
    db: Path
    out: Path
    analyze: AnalyzeOptions = field(default_factory=AnalyzeOptions)
    workers: int = 1
    formats: tuple[str, ...] = FORMATS
    embed_audio: bool = True
    force: bool = False
    retry_failed: bool = False
    rep_pattern: str | None = None
    customer_pattern: str | None = None
    since: date | None = None  # only calls dated on or after this day
    lease_s: float = DEFAULT_LEASE_S
    asr_cache: bool = True  # keep transcriptions beside the store, so a re-analysis skips Whisper


@dataclass
class BatchSummary:
    archive: Path
    out: Path
    db: Path
    workers: int
    run_id: int | None = None
    status: Literal["finished", "interrupted"] = "finished"
    discovery: Discovery = field(default_factory=Discovery)
    reclaimed: int = 0
    temp_files_removed: int = 0
    queued: int = 0
    done: int = 0
    done_audio_s: float = 0.0
    skipped: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (relative source, one-line reason)
    peak_rss_mib: dict[int, float] = field(default_factory=dict)  # worker pid -> peak resident memory
    wall_s: float = 0.0

    @property
    def exit_code(self) -> int:
        if self.status == "interrupted":
            return 130
        return 1 if self.failures else 0


class ProgressSink(Protocol):
    def start(self, tasks: Sequence[CallTask]) -> None: ...

    def advance(self, task: CallTask, result: CallResult) -> None: ...

    def stop(self) -> None: ...


_MAX_ROUNDS = 3  # a pool whose worker died is rebuilt at most this many times per run


def run_batch(
    options: BatchOptions,
    progress: ProgressSink | None = None,
    executor_factory: ExecutorFactory = ProcessPoolCallExecutor,
) -> BatchSummary:
    """Analyse every new call of ``options.archive``. Raises CallcoachError for problems that stop the whole
    run (missing archive, unwritable store or output, a model that cannot load); a bad call only fails itself."""
    started = time.perf_counter()
    archive, out = options.archive, options.out
    if not archive.exists():
        raise CallcoachError(f"archive {archive} not found")
    if not archive.is_dir():
        raise CallcoachError(f"archive {archive} is not a folder")
    if options.workers < 1:
        raise CallcoachError("--workers must be at least 1")
    rep_pattern = compile_rep_pattern(options.rep_pattern)
    customer_pattern = compile_customer_pattern(options.customer_pattern)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CallcoachError(f"cannot create output folder {out}: {error.strerror or error}") from error
    if not os.access(out, os.W_OK | os.X_OK):
        raise CallcoachError(f"output folder {out} is not writable")

    summary = BatchSummary(archive=archive, out=out, db=options.db, workers=options.workers)
    model = options.analyze.asr.model
    with Store(options.db) as store:
        current = fingerprints(options.analyze)
        summary.run_id = run_id = store.start_run(str(archive.resolve()), str(out.resolve()), options.workers, __version__,
                                                  model, current["audio"])
        try:
            summary.reclaimed = len(store.reclaim_stale())
            summary.temp_files_removed = remove_stale_temp_files(out, store.live_report_paths())
            summary.discovery = discover(archive, store, out, rep_pattern, customer_pattern)
            calls = summary.discovery.calls
            if options.since is not None:
                first_day = options.since.isoformat()
                calls = [call for call in calls if call.call_date is None or call.call_date >= first_day]
                if len(calls) < len(summary.discovery.calls):
                    summary.skipped["before_since"] = len(summary.discovery.calls) - len(calls)
            decisions = store.enqueue(calls, current, options.force, options.retry_failed, run_id)
            tasks = []
            for call in calls:
                decision, report_path = decisions[call.call_id]
                if decision != "queued":
                    summary.skipped[decision] += 1
                    continue
                weight = call.duration_s if call.duration_s else _TRANSCRIPT_WEIGHT_S
                tasks.append(CallTask(call.call_id, call.source, call.kind, report_path, weight))
            summary.queued = len(tasks)
            if any(task.kind == "audio" for task in tasks):
                resolve_model(model)  # fail once, here, rather than in every worker; also assembles "base" once
            _run_tasks(options, store, run_id, tasks, summary, progress, executor_factory)
        except KeyboardInterrupt:
            summary.status = "interrupted"
            store.reclaim_stale()  # the terminated workers' claims go back to the queue now
        except BaseException:
            store.reclaim_stale()  # claims of workers stopped by the abort go back to the queue
            store.finish_run(run_id, "aborted", wall_s=time.perf_counter() - started)
            raise
        summary.wall_s = time.perf_counter() - started
        store.finish_run(
            run_id,
            summary.status,
            discovered=len(summary.discovery.calls),
            done=summary.done,
            skipped=sum(summary.skipped.values()),
            failed=len(summary.failures),
            audio_s=summary.done_audio_s,
            wall_s=summary.wall_s,
        )
    return summary


def _run_tasks(
    options: BatchOptions,
    store: Store,
    run_id: int,
    tasks: list[CallTask],
    summary: BatchSummary,
    progress: ProgressSink | None,
    executor_factory: ExecutorFactory,
) -> None:
    if not tasks:
        return
    archive = options.archive.resolve()
    workers = min(options.workers, len(tasks))
    threads = max(1, (os.cpu_count() or 1) // workers)
    config = WorkerConfig(
        db=str(options.db),
        options=options.analyze.with_cpu_threads(threads),
        formats=options.formats,
        embed_audio=options.embed_audio,
        run_id=run_id,
        lease_s=options.lease_s,
        asr_cache=str(beside_store(options.db)) if options.asr_cache else None,
    )

    def relative(source: str) -> str:
        path = Path(source)
        return str(path.relative_to(archive)) if path.is_relative_to(archive) else str(path)

    by_id = {task.call_id: task for task in tasks}
    pending = tasks
    if progress:
        progress.start(tasks)
    try:
        for round_number in range(_MAX_ROUNDS):
            lost: list[CallTask] = []
            executor = executor_factory(config, workers)
            cancel = True
            try:
                for result in executor.run(pending):
                    task = by_id[result.call_id]
                    if result.worker_pid is not None and result.peak_rss_mib is not None:
                        summary.peak_rss_mib[result.worker_pid] = result.peak_rss_mib
                    if result.outcome == "lost":
                        lost.append(task)
                        continue
                    if result.outcome == "fatal":
                        raise CallcoachError(result.error or "a worker could not start")
                    if result.outcome == "done":
                        summary.done += 1
                        summary.done_audio_s += result.duration_s or 0.0
                    elif result.outcome == "failed":
                        summary.failures.append((relative(task.source), result.error or "failed"))
                    else:
                        summary.skipped["elsewhere"] += 1
                    if progress:
                        progress.advance(task, result)
                cancel = False
            finally:
                executor.close(cancel=cancel)
            if not lost:
                return
            # A worker died: calls it held count a crash (failed after repeated crashes), the rest go again.
            log.warning("a worker process died (round %d); retrying %d calls", round_number + 1, len(lost))
            store.reclaim_stale(crashed_run=run_id)
            pending = []
            for task in lost:
                row = store.call(task.call_id)
                if row is not None and row.status == "queued":
                    pending.append(task)
                    continue
                if row is not None and row.status == "failed":
                    summary.failures.append((relative(task.source), row.error or "failed"))
                if progress:
                    progress.advance(task, CallResult(task.call_id, "failed"))
            if not pending:
                return
        for task in pending:
            summary.failures.append((relative(task.source), "worker processes kept dying; gave up for this run"))
    finally:
        if progress:
            progress.stop()


