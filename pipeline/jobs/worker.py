"""The analysis worker the nightly batch and the web queue share: set up once per process
(``init_worker``: one store connection and ONE Analyzer, so Whisper loads once), then ``process_call`` per
call: claim it in the store, analyse, write the report files all-or-nothing, mark it done (or failed with a
one-line reason). Both are plain picklable functions, so any executor (a process pool, Ray actors) can run
them; ``die_with_parent`` keeps a worker process from outliving its parent.
"""

from __future__ import annotations

import logging
import os
import resource
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pipeline import __version__
from pipeline.analyze import Analysis, Analyzer
from pipeline.audio.asr_cache import AsrCache
from pipeline.errors import CallcoachError
from pipeline.fingerprint import analysis_fingerprint
from pipeline.jobs.heartbeat import LeaseKeeper
from pipeline.options import AnalyzeOptions
from pipeline.report.files import report_files, write_all_or_nothing
from pipeline.store.database import Store
from pipeline.store.records import DEFAULT_LEASE_S, ErrorKind, Owner

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerConfig:
    """Everything a worker needs, picklable."""

    db: str
    options: AnalyzeOptions
    formats: tuple[str, ...]
    embed_audio: bool
    run_id: int | None
    lease_s: float = DEFAULT_LEASE_S
    asr_cache: str | None = None  # folder of cached transcriptions (pipeline/audio/asr_cache.py); None: none


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
    leases: LeaseKeeper


_worker: _Worker | None = None
_init_error: str | None = None  # why init_worker failed in this process, told to every call it is given


def init_worker(config: WorkerConfig) -> None:
    """Set this process up as a worker: one store connection and ONE Analyzer (Whisper and the language
    models load, ``Analyzer.warm_up``, before the first recording and serve every call this worker analyses)."""
    global _worker
    owner = Owner.current()
    cache = AsrCache(Path(config.asr_cache)) if config.asr_cache else None
    _worker = _Worker(config, Store(config.db), Analyzer(config.options, cache), owner,
                      LeaseKeeper(config.db, owner, config.lease_s))


def init_worker_or_remember_why(config: WorkerConfig) -> None:
    """``init_worker`` for a pool initializer: an initializer that raises breaks the pool without saying
    why, so the reason is kept and each call then fails with it ("fatal")."""
    global _init_error
    try:
        init_worker(config)
    except CallcoachError as error:
        _init_error = str(error)


def close_worker() -> None:
    global _worker
    if _worker is not None:
        _worker.leases.close()
        _worker.store.close()
        _worker = None


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def process_call(task: CallTask) -> CallResult:
    """Claim one call, analyse it, write its reports, then mark it done (or failed with a one-line reason)."""
    worker = _worker
    if worker is None:
        return CallResult(task.call_id, "fatal", _init_error or "worker was not initialised")
    store, owner, config = worker.store, worker.owner, worker.config

    def result(outcome: Outcome, error: str | None = None, duration_s: float | None = None) -> CallResult:
        return CallResult(task.call_id, outcome, error, duration_s, owner.pid, peak_rss_mib())

    if not store.claim(task.call_id, owner, config.run_id, config.lease_s, task.report_path):
        return result("elsewhere")
    worker.leases.hold(task.call_id)
    try:
        return _analyse_claimed(worker, task, result)
    finally:
        worker.leases.drop(task.call_id)


def _analyse_claimed(worker: _Worker, task: CallTask, result: Callable[..., CallResult]) -> CallResult:
    store, owner, config = worker.store, worker.owner, worker.config
    model, fingerprint = analysis_of(config.options, task)
    if task.kind == "audio":
        try:
            worker.analyzer.warm_up()  # load every model now: failing here is not the file's fault
        except CallcoachError as error:
            store.release(task.call_id, owner, str(error))
            return result("fatal", str(error))
    outcome = analyse_file(worker.analyzer, Path(task.source))
    if isinstance(outcome, Failure):
        return _failed(worker, task, result, outcome.message, outcome.kind, model, fingerprint)
    failure = write_reports(outcome, task, config.formats, config.embed_audio)
    if failure is not None:
        return _failed(worker, task, result, failure.message, failure.kind, model, fingerprint)
    if not store.mark_done(task.call_id, owner, outcome.report, model, ",".join(config.formats)):
        return result("elsewhere", "claim was taken over while analysing")
    return result("done", duration_s=outcome.report.duration_s)


def analysis_of(options: AnalyzeOptions, task: CallTask) -> tuple[str | None, str]:
    """The Whisper model (None for a transcript) and the analysis fingerprint a call's row records."""
    if task.kind == "audio":
        return options.asr.model, analysis_fingerprint(options, "audio")
    return None, analysis_fingerprint(options, "transcript")


@dataclass(frozen=True)
class Failure:
    kind: ErrorKind
    message: str  # one line, naming the file


def analyse_file(analyzer: Analyzer, source: Path) -> Analysis | Failure:
    """Analyse one file; what went wrong as a one-line Failure instead of an exception (one bad call must
    not stop a batch)."""
    try:
        return analyzer.analyze(source)
    except CallcoachError as error:
        return Failure("input", str(error))
    except Exception as error:  # noqa: BLE001 - say what happened in one line; the traceback goes to the debug log
        log.debug("unexpected error on %s", source, exc_info=True)
        detail = str(error).splitlines()[0] if str(error) else ""
        return Failure("bug", f"{source.name}: unexpected {type(error).__name__}: {detail}")


def write_reports(analysis: Analysis, task: CallTask, formats: tuple[str, ...], embed_audio: bool) -> Failure | None:
    """Write a call's report files all-or-nothing at ``task.report_path``; None when they are in place."""
    base = Path(task.report_path)
    try:
        files = report_files(analysis, base, formats, embed_audio)
        base.parent.mkdir(parents=True, exist_ok=True)
        write_all_or_nothing(files)
    except OSError as error:
        return Failure("io", f"{Path(task.source).name}: cannot write report ({error.strerror or error})")
    except Exception as error:  # noqa: BLE001 - a rendering bug fails this call only
        log.debug("unexpected error rendering %s", task.source, exc_info=True)
        return Failure("bug", f"{Path(task.source).name}: unexpected {type(error).__name__} writing the report: {error}")
    return None


def _failed(
    worker: _Worker,
    task: CallTask,
    result: Callable[..., CallResult],
    message: str,
    kind: ErrorKind,
    model: str | None,
    fingerprint: str,
) -> CallResult:
    worker.store.mark_failed(task.call_id, worker.owner, message, kind, __version__, model, fingerprint)
    return result("failed", message)


def die_with_parent(parent_pid: int) -> None:
    """A worker must not outlive a killed batch or server (it would hold a claim no rerun can take over)."""
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
