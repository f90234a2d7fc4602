"""The runner: a validated spec becomes seeded runs, run in parallel, written to disk once each.

Three steps:

1. :func:`expand` turns a spec into :class:`RunConfig` s, the sweep product times the seeds. Each
   has a stable id ``<name>/<sweep point>/seed-<k>`` and the seed ``SeedSequence(root,
   spawn_key=(k,))``: the ``k``-th child of ``SeedSequence(root).spawn(count)``, the same for
   every sweep point (common random numbers) and for every ``count > k``.
2. :func:`execute` runs one config: the step-size checks S1–S7 before the first update, then
   :func:`acconv.loop.train` with a :class:`~acconv.instrument.Recorder` (and the monitor and
   bound trackers the spec asks for), and collects tidy rows and verdicts.
3. :func:`run_spec` skips the runs whose folders are complete, runs the rest on a local process
   pool (``workers = 1``: in this process) or, with ``backend="ray"``, as Ray tasks, and writes
   each run's folder atomically (:mod:`acconv.results`). Interrupted sweeps resume by running
   the same command again. Neural PPO and neural RUDDER specs (:func:`batches_seeds`) run
   locally as batches instead: the missing seeds of each sweep point train as one batched
   computation in this process (:func:`execute_seeds`, :meth:`acconv.neural.PPO.learn_seeds`),
   one folder per seed all the same, with ``workers`` (default: one per CPU) as the batch's torch
   threads.

Several processes may run the same sweep into the same folder at once (on one machine, or on
machines sharing a filesystem): each claims a run before computing it (:mod:`acconv.run_claims`), so
each run is computed once and the processes split the sweep; each waits for the runs the others
hold and returns when the whole sweep is on disk. The workers of the local pool die with the
process that started them (``PR_SET_PDEATHSIG`` on Linux, and a watchdog thread polling that
process everywhere), so killing it leaves nothing running.

The Ray backend (the ``ray`` extra) starts a local Ray instance, or connects to a cluster at
``address``. Each task writes its own run folder, so on a cluster the output folder must be on a
filesystem every node sees under the same path (NFS or similar), and acconv must be installed on
every node. Results do not depend on the backend: a run's seed comes from its config alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Literal

import numpy as np

from acconv._validate import check_int
from acconv.pools import ProgressBars, Slots, drive, run_pool, run_ray, sweep_process_gone
from acconv.results import (
    incomplete_reason,
    is_complete,
    read_manifest,
    remove_stale_temporaries,
    write_run,
)
from acconv.run_claims import ClaimKeeper, SharedQueue
from acconv.spec import (
    ExperimentSpec,
    Scalar,
    apply_point,
    build_run,
    sweep_points,
)

__all__ = [
    "BackendUnavailableError",
    "ResultsConflictError",
    "RunConfig",
    "RunResult",
    "RunSummary",
    "batches_seeds",
    "execute",
    "execute_seeds",
    "expand",
    "run_spec",
]

logger = logging.getLogger(__name__)


class ResultsConflictError(ValueError):
    """A complete run folder holds a run of a different config than the spec asks for."""


class BackendUnavailableError(ImportError):
    """The backend asked for needs an extra that is not installed (e.g. ``ray``)."""


Backend = Literal["local", "ray"]
_BACKENDS: tuple[Backend, ...] = ("local", "ray")


@dataclass(frozen=True)
class RunConfig:
    """One run: a resolved spec (no sweep), its sweep point and its seed.

    Attributes:
        run_id: ``<name>/<sweep point slug>/seed-<k>``; also the run's folder below the output
            folder (without the leading ``<name>/``).
        spec: the spec with the sweep point applied.
        point: the sweep point, ``{dotted key: value}`` (empty without a sweep).
        seed: ``k``, the index of the seed.
        root: the root entropy; the run's generator is ``SeedSequence(root, spawn_key=(k,))``.
    """

    run_id: str
    spec: ExperimentSpec
    point: Mapping[str, Scalar]
    seed: int
    root: int

    @property
    def folder(self) -> str:
        """The run folder relative to the output folder: ``<sweep point slug>/seed-<k>``."""
        return self.run_id.split("/", 1)[1]

    def seed_sequence(self) -> np.random.SeedSequence:
        """The run's seed: child ``k`` of ``SeedSequence(root)``."""
        return np.random.SeedSequence(self.root, spawn_key=(self.seed,))

    def config(self) -> dict[str, Any]:
        """The resolved config recorded in the manifest and compared when a sweep resumes.

        The seed count and the description are left out: they do not change this run.
        """
        dumped = self.spec.model_dump(
            mode="json", exclude={"seeds", "sweep", "description", "learners"}
        )
        if dumped["checks"].get("solve") is None:  # configs written before checks.solve
            dumped["checks"].pop("solve", None)
        dumped["sweep_point"] = dict(self.point)
        dumped["seed"] = {"index": self.seed, "root": self.root}
        # A JSON round trip makes it compare equal with what a manifest reads back.
        return dict(json.loads(json.dumps(dumped, sort_keys=True)))


