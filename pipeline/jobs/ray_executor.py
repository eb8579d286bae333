"""The nightly batch on a Ray cluster: Ray actors analyse, this process (the driver) keeps the books.

Each actor loads Whisper and the language models once and analyses the calls it is sent; the recording
travels through Ray's object store (no shared filesystem), or as a path when the operator says the archive
is mounted at the same place on every node. The driver is the store's only writer: it claims a call,
dispatches it, renews the claim's lease while the call is in flight, renders and writes the report files
all-or-nothing when the report comes back and only then marks the call done, exactly as a local worker does.

Faults: an actor process that dies mid-call is restarted by Ray and the call sent again; a file whose
analysis killed its actor ``CRASHES_BEFORE_FAILED`` times is marked failed with that reason. A driver that
dies takes its actors with it (they are not detached), and the next run reclaims its claims.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import tempfile
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline import __version__
from pipeline.analyze import Analysis, Analyzer
from pipeline.audio.asr_cache import AsrCache, AsrResult, OneCallCache, settings_key
from pipeline.errors import CallcoachError
from pipeline.identity import sha256_of
from pipeline.jobs.heartbeat import LeaseKeeper
from pipeline.jobs.worker import (
    CallResult,
    CallTask,
    Failure,
    WorkerConfig,
    analyse_file,
    analysis_of,
    peak_rss_mib,
    write_reports,
)
from pipeline.options import AnalyzeOptions
from pipeline.report.schema import Report
from pipeline.store.database import Store
from pipeline.store.records import CRASHES_BEFORE_FAILED, Owner

log = logging.getLogger(__name__)
RESTART_TIMEOUT_S = 300.0  # a restarted actor loads its models again before it answers
RESTART_POLL_S = 0.5
_ACTOR_RESTARTS = 1000  # Ray restarts a dead actor; when a *file* kills it is counted per call instead
PROBE_TIMEOUT_S = 5.0


def require_ray():
    try:
        import ray
    except ImportError as error:
        raise CallcoachError("--executor ray needs Ray: pip install 'callcoach[ray]'") from error
    return ray


def check_reachable(address: str | None) -> None:
    """Fail in one line when Ray is missing or nothing listens at a cluster's address (Ray itself retries
    for minutes); None and "auto" are left to ``ray.init``."""
    require_ray()
    if address in (None, "auto"):
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise CallcoachError(f"Ray address {address!r} is not HOST:PORT, ray://HOST:PORT or auto")
    try:
        socket.create_connection((host, int(port)), timeout=PROBE_TIMEOUT_S).close()
    except OSError as error:
        raise CallcoachError(f"cannot reach the Ray cluster at {address}: {error.strerror or error}") from error


@dataclass(frozen=True)
class ActorReply:
    """What an actor sends back for one call: the report, or why it failed; its pid and peak memory."""

    report: Report | None
    failure: Failure | None
    pid: int
    peak_rss_mib: float
    fatal: str | None = None  # the actor cannot work at all (e.g. no Whisper model on its node)
    transcription: AsrResult | None = None  # what Whisper wrote, when it ran, for the driver's cache


class CallAnalyst:
    """The actor's body (a plain class, wrapped with ``ray.remote`` at run time so Ray stays optional)."""

    def __init__(self, options: AnalyzeOptions):
        self.analyzer = Analyzer(options)

    def pid(self) -> int:
        return os.getpid()

    def analyse(self, task: CallTask, recording: bytes | None, cached: AsrResult | None = None) -> ActorReply:
        """Analyse one call: from ``recording`` (the file's bytes, sent through the object store) or, when
        None, from ``task.source`` on this node's filesystem; with ``cached``, what Whisper wrote of it before
        (the driver keeps the cache, so no node needs its folder)."""
        one_call = OneCallCache(cached)
        self.analyzer.asr_cache = None if self.analyzer.options.redact else one_call
        if task.kind == "audio":
            try:
                self.analyzer.warm_up()  # once per actor; failing here is the node's fault, not the file's
            except CallcoachError as error:
                return ActorReply(None, None, os.getpid(), peak_rss_mib(), fatal=str(error))
        if recording is None:
            outcome = analyse_file(self.analyzer, Path(task.source))
        else:
            with tempfile.TemporaryDirectory(prefix="callcoach-") as scratch:
                local = Path(scratch) / Path(task.source).name  # same name: messages and call id as at home
                local.write_bytes(recording)
                outcome = analyse_file(self.analyzer, local)
        if isinstance(outcome, Failure):
            return ActorReply(None, outcome, os.getpid(), peak_rss_mib())
        report = outcome.report.model_copy(update={"source": task.source})
        return ActorReply(report, None, os.getpid(), peak_rss_mib(), transcription=one_call.made)


