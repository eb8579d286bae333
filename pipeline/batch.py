"""The nightly batch: analyse every new call in an archive folder, in parallel, into a store and a report folder.

    discover (content sniffing, SHA-256 identity, rep and date from the path)
      → enqueue in the store (what is new, what is done already, what failed before)
      → worker pool: claim a row, analyse, write the report files, mark done — one call at a time
      → summary

Crash safety: a worker claims a row (queued → processing, with its pid) before touching a file, writes the
report files all-or-nothing and only then marks the row done, in one transaction. A run that starts after
a crash puts rows whose owner process is gone back in the queue and deletes their stale temporary files.

The worker pool is behind :class:`CallExecutor`: a worker is ``init_worker(config)`` once and
``process_call(task)`` per call, both plain picklable functions, so another executor (Ray actors, say) can
run the same worker code.
"""

from __future__ import annotations

import json
import logging
import os
import re
import resource
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import CancelledError, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from multiprocessing import get_context
from pathlib import Path, PurePosixPath
from typing import Literal, Protocol

import av

from pipeline import __version__
from pipeline.analyze import AnalyzeOptions, Analyzer
from pipeline.errors import CallcoachError
from pipeline.models import resolve as resolve_model
from pipeline.models import sha256_of
from pipeline.output import report_files, write_all_or_nothing
from pipeline.store import DEFAULT_LEASE_S, DiscoveredCall, FileInfo, Owner, Store

log = logging.getLogger(__name__)

FORMATS = ("json", "md", "html")
# Extensions that make an undecodable file a *broken recording* (reported as failed) rather than a stray file.
AUDIO_SUFFIXES = {".wav", ".mp3", ".m4a", ".mp4", ".aac", ".ogg", ".oga", ".opus", ".flac", ".amr", ".wma", ".webm", ".3gp"}
_MAX_JSON_BYTES = 50_000_000
_TRANSCRIPT_WEIGHT_S = 5.0  # progress weight of a transcript, in "seconds of audio"
_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)|(?<!\d)(\d{4})(\d{2})(\d{2})(?:\d{6})?(?!\d)")
# write_all_or_nothing stages ".<name>.<random>.tmp" beside each target.
_STAGED_TEMP = re.compile(r"^\.(?P<target>.+\.(?:json|md|html))\.[^.]+\.tmp$")


# --------------------------------------------------------------------------------------------- discovery


@dataclass
class Discovery:
    files_seen: int = 0
    calls: list[DiscoveredCall] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (relative path, relative path of the first copy)
    not_calls: list[tuple[str, str]] = field(default_factory=list)  # (relative path, why)


def sniff(path: Path) -> tuple[Literal["audio", "transcript", "other"], float | None, str | None]:
    """What a file is, by content: ``(kind, duration_s, why-not)``. Transcripts are JSON objects with
    ``turns``; recordings are anything PyAV opens with an audio stream; a file named like a recording
    that does not open is kept as a (broken) recording so that it is reported, not silently skipped."""
    size = path.stat().st_size
    if size == 0:
        return ("audio", None, None) if path.suffix.lower() in AUDIO_SUFFIXES else ("other", None, "empty file")
    with open(path, "rb") as handle:
        head = handle.read(64)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return _sniff_json(path, size)
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if container.streams.audio:
                duration = container.duration / 1_000_000 if container.duration else None
                return "audio", duration, None
    except (av.error.FFmpegError, ValueError, OSError, UnicodeDecodeError):
        pass
    if path.suffix.lower() in AUDIO_SUFFIXES:
        return "audio", None, None
    return "other", None, "not a recording or a transcript"


def _sniff_json(path: Path, size: int) -> tuple[Literal["transcript", "other"], None, str | None]:
    if size > _MAX_JSON_BYTES:
        return "other", None, "JSON too large for a transcript"
    try:
        data = json.loads(path.read_text("utf-8-sig"))
    except (ValueError, OSError):
        return "other", None, "not valid JSON"
    if not isinstance(data, dict) or not isinstance(data.get("turns"), list):
        return "other", None, "JSON without turns"
    if "pipeline_version" in data and "meeting" in data:
        return "other", None, "a callcoach report"
    if path.suffix.lower() != ".json":
        return "other", None, "transcript not named *.json"
    return "transcript", None, None