@dataclass(frozen=True)
class RunResult:
    """What one run produced: tidy ``(n, metric, value)`` rows and a JSON-ready verdict dict."""

    run_id: str
    seed: int
    rows: list[tuple[int, str, float]]
    verdicts: dict[str, Any]
    batch: dict[str, Any] | None = None
    """How a batched run was computed (:func:`execute_seeds`): the seeds trained together and
    the torch threads. Both can change float rounding, so the manifest records them."""


@dataclass
class RunSummary:
    """What :func:`run_spec` did: runs done now, skipped (already complete), redone, failed, and
    done meanwhile by other processes sharing the sweep (``by_others``)."""

    out_dir: Path
    total: int
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    redone: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    removed_temporaries: list[Path] = field(default_factory=list)
    by_others: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------------------
# 1. expand
# ------------------------------------------------------------------------------------------------


def _slug(point: Mapping[str, Scalar]) -> str:
    """A folder name for a sweep point: readable, and unique through a hash of the exact values."""
    if not point:
        return "base"
    readable = "_".join(f"{key.rsplit('.', 1)[-1]}={value}" for key, value in point.items())
    readable = re.sub(r"[^A-Za-z0-9.=+-]+", "_", readable).strip("_.")[:60]
    exact = json.dumps(dict(point), sort_keys=True).encode()
    return f"{readable}-{hashlib.sha256(exact).hexdigest()[:8]}"


def expand(spec: ExperimentSpec) -> list[RunConfig]:
    """The runs of a spec: every sweep point (in file order) times seeds ``0..count-1``."""
    runs: list[RunConfig] = []
    for point in sweep_points(spec):
        resolved = apply_point(spec, point)
        slug = _slug(point)
        for k in range(spec.seeds.count):
            run_id = f"{spec.name}/{slug}/seed-{k}"
            runs.append(RunConfig(run_id, resolved, point, k, spec.seeds.root))
    return runs


# ------------------------------------------------------------------------------------------------
# 2. execute
# ------------------------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _separate_step_sizes(critic: str, actor: str) -> dict[str, Any]:
    """S1–S7 of two schedule texts (cached: a sweep's runs share their schedules)."""
    from acconv.theory_checks.step_sizes import check_step_sizes

    return dict(check_step_sizes(critic, actor).to_dict())


def _step_sizes(facts: Any) -> dict[str, Any] | None:
    """The step-size verdicts of the schedules the learner states in its facts."""
    from acconv.theory_checks.learner_steps import step_sizes_of

    if not facts.shared_optimizer and facts.critic_lr is not None and facts.actor_lr is not None:
        return _separate_step_sizes(facts.critic_lr.text, facts.actor_lr.text)
    report = step_sizes_of(facts)
    return None if report is None else dict(report.to_dict())


def execute(run: RunConfig, progress: Callable[[int, int], None] | None = None) -> RunResult:
    """Run one config: the learner under its observers, then every verdict from its facts.

    Every learner kind is driven the same way, ``learner.learn(source, n_updates, rng,
    observers, **learn_kwargs)`` (:func:`~acconv.spec.build_run` says what to build), and every
    verdict is decided in :mod:`acconv.theory_checks` from the facts the learner published on
    its start event and the events of the run. ``progress(done, total)``, if given, hears
    about the run's progress (for a progress bar).
    """
    spec = run.spec
    # Step 1: the learner, what it learns from, and the observers.
    plan = build_run(spec)
    watched = _Watched(spec, progress)
    # Step 2: train.
    rng = np.random.default_rng(run.seed_sequence())
    plan.learner.learn(plan.source, spec.budget.n_updates, rng, watched.all, **plan.learn_kwargs)
    # Step 3: rows and verdicts.
    # (only neural and SB3 learners act for evaluation episodes)
    acting = getattr(plan.learner, "action_probabilities", None)
    return watched.result(run, acting, plan.source, rng)


