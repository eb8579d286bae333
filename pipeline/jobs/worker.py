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
from pipeline.analyze import Analyzer
from pipeline.errors import CallcoachError
from pipeline.fingerprint import analysis_fingerprint
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
_init_error: str | None = None  # why init_worker failed in this process, told to every call it is given


def init_worker(config: WorkerConfig) -> None:
    """Set this process up as a worker: one store connection and ONE Analyzer (Whisper loads on the
    first recording and is reused for every call this worker analyses)."""
    global _worker
    _worker = _Worker(config, Store(config.db), Analyzer(config.options), Owner.current())


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
        _worker.store.close()
        _worker = None


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
    fingerprint = analysis_fingerprint(config.options, "audio" if task.kind == "audio" else "transcript")
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
        return _failed(worker, task, result, str(error), "input", model, fingerprint)
    except OSError as error:
        reason = f"{source.name}: cannot write report ({error.strerror or error})"
        return _failed(worker, task, result, reason, "io", model, fingerprint)
    except Exception as error:  # noqa: BLE001 - one bad call must not stop the batch; say what happened in one line
        log.debug("unexpected error on %s", source, exc_info=True)
        detail = str(error).splitlines()[0] if str(error) else ""
        reason = f"{source.name}: unexpected {type(error).__name__}: {detail}"
        return _failed(worker, task, result, reason, "bug", model, fingerprint)
    if not store.mark_done(task.call_id, owner, analysis.report, model, ",".join(config.formats)):
        return result("elsewhere", "claim was taken over while analysing")
    return result("done", duration_s=analysis.report.duration_s)


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