def call_date_of(relative: PurePosixPath, mtime_s: float) -> str:
    """YYYY-MM-DD from the file name (YYYY-MM-DD or YYYYMMDD[hhmmss]), else from its folders, else the mtime."""
    for part in [relative.name, *reversed(relative.parent.parts)]:
        for match in _DATE_IN_NAME.finditer(part):
            numbers = [int(g) for g in match.groups() if g is not None]
            try:
                return date(*numbers).isoformat()
            except ValueError:
                continue
    return datetime.fromtimestamp(mtime_s).date().isoformat()


def rep_of(relative: PurePosixPath, pattern: re.Pattern[str] | None) -> str | None:
    """The rep: the first folder under the archive (``archive/<rep>/...``), or the ``rep`` group of
    ``pattern`` searched in the relative path. None for a file directly in the archive or no match."""
    if pattern is not None:
        match = pattern.search(relative.as_posix())
        return (match.group("rep") or None) if match else None
    return relative.parts[0] if len(relative.parts) > 1 else None


def compile_rep_pattern(text: str | None) -> re.Pattern[str] | None:
    if text is None:
        return None
    try:
        pattern = re.compile(text)
    except re.error as error:
        raise CallcoachError(f"--rep-pattern is not a valid regular expression: {error}") from error
    if "rep" not in pattern.groupindex:
        raise CallcoachError("--rep-pattern needs a named group 'rep', e.g. '^(?P<rep>[^/]+)/'")
    return pattern


def _walk(archive: Path, exclude: set[Path]) -> Iterator[Path]:
    for folder, dirs, files in os.walk(archive):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and (here / d).resolve() not in exclude)
        for name in sorted(files):
            if not name.startswith(".") and (here / name).resolve() not in exclude:
                yield here / name


def discover(archive: Path, store: Store, out: Path, rep_pattern: re.Pattern[str] | None = None) -> Discovery:
    """Every call under ``archive``: content-sniffed, hashed (cached by path/size/mtime in the store),
    one entry per distinct content. The report folder ``out`` and the store's own files are not searched."""
    archive = archive.resolve()
    out = out.resolve()
    excluded = {out, *(Path(f"{store.path}{suffix}").resolve() for suffix in ("", "-wal", "-shm", "-journal"))}
    found = Discovery()
    first_copy: dict[str, str] = {}
    fresh: list[FileInfo] = []
    for path in _walk(archive, excluded):
        try:
            stat = path.stat()
        except OSError:
            continue  # vanished or a dangling link
        if not path.is_file():
            continue
        found.files_seen += 1
        relative = PurePosixPath(path.relative_to(archive).as_posix())
        info = store.cached_file(str(path), stat.st_size, stat.st_mtime_ns)
        if info is None:
            try:
                kind, duration_s, detail = sniff(path)
                digest = sha256_of(path)
            except OSError as error:
                found.not_calls.append((str(relative), f"cannot read ({error.strerror or error})"))
                continue
            info = FileInfo(str(path), stat.st_size, stat.st_mtime_ns, digest, kind, duration_s, detail)
            fresh.append(info)
        if info.kind == "other":
            found.not_calls.append((str(relative), info.detail or "not a call"))
            continue
        if info.sha256 in first_copy:
            found.duplicates.append((str(relative), first_copy[info.sha256]))
            continue
        first_copy[info.sha256] = str(relative)
        found.calls.append(
            DiscoveredCall(
                call_id=info.sha256[:16],  # the same id analyze.call_id_of puts in the report
                sha256=info.sha256,
                source=str(path),
                kind=info.kind,
                rep=rep_of(relative, rep_pattern),
                call_date=call_date_of(relative, stat.st_mtime),
                duration_s=info.duration_s,
                report_path=str(out / relative.parent / relative.stem),
            )
        )
    if fresh:
        store.remember_files(fresh)
    return found