@dataclass
class _InFlight:
    task: CallTask
    actor: object


class RayCallExecutor:
    """Runs calls on ``workers`` Ray actors; the executor seam of ``pipeline.batch.run``."""

    def __init__(self, config: WorkerConfig, workers: int, address: str | None = None, shared_fs: bool = False):
        self.ray = ray = require_ray()
        self.config, self.shared_fs = config, shared_fs
        self.started_ray = not ray.is_initialized()
        check_reachable(address)
        try:
            if self.started_ray:  # without an address: a local Ray, started and stopped with the batch
                ray.init(address=address, include_dashboard=False, log_to_driver=False,
                         logging_level=logging.WARNING, configure_logging=False)
        except Exception as error:  # noqa: BLE001 - Ray raises ConnectionError, RuntimeError, ValueError...
            where = address or "a local Ray"
            raise CallcoachError(f"cannot reach the Ray cluster at {where}: {str(error).splitlines()[0]}") from error
        cluster_cpus = int(ray.cluster_resources().get("CPU", 1))
        threads = max(1, cluster_cpus // workers)
        options = config.options.with_cpu_threads(threads)
        actor_class = ray.remote(CallAnalyst).options(
            num_cpus=threads, max_restarts=_ACTOR_RESTARTS, max_task_retries=0)
        self.actors = [actor_class.remote(options) for _ in range(workers)]
        self.store = Store(config.db)
        self.owner = Owner.current()
        self.leases = LeaseKeeper(config.db, self.owner, config.lease_s)
        self.held: set[str] = set()
        self.cache = AsrCache(Path(config.asr_cache)) if config.asr_cache and not config.options.redact else None
        self.cache_key = settings_key(config.options)
        self.sha256: dict[str, str] = {}  # call id -> its recording's SHA-256, while in flight

    def _dispatch(self, task: CallTask, actor) -> object | CallResult:
        """Claim ``task`` and send it to ``actor``: the reply's object ref, or the result when it went no further."""
        if task.call_id not in self.held:
            if not self.store.claim(task.call_id, self.owner, self.config.run_id, self.config.lease_s,
                                    task.report_path):
                return CallResult(task.call_id, "elsewhere")
            self.held.add(task.call_id)
            self.leases.hold(task.call_id)
        recording, cached = None, None
        try:
            if not self.shared_fs:
                recording = Path(task.source).read_bytes()
            if self.cache is not None and task.kind == "audio":
                sha256 = hashlib.sha256(recording).hexdigest() if recording is not None else sha256_of(Path(task.source))
                self.sha256[task.call_id] = sha256
                cached = self.cache.get(sha256, self.cache_key)
        except OSError as error:
            return self._failed(task, Failure("input", f"{Path(task.source).name}: cannot read "
                                                       f"({error.strerror or error})"))
        return actor.analyse.remote(task, recording, cached)

    def run(self, tasks: Sequence[CallTask]) -> Iterator[CallResult]:
        pending = deque(tasks)
        idle = list(self.actors)
        in_flight: dict[object, _InFlight] = {}
        while pending or in_flight:
            while idle and pending:
                task = pending.popleft()
                sent = self._dispatch(task, idle[-1])
                if isinstance(sent, CallResult):
                    yield sent
                    continue
                in_flight[sent] = _InFlight(task, idle.pop())
            if not in_flight:
                continue
            [ref], _ = self.ray.wait(list(in_flight), num_returns=1)
            flight = in_flight.pop(ref)
            idle.append(flight.actor)
            try:
                reply: ActorReply = self.ray.get(ref)
            except self.ray.exceptions.RayActorError as error:
                # The actor's process died on this call (killed, out of memory): Ray restarts the actor.
                crashes = self.store.count_crash(flight.task.call_id, self.owner)
                log.warning("a Ray worker died analysing %s (%d times): %s: %s", flight.task.source, crashes,
                            type(error).__name__, str(error).splitlines()[0] if str(error) else "")
                self._await_restart(flight.actor)  # a call sent while it restarts would fail as well
                if crashes >= CRASHES_BEFORE_FAILED:
                    name = Path(flight.task.source).name
                    yield self._failed(flight.task, Failure(
                        "crash", f"{name}: the worker process died while analysing this file ({crashes} times)"))
                else:
                    pending.appendleft(flight.task)
                continue
            except self.ray.exceptions.RayError as error:  # e.g. the node's disk full: this call fails alone
                detail = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
                yield self._failed(flight.task, Failure("bug", f"{Path(flight.task.source).name}: {detail}"))
                continue
            yield self._finish(flight.task, reply)

    def _await_restart(self, actor) -> None:
        deadline = time.monotonic() + RESTART_TIMEOUT_S
        while True:
            try:
                self.ray.get(actor.pid.remote(), timeout=RESTART_TIMEOUT_S)
                return
            except (self.ray.exceptions.RayActorError, self.ray.exceptions.GetTimeoutError) as error:
                if time.monotonic() > deadline:
                    raise CallcoachError(f"a Ray actor did not come back after its process died: {error}") from error
                time.sleep(RESTART_POLL_S)

    def _finish(self, task: CallTask, reply: ActorReply) -> CallResult:
        if reply.fatal is not None:
            self._release(task)
            self.store.release(task.call_id, self.owner, reply.fatal)
            return CallResult(task.call_id, "fatal", reply.fatal)
        if reply.failure is not None:
            return self._failed(task, reply.failure, reply)
        assert reply.report is not None
        sha256 = self.sha256.pop(task.call_id, None)
        if self.cache is not None and sha256 is not None and reply.transcription is not None:
            self.cache.put(sha256, self.cache_key, reply.transcription)
        analysis = Analysis(reply.report, Path(task.source) if task.kind == "audio" else None)
        failure = write_reports(analysis, task, self.config.formats, self.config.embed_audio)
        if failure is not None:
            return self._failed(task, failure, reply)
        self._release(task)
        model, _ = analysis_of(self.config.options, task)
        if not self.store.mark_done(task.call_id, self.owner, reply.report, model, ",".join(self.config.formats)):
            return CallResult(task.call_id, "elsewhere", "claim was taken over while analysing")
        return CallResult(task.call_id, "done", None, reply.report.duration_s, reply.pid, reply.peak_rss_mib)

    def _failed(self, task: CallTask, failure: Failure, reply: ActorReply | None = None) -> CallResult:
        self._release(task)
        model, fingerprint = analysis_of(self.config.options, task)
        self.store.mark_failed(task.call_id, self.owner, failure.message, failure.kind, __version__, model, fingerprint)
        return CallResult(task.call_id, "failed", failure.message, None,
                          reply.pid if reply else None, reply.peak_rss_mib if reply else None)

    def _release(self, task: CallTask) -> None:
        self.held.discard(task.call_id)
        self.sha256.pop(task.call_id, None)
        self.leases.drop(task.call_id)

    def close(self, cancel: bool = False) -> None:
        """Stop the actors; claims still held (an interrupted run) go back to the queue."""
        for call_id in list(self.held):
            self.store.release(call_id, self.owner, "the batch stopped")
        self.held.clear()
        self.leases.close()
        for actor in self.actors:
            self.ray.kill(actor, no_restart=True)
        self.store.close()
        if self.started_ray:
            self.ray.shutdown()