def batches_seeds(spec: ExperimentSpec) -> bool:
    """Whether the runner trains the seeds of each sweep point of ``spec`` as one batch
    (:meth:`acconv.neural.PPO.learn_seeds`): neural PPO and neural RUDDER specs."""
    return spec.learner.kind in ("neural_ppo", "neural_rudder")


def execute_seeds(
    runs: list[RunConfig],
    progress: Mapping[str, Callable[[int, int], None]] | None = None,
    threads: int | None = None,
) -> list[RunResult]:
    """:func:`execute` for runs of one sweep point (they differ only in their seed), trained as
    one batched computation; seed ``k``'s result is the one :func:`execute` gives (to float
    rounding), from its own environment, random stream and observers.

    ``threads``: torch threads of the batch when the spec does not set ``learner.params.n_threads``
    (the batched products use them; one seed gains nothing from a second thread). The thread
    count and the batch's seeds change float rounding, so each result records them (``batch``).
    """
    from acconv.spec import build_env

    spec = runs[0].spec
    if any(run.spec != spec for run in runs):
        raise ValueError("runs differ in more than their seed; expected one sweep point")
    plan = build_run(spec)
    if threads is not None and "n_threads" not in spec.learner.params:
        plan.learner.n_threads = check_int(threads, "threads", 1)
    envs = [plan.source, *(build_env(spec.env) for _ in runs[1:])]
    watched = [_Watched(spec, (progress or {}).get(run.run_id)) for run in runs]
    rngs = [np.random.default_rng(run.seed_sequence()) for run in runs]
    observers = [w.all for w in watched]
    plan.learner.learn_seeds(envs, spec.budget.n_updates, rngs, observers, **plan.learn_kwargs)
    batch = {"seeds": [run.seed for run in runs], "torch_threads": plan.learner.n_threads}
    return [
        replace(
            w.result(run, partial(plan.learner.action_probabilities, seed=k), envs[k], rngs[k]),
            batch=batch,
        )
        for k, (w, run) in enumerate(zip(watched, runs, strict=True))
    ]


