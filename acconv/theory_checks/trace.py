"""What a monitored run leaves behind for the run-based checks: snapshots at log-spaced updates,
the actor's trajectory with its clock, every update's diagnostics, and the learner's facts
(:class:`RunTrace`, filled by :class:`~acconv.instrument.monitor.TwoTimescaleMonitor`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from numpy.typing import NDArray

from acconv.facts import DescribedByFacts, LearnerFacts, MeanField
from acconv.theory_checks.theorems import (
    ALL_THEOREMS,
    KB_AND_HOLZLEITNER,
)
from acconv.updates import Task

FloatArray = NDArray[np.float64]


BoolArray = NDArray[np.bool_]


IntArray = NDArray[np.int64]


_FD_OMEGA: Final = 1e-3  # central step for Jacobians in ω (the fields are affine in ω: exact)


_FD_THETA: Final = 1e-5  # central step for derivatives in θ (smooth fields: O(h²) error)


_NEVER: Final = float("nan")


_ALL: Final = ALL_THEOREMS


_KB_R: Final = KB_AND_HOLZLEITNER


@dataclass(frozen=True)
class Snapshot:
    """The iterates after update ``n`` (``theta``, ``omega``), the policy that sampled it
    (``policy`` = π_n), its steps and diagnostics, and what the monitor computed there."""

    n: int
    theta: FloatArray
    omega: FloatArray
    policy: FloatArray
    a_n: float
    b_n: float
    beta_n: float
    diagnostics: Mapping[str, float] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class RunTrace(DescribedByFacts):
    """Everything the run-based checks read: the learner's facts (its schedules, its exact
    ``fast_equilibrium`` and ``mean_field`` when it has them), the task, snapshots at
    log-spaced updates, the actor's trajectory on a denser log grid with its clock
    ``t_b(n+1) = Σ_{k≤n} b(k)``, and the diagnostics of every update."""

    facts: LearnerFacts
    task: Task
    n_updates: int
    snapshots: tuple[Snapshot, ...]
    trajectory_n: IntArray
    trajectory_theta: FloatArray
    trajectory_clock: FloatArray
    diagnostics: tuple[tuple[int, Mapping[str, float]], ...] = ()

    @property
    def mean_field(self) -> MeanField | None:
        """The exact mean field, when the learner gives it."""
        return self.facts.mean_field

    @property
    def mean_field_reason(self) -> str:
        """Why there is no mean field (or no exact check at all: no model)."""
        if self.task.mdp is None:
            return "no exact model (task.mdp is None)"
        return self.facts.mean_field_reason

    def series(self, key: str) -> tuple[IntArray, FloatArray]:
        """``(n, values)`` of a metric the monitor computed at the snapshots (finite only)."""
        pairs = [
            (s.n, s.metrics[key])
            for s in self.snapshots
            if key in s.metrics and math.isfinite(s.metrics[key])
        ]
        return (
            np.array([p[0] for p in pairs], dtype=np.int64),
            np.array([p[1] for p in pairs], dtype=np.float64),
        )


def _tail(trace: RunTrace, fraction_of_decades: float = 0.5) -> int:
    """The first update index of the run's tail on the log clock: ``n + 1 ≥ N^(1 - f)``
    (``f = 1/2``: the second half of the decades run)."""
    start: float = float(trace.n_updates) ** (1.0 - fraction_of_decades)
    return math.ceil(start) - 1


def _last_decade(trace: RunTrace) -> int:
    return max(0, math.ceil(trace.n_updates / 10) - 1)


def _snapshot_values(
    trace: RunTrace, value: Callable[[Snapshot], float]
) -> tuple[IntArray, FloatArray]:
    return (
        np.array([s.n for s in trace.snapshots], dtype=np.int64),
        np.array([value(s) for s in trace.snapshots], dtype=np.float64),
    )


def has_tables(trace: RunTrace) -> bool:
    """Whether the run's snapshots hold tables of the iterates (a watched loop without
    policy/value functions or a probe sends empty ones); True when there is no snapshot (the
    checks then say they have too few points)."""
    return not trace.snapshots or trace.snapshots[-1].theta.size > 0