def remove_stale_temp_files(out: Path, live_report_paths: set[str]) -> int:
    """Delete temporary report files left by a killed worker (not those of calls being written right now)."""
    removed = 0
    for path in out.rglob(".*.tmp"):
        match = _STAGED_TEMP.match(path.name)
        if not match:
            continue
        target = path.parent / match["target"]
        if str(target.with_suffix("")) in live_report_paths:
            continue
        path.unlink(missing_ok=True)
        removed += 1
    return removed


# ---------------------------------------------------------------------------------------------- workers


@dataclass(frozen=True)
class WorkerConfig:
    """Everything a worker needs, picklable."""

    db: str
    options: AnalyzeOptions
    formats: tuple[str, ...]
    embed_audio: bool
    run_id: int | None
    lease_s: float = DEFAULT_LEASE_S


@dataclass(frozen=True)
class CallTask:
    call_id: str
    source: str
    kind: str
    report_path: str
    weight_s: float  # for the progress bar and ETA: audio seconds (an estimate for transcripts)


Outcome = Literal["done", "failed", "elsewhere", "fatal", "lost"]


@dataclass(frozen=True)
class CallResult:
    call_id: str
    outcome: Outcome  # elsewhere: another run has it; fatal: the worker cannot work; lost: the worker died
    error: str | None = None
    duration_s: float | None = None
    worker_pid: int | None = None
    peak_rss_mib: float | None = None


@dataclass
class _Worker:
    config: WorkerConfig
    store: Store
    analyzer: Analyzer
    owner: Owner


_worker: _Worker | None = None


def init_worker(config: WorkerConfig) -> None:
    """Set this process up as a worker: one store connection and ONE Analyzer (Whisper loads on the
    first recording and is reused for every call this worker analyses)."""
    global _worker
    _worker = _Worker(config, Store(config.db), Analyzer(config.options), Owner.current())


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def process_call(task: CallTask) -> CallResult:
    """Claim one call, analyse it, write its reports, then mark it done (or failed with a one-line reason)."""
    worker = _worker
    if worker is None:
        return CallResult(task.call_id, "fatal", _init_error or "worker was not initialised")
    store, owner, config = worker.store, worker.owner, worker.config

    def result(outcome: Outcome, error: str | None = None, duration_s: float | None = None) -> CallResult:
        return CallResult(task.call_id, outcome, error, duration_s, owner.pid, _peak_rss_mib())

    if not store.claim(task.call_id, owner, config.run_id, config.lease_s, task.report_path):
        return result("elsewhere")
    model = config.options.asr.model if task.kind == "audio" else None
    if task.kind == "audio":
        try:
            worker.analyzer.transcriber  # noqa: B018 - load Whisper now: failing here is not the file's fault
        except CallcoachError as error:
            store.release(task.call_id, owner, str(error))
            return result("fatal", str(error))
    source = Path(task.source)
    try:
        analysis = worker.analyzer.analyze(source)
        files = report_files(analysis, Path(task.report_path), config.formats, config.embed_audio)
        Path(task.report_path).parent.mkdir(parents=True, exist_ok=True)
        write_all_or_nothing(files)
    except CallcoachError as error:
        return _failed(worker, task, result, str(error), "input", model)
    except OSError as error:
        return _failed(worker, task, result, f"{source.name}: cannot write report ({error.strerror or error})", "io", model)
    except Exception as error:  # noqa: BLE001 - one bad call must not stop the batch; say what happened in one line
        log.debug("unexpected error on %s", source, exc_info=True)
        detail = str(error).splitlines()[0] if str(error) else ""
        return _failed(worker, task, result, f"{source.name}: unexpected {type(error).__name__}: {detail}", "bug", model)
    if not store.mark_done(task.call_id, owner, analysis.report, model, ",".join(config.formats)):
        return result("elsewhere", "claim was taken over while analysing")
    return result("done", duration_s=analysis.report.duration_s)


def _failed(worker: _Worker, task: CallTask, result, message: str, kind, model: str | None) -> CallResult:
    worker.store.mark_failed(task.call_id, worker.owner, message, kind, __version__, model)
    return result("failed", message)


