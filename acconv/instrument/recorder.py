"""The recorder: metrics of a run at log-spaced update counts (bsuite's logging habit).

Every key it writes is explained in ``docs/metrics.md``.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from numpy.typing import NDArray

from acconv.exact import optimal_values, policy_evaluation
from acconv.instrument.events import EndEvent, StartEvent, UpdateEvent
from acconv.mdp import FiniteMDP
from acconv.policies import centred

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def log_spaced(n_updates: int, points_per_decade: int = 10) -> IntArray:
    """Update indices ``0..n_updates-1`` spaced evenly in ``log10(n + 1)``, ends included."""
    if n_updates <= 0:
        return np.zeros(0, dtype=np.int64)
    decades = np.log10(n_updates)
    grid = np.logspace(0, decades, max(2, int(np.ceil(decades * points_per_decade)) + 1))
    points = np.unique(np.concatenate([np.round(grid - 1).astype(np.int64), [n_updates - 1]]))
    return points[(points >= 0) & (points < n_updates)]


class TidyRows:
    """Tidy ``(n, metric, value)`` rows and the two views of them every observer offers."""

    rows: list[tuple[int, str, float]]

    def series(self) -> dict[str, tuple[IntArray, FloatArray]]:
        """``{metric: (n, values)}`` in update order."""
        grouped: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for n, key, value in self.rows:
            grouped[key].append((n, value))
        return {
            key: (np.array([n for n, _ in pairs]), np.array([v for _, v in pairs]))
            for key, pairs in grouped.items()
        }

    def last(self, metric: str) -> float:
        """The most recent recorded value of ``metric``."""
        return float(self.series()[metric][1][-1])


class Recorder(TidyRows):
    """Keeps tidy ``(n, metric, value)`` rows at log-spaced updates (and the last one).

    With an exact model it also records the exact objective ``J(π_n) = ρᵀ V^{π_n}`` of the
    policy that sampled update ``n`` and its gap to ``V*(ρ)``.
    """

    def __init__(self, points_per_decade: int = 10) -> None:
        self.points_per_decade = points_per_decade
        self.rows: list[tuple[int, str, float]] = []
        self._due: set[int] = set()
        self._mdp: FiniteMDP | None = None
        self._v_star = float("nan")
        self._last: UpdateEvent | None = None

    def reads_tables_at(self, event: StartEvent) -> IntArray:
        """The updates whose θ, ω and π it records (its log-spaced grid; and the last update,
        on ``on_end``): see :func:`acconv.events.tables_read_at`."""
        return log_spaced(event.n_updates, self.points_per_decade)

    def on_start(self, event: StartEvent) -> None:
        self.rows = []
        self._due = set(self.reads_tables_at(event).tolist())
        self._mdp = event.task.mdp
        if self._mdp is not None:
            self._v_star = float(self._mdp.rho @ optimal_values(self._mdp).V)

    def on_update(self, event: UpdateEvent) -> None:
        self._last = event
        if event.info.n in self._due:
            self._record(event)

    def on_end(self, event: EndEvent) -> None:
        """Record the last update too when a stopping rule ended the run early."""
        if self._last is not None and self._last.info.n not in self._due:
            self._record(self._last)

    def _record(self, event: UpdateEvent) -> None:
        info = event.info
        values = {
            "schedule/critic_lr": info.a_n,
            "schedule/actor_lr": info.b_n,
            "schedule/ratio": info.b_n / info.a_n if info.a_n > 0 else float("inf"),
            "schedule/beta": info.beta_n,
            "loss/critic": info.critic_loss,
            "loss/actor": info.actor_loss,
            "grad_norm/critic": info.critic_grad_norm,
            "grad_norm/actor": info.actor_grad_norm,
            "return/batch_mean": info.mean_return,
            "progress/env_steps": float(event.env_steps),
        }
        if event.policy.size:  # a learner without tables (a watched loop) sends empty ones
            values["iterate/theta_norm"] = float(np.linalg.norm(centred(info.theta)))
            values["iterate/omega_norm"] = float(np.linalg.norm(info.omega))
            values["policy/min_prob"] = float(event.policy.min())
        if self._mdp is not None:
            J = float(self._mdp.rho @ policy_evaluation(self._mdp, event.policy))
            values["exact/J"] = J
            values["exact/gap"] = self._v_star - J
        values.update({f"diag/{key}": value for key, value in info.diagnostics.items()})
        self.rows.extend((info.n, key, float(value)) for key, value in values.items())

