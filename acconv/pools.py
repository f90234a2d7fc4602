"""How a sweep's runs are carried out: a local process pool, Ray tasks, or this process.

:func:`drive` keeps a few claimed runs going on a backend (:class:`Slots`) and claims the next
only when a slot is free, so processes sharing a sweep split it (:mod:`acconv.run_claims`). The pool
workers die with the process that started them (:func:`die_with`). :class:`ProgressBars` draws
the sweep's progress on stderr.
"""

from __future__ import annotations

import ctypes
import math
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

from acconv.run_claims import Owner, SharedQueue, owner_is_gone

__all__ = [
    "ProgressBars",
    "Slots",
    "die_with",
    "drive",
    "run_pool",
    "run_ray",
    "sweep_process_gone",
]

# A run as the backends see it: anything with a run_id (acconv.runner.RunConfig).
Run = Any
# The unit of work of a pool worker or Ray task: (run, out_dir, progress queue) -> run_id.
Work = Callable[[Any, str, Any], str]


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_WATCHDOG_S = 0.5
_sweep_process: Owner | None = None  # in a pool worker: the process that started the sweep


def die_with(owner: Owner) -> None:
    """Initializer of pool workers (and the progress manager): die with the sweep's process.

    On Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills this process when its
    parent dies (the forkserver's workers: when the forkserver, which exits with the sweep's
    process, does). Everywhere, a watchdog thread polls the sweep's process every
    :data:`_WATCHDOG_S` seconds and exits when it is gone, and the work function checks
    :func:`sweep_process_gone` before each run.
    """
    global _sweep_process
    _sweep_process = owner
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no libc symbol: the watchdog still works
            pass

    def watch() -> None:
        while not sweep_process_gone():
            time.sleep(_WATCHDOG_S)
        os._exit(1)  # the whole process, from this thread, without running the rest of the run

    threading.Thread(target=watch, name="acconv-watchdog", daemon=True).start()


def sweep_process_gone() -> bool:
    return _sweep_process is not None and owner_is_gone(_sweep_process, 0.0, math.inf)


class Slots:
    """A backend as :func:`drive` sees it: start a run, and wait a little for finished ones."""

    def start(self, run: Run) -> None:
        raise NotImplementedError

    def finished(self, timeout: float) -> Iterable[tuple[str, BaseException | None]]:
        raise NotImplementedError


_IDLE_POLL_S = 0.25


def drive(
    queue: SharedQueue,
    by_id: Mapping[str, Run],
    capacity: int,
    slots: Slots,
    finished: Callable[[str, BaseException | None], None],
    bar: ProgressBars,
) -> None:
    """Keep up to ``capacity`` claimed runs going on ``slots`` until the sweep is on disk.

    A run is claimed only when a slot is free, so a process sharing the sweep takes the others;
    when none is left to claim, wait for the runs other processes hold.
    """
    in_flight: set[str] = set()
    reported = 0
    while True:
        while len(in_flight) < capacity and (run_id := queue.take()) is not None:
            slots.start(by_id[run_id])
            in_flight.add(run_id)
        for _ in queue.by_others[reported:]:
            bar.advance()
        reported = len(queue.by_others)
        if not in_flight:
            if not queue.waiting():
                return
            time.sleep(_IDLE_POLL_S)
            continue
        for run_id, error in slots.finished(_IDLE_POLL_S):
            in_flight.discard(run_id)
            queue.finish(run_id)
            finished(run_id, error)
            bar.finish_run(run_id)
            bar.advance()


class _Pool(Slots):
    def __init__(
        self,
        work: Work,
        executor: ProcessPoolExecutor,
        out_dir: Path,
        progress_queue: Any,
        bar: ProgressBars,
    ) -> None:
        self.work, self.executor, self.out_dir = work, executor, out_dir
        self.queue, self.bar = progress_queue, bar
        self.futures: dict[Future[str], str] = {}

    def start(self, run: Run) -> None:
        future = self.executor.submit(self.work, run, str(self.out_dir), self.queue)
        self.futures[future] = run.run_id

    def finished(self, timeout: float) -> Iterable[tuple[str, BaseException | None]]:
        done, _ = wait(self.futures, timeout=timeout, return_when=FIRST_COMPLETED)
        while self.queue is not None and not self.queue.empty():
            self.bar.update_run(*self.queue.get_nowait())
        ordered = sorted(done, key=lambda future: self.futures[future])
        return [(self.futures.pop(future), future.exception()) for future in ordered]