class _Watched:
    """The observers of one run (recorder, monitor, bound trackers, facts, progress) and what
    they give after it: rows and verdicts."""

    def __init__(self, spec: ExperimentSpec, progress: Callable[[int, int], None] | None) -> None:
        from acconv.instrument import BoundTracker, Recorder, TwoTimescaleMonitor
        from acconv.instrument.solve import EpisodesToSolve
        from acconv.theory_checks.bounds import bound_by_id

        self.spec = spec
        self.recorder = Recorder()
        self.facts = _Facts()
        self.monitor = TwoTimescaleMonitor() if spec.checks.monitor else None
        self.trackers = [BoundTracker(bound_by_id(bound_id)) for bound_id in spec.checks.bounds]
        self.observers: list[Any] = [
            self.recorder,
            *([self.monitor] if self.monitor else []),
            *self.trackers,
        ]
        if spec.checks.solve is not None:  # episodes and env steps to solve (censored if unsolved)
            self.observers.append(EpisodesToSolve(spec.checks.solve))
        progress_ = [_Progress(progress)] if progress is not None else []
        self.all: list[Any] = [*self.observers, self.facts, *progress_]

    def result(
        self, run: RunConfig, action_probabilities: Any, source: Any, rng: np.random.Generator
    ) -> RunResult:
        """The evaluation episodes (neural and SB3 kinds), the rows and every verdict."""
        from acconv.sampling import policy_returns
        from acconv.theory_checks import assumption_report, learner_verdicts

        spec, recorder, facts, monitor = self.spec, self.recorder, self.facts, self.monitor
        verdicts: dict[str, Any] = {"run_id": run.run_id, "step_sizes": None}
        evaluation: list[tuple[int, str, float]] = []
        if spec.budget.eval_episodes:  # neural and SB3 kinds (the spec refuses it elsewhere)
            returns = policy_returns(action_probabilities, source, spec.budget.eval_episodes, rng)
            last = int(recorder.rows[-1][0]) if recorder.rows else spec.budget.n_updates - 1
            evaluation = [(last, "eval/return", float(returns.mean()))]
            spread = float(returns.std(ddof=1)) if returns.size > 1 else float("nan")
            evaluation.append((last, "eval/return_std", spread))
        # Rows (first writer of an (n, metric) pair wins) and verdicts.
        rows: dict[tuple[int, str], float] = {(n, m): value for n, m, value in evaluation}
        for observer in self.observers:
            for n, metric, value in observer.rows:
                rows.setdefault((int(n), str(metric)), float(value))
        learner_facts = facts.facts
        assert learner_facts is not None, "the learner sent no start event"
        if spec.checks.step_sizes:
            # S1–S7 of the schedules the learner states (SB3: its one learning rate as used).
            report = _step_sizes(learner_facts)
            if report is None and learner_facts.step_sizes_note:  # schedules it could not state
                report = {"undecided": learner_facts.step_sizes_note}
            why = f"{spec.learner.kind} has no schedules"
            verdicts["step_sizes"] = report if report is not None else {"not_applicable": why}
        observer_verdicts: list[dict[str, Any]] = []
        if monitor is not None:
            # The whole catalogue A0-A12 (THEORY.md §3) and which theorem's hypotheses it meets.
            report_ = assumption_report(monitor)
            observer_verdicts = [v.to_dict() for v in report_.verdicts]
            verdicts["theorems"] = dict(report_.theorems)
            verdicts["coverage"] = dict(report_.coverage)
            verdicts["statement"] = report_.statement
        elif learner_facts.optimizer is not None:
            # Without the monitor, what the facts alone decide for a learner with an optimiser.
            observer_verdicts = [
                v.to_dict() for v in learner_verdicts(learner_facts, facts.diagnostics)
            ]
        observer_verdicts += [tracker.verdict().to_dict() for tracker in self.trackers]
        verdicts["observers"] = observer_verdicts
        ordered = [(n, metric, value) for (n, metric), value in sorted(rows.items())]
        return RunResult(run.run_id, run.seed, ordered, verdicts)


class _Facts:
    """An observer that keeps the learner's facts and every update's diagnostics."""

    def reads_tables_at(self, event: Any) -> set[int]:
        """No update's tables (:func:`acconv.events.tables_read_at`)."""
        return set()

    def __init__(self) -> None:
        self.facts: Any = None
        self.diagnostics: list[tuple[int, Mapping[str, float]]] = []

    def on_start(self, event: Any) -> None:
        self.facts = event.facts

    def on_update(self, event: Any) -> None:
        if event.info.diagnostics:
            self.diagnostics.append((event.info.n, event.info.diagnostics))

    def on_end(self, event: Any) -> None:
        if event.facts is not None:
            self.facts = event.facts  # what the run completed (a watched loop's rates)


def _manifest(run: RunConfig, result: RunResult) -> dict[str, Any]:
    from acconv.results import environment_info

    sequence = run.seed_sequence()
    manifest = {
        "config": run.config(),
        "seed_entropy": {"entropy": sequence.entropy, "spawn_key": list(sequence.spawn_key)},
        "environment": environment_info(),
    }
    if result.batch is not None:
        manifest["batch"] = result.batch
    return manifest


