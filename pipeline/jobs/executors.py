"""Executors: how worker code (``pipeline.jobs.worker``) is run for a list of calls. The batch picks one;
a worker that dies yields ``outcome="lost"`` for the tasks it took down, and the batch decides what next."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import CancelledError, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Protocol

from pipeline.jobs.worker import (
    CallResult,
    CallTask,
    WorkerConfig,
    close_worker,
    die_with_parent,
    init_worker,
    init_worker_or_remember_why,
    process_call,
)


class CallExecutor(Protocol):
    """Runs ``process_call`` for tasks on workers set up with ``init_worker``; yields results as they finish.
    A worker that dies yields ``outcome="lost"`` for the tasks it took down."""

    def run(self, tasks: Sequence[CallTask]) -> Iterator[CallResult]: ...

    def close(self, cancel: bool = False) -> None: ...


ExecutorFactory = Callable[[WorkerConfig, int], CallExecutor]


def _pool_initializer(config: WorkerConfig, parent_pid: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    die_with_parent(parent_pid)
    init_worker_or_remember_why(config)


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
        close_worker()