def run_pool(
    work: Work,
    queue: SharedQueue,
    by_id: Mapping[str, Run],
    out_dir: Path,
    n_workers: int,
    finished: Callable[[str, BaseException | None], None],
    bar: ProgressBars,
    progress: bool,
) -> None:
    """Run the claimed runs on ``n_workers`` processes (forkserver, else spawn) that die with
    this one; ``progress``: a manager's queue carries each run's progress to ``bar``."""
    from multiprocessing.managers import SyncManager

    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    this = Owner.of_this_process()
    manager: SyncManager | None = None
    if progress:
        manager = SyncManager(ctx=context)
        manager.start(die_with, (this,))
    progress_queue = manager.Queue() if manager is not None else None
    executor = ProcessPoolExecutor(
        n_workers, mp_context=context, initializer=die_with, initargs=(this,)
    )
    try:
        slots = _Pool(work, executor, out_dir, progress_queue, bar)
        drive(queue, by_id, n_workers, slots, finished, bar)
    except BaseException:
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        if manager is not None:
            manager.shutdown()
    executor.shutdown(wait=True)


class _RayTasks(Slots):
    def __init__(self, ray: Any, work: Work, target: str) -> None:
        self.ray, self.target = ray, target
        self.task = ray.remote(num_cpus=1)(work)
        self.refs: dict[Any, str] = {}

    def start(self, run: Run) -> None:
        self.refs[self.task.remote(run, self.target)] = run.run_id

    def finished(self, timeout: float) -> Iterable[tuple[str, BaseException | None]]:
        ray = self.ray
        done, _ = ray.wait(list(self.refs), num_returns=1, timeout=timeout)
        results: list[tuple[str, BaseException | None]] = []
        for ref in done:
            run_id = self.refs.pop(ref)
            try:
                ray.get(ref)
            except ray.exceptions.RayTaskError as error:
                cause = getattr(error, "cause", None)
                results.append((run_id, cause if isinstance(cause, BaseException) else error))
            except ray.exceptions.RayError as error:
                results.append((run_id, error))
            else:
                results.append((run_id, None))
        return results


def run_ray(
    ray: Any,
    work: Work,
    queue: SharedQueue,
    by_id: Mapping[str, Run],
    out_dir: Path,
    workers: int | None,
    address: str | None,
    finished: Callable[[str, BaseException | None], None],
    bar: ProgressBars,
) -> None:
    """Run the claimed runs as Ray tasks of ``work``; each task writes its run folder.

    This process claims each run before its task is submitted, at most ``workers`` (default:
    the cluster's CPUs) at a time.
    """
    started = not ray.is_initialized()
    # RAY_ADDRESS in the environment makes ray.init connect to that cluster too.
    cluster = address is not None or bool(os.environ.get("RAY_ADDRESS"))
    ray.init(
        address=address,
        # A cluster has its own CPUs (and ray.init refuses num_cpus when connecting to one).
        num_cpus=None if cluster else workers,
        include_dashboard=False,
        log_to_driver=False,
        ignore_reinit_error=True,
    )
    try:
        # Workers may run in another directory (or on another node): give them an absolute path.
        tasks = _RayTasks(ray, work, str(out_dir.resolve()))
        capacity = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        drive(queue, by_id, capacity, tasks, finished, bar)
    finally:
        if started:
            ray.shutdown()


class ProgressBars:
    """Rich progress bars on stderr: one over all runs of the sweep and one per running run
    (local backends), or no-ops when ``enabled`` is false."""

    def __init__(self, enabled: bool, name: str, total: int, completed: int) -> None:
        self.enabled = enabled
        self.name, self.total, self.completed = name, total, completed
        self._progress: Any = None
        self._task: Any = None
        self._runs: dict[str, Any] = {}

    def update_run(self, run_id: str, done: int, total: int) -> None:
        """Show run ``run_id`` at ``done`` of ``total`` updates."""
        if self._progress is None:
            return
        if run_id not in self._runs:
            self._runs[run_id] = self._progress.add_task(f"  {run_id}", total=total)
        self._progress.update(self._runs[run_id], completed=done)
        if done >= total:
            self.finish_run(run_id)

    def finish_run(self, run_id: str) -> None:
        """Remove a finished run's bar."""
        task = self._runs.pop(run_id, None)
        if task is not None and self._progress is not None:
            self._progress.remove_task(task)

    def reporter(self, run_id: str) -> Callable[[int, int], None]:
        """``report(done, total)`` for one in-process run."""

        def report(done: int, total: int) -> None:
            self.update_run(run_id, done, total)

        return report

    def __enter__(self) -> ProgressBars:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

            self._progress = Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
            )
            self._progress.start()
            self._task = self._progress.add_task(
                f"{self.name}: runs", total=self.total, completed=self.completed
            )
        return self

    def advance(self) -> None:
        if self._progress is not None:
            self._progress.advance(self._task)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