# ------------------------------------------------------------------------------------- executors (seam)


class CallExecutor(Protocol):
    """Runs ``process_call`` for tasks on workers set up with ``init_worker``; yields results as they finish.
    A worker that dies yields ``outcome="lost"`` for the tasks it took down."""

    def run(self, tasks: Sequence[CallTask]) -> Iterator[CallResult]: ...

    def close(self, cancel: bool = False) -> None: ...


ExecutorFactory = Callable[[WorkerConfig, int], CallExecutor]


def _die_with_parent(parent_pid: int) -> None:
    """A worker must not outlive a killed batch (it would hold a claim no rerun can take over)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):
        pass

    def watch() -> None:  # the portable fallback
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(1)

    if os.getppid() != parent_pid:
        os._exit(1)
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


_init_error: str | None = None


def _pool_initializer(config: WorkerConfig, parent_pid: int) -> None:
    global _init_error
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _die_with_parent(parent_pid)
    try:
        init_worker(config)
    except CallcoachError as error:  # an initializer that raises breaks the pool without saying why
        _init_error = str(error)


class ProcessPoolCallExecutor:
    """Local worker processes (spawned, not forked: CTranslate2 and threads do not survive a fork)."""

    def __init__(self, config: WorkerConfig, workers: int):
        self.pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=get_context("spawn"),
            initializer=_pool_initializer,
            initargs=(config, os.getpid()),
        )

    def run(self, tasks: Sequence[CallTask]) -> Iterator[CallResult]:
        futures = {self.pool.submit(process_call, task): task for task in tasks}
        for future in as_completed(futures):
            task = futures[future]
            try:
                yield future.result()
            except BrokenProcessPool:
                yield CallResult(task.call_id, "lost", "a worker process died")
            except CancelledError:
                continue

    def close(self, cancel: bool = False) -> None:
        if cancel:
            # No public way to stop running tasks: terminate the workers; their claims are reclaimed.
            processes = list(getattr(self.pool, "_processes", {}).values())
            self.pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()
            for process in processes:
                process.join(timeout=10)
        else:
            self.pool.shutdown(wait=True)


class InlineCallExecutor:
    """Runs calls one by one in this process (debugging, tests, a machine without multiprocessing)."""

    def __init__(self, config: WorkerConfig, workers: int = 1):
        init_worker(config)

    def run(self, tasks: Sequence[CallTask]) -> Iterator[CallResult]:
        for task in tasks:
            yield process_call(task)

    def close(self, cancel: bool = False) -> None:
        global _worker
        if _worker is not None:
            _worker.store.close()
            _worker = None


# ---------------------------------------------------------------------------------------------- the run


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
    since: date | None = None  # only calls dated on or after this day
    lease_s: float = DEFAULT_LEASE_S


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


SKIP_REASONS = {
    "done": "already done with this pipeline version and model",
    "failed_before": "failed before on this input (--retry-failed to try again)",
    "in_progress": "being analysed by another run",
    "elsewhere": "taken by another run meanwhile",
    "before_since": "dated before --since",
}
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
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CallcoachError(f"cannot create output folder {out}: {error.strerror or error}") from error
    if not os.access(out, os.W_OK | os.X_OK):
        raise CallcoachError(f"output folder {out} is not writable")

    summary = BatchSummary(archive=archive, out=out, db=options.db, workers=options.workers)
    model = options.analyze.asr.model
    with Store(options.db) as store:
        summary.run_id = run_id = store.start_run(str(archive.resolve()), str(out.resolve()), options.workers, __version__, model)
        try:
            summary.reclaimed = len(store.reclaim_stale())
            summary.temp_files_removed = remove_stale_temp_files(out, store.live_report_paths())
            summary.discovery = discover(archive, store, out, rep_pattern)
            calls = summary.discovery.calls
            if options.since is not None:
                first_day = options.since.isoformat()
                calls = [call for call in calls if call.call_date is None or call.call_date >= first_day]
                if len(calls) < len(summary.discovery.calls):
                    summary.skipped["before_since"] = len(summary.discovery.calls) - len(calls)
            decisions = store.enqueue(calls, __version__, model, options.force, options.retry_failed, run_id)
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
    analyze = options.analyze
    config = WorkerConfig(
        db=str(options.db),
        options=AnalyzeOptions(analyze.language, analyze.rep_channel, replace(analyze.asr, cpu_threads=threads)),
        formats=options.formats,
        embed_audio=options.embed_audio,
        run_id=run_id,
        lease_s=options.lease_s,
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


# --------------------------------------------------------------------------------------- progress, summary


class RichProgress:
    """A progress bar on stderr: calls done / total, successes and failures, elapsed time and ETA. The bar
    advances by audio seconds, so the ETA reflects how much audio is left, not how many files."""

    def __init__(self, console=None):
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console or Console(stderr=True),
            transient=False,
        )
        self.total = self.finished = self.ok = self.failed = 0

    def _counts(self) -> str:
        return f"{self.finished}/{self.total} calls · [green]{self.ok} done[/green] · [red]{self.failed} failed[/red]"

    def start(self, tasks: Sequence[CallTask]) -> None:
        self.total = len(tasks)
        self.task_id = self.progress.add_task("analysing", total=sum(t.weight_s for t in tasks), counts=self._counts())
        self.progress.start()

    def advance(self, task: CallTask, result: CallResult) -> None:
        self.finished += 1
        self.ok += result.outcome == "done"
        self.failed += result.outcome == "failed"
        self.progress.update(self.task_id, advance=task.weight_s, counts=self._counts())

    def stop(self) -> None:
        self.progress.stop()


def _minutes(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest:02d} s"


def format_summary(summary: BatchSummary, max_failures: int = 10) -> str:
    """The end-of-run summary, one screen: what was found, done, skipped and failed, and how fast."""
    d = summary.discovery
    kinds = Counter(call.kind for call in d.calls)
    lines = [
        f"callcoach batch {summary.archive} → {summary.out}  (store {summary.db}, run {summary.run_id})",
        f"  found      {d.files_seen} files: {len(d.calls)} calls ({kinds['audio']} recordings, "
        f"{kinds['transcript']} transcripts), {len(d.duplicates)} duplicate copies, {len(d.not_calls)} not calls",
    ]
    by_reason = Counter(reason for _, reason in d.not_calls)
    for reason, count in by_reason.most_common():
        examples = [name for name, why in d.not_calls if why == reason][:2]
        lines.append(f"             {count} × {reason}: {', '.join(examples)}{' …' if count > len(examples) else ''}")
    if summary.reclaimed or summary.temp_files_removed:
        lines.append(
            f"  recovered  {summary.reclaimed} calls left by a crashed run, {summary.temp_files_removed} stale temporary files removed"
        )
    lines.append(f"  done       {summary.done}  ({summary.done_audio_s / 60:.1f} audio min)")
    skipped = sum(summary.skipped.values())
    lines.append(f"  skipped    {skipped}")
    for reason, count in summary.skipped.most_common():
        lines.append(f"             {count} × {SKIP_REASONS.get(reason, reason)}")
    lines.append(f"  failed     {len(summary.failures)}")
    for source, error in summary.failures[:max_failures]:
        lines.append(f"             {source}: {error.removeprefix(Path(source).name + ': ')}")
    if len(summary.failures) > max_failures:
        lines.append(f"             … {len(summary.failures) - max_failures} more: callcoach calls --db {summary.db} --status failed")
    speed = ""
    if summary.done_audio_s and summary.wall_s:
        speed = f" · {summary.done_audio_s / summary.wall_s:.1f} audio min per wall min"
    rss = ""
    if summary.peak_rss_mib:
        rss = f" · peak memory per worker {max(summary.peak_rss_mib.values()):.0f} MiB"
    lines.append(f"  wall time  {_minutes(summary.wall_s)} · {summary.workers} worker(s){speed}{rss}")
    if summary.status == "interrupted":
        lines.append("  INTERRUPTED: unfinished calls stay queued; run the same command again to continue.")
    return "\n".join(lines)
