"""The bound tracker: a run's exact sub-optimality against a proven rate bound (THEORY.md §8.4).

At every update ``n`` the tracker evaluates, exactly, the quantity a
:class:`~acconv.theory_checks.bounds.RateBound` controls (``V*(ρ) - V^{π_n}(ρ)``, the regularised
gap, ``‖Q*_τ - Q̃^{π_n}‖_∞``, ...) for the policy ``π_n`` that the update started from, and the
bound at the matching iteration ``t``:

* exact-gradient learners (``info.n_steps == 0``): ``t = n``, the number of updates done; the
  final policy (after the last update) is checked too, at ``t = n_updates``;
* sampled learners (``info.n_steps > 0``): ``t = t_b(n)/η`` with ``t_b(n) = Σ_{k<n} b(k)``, the ODE
  time the actor travelled, in units of the exact recursion's step η. Such an overlay is
  heuristic: the bounds are for exact gradients.

Rows ``(n, metric, value)`` (see :attr:`BoundTracker.rows`), for ``<id>`` the bound's id:

* ``bound/<id>/gap``: the exact quantity the bound controls;
* ``bound/<id>/value``: the bound at the matching ``t``;
* ``bound/<id>/ratio``: gap / value (≤ 1 while the bound holds; a gap at rounding level,
  ``≤ 1e-12/(1-γ)``, counts as 0);
* ``bound/<id>/t``: the iteration index the bound was evaluated at;
* ``bound/<id>/c``, ``bound/<id>/c_h``: the running minima the bound uses, when it uses them.

For the shape-only envelopes (``mp2006_*``) ``gap`` is the tracking error ``‖ω_{n+1} -
λ(θ_{n+1})‖`` or ``‖θ_{n+1} - θ*_τ‖`` after update ``n`` and ``value`` is ``sqrt(a_n)`` or
``sqrt(b_n)``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from acconv.events import EndEvent, FastEquilibrium, StartEvent, UpdateEvent
from acconv.exact import (
    Solution,
    action_values,
    optimal_values,
    policy_evaluation,
    soft_value_iteration,
    softmax_pg_step_size,
    visited_states,
)
from acconv.instrument.recorder import log_spaced
from acconv.mdp import FiniteMDP
from acconv.policies import centred
from acconv.theory_checks.bounds import (
    BoundInputs,
    BoundNotApplicable,
    RateBound,
    bound_verdict,
    gap_ratio,
)
from acconv.theory_checks.verdicts import Verdict

__all__ = ["BoundTracker"]

FloatArray = NDArray[np.float64]


def _number(value: Any) -> float | None:
    """A learner-config entry as a number, or ``None`` (absent, or a formula text)."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return float(value)
    return None