class _Progress:
    """An observer that reports ``(updates done, n_updates)`` about 50 times per run."""

    def __init__(self, report: Callable[[int, int], None]) -> None:
        self.report = report
        self.total = 1
        self.every = 1

    def on_start(self, event: Any) -> None:
        self.total = int(event.n_updates)
        self.every = max(1, self.total // 50)

    def on_update(self, event: Any) -> None:
        done = int(event.info.n) + 1
        if done % self.every == 0 or done == self.total:
            self.report(done, self.total)

    def on_end(self, event: Any) -> None:
        return None

    def reads_tables_at(self, event: Any) -> set[int]:
        """No update's tables (:func:`acconv.events.tables_read_at`)."""
        return set()


def _execute_and_write(
    run: RunConfig, out_dir: Path, progress: Callable[[int, int], None] | None
) -> None:
    """Execute one run and write its folder atomically (every backend's unit of work)."""
    _write(run, execute(run, progress), out_dir)


def _write(run: RunConfig, result: RunResult, out_dir: Path) -> None:
    write_run(
        out_dir / run.folder,
        run_id=run.run_id,
        seed=run.seed,
        rows=result.rows,
        verdicts=result.verdicts,
        manifest=_manifest(run, result),
    )


def _run_and_write(run: RunConfig, out_dir: str, queue: Any = None) -> str:
    """:func:`_execute_and_write` in a pool worker or Ray task, after checking that the sweep's
    process is still there (a run boundary).

    With a ``queue`` (a multiprocessing manager's), progress is sent as
    ``(run_id, done, total)`` tuples for the parent's per-run progress bars.
    """

    def report(done: int, total: int) -> None:
        queue.put((run.run_id, done, total))

    if sweep_process_gone():  # the sweep's process is gone: start nothing new
        os._exit(1)
    _execute_and_write(run, Path(out_dir), report if queue is not None else None)
    return run.run_id


# ------------------------------------------------------------------------------------------------
# 3. run_spec
# ------------------------------------------------------------------------------------------------


def _pending(runs: list[RunConfig], out_dir: Path, summary: RunSummary) -> list[RunConfig]:
    """The runs still to do; complete folders of other configs are a conflict, not a resume."""
    pending: list[RunConfig] = []
    for run in runs:
        folder = out_dir / run.folder
        reason = incomplete_reason(folder)
        if reason is None:
            manifest = read_manifest(folder)
            assert manifest is not None
            if manifest.get("config") != run.config():
                raise ResultsConflictError(
                    f"{folder} holds a run of a different config than the spec asks for; "
                    "expected a new --out folder (or remove the old results)"
                )
            summary.skipped.append(run.run_id)
            continue
        if reason != "missing":
            logger.warning("%s is incomplete (%s); redoing it", folder, reason)
            summary.redone.append((run.run_id, reason))
        pending.append(run)
    return pending


def _import_ray() -> Any:
    """The ``ray`` module, or a one-line :class:`BackendUnavailableError` without the extra."""
    try:
        import ray
    except ImportError as error:
        raise BackendUnavailableError(
            "backend 'ray' needs the ray extra: pip install -c constraints.txt \".[ray]\""
        ) from error
    return ray


def _record_finished(
    summary: RunSummary, on_progress: Callable[[str], None] | None
) -> Callable[[str, BaseException | None], None]:
    """What every backend does with a finished run: record it in ``summary``, report progress."""

    def finished(run_id: str, error: BaseException | None) -> None:
        if error is None:
            summary.done.append(run_id)
        else:
            message = " ".join(f"{type(error).__name__}: {error}".split())
            logger.error("run %s failed: %s", run_id, message)
            summary.failed.append((run_id, message))
        if on_progress is not None:
            on_progress(run_id)

    return finished


def run_spec(
    spec: ExperimentSpec,
    out_dir: str | Path,
    workers: int | None = None,
    progress: bool = True,
    on_progress: Callable[[str], None] | None = None,
    backend: Backend = "local",
    address: str | None = None,
) -> RunSummary:
    """Run every missing run of ``spec`` into ``out_dir``; return what was done and skipped.

    ``workers``: processes of the local pool (default: one per CPU, at most one per run);
    ``1`` runs in this process. Batched specs (:func:`batches_seeds`) on the local backend
    take ``workers`` (at most one per CPU) as torch threads instead: each sweep point's missing
    seeds (at most :data:`MAX_BATCH_SEEDS` at a time) train as one batch in this process. A run
    that raises is reported in ``summary.failed`` and leaves no folder, so the next invocation
    retries it. ``on_progress`` is called with each finished run id.

    ``backend="ray"`` runs the pending runs as Ray tasks instead: on a local Ray instance with
    ``workers`` CPUs (default: all), or on the cluster at ``address`` (then ``workers`` caps the
    runs in flight). Ray is shut down afterwards if this call started it. The tasks write the run
    folders themselves, so a cluster needs ``out_dir`` on a shared filesystem. Without the ray
    extra, :class:`BackendUnavailableError` is raised before anything is written.

    Every run is claimed before it starts (:mod:`acconv.run_claims`): other processes running the
    same sweep into ``out_dir`` take the runs this one does not hold, and this call waits for
    theirs (``summary.by_others``) before it returns.
    """
    if backend not in _BACKENDS:
        raise ValueError(f"backend is {backend!r}, expected one of {', '.join(_BACKENDS)}")
    if workers is not None and workers < 1:
        raise ValueError(f"workers is {workers}, expected an integer >= 1")
    ray = _import_ray() if backend == "ray" else None
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    runs = expand(spec)
    summary = RunSummary(out_dir=out_dir, total=len(runs))
    summary.removed_temporaries = remove_stale_temporaries(out_dir / run.folder for run in runs)
    for path in summary.removed_temporaries:
        logger.warning("removed %s, a half-written run folder of an interrupted sweep", path)
    pending = _pending(runs, out_dir, summary)
    n_workers = min(workers or os.cpu_count() or 1, max(len(pending), 1))
    finished = _record_finished(summary, on_progress)
    by_id = {run.run_id: run for run in pending}

    with (
        ClaimKeeper() as keeper,
        ProgressBars(progress, spec.name, len(runs), len(runs) - len(pending)) as bar,
    ):
        queue = SharedQueue(
            {run.run_id: out_dir / run.folder for run in pending}, is_complete, keeper
        )
        if not pending:
            pass
        elif ray is None and batches_seeds(spec):
            cpus = os.cpu_count() or 1
            slots = _Batches(out_dir, bar, progress, min(workers or cpus, cpus))
            drive(queue, by_id, MAX_BATCH_SEEDS, slots, finished, bar)
        elif ray is not None:
            run_ray(ray, _run_and_write, queue, by_id, out_dir, workers, address, finished, bar)
        elif n_workers == 1:
            drive(queue, by_id, 1, _InProcess(out_dir, bar, progress), finished, bar)
        else:
            run_pool(_run_and_write, queue, by_id, out_dir, n_workers, finished, bar, progress)
        summary.by_others = list(queue.by_others)
    return summary


MAX_BATCH_SEEDS = 64
"""The most seeds :func:`run_spec` trains in one batch (a sweep point's seeds beyond it make
further batches)."""


class _InProcess(Slots):
    """``workers = 1``: each run in this process, when :func:`~acconv.pools.drive` waits for it."""

    def __init__(self, out_dir: Path, bar: ProgressBars, progress: bool) -> None:
        self.out_dir, self.bar, self.progress = out_dir, bar, progress
        self.started: list[RunConfig] = []

    def start(self, run: RunConfig) -> None:
        self.started.append(run)

    def finished(self, timeout: float) -> Iterable[tuple[str, BaseException | None]]:
        run = self.started.pop()
        try:
            report = self.bar.reporter(run.run_id) if self.progress else None
            _execute_and_write(run, self.out_dir, report)
        except Exception as error:
            return [(run.run_id, error)]
        return [(run.run_id, None)]


class _Batches(_InProcess):
    """The local backend of batched specs (:func:`batches_seeds`): the runs
    :func:`~acconv.pools.drive` claims (at most :data:`MAX_BATCH_SEEDS` at a time) train per
    sweep point as one batch in this process (:func:`execute_seeds`, with ``threads`` torch
    threads); each seed's folder is written on its own."""

    def __init__(self, out_dir: Path, bar: ProgressBars, progress: bool, threads: int) -> None:
        super().__init__(out_dir, bar, progress)
        self.threads = threads

    def finished(self, timeout: float) -> Iterable[tuple[str, BaseException | None]]:
        runs, self.started = self.started, []
        points: dict[str, list[RunConfig]] = {}
        for run in runs:
            points.setdefault(_slug(run.point), []).append(run)
        outcome: list[tuple[str, BaseException | None]] = []
        for batch in points.values():
            ids = [run.run_id for run in batch]
            reporters = {i: self.bar.reporter(i) for i in ids} if self.progress else None
            try:
                results = execute_seeds(batch, reporters, self.threads)
            except Exception as error:  # the batch is one computation: it fails as a whole
                outcome += [(i, error) for i in ids]
                continue
            for run, result in zip(batch, results, strict=True):
                try:
                    _write(run, result, self.out_dir)
                except Exception as error:
                    outcome.append((run.run_id, error))
                else:
                    outcome.append((run.run_id, None))
        return outcome