class BoundTracker:
    """Observer: checks one :class:`RateBound` at every iterate of a run.

    Args:
        bound: the bound, e.g. :data:`acconv.theory_checks.bounds.MEI2020_THM4`.
        eta, tau, mu, eta0: the algorithm's constants (step η, entropy weight τ, start
            distribution μ inside the algorithm, first step η_0). ``None`` reads them from the
            learner's ``config`` (``"eta"``, ``"tau"``, ``"mu"``, ``"eta0"``) when numeric there;
            otherwise the theorem's default. For sampled runs ``eta`` is also the step of the
            exact recursion the run is re-indexed against (default: Mei et al.'s
            ``(1-γ)³/(8 + τ(4 + 8 log|A|))``).
        points_per_decade: record rows only at log-spaced updates (``None``: every update).
            The verdict always uses every update.
    """

    def __init__(
        self,
        bound: RateBound,
        *,
        eta: float | None = None,
        tau: float | None = None,
        mu: FloatArray | None = None,
        eta0: float | None = None,
        points_per_decade: int | None = None,
    ) -> None:
        self.bound = bound
        self._given: dict[str, Any] = {"eta": eta, "tau": tau, "mu": mu, "eta0": eta0}
        self.points_per_decade = points_per_decade
        self.rows: list[tuple[int, str, float]] = []
        self._reset()

    # ----------------------------------------------------------------------------------------
    # observer hooks
    # ----------------------------------------------------------------------------------------

    def _reset(self) -> None:
        self.rows = []
        self.observations: list[tuple[int, float, float, float]] = []  # (n, t, gap, bound)
        self._skip: str | None = None
        self._mdp: FiniteMDP | None = None
        self._learner = ""
        self._constants: dict[str, float] | None = None
        self._running = {"c": math.inf, "c_h": math.inf}
        self._t_b = 0.0
        self._sampled = False
        self._last_n = -1
        self._due: set[int] | None = None
        self._equilibrium: FastEquilibrium | None = None
        self._tau = 0.0
        self._eta: float | None = None
        self._eta0: float | None = None
        self._mu: FloatArray | None = None
        self._reference_step = 1.0
        self._atol = 0.0
        self._soft: Solution | None = None

    def on_start(self, event: StartEvent) -> None:
        self._reset()
        self._learner = event.learner
        mdp = event.task.mdp
        if mdp is None:
            self._skip = "the run has no exact model (task.mdp), so no exact gap"
            return
        if not mdp.gamma < 1.0:
            self._skip = f"gamma is {mdp.gamma}: the bound is for discounted MDPs (γ < 1)"
            return
        self._mdp = mdp
        config = event.config
        given = self._given
        tau = given["tau"] if given["tau"] is not None else _number(config.get("tau"))
        self._tau = float(tau or 0.0)
        self._eta = given["eta"] if given["eta"] is not None else _number(config.get("eta"))
        self._eta0 = given["eta0"] if given["eta0"] is not None else _number(config.get("eta0"))
        mu = given["mu"] if given["mu"] is not None else config.get("mu")
        self._mu = np.asarray(mu, dtype=np.float64) if isinstance(mu, (list, np.ndarray)) else None
        self._reference_step = (
            self._eta
            if self._eta is not None
            else softmax_pg_step_size(mdp.gamma, mdp.n_actions, self._tau)
        )
        self._atol = 1e-12 / (1.0 - mdp.gamma)  # rounding of exact values
        if self.bound.quantity == "log_policy_error" and self._tau > 0:
            self._atol *= 2.0 / self._tau  # |Δ log π| ≤ 2 ‖ΔQ‖_∞ / τ
        self._equilibrium = event.fast_equilibrium
        if self.points_per_decade is not None:
            self._due = set(log_spaced(event.n_updates, self.points_per_decade).tolist())
        self._optimum: Solution = optimal_values(mdp)
        self._a_star = self._optimum.policy.argmax(axis=1)
        if self.bound.quantity in ("soft_gap", "soft_q_error", "log_policy_error", "slow_error"):
            if self._tau <= 0.0:
                self._skip = f"tau is {self._tau}: {self.bound.quantity} needs τ > 0"
                return
            self._soft = soft_value_iteration(mdp, self._tau)
        if self.bound.quantity == "fast_error" and self._equilibrium is None:
            self._skip = "the learner exposes no fast equilibrium λ(θ)"
        self._reachable = visited_states(mdp, np.full(mdp.P.shape[:2], 1 / mdp.n_actions))

    def on_update(self, event: UpdateEvent) -> None:
        if self._skip is not None or self._mdp is None:
            return
        info = event.info
        if self._constants is None:
            if not self._prepare(event.policy):
                return
        self._sampled |= info.n_steps > 0
        t = self._t_b / self._reference_step if info.n_steps > 0 else float(info.n)
        if self.bound.quantity in ("fast_error", "slow_error"):
            gap = self._envelope_error(event)
        else:
            self._update_running(event.policy)
            gap = self._quantity(event.policy)
        self._observe(info.n, t, gap, {"a_n": info.a_n, "b_n": info.b_n})
        self._t_b += info.b_n
        self._last_n = info.n

    def on_end(self, event: EndEvent) -> None:
        """Check the final policy too (policy-quantity bounds only)."""
        if self._skip is not None or self._constants is None or self._last_n < 0:
            return
        if self.bound.quantity in ("fast_error", "slow_error"):
            return
        n = self._last_n + 1
        t = self._t_b / self._reference_step if self._sampled else float(n)
        self._update_running(event.policy)
        self._observe(n, t, self._quantity(event.policy), {}, force_row=True)

    # ----------------------------------------------------------------------------------------
    # verdict
    # ----------------------------------------------------------------------------------------

    def verdict(self) -> Verdict:
        """The bound's verdict on what the tracker observed, decided in
        :func:`acconv.theory_checks.bounds.bound_verdict`."""
        return bound_verdict(
            self.bound,
            self.observations,
            skip=self._skip,
            sampled=self._sampled,
            learner=self._learner,
            reference_step=self._reference_step,
            atol=self._atol,
        )

    # ----------------------------------------------------------------------------------------
    # exact quantities
    # ----------------------------------------------------------------------------------------

    def _prepare(self, pi0: FloatArray) -> bool:
        assert self._mdp is not None
        inputs = BoundInputs(
            self._mdp, pi0=pi0, tau=self._tau, eta=self._eta, eta0=self._eta0, mu=self._mu
        )
        try:
            self._constants = self.bound.constants(inputs)
        except BoundNotApplicable as error:
            self._skip = f"{self.bound.id} does not apply: {error}"
            return False
        return True

    def _update_running(self, pi: FloatArray) -> None:
        assert self._mdp is not None
        live = ~self._mdp.terminal
        c = float(pi[live, self._a_star[live]].min(initial=1.0))
        c_h = float(pi[live].min(initial=1.0))
        self._running["c"] = min(self._running["c"], c)
        self._running["c_h"] = min(self._running["c_h"], c_h)

    def _quantity(self, pi: FloatArray) -> float:
        """The policy quantity the bound controls (THEORY.md §5), exactly."""
        mdp, quantity = self._mdp, self.bound.quantity
        assert mdp is not None
        if quantity == "gap":
            return float(mdp.rho @ (self._optimum.V - policy_evaluation(mdp, pi)))
        soft = self._soft
        assert soft is not None
        if quantity == "soft_gap":
            return float(mdp.rho @ (soft.V - policy_evaluation(mdp, pi, self._tau)))
        if quantity == "soft_q_error":
            return float(np.max(np.abs(soft.Q - action_values(mdp, pi, self._tau))))
        live = ~mdp.terminal
        with np.errstate(divide="ignore"):
            return float(np.max(np.abs(np.log(soft.policy[live]) - np.log(pi[live])), initial=0))

    def _envelope_error(self, event: UpdateEvent) -> float:
        """``‖ω_{n+1} - λ(θ_{n+1})‖`` or ``‖θ_{n+1} - θ*_τ‖`` (centred, reachable live states)."""
        info = event.info
        if self.bound.quantity == "fast_error":
            assert self._equilibrium is not None
            target, unique = self._equilibrium(np.asarray(info.theta), info.n + 1)
            return float(np.linalg.norm((info.omega - target)[unique]))
        assert self._soft is not None and self._mdp is not None
        mask = self._reachable & ~self._mdp.terminal
        theta_star = self._soft.Q / (info.beta_n * self._tau)
        return float(np.linalg.norm((centred(info.theta) - centred(theta_star))[mask]))

    def _ratio(self, gap: float, value: float) -> float:
        return gap_ratio(gap, value, self._atol)

    def _observe(
        self, n: int, t: float, gap: float, steps: dict[str, float], force_row: bool = False
    ) -> None:
        assert self._constants is not None
        running = {**self._running, **steps}
        extra = {name: running[name] for name in self.bound.running}
        value = self.bound.value(t, **self._constants, **extra)
        self.observations.append((n, t, gap, value))
        if self._due is not None and n not in self._due and not force_row:
            return
        prefix = f"bound/{self.bound.id}"
        self.rows.extend(
            [
                (n, f"{prefix}/gap", gap),
                (n, f"{prefix}/value", value),
                (n, f"{prefix}/ratio", self._ratio(gap, value)),
                (n, f"{prefix}/t", t),
            ]
        )
        self.rows.extend(
            (n, f"{prefix}/{key}", running[key]) for key in ("c", "c_h") if key in extra
        )

