"""The assumption catalogue A0–A12 (THEORY.md §3), checked on a configuration and on a run.

Every check returns a :class:`~acconv.theory_checks.verdicts.Verdict` whose ``method`` says how
it was reached:

* ``exact`` — computed from the exact model (linear solves, exact fields; central differences
  of fields affine in the differentiated variable, exact up to rounding, or of smooth fields,
  O(h²) ≈ 1e-10, only where the sign of an eigenvalue is read);
* ``symbolic`` — decided from the form of the algorithm or of a SymPy expression (softmax of
  tabular logits is real-analytic; ``lim β(n)``);
* ``estimated`` — a fit or a maximum over the finite set of points a run visited: evidence, not
  a proof.

Every verdict names the theorems whose hypothesis it is (DESIGN.md §3): Borkar 1997 (martingale
noise, global attractors), Karmakar & Bhatnagar 2018 (controlled Markov noise, local attractors)
and the *reconstructed* Holzleitner et al. 2021 statement (THEORY.md §4.3, marked [R]: its
assumption list is our reconstruction, not the paper's text). :func:`assumption_report` gathers
all verdicts and says which theorem's hypotheses are fully met, and never more.

Index and notation (THEORY.md §1.3): ω is the fast iterate (critic or return model, step a(n)),
θ the slow iterate (actor, step b(n)), λ(θ) the fast equilibrium, ḡ(θ, ω) and h̄(θ, ω) the mean
fields (expected update directions Δω/a(n), Δθ/b(n)), F(θ) = h̄(θ, λ(θ)) the slow field and
M = (sampled direction) − (mean direction) the noise.

The checks decide from the learner's facts (:class:`~acconv.facts.LearnerFacts`, published on
the start event) and what the run left behind; they never import or rebuild a learner. The mean
fields are the learner's own ``facts.mean_field`` (the tabular learners give the exact mean of
their sampled update, from their expected twin); learners without one leave the checks that
need it ``undecided``, with the learner's reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import numpy as np
import scipy.integrate
from numpy.typing import NDArray

from acconv.exact import (
    ending_steps,
    expected_visits,
    optimal_values,
    policy_evaluation,
    policy_gradient,
    soft_value_iteration,
)
from acconv.facts import EpisodeSource, FastEquilibrium, LearnerFacts, MeanField
from acconv.mdp import FiniteMDP, reachable_states
from acconv.policies import centred, softmax_policy
from acconv.schedules import Schedule, ScheduleError, as_schedule
from acconv.theory_checks.asymptotics import asymptotic_form
from acconv.theory_checks.diagnostics import ppo_diagnostic_verdicts, series_of
from acconv.theory_checks.learner_steps import SharedStepSizes, optimizer_verdict, step_sizes_of
from acconv.theory_checks.step_sizes import StepSizeReport, check_step_sizes
from acconv.theory_checks.theorems import (
    ALL_THEOREMS,
    BORKAR,
    HOLZLEITNER,
    KARMAKAR_BHATNAGAR,
    KB_AND_HOLZLEITNER,
    REQUIREMENTS,
)
from acconv.theory_checks.verdicts import METHOD_SYMBOLIC, Status, Verdict, combine_statuses
from acconv.updates import Task

__all__ = [
    "BORKAR",
    "HOLZLEITNER",
    "KARMAKAR_BHATNAGAR",
    "METHOD_ESTIMATED",
    "METHOD_EXACT",
    "REQUIREMENTS",
    "AssumptionReport",
    "RunTrace",
    "Snapshot",
    "Trend",
    "assumption_report",
    "check_a0_finite_mdp",
    "check_a1_policy",
    "check_a2_step_sizes",
    "check_a3_lipschitz",
    "check_a4_noise",
    "check_a5_episodes",
    "check_a6_fast",
    "check_a6_prime_domain",
    "check_a7_slow",
    "check_a8_bounded",
    "check_a9_greediness",
    "check_a10_analytic",
    "check_a11_ppo_old",
    "check_a12_rudder",
    "check_tracking",
    "contraction_rate",
    "diagnostic_verdicts",
    "fast_jacobian",
    "learner_verdicts",
    "slow_field",
    "trend",
]

_ALL: Final = ALL_THEOREMS
_KB_R: Final = KB_AND_HOLZLEITNER

METHOD_EXACT: Final = "exact"
"""Computed from the exact model (THEORY.md §6)."""
METHOD_ESTIMATED: Final = "estimated"
"""A fit or a maximum over the points a run visited; evidence, not a proof."""

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]
_FD_OMEGA: Final = 1e-3  # central step for Jacobians in ω (the fields are affine in ω: exact)
_FD_THETA: Final = 1e-5  # central step for derivatives in θ (smooth fields: O(h²) error)
_NEVER: Final = float("nan")


# ---------------------------------------------------------------------------------------------
# 1. Mean fields (the learner's facts.mean_field)
# ---------------------------------------------------------------------------------------------


def fast_jacobian(
    field: MeanField, theta: FloatArray, omega: FloatArray, n: int, mask: BoolArray
) -> FloatArray:
    """``J_ω = ∂ḡ/∂ω`` restricted to the entries of ``mask`` (rows and columns), by central
    differences. Exact up to rounding for the tabular critics, whose fields are affine in ω
    (THEORY.md §6.3: MC/RUDDER ``J_ω = -diag(visits)``, TD(0) ``-D(I - P_π)``)."""
    index = np.flatnonzero(np.asarray(mask).ravel())
    columns = []
    for i in index:
        step = np.zeros(omega.size)
        step[i] = _FD_OMEGA
        plus, _ = field(theta, omega + step.reshape(omega.shape), n, None)
        minus, _ = field(theta, omega - step.reshape(omega.shape), n, None)
        columns.append((plus.ravel()[index] - minus.ravel()[index]) / (2 * _FD_OMEGA))
    return np.asarray(np.array(columns, dtype=np.float64).T.reshape(len(index), len(index)))


def slow_field(
    field: MeanField, fast_equilibrium: FastEquilibrium, theta: FloatArray, n: int
) -> FloatArray:
    """``F(θ) = h̄(θ, λ(θ))``: the actor's mean direction with the critic at its equilibrium."""
    lam, _ = fast_equilibrium(theta, n)
    _, actor = field(theta, lam, n, None)
    return actor


def contraction_rate(jacobian: FloatArray) -> float:
    """``κ = -max Re eig(J)``: the contraction rate of dω/dt = J ω (> 0 iff J is Hurwitz; nan for
    an empty J)."""
    if jacobian.size == 0:
        return _NEVER
    return float(-np.linalg.eigvals(jacobian).real.max())


# ---------------------------------------------------------------------------------------------
# 2. What a run leaves behind (filled by acconv.instrument.monitor.TwoTimescaleMonitor)
# ---------------------------------------------------------------------------------------------


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
class RunTrace:
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
    def learner(self) -> str:
        """The learner's name."""
        return self.facts.name

    @property
    def config(self) -> Mapping[str, Any]:
        """The learner's configuration."""
        return self.facts.config

    @property
    def fast_equilibrium(self) -> FastEquilibrium | None:
        """The exact λ(θ), when the learner gives it."""
        return self.facts.fast_equilibrium

    @property
    def mean_field(self) -> MeanField | None:
        """The exact mean field, when the learner gives it."""
        return self.facts.mean_field

    @property
    def mean_field_reason(self) -> str:
        """Why there is no mean field."""
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


# ---------------------------------------------------------------------------------------------
# 3. Trend fits (A1, A8, tracking)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trend:
    """Least-squares fits of a series ``y(n)`` on a window of updates.

    ``slope_log`` is dy/d ln(n+1) (growth per e-fold of n) with standard error ``slope_log_se``
    and ``r2_log``; ``slope_lin`` is dy/dn with ``r2_lin``; ``early_slope`` and ``late_slope``
    are ``slope_log`` on the first and second half of the window (in ln n), which tell a growth
    that persists (late ≈ early) from one that levels off (late ≪ early). ``start`` and ``end``
    are the fitted values at the window's ends.
    """

    n_points: int
    slope_log: float
    slope_log_se: float
    r2_log: float
    slope_lin: float
    r2_lin: float
    early_slope: float
    late_slope: float
    start: float
    end: float
    log_span: float

    @property
    def growth(self) -> float:
        """Fitted growth over the window, ``slope_log · Δ ln n``."""
        return self.slope_log * self.log_span


def _fit(x: FloatArray, y: FloatArray) -> tuple[float, float, float, float]:
    """``(slope, intercept, se(slope), r²)`` of ``y ≈ intercept + slope x``."""
    X = np.column_stack([np.ones_like(x), x])
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    residual = y - X @ coef
    dof = max(len(x) - 2, 1)
    sxx = float(np.sum((x - x.mean()) ** 2))
    se = math.sqrt(float(residual @ residual) / dof / sxx) if sxx > 0 else math.inf
    total = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(residual @ residual) / total if total > 0 else 1.0
    return float(coef[1]), float(coef[0]), se, r2


def trend(n: IntArray | Sequence[int], y: FloatArray | Sequence[float]) -> Trend | None:
    """The :class:`Trend` of ``y`` against ``ln(n + 1)`` and ``n``; None with < 4 points."""
    n_arr = np.asarray(n, dtype=np.float64)
    y_arr = np.asarray(y, dtype=np.float64)
    keep = np.isfinite(y_arr)
    n_arr, y_arr = n_arr[keep], y_arr[keep]
    if len(n_arr) < 4:
        return None
    x = np.log(n_arr + 1.0)
    slope, intercept, se, r2 = _fit(x, y_arr)
    slope_lin, _, _, r2_lin = _fit(n_arr, y_arr)
    middle = 0.5 * (x[0] + x[-1])
    early, late = x <= middle, x >= middle
    early_slope = _fit(x[early], y_arr[early])[0] if early.sum() >= 2 else _NEVER
    late_slope = _fit(x[late], y_arr[late])[0] if late.sum() >= 2 else _NEVER
    return Trend(
        n_points=len(n_arr),
        slope_log=slope,
        slope_log_se=se,
        r2_log=r2,
        slope_lin=slope_lin,
        r2_lin=r2_lin,
        early_slope=early_slope,
        late_slope=late_slope,
        start=intercept + slope * float(x[0]),
        end=intercept + slope * float(x[-1]),
        log_span=float(x[-1] - x[0]),
    )


def _trend_evidence(prefix: str, fit: Trend) -> dict[str, float]:
    return {
        f"{prefix}_slope_per_efold": fit.slope_log,
        f"{prefix}_slope_se": fit.slope_log_se,
        f"{prefix}_r2_log": fit.r2_log,
        f"{prefix}_slope_per_update": fit.slope_lin,
        f"{prefix}_r2_lin": fit.r2_lin,
        f"{prefix}_early_slope": fit.early_slope,
        f"{prefix}_late_slope": fit.late_slope,
        f"{prefix}_start": fit.start,
        f"{prefix}_end": fit.end,
    }


# ---------------------------------------------------------------------------------------------
# 4. The catalogue
# ---------------------------------------------------------------------------------------------


def check_a0_finite_mdp(mdp: FiniteMDP | None, policies: Sequence[FloatArray] = ()) -> Verdict:
    """A0 MDP-FIN: |S|, |A| finite, |r| ≤ R_max, and episodes end: ``I - P_π`` restricted to
    the live (non-terminal) states is invertible for every policy in ``policies`` (exact).

    Source: THEORY.md §3 A0 (Holzleitner et al. [R]: "episodic samples"; finite trajectory
    space makes every expectation a finite sum). A discounted MDP without terminal states has
    no episode end: its sampled episodes are truncated, so A0 is undecided there (use
    :func:`acconv.mdp.discount_as_termination`).
    """
    name = "finite episodic MDP with bounded rewards; episodes end (I - P_π invertible)"
    theorems = (HOLZLEITNER,)
    if mdp is None:
        return Verdict("A0", name, "undecided", METHOD_EXACT, "no exact model", {}, theorems)
    rewards = [np.abs(mdp.R).max()]
    if mdp.R_next is not None:
        rewards.append(np.abs(mdp.R_next).max())
    if mdp.R_noise is not None:
        rewards.append(np.abs(mdp.R).max() + np.abs(mdp.R_noise).max())
    r_max = float(max(rewards))
    evidence = {"n_states": mdp.n_states, "n_actions": mdp.n_actions, "r_max": r_max}
    if not mdp.terminal.any() and mdp.horizon is None:
        detail = (
            f"|S| = {mdp.n_states}, |A| = {mdp.n_actions}, |r| ≤ {r_max:.3g}, but no terminal "
            f"state and no horizon: episodes of the discounted (γ = {mdp.gamma}) MDP never end, "
            "so sampled episodes are truncated; use discount_as_termination(mdp)"
        )
        return Verdict("A0", name, "undecided", METHOD_EXACT, detail, evidence, theorems)
    checked = list(policies) or [np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions)]
    lengths = []
    for k, pi in enumerate(checked):
        try:
            lengths.append(float(expected_visits(mdp, pi).sum()))
        except ValueError as error:
            detail = f"policy {k} of {len(checked)} is improper: {error}"
            return Verdict("A0", name, "violated", METHOD_EXACT, detail, evidence, theorems)
    evidence.update(policies_checked=len(checked), max_expected_length=max(lengths))
    detail = (
        f"|S| = {mdp.n_states}, |A| = {mdp.n_actions}, |r| ≤ {r_max:.3g}; I - P_π is "
        f"invertible on the live states for all {len(checked)} policies checked (the run's "
        f"policies at its log-spaced updates): episodes end w.p. 1, expected length ≤ "
        f"{max(lengths):.3g} decisions"
    )
    if mdp.horizon is None:
        detail += " (lengths are unbounded, geometric tails: the trajectory space is countable)"
    return Verdict("A0", name, "holds", METHOD_EXACT, detail, evidence, theorems)


ANALYTIC_ACTIVATIONS: Final = ("tanh", "softplus", "silu", "gelu")
"""Activations whose networks (with a softmax head) are real-analytic in their parameters."""


def _beta_of(facts: LearnerFacts) -> Schedule | float:
    """The policy's β(n) (1 when the learner states none)."""
    return facts.beta if facts.beta is not None else 1.0


def _beta_text(facts: LearnerFacts) -> Any:
    return facts.config.get("beta", facts.beta.text if facts.beta is not None else None)


def _policy_smoothness(facts: LearnerFacts) -> tuple[Status | None, str]:
    """How smooth π_θ is in θ, by the policy's form: ``(status if decided by it alone, text)``.

    Tabular softmax and the softmax of an MLP with an analytic activation are real-analytic
    (the p_min part of A1 then decides); ReLU networks are not C¹ (A1 violated); ELU networks
    are C¹ with a Lipschitz gradient but not analytic; other policies are not inspected.
    """
    if facts.policy == "tabular_softmax":
        return None, "tabular softmax π = softmax(β_n θ) is real-analytic in θ (symbolic)"
    activation = facts.activation if facts.policy == "network_softmax" else None
    if activation in ANALYTIC_ACTIVATIONS:
        return None, (
            f"softmax of an MLP with {activation} units is real-analytic in its parameters "
            "(symbolic); θ is the network's log-policy table"
        )
    if activation == "relu":
        return "violated", "a ReLU network is not C¹ in its parameters: π_θ is not smooth"
    if activation == "elu":
        return "undecided", (
            "an ELU network is C¹ with a Lipschitz gradient but not analytic: the smoothness "
            "A1 asks for is not decided"
        )
    return "undecided", f"policy class of {facts.name!r} unknown: analyticity not checked"


def check_a1_policy(trace: RunTrace) -> Verdict:
    """A1 POL-SMOOTH: π_θ(a|s) is real-analytic in θ and ``min_{s,a} π_{θ_n}(a|s) ≥ p_min > 0``
    along the run.

    Analyticity is symbolic (tabular softmax ``exp(βθ[s,a]) / Σ_b exp(βθ[s,b])``). The lower
    bound is estimated from ``p_min(n)`` over the tail of the run (second half of its decades):
    ``violated`` when ``log p_min`` keeps falling (slope < -0.1 per e-fold of n, significant,
    not levelling off, and p_min halved over the window — the greedy limit of THEORY.md §1.2);
    ``holds`` when it fell by less than 10 % over the last decade. Source: THEORY.md §3 A1
    (Borkar/K&B need it for Lipschitz fields and Lipschitz λ; Holzleitner et al. [R]).
    """
    name = "smooth, strictly positive policy: π_θ analytic, min π_θn(a|s) ≥ p_min > 0"
    theorems = (HOLZLEITNER,)
    forced, smooth = _policy_smoothness(trace.facts)
    if forced is not None:
        return Verdict("A1", name, forced, METHOD_SYMBOLIC, smooth, {}, theorems)
    n, p = _snapshot_values(trace, lambda s: float(s.policy.min()))
    tail = n >= _tail(trace)
    evidence: dict[str, float] = {"p_min_final": float(p[-1]) if len(p) else _NEVER}
    if len(p):
        evidence["p_min_run"] = float(p.min())
    fit = trend(n[tail], np.log(np.maximum(p[tail], 1e-300))) if len(p) else None
    if fit is None:
        detail = f"{smooth}; too few recorded points to judge p_min(n)"
        return Verdict("A1", name, "undecided", METHOD_ESTIMATED, detail, evidence, theorems)
    evidence.update(_trend_evidence("log_p_min", fit))
    decade = n >= _last_decade(trace)
    last = p[decade]
    change = float(last[-1] / last[0] - 1.0) if len(last) >= 2 and last[0] > 0 else _NEVER
    evidence["p_min_change_last_decade"] = change
    falling = (
        fit.slope_log < -0.1
        and fit.slope_log < -3 * fit.slope_log_se
        and fit.late_slope <= 0.5 * fit.early_slope
        and p[tail][-1] < 0.5 * p[tail][0]
    )
    kind, theta_star = _attractor(trace)
    setting = _slow_setting(trace)
    if kind == "finite" and theta_star is not None and setting is not None:
        live = _live(trace.task)
        p_star = float(softmax_policy(theta_star, setting.beta)[live].min())
        evidence["p_min_limit"] = p_star
        if p[-1] >= 0.5 * p_star and p.min() > 0:
            detail = (
                f"{smooth}; the slow ODE's attractor θ*_τ is finite (closed form, A7) and its "
                f"policy has min π*_τ(a|s) = {p_star:.3g} > 0 (exact); along the run p_min(n) ≥ "
                f"{float(p.min()):.3g}, ending at {float(p[-1]):.3g} (estimated)"
            )
            return Verdict("A1", name, "holds", METHOD_ESTIMATED, detail, evidence, theorems)
    if falling:
        detail = (
            f"{smooth}; but p_min(n) → 0: log p_min falls {fit.slope_log:.3g} per e-fold of n "
            f"on the run's tail (early {fit.early_slope:.3g}, late {fit.late_slope:.3g}; no "
            f"levelling off), p_min = {p[tail][0]:.3g} → {p[tail][-1]:.3g}: the policy turns "
            "greedy, so no p_min > 0 bounds the visited set (estimated)"
        )
        return Verdict("A1", name, "violated", METHOD_ESTIMATED, detail, evidence, theorems)
    if kind == "infinity":
        detail = (
            f"{smooth}; p_min(n) ≥ {float(p.min()):.3g} on the run, but the slow ODE has no "
            "finite equilibrium (A7): if J(θ_n) → J*, p_min(n) → 0 at a state with a unique "
            "optimal action, so no p_min > 0 bound is expected; not decided on this run"
        )
        return Verdict("A1", name, "undecided", METHOD_ESTIMATED, detail, evidence, theorems)
    if math.isfinite(change) and change >= -0.1:
        detail = (
            f"{smooth}; p_min(n) ≥ {float(p.min()):.3g} on the run and changed by "
            f"{100 * change:+.1f} % over the last decade, not falling (estimated)"
        )
        return Verdict("A1", name, "holds", METHOD_ESTIMATED, detail, evidence, theorems)
    detail = (
        f"{smooth}; p_min(n) still moves ({100 * change:+.1f} % over the last decade, slope "
        f"{fit.slope_log:.3g} per e-fold): cannot tell whether it stays away from 0"
    )
    return Verdict("A1", name, "undecided", METHOD_ESTIMATED, detail, evidence, theorems)


_STATUS_CODE: Final[Mapping[str, float]] = {
    "holds": 1.0,
    "violated": 0.0,
    "undecided": _NEVER,
    "not_applicable": -1.0,
}


def check_a2_step_sizes(
    critic_lr: Schedule | str | float,
    actor_lr: Schedule | str | float,
    *,
    report: StepSizeReport | None = None,
    sympy_timeout: float | None = 10.0,
) -> Verdict:
    """A2 STEP: S1-S5 (Σa = Σb = ∞, Σa² + Σb² < ∞, b/a → 0, non-increasing) as one verdict,
    from :func:`~acconv.theory_checks.step_sizes.check_step_sizes` (symbolic; a numeric
    estimate only for schedules without an asymptotic form).

    Evidence codes each condition S1-S7 as 1 (holds), 0 (violated), nan (undecided), -1 (not
    applicable). Source: THEORY.md §3 A2 and §7 (Borkar 1997 S1-S4; K&B 2018 adds S5).
    """
    report = report or check_step_sizes(
        as_schedule(critic_lr), as_schedule(actor_lr), sympy_timeout=sympy_timeout
    )
    core = [report[c] for c in ("S1", "S2", "S3", "S4", "S5")]
    failing = [v for v in core if v.status != "holds"]
    methods = {v.method for v in core}
    method = METHOD_ESTIMATED if any("numeric" in m for m in methods) else METHOD_SYMBOLIC
    evidence = {v.id: _STATUS_CODE[v.status] for v in report.conditions}
    head = f"a(n) = {report.critic.text}, b(n) = {report.actor.text}"
    if not failing:
        detail = f"{head}: S1-S5 hold ({'; '.join(v.detail for v in core[3:4])})"
    else:
        detail = f"{head}: " + "; ".join(f"{v.id} {v.status}: {v.detail}" for v in failing)
    optional = ", ".join(f"{c} {report[c].status}" for c in ("S6", "S7"))
    detail += f" [optional: {optional}]"
    return Verdict("A2", "step sizes S1-S5", report.two_timescale, method, detail, evidence, _ALL)


def check_a3_lipschitz(
    trace: RunTrace, *, max_points: int = 4, beta_limit: float | None = None
) -> Verdict:
    """A3 LIP: (ḡ, h̄) Lipschitz in (θ, ω). Reports ``L̂ = max ‖∂(ḡ, h̄)/∂(θ, ω)‖₂`` over up to
    ``max_points`` visited iterates (central differences of the expected twin's fields) and the
    ratio ``L̂(2β)/L̂(β)`` at the last iterate (softmax Lipschitz constants grow ∝ β).

    Status: symbolic from the form — tabular softmax with tabular critics is real-analytic, so
    locally Lipschitz, uniformly on compact sets when β stays bounded (``holds``; the sup over
    the run's region also needs A8); ``violated`` when β(n) → ∞; ``undecided`` ("piecewise
    Lipschitz only") for PPO clip, value clip and advantage normalisation. Source: THEORY.md §3
    A3 (Borkar 1997 (A1); K&B 2018 (A2)).
    """
    name = "Lipschitz mean fields ḡ, h̄ in (θ, ω)"
    evidence: dict[str, float] = {}
    field, facts = trace.mean_field, trace.facts
    estimate = ""
    if field is not None and trace.snapshots:
        picks = _spread(len(trace.snapshots), max_points)
        norms = []
        for i in picks:
            s = trace.snapshots[i]
            norms.append(_joint_jacobian_norm(field, s.theta, s.omega, s.n + 1))
        evidence.update(lipschitz_estimate=max(norms), points=len(picks))
        last = trace.snapshots[-1]
        scaled = facts.beta_scaled_mean_field
        hot = scaled(2.0) if scaled is not None else None
        if hot is not None:
            doubled = _joint_jacobian_norm(hot, last.theta, last.omega, last.n + 1)
            base = _joint_jacobian_norm(field, last.theta, last.omega, last.n + 1)
            evidence.update(lipschitz_last=base, lipschitz_doubled_beta=doubled)
            evidence["beta_scaling_ratio"] = doubled / base if base > 0 else _NEVER
        estimate = (
            f"; L̂ = {max(norms):.3g} (max ‖∂(ḡ,h̄)/∂(θ,ω)‖₂ at {len(picks)} visited iterates, "
            "estimated)"
        )
        if "beta_scaling_ratio" in evidence:
            estimate += (
                f"; doubling β at the last iterate multiplies it by "
                f"{evidence['beta_scaling_ratio']:.3g}"
            )
    else:
        estimate = f"; no L̂ ({trace.mean_field_reason or 'no expected twin'})"
    reasons = facts.kinks
    if facts.policy == "network_softmax" and facts.activation is not None:
        return _network_lipschitz(facts)
    if facts.policy != "tabular_softmax":
        return Verdict(
            "A3",
            name,
            "undecided",
            METHOD_SYMBOLIC,
            f"learner {trace.learner!r}: form unknown{estimate}",
            evidence,
            _ALL,
        )
    if reasons:
        detail = f"piecewise Lipschitz only: {', '.join(reasons)} is not differentiable{estimate}"
        return Verdict("A3", name, "undecided", METHOD_SYMBOLIC, detail, evidence, _ALL)
    beta = _beta_limit(_beta_of(facts)) if beta_limit is None else beta_limit
    if beta == math.inf:
        detail = (
            f"β(n) = {_beta_text(facts)} → ∞ and the fields' Lipschitz constants grow "
            f"∝ β: no uniform constant{estimate}"
        )
        return Verdict("A3", name, "violated", METHOD_SYMBOLIC, detail, evidence, _ALL)
    detail = (
        "tabular softmax actor with a tabular critic: both fields are real-analytic in (θ, ω), "
        "hence Lipschitz on every compact set (uniformly, since β is bounded); the run's "
        f"region is compact if A8 holds{estimate}"
    )
    if beta is None or math.isnan(beta):
        detail += "; β(n) bounded not established (see A9)"
        return Verdict("A3", name, "undecided", METHOD_SYMBOLIC, detail, evidence, _ALL)
    return Verdict("A3", name, "holds", METHOD_SYMBOLIC, detail, evidence, _ALL)


def _network_lipschitz(facts: LearnerFacts) -> Verdict:
    """A3 for a network policy, from its activation: ReLU networks are not C¹, so the gradient
    fields are not Lipschitz (the TTUR appendix: ELU-type activations satisfy the assumption,
    ReLU does not) — violated; smooth activations leave it undecided (Lipschitz on a bounded
    parameter region only, which A8 must then supply)."""
    smooth = facts.activation != "relu"
    detail = (
        f"{facts.activation} is C¹: the fields are Lipschitz on bounded parameter sets only"
        if smooth
        else "ReLU networks are not C¹: the policy-gradient field is not Lipschitz"
    )
    if any("clip" in kink for kink in facts.kinks):
        detail += "; the clip objective is only piecewise smooth"
    status: Status = "undecided" if smooth else "violated"
    name = "Lipschitz mean fields (network)"
    return Verdict("A3", name, status, METHOD_SYMBOLIC, detail, {}, (HOLZLEITNER,))


def _joint_jacobian_norm(field: MeanField, theta: FloatArray, omega: FloatArray, n: int) -> float:
    """‖∂(ḡ, h̄)/∂(θ, ω)‖₂ by central differences (step 1e-5 in θ, 1e-3 in ω)."""
    columns = []
    for which, base, h in (("theta", theta, _FD_THETA), ("omega", omega, _FD_OMEGA)):
        for i in range(base.size):
            step = np.zeros(base.size)
            step[i] = h
            delta = step.reshape(base.shape)
            if which == "theta":
                plus = field(theta + delta, omega, n, None)
                minus = field(theta - delta, omega, n, None)
            else:
                plus = field(theta, omega + delta, n, None)
                minus = field(theta, omega - delta, n, None)
            columns.append(
                np.concatenate([(p - m).ravel() for p, m in zip(plus, minus, strict=True)])
                / (2 * h)
            )
    return float(np.linalg.norm(np.array(columns).T, 2))


def _spread(count: int, k: int) -> list[int]:
    """Up to ``k`` indices spread over ``range(count)`` on a log scale, the last included."""
    if count <= k:
        return list(range(count))
    grid = np.unique(np.round(np.geomspace(1, count, k)).astype(int) - 1)
    return [int(i) for i in grid]


def check_a4_noise(trace: RunTrace) -> Verdict:
    """A4 MDS: ``E[M_{n+1} | F_n] = 0`` and ``E[‖M_{n+1}‖² | F_n] ≤ K (1 + ‖θ_n‖² + ‖ω_n‖²)``.

    Zero conditional mean holds by construction when every update uses whole episodes drawn
    i.i.d. from π_n and is a *sum* over them (ActorCritic, RUDDER): the mean direction is then
    the twin's. PPO divides by the batch's step count and reuses the batch for K·M steps, so
    its update is not an average of i.i.d. terms: zero mean is undecided there. K is estimated
    per recorded point as ``mean ‖M‖² / mean (1 + ‖θ_n‖² + ‖ω_n‖²)`` over the monitor's noise
    window (M = sampled direction − twin's direction at the same pre-update state; θ centred);
    ``holds`` when K̂ is finite and its maximum over the last decade is at most 4× its maximum
    before. Source: THEORY.md §3 A4 (K&B 2018 (A3); Borkar 1997 in the bounded form, which
    K-form plus A8 implies).
    """
    name = "martingale-difference noise with E‖M‖² ≤ K(1 + ‖θ‖² + ‖ω‖²)"
    if trace.mean_field is None:
        detail = (
            f"no mean field to subtract ({trace.mean_field_reason or 'no expected twin'}); "
            "needs the learner's expected direction at the sampled state "
            "(LearnerFacts.mean_field(θ, ω, n, value) -> (ḡ, h̄))"
        )
        return Verdict("A4", name, "undecided", METHOD_ESTIMATED, detail, {}, _ALL)
    n, K = trace.series("noise/K")
    if trace.facts.mode == "expected":
        detail = "expected (mean-field) mode: no sampling, M ≡ 0 (exact)"
        return Verdict("A4", name, "holds", METHOD_EXACT, detail, {"K_max": 0.0}, _ALL)
    if len(K) < 2:
        detail = "too few noise samples (need updates n ≥ 1 at two recorded points)"
        return Verdict("A4", name, "undecided", METHOD_ESTIMATED, detail, {}, _ALL)
    decade = n >= _last_decade(trace)
    before = K[~decade].max() if (~decade).any() else _NEVER
    last = K[decade].max() if decade.any() else _NEVER
    evidence = {
        "K_max": float(K.max()),
        "K_last_decade": float(last),
        "K_before": float(before),
        "K_final": float(K[-1]),
        "points": float(len(K)),
    }
    stable = math.isfinite(last) and (not math.isfinite(before) or last <= 4 * before)
    if trace.facts.old_policy:
        steps = trace.facts.gradient_steps
        mean_text = (
            "zero conditional mean undecided: PPO divides by the batch's step count (a ratio "
            "estimator, biased O(1/B))"
            + (
                f" and reuses the batch for K·M = {steps} steps (A11 mode (ii))"
                if steps > 1
                else ""
            )
            + ", so its update is not an average of i.i.d. terms"
        )
        status: Status = "undecided"
    else:
        mean_text = (
            "E[M | F_n] = 0 by construction: whole episodes drawn i.i.d. from π_n and an update "
            "that is a sum over them, whose mean is the twin's direction (no truncation "
            "assumed)"
        )
        status = "holds" if stable else "undecided"
    detail = (
        f"{mean_text}; K̂ = {float(K.max()):.3g} (max over {len(K)} recorded points of "
        f"mean‖M‖²/mean(1+‖θ‖²+‖ω‖²)), last decade {float(last):.3g} vs before "
        f"{float(before):.3g}: {'stable' if stable else 'growing'} (estimated)"
    )
    return Verdict("A4", name, status, METHOD_ESTIMATED, detail, evidence, _ALL)


def check_a5_episodes(source: EpisodeSource = "MDPSampler") -> Verdict:
    """A5 CMN: the noise process. With whole episodes drawn i.i.d. given (θ_n, β_n) — what
    :func:`acconv.loop.train` does with an :class:`~acconv.sampling.MDPSampler` (and with an
    environment it resets for every episode) — the controlled Markov noise is trivial: its
    kernel ignores the previous episode, the ergodic occupation measure is unique (P_θ) and
    K&B's differential inclusion is an ODE [D]. A replay or lesson buffer makes the noise
    genuinely Markov: only K&B-type results could apply and their kernel conditions are not
    checked here. Source: THEORY.md §3 A5 (K&B 2018 (A1), (A5); Borkar 1997 needs martingale
    noise, i.e. the i.i.d. case).
    """
    name = "episodes sampled whole and i.i.d. given the iterates (controlled Markov noise)"
    if source == "rollout":
        detail = (
            "T-step rollouts that continue episodes across updates (neural PPO, as in SB3): "
            "the episode in flight at an update was started by earlier policies, so the noise "
            "is Markov; K&B's kernel continuity/ergodicity are not checked"
        )
        return Verdict("A5", name, "undecided", METHOD_SYMBOLIC, detail, {}, _ALL)
    if source == "replay":
        detail = (
            "a replay/lesson buffer: the noise is Markov, not a martingale difference; "
            "Borkar's form fails and K&B's kernel continuity/ergodicity are not checked"
        )
        return Verdict("A5", name, "undecided", METHOD_SYMBOLIC, detail, {}, _ALL)
    where = "MDPSampler" if source == "MDPSampler" else "fresh environment resets"
    detail = (
        f"holds by construction: each update draws fresh whole episodes i.i.d. from π_n "
        f"({where}); the occupation measure is unique, so the K&B inclusion is an ODE"
    )
    return Verdict("A5", name, "holds", METHOD_SYMBOLIC, detail, {}, _ALL)


def check_a6_fast(trace: RunTrace) -> Verdict:
    """A6 FAST: for every visited θ the fast ODE dω/dt = ḡ(θ, ω) has the equilibrium λ(θ),
    exponentially stable on the support (κ(θ) = -max Re eig J_ω > 0 there), λ Lipschitz.

    Exact at every recorded θ_n: λ from the learner's ``fast_equilibrium``, J_ω by central
    differences of the twin's affine fast field, ḡ(θ, λ(θ)) = 0 checked on the support. The
    Lipschitz constant of λ along the slow direction, ‖Dλ F‖/‖F‖, is reported (estimated: a
    maximum over the visited θ). Source: THEORY.md §3 A6 (Borkar (A4); K&B (A6)).
    """
    name = "fast ODE: λ(θ) exponentially stable on the support (κ > 0), λ Lipschitz"
    if trace.fast_equilibrium is None or trace.mean_field is None:
        reason = trace.mean_field_reason or "the learner exposes no fast_equilibrium"
        return Verdict("A6", name, "undecided", METHOD_EXACT, reason, {}, _ALL)
    _, kappa = trace.series("track/kappa")
    _, residual = trace.series("track/equilibrium_residual")
    _, lip = trace.series("track/lambda_lipschitz")
    if not len(kappa):
        return Verdict("A6", name, "undecided", METHOD_EXACT, "no recorded points", {}, _ALL)
    evidence = {
        "kappa_min": float(kappa.min()),
        "kappa_final": float(kappa[-1]),
        "equilibrium_residual_max": float(residual.max()) if len(residual) else _NEVER,
        "lambda_lipschitz_max": float(lip.max()) if len(lip) else _NEVER,
        "points": float(len(kappa)),
    }
    if kappa.min() <= 0:
        detail = f"J_ω is not Hurwitz on the support at a visited θ: min κ = {kappa.min():.3g} ≤ 0"
        return Verdict("A6", name, "violated", METHOD_EXACT, detail, evidence, _ALL)
    scale = 1e-6 * (1.0 + max(float(np.abs(s.omega).max()) for s in trace.snapshots))
    if len(residual) and residual.max() > scale:
        detail = (
            f"κ > 0 at all {len(kappa)} recorded θ, but ḡ(θ, λ(θ)) ≠ 0 on the support (max "
            f"‖·‖ = {residual.max():.3g}): fast_equilibrium is not the zero of the learner's "
            "fast field"
        )
        return Verdict("A6", name, "undecided", METHOD_EXACT, detail, evidence, _ALL)
    detail = (
        f"at all {len(kappa)} recorded θ_n: ḡ(θ, λ(θ)) = 0 on the support and J_ω is Hurwitz "
        f"there, κ ≥ {kappa.min():.3g} (exact); ‖Dλ·F‖/‖F‖ ≤ "
        f"{evidence['lambda_lipschitz_max']:.3g} along the slow direction (estimated)"
    )
    return Verdict("A6", name, "holds", METHOD_EXACT, detail, evidence, _ALL)


def check_a6_prime_domain(trace: RunTrace) -> Verdict:
    """A6' FAST-DOM: ω_n eventually stays in a compact subset of λ(θ)'s basin. For the tabular
    critics the fast field is affine in ω, so a Hurwitz J_ω makes λ(θ) *globally* exponentially
    stable (G_θ = whole space) and the hypothesis reduces to A8 [D]. Affinity is checked at
    every recorded point: ḡ(θ, ω_n) = ḡ(θ, λ) + J_ω (ω_n - λ) (exact). Source: THEORY.md §3
    A6' (K&B main theorem; Borkar's A4 asks for global stability directly).
    """
    name = "ω_n eventually in a compact subset of the basin of λ(θ) (global for affine fields)"
    if trace.mean_field is None or trace.fast_equilibrium is None:
        reason = trace.mean_field_reason or "the learner exposes no fast_equilibrium"
        return Verdict("A6'", name, "undecided", METHOD_EXACT, reason, {}, _ALL)
    _, kappa = trace.series("track/kappa")
    _, affine = trace.series("track/affine_error")
    if not len(kappa) or not len(affine):
        return Verdict("A6'", name, "undecided", METHOD_EXACT, "no recorded points", {}, _ALL)
    evidence = {"affine_error_max": float(affine.max()), "kappa_min": float(kappa.min())}
    if affine.max() > 1e-6:
        detail = (
            f"the fast field is not affine in ω (relative deviation {affine.max():.3g}): the "
            "basin of λ(θ) is not known to be global; not checked"
        )
        return Verdict("A6'", name, "undecided", METHOD_EXACT, detail, evidence, _ALL)
    if kappa.min() <= 0:
        detail = "J_ω not Hurwitz at some visited θ (see A6)"
        return Verdict("A6'", name, "violated", METHOD_EXACT, detail, evidence, _ALL)
    detail = (
        "the fast field is affine in ω at every recorded θ (relative deviation "
        f"{affine.max():.2g}) with Hurwitz J_ω: λ(θ) is globally exponentially stable, so any "
        "bounded ω_n lies in a compact subset of its basin (with A8)"
    )
    return Verdict("A6'", name, "holds", METHOD_EXACT, detail, evidence, _ALL)


# --- A7 ---------------------------------------------------------------------------------------


def _live(task: Task) -> BoolArray:
    mdp = task.mdp
    if mdp is None:
        return np.ones(task.n_states, dtype=bool)
    return np.asarray(~mdp.terminal)


def _centred_basis(task: Task) -> FloatArray:
    """Orthonormal basis (columns) of {x ∈ R^{S×A}: x = 0 off the live states, Σ_a x[s, a] = 0}:
    the quotient coordinates of softmax's shift invariance (THEORY.md §1.2)."""
    S, A = task.n_states, task.n_actions
    block = np.linalg.svd(np.eye(A) - 1.0 / A)[0][:, : A - 1]  # A ×, zero column sums
    columns = []
    for s in np.flatnonzero(_live(task)):
        for j in range(A - 1):
            x = np.zeros((S, A))
            x[s] = block[:, j]
            columns.append(x.ravel())
    return np.asarray(np.array(columns, dtype=np.float64).T)


def _ode_flow(
    field: Callable[[float, FloatArray], FloatArray],
    theta0: FloatArray,
    t_end: float,
    t_eval: FloatArray | None = None,
) -> Any:
    return scipy.integrate.solve_ivp(
        field, (0.0, t_end), theta0.ravel(), t_eval=t_eval, rtol=1e-6, atol=1e-9
    )


def _quotient_distance(theta: FloatArray, target: FloatArray) -> float:
    """‖centred θ - target‖ on the rows where the target is defined (live states; the target is
    centred and 0 on terminal rows, whose logits no field moves)."""
    rows = np.abs(target).sum(axis=1) > 0
    return float(np.linalg.norm((centred(theta) - target)[rows]))


def _flow_to_rest(
    field: Callable[[float, FloatArray], FloatArray],
    theta0: FloatArray,
    *,
    tol: float,
    t_max: float,
    target: FloatArray | None = None,
) -> tuple[FloatArray, float, bool]:
    """Integrate dθ/dt = F(θ) in doubling chunks until it comes to rest — ‖F‖ ≤ tol, or, with
    a ``target``, ‖centred θ - target‖ ≤ tol — or t reaches t_max: ``(θ_end, t, reached)``."""
    theta = theta0.ravel().copy()
    shape = theta0.shape

    def done(x: FloatArray) -> bool:
        if target is None:
            return float(np.linalg.norm(field(0.0, x))) <= tol
        return _quotient_distance(x.reshape(shape), target) <= tol

    t, chunk = 0.0, 10.0
    reached = done(theta)
    while not reached and t < t_max:
        chunk = min(chunk, t_max - t)
        solution = _ode_flow(field, theta, chunk)
        theta = solution.y[:, -1]
        t += chunk
        chunk *= 2
        reached = done(theta)
    return theta.reshape(shape), t, reached


@dataclass(frozen=True)
class _SlowSetting:
    """The slow ODE at the end of the run (update index ``n``, inverse temperature ``beta`` =
    β(n)): its field and, for entropy-regularised ActorCritic, its closed-form equilibrium θ*_τ.
    When β(n) converges (A9) this is the ODE at β_∞ up to the change still to come."""

    field: Callable[[float, FloatArray], FloatArray]
    beta: float
    n: int
    closed_form: FloatArray | None
    tau: float


def _slow_setting(trace: RunTrace) -> _SlowSetting | None:
    mean, fe, task = trace.mean_field, trace.fast_equilibrium, trace.task
    if mean is None or fe is None or not trace.snapshots:
        return None
    n_end = trace.snapshots[-1].n + 1
    shape = (task.n_states, task.n_actions)
    try:
        beta = float(as_schedule(_beta_of(trace.facts))(n_end))
    except (ScheduleError, TypeError):
        beta = trace.snapshots[-1].beta_n

    def field(_t: float, theta: FloatArray) -> FloatArray:
        return slow_field(mean, fe, theta.reshape(shape), n_end).ravel()

    tau = trace.facts.soft_critic_tau
    closed = None
    if tau > 0 and task.mdp is not None:
        q = soft_value_iteration(task.mdp, tau).Q
        closed = np.where(_live(task)[:, None], centred(q / (beta * tau)), 0.0)
    return _SlowSetting(field, beta, n_end, closed, tau)


def _pg_type_field(trace: RunTrace, setting: _SlowSetting) -> bool:
    """Whether F(θ) = c(θ)·∇J(θ), c > 0, for every θ, so that its zeros are J's stationary
    points. The learner states it (``facts.actor_field == "policy_gradient"``, known
    analytically, THEORY.md §2.2: e.g. ActorCritic without entropy with ``discount_actor`` or
    γ = 1); it is confirmed numerically here at the last iterate (cosine ≥ 1 - 1e-8)."""
    mdp = trace.task.mdp
    if mdp is None or trace.facts.actor_field != "policy_gradient":
        return False
    theta = trace.snapshots[-1].theta
    F = setting.field(0.0, theta.ravel())
    grad = policy_gradient(mdp, theta, setting.beta).ravel()
    denominator = float(np.linalg.norm(F) * np.linalg.norm(grad))
    return denominator > 0 and float(F @ grad) / denominator >= 1 - 1e-8


def _shadowing(trace: RunTrace, setting: _SlowSetting) -> dict[str, float]:
    """D_APT(n0; W) = max over the run's recorded θ in the window of ‖θ̄(t_n0 + s) - Θ(s)‖
    (centred), Θ the slow ODE from θ_n0 on the clock t_b; W = the clock span of the last
    decade; computed from the start of the last decade and, when the window fits, of the one
    before. The window's start uses the recorded point closest to the wanted n0."""
    n, theta, clock = trace.trajectory_n, trace.trajectory_theta, trace.trajectory_clock
    if len(n) < 4:
        return {}
    end_clock = float(clock[-1])
    i_last = int(np.searchsorted(n, _last_decade(trace)))
    window = end_clock - float(clock[i_last])
    out: dict[str, float] = {"apt_window": window}
    for label, n0 in (("last", _last_decade(trace)), ("previous", _last_decade(trace) // 10)):
        i0 = int(np.searchsorted(n, n0))
        if i0 >= len(n) - 1 or float(clock[i0]) + window > end_clock + 1e-9 or window <= 0:
            continue
        inside = (clock >= clock[i0]) & (clock <= clock[i0] + window)
        times = clock[inside] - clock[i0]
        solution = _ode_flow(setting.field, theta[i0], float(times[-1]), t_eval=times)
        if not solution.success:
            continue
        run = theta[inside].reshape(len(times), -1)
        ode = solution.y.T
        gap = np.linalg.norm(
            [
                centred(r.reshape(theta.shape[1:])) - centred(o.reshape(theta.shape[1:]))
                for r, o in zip(run, ode, strict=True)
            ],
            axis=(1, 2),
        )
        travel = float(np.linalg.norm(centred(theta[inside][-1]) - centred(theta[i0])))
        out[f"apt_{label}"] = float(gap.max())
        out[f"apt_{label}_travel"] = travel
        out[f"apt_{label}_n0"] = float(n[i0])
    return out


def _at_infinity(trace: RunTrace, setting: _SlowSetting, evidence: dict[str, float]) -> bool:
    """Whether the slow ODE has no finite equilibrium: F is a positive multiple of ∇J
    (:func:`_pg_type_field`) and some reachable live state has a unique optimal action (then
    ∇J(θ) = β η π A^π ≠ 0 for every finite θ, since A^π = 0 on the reachable states would make
    all actions optimal there). Writes ``max_action_gap`` into ``evidence``."""
    mdp = trace.task.mdp
    if mdp is None or not _pg_type_field(trace, setting):
        return False
    if trace.task.n_actions < 2:
        return False
    q_star = optimal_values(mdp).Q
    rows = reachable_states(mdp.P, mdp.rho) & ~mdp.terminal
    ordered = np.sort(q_star[rows], axis=1)
    gap = float((ordered[:, -1] - ordered[:, -2]).max()) if rows.any() else 0.0
    evidence["max_action_gap"] = gap
    return gap > 1e-9 * (1.0 + float(np.abs(q_star).max()))


def _attractor(trace: RunTrace) -> tuple[str, FloatArray | None]:
    """``("finite", θ*_τ)`` for the closed form (checked to be a zero of F), ``("infinity",
    None)`` when the slow ODE has no finite equilibrium, else ``("unknown", None)``."""
    setting = _slow_setting(trace)
    if setting is None:
        return "unknown", None
    if setting.closed_form is not None:
        residual = float(np.linalg.norm(setting.field(0.0, setting.closed_form.ravel())))
        if residual <= 1e-6:
            return "finite", setting.closed_form
    if _at_infinity(trace, setting, {}):
        return "infinity", None
    return "unknown", None


def check_a7_slow(
    trace: RunTrace, *, n_starts: int = 3, seed: int = 0, t_max: float = 500.0
) -> tuple[Verdict, Verdict]:
    """A7 SLOW: the slow ODE dθ/dt = F(θ) has an asymptotically stable equilibrium θ* that the
    run enters (``"A7"``: local, K&B / Holzleitner [R]) and it is unique and globally
    asymptotically stable (``"A7-global"``: Borkar).

    * Entropy-regularised ActorCritic (τ > 0): θ*_τ = Q*_τ/(β τ), centred per state, from soft
      value iteration; checked to be a zero of F (exact), local stability from the eigenvalues
      of F's Jacobian at θ*_τ in centred coordinates (central differences), basin entry by
      integrating the ODE from the last iterate (``solve_ivp``, at most ``t_max``) until it is
      within 1e-3·(1 + ‖θ*‖) of θ*, the distance ‖θ_n - θ*‖ (centred) along the run. Global:
      the ODE from ``n_starts`` random logits N(0, max(1, max|θ*|)²) all reach θ*_τ
      (estimated; a start that does not come to rest by ``t_max`` leaves it undecided).
    * PG-type fields without regularisation (F = c(θ)∇J, :func:`_pg_type_field`): if some
      reachable state has a unique optimal action, ∇J vanishes at no finite θ (it would need
      A^π = 0 on all reachable states, i.e. all actions optimal there): the attractor is at
      infinity, so the hypothesis is ``violated`` (exact); value-space convergence
      J* - J(π_n) is reported instead.
    * Otherwise the ODE is integrated from the last iterate; a rest point found (‖F‖ ≤ 1e-8)
      is used as θ* (estimated).

    The ODE is the one at the end of the run (β = β(N)).

    Shadowing D_APT (THEORY.md §4.1, §6.4) is reported in the evidence. Source: THEORY.md §3 A7
    (Borkar (A5); K&B Theorem with chain-transitive limit sets / local attractors).
    """
    name = "slow ODE dθ/dt = F(θ): asymptotically stable θ*, entered by the run"
    name_g = "slow ODE: unique globally asymptotically stable θ*"
    setting = _slow_setting(trace)
    if setting is None:
        reason = trace.mean_field_reason or "no fast equilibrium or no recorded points"
        return (
            Verdict("A7", name, "undecided", METHOD_EXACT, reason, {}, _KB_R),
            Verdict("A7-global", name_g, "undecided", METHOD_EXACT, reason, {}, (BORKAR,)),
        )
    task, mdp = trace.task, trace.task.mdp
    evidence: dict[str, float] = {"beta_end": setting.beta}
    evidence.update(_shadowing(trace, setting))
    apt = ""
    if "apt_last" in evidence:
        apt = (
            f"; shadowing D_APT over a window W = {evidence['apt_window']:.3g} of ODE time: "
            f"{evidence['apt_last']:.3g} from n0 = {int(evidence['apt_last_n0'])} (the run "
            f"moved {evidence['apt_last_travel']:.3g})"
        )
        if "apt_previous" in evidence:
            apt += f", {evidence['apt_previous']:.3g} from n0 = {int(evidence['apt_previous_n0'])}"
    last = trace.snapshots[-1]
    tol = 1e-8
    theta_star = setting.closed_form
    how = f"closed form θ*_τ = Q*_τ/(βτ) (soft value iteration, β = {setting.beta:.3g})"
    method = METHOD_EXACT
    if theta_star is not None:
        residual = float(np.linalg.norm(setting.field(0.0, theta_star.ravel())))
        evidence["closed_form_residual"] = residual
        if residual > 1e-6:
            theta_star, how = None, f"closed form is not a zero of F (‖F‖ = {residual:.3g})"
    if theta_star is None and mdp is not None and _at_infinity(trace, setting, evidence):
        v_star = float(mdp.rho @ optimal_values(mdp).V)
        n_s, gaps = _snapshot_values(
            trace, lambda s: v_star - float(mdp.rho @ policy_evaluation(mdp, s.policy))
        )
        evidence.update(value_gap_first=float(gaps[0]), value_gap_final=float(gaps[-1]))
        detail = (
            "attractor at infinity: F is the policy gradient (cosine with ∇J = 1 at the "
            "last iterate) and a reachable state has a unique optimal action (action gap "
            f"{evidence['max_action_gap']:.3g}), so F(θ) ≠ 0 for every finite θ (exact): "
            "∇J = 0 needs A^π = 0 on all reachable states, i.e. all actions optimal there "
            "(Agarwal et al. 2021, softmax stationary points); value-space convergence "
            f"instead: J* - J(π_n) = {gaps[0]:.3g} at n = {n_s[0]} → {gaps[-1]:.3g} at "
            f"n = {n_s[-1]}{apt}"
        )
        return (
            Verdict("A7", name, "violated", METHOD_EXACT, detail, evidence, _KB_R),
            Verdict("A7-global", name_g, "violated", METHOD_EXACT, detail, evidence, (BORKAR,)),
        )
    if theta_star is None:
        rest, t, reached = _flow_to_rest(setting.field, last.theta, tol=tol, t_max=t_max)
        norm = float(np.linalg.norm(setting.field(0.0, rest.ravel())))
        evidence["rest_field_norm"] = norm
        if not reached:
            detail = (
                f"no equilibrium found: the slow ODE from the last iterate has ‖F‖ = {norm:.3g} "
                f"after t = {t:.3g}; {how if setting.closed_form is not None else 'no closed form'}"
                f"{apt}"
            )
            return (
                Verdict("A7", name, "undecided", METHOD_ESTIMATED, detail, evidence, _KB_R),
                Verdict(
                    "A7-global", name_g, "undecided", METHOD_ESTIMATED, detail, evidence, (BORKAR,)
                ),
            )
        theta_star = np.where(_live(task)[:, None], centred(rest.reshape(last.theta.shape)), 0.0)
        how = f"rest point of the slow ODE from the last iterate (t = {t:.3g})"
        method = METHOD_ESTIMATED
    # Local stability: eigenvalues of F's Jacobian at θ* in centred coordinates.
    basis = _centred_basis(task)
    columns = []
    for j in range(basis.shape[1]):
        step = _FD_THETA * basis[:, j]
        plus = setting.field(0.0, theta_star.ravel() + step)
        minus = setting.field(0.0, theta_star.ravel() - step)
        columns.append(basis.T @ (plus - minus) / (2 * _FD_THETA))
    spectrum = np.linalg.eigvals(np.array(columns).T)
    rate = float(-spectrum.real.max())
    evidence["slow_contraction"] = rate
    evidence["slow_e_min"] = float(np.abs(spectrum).min())
    distances = [
        float(np.linalg.norm(centred(s.theta)[_live(task)] - theta_star[_live(task)]))
        for s in trace.snapshots
    ]
    evidence.update(distance_first=distances[0], distance_final=distances[-1])
    near = 1e-3 * (1.0 + float(np.linalg.norm(theta_star)))
    end, t, entered = _flow_to_rest(
        setting.field, last.theta, tol=near, t_max=t_max, target=theta_star
    )
    distance_end = _quotient_distance(end, theta_star)
    evidence.update(basin_entry_distance=distance_end, basin_entry_time=t)
    head = (
        f"θ* from the {how}; Jacobian of F at θ* in centred coordinates has max Re eig "
        f"{-rate:.3g}; ‖θ_n - θ*‖ (centred) = {distances[0]:.3g} → {distances[-1]:.3g}; the ODE "
        f"from the last iterate reaches ‖θ - θ*‖ = {distance_end:.2g} at t = {t:.3g}"
    )
    if rate <= 0:
        detail = f"{head}: θ* is not linearly stable{apt}"
        local = Verdict("A7", name, "undecided", method, detail, evidence, _KB_R)
    elif not entered:
        detail = f"{head}: not within {near:.2g} of θ* by t = {t_max:g}{apt}"
        local = Verdict("A7", name, "undecided", method, detail, evidence, _KB_R)
    else:
        detail = f"{head}: asymptotically stable and entered{apt}"
        local = Verdict("A7", name, "holds", method, detail, evidence, _KB_R)
    rng = np.random.default_rng(seed)
    scale = max(1.0, float(np.abs(theta_star).max()))
    misses, stalled = [], 0
    for _ in range(n_starts):
        start = rng.normal(scale=scale, size=last.theta.shape)
        end, _, arrived = _flow_to_rest(
            setting.field, start, tol=near, t_max=t_max, target=theta_star
        )
        if arrived:
            misses.append(_quotient_distance(end, theta_star))
            continue
        rest, _, at_rest = _flow_to_rest(setting.field, end, tol=tol, t_max=t_max)
        if at_rest:  # a different rest point: θ* is not the unique global attractor
            misses.append(_quotient_distance(rest, theta_star))
        else:
            stalled += 1
    evidence_g = {
        **evidence,
        "starts": float(n_starts),
        "stalled": float(stalled),
        "global_max_miss": max(misses) if misses else _NEVER,
    }
    starts = f"the ODE from {n_starts} random logits N(0, {scale:.3g}²)"
    if local.status != "holds" or n_starts == 0:
        detail = f"{local.detail}; global stability not established"
        global_verdict = Verdict(
            "A7-global", name_g, "undecided", METHOD_ESTIMATED, detail, evidence_g, (BORKAR,)
        )
    elif misses and max(misses) > near:
        detail = (
            f"{head}; but {starts} comes to rest {max(misses):.3g} away from θ*: another "
            "equilibrium, so θ* is not the unique global attractor (estimated)"
        )
        global_verdict = Verdict(
            "A7-global", name_g, "violated", METHOD_ESTIMATED, detail, evidence_g, (BORKAR,)
        )
    elif stalled:
        detail = (
            f"{head}; {starts}: {stalled} did not come to rest by t = {t_max:g} (softmax "
            "plateaus): global attraction not established"
        )
        global_verdict = Verdict(
            "A7-global", name_g, "undecided", METHOD_ESTIMATED, detail, evidence_g, (BORKAR,)
        )
    else:
        detail = (
            f"{head}; {starts} all reach θ* (within {near:.2g}): unique and globally "
            f"attracting on this sample (estimated){apt}"
        )
        global_verdict = Verdict(
            "A7-global", name_g, "holds", METHOD_ESTIMATED, detail, evidence_g, (BORKAR,)
        )
    return local, global_verdict


# --- A8 ---------------------------------------------------------------------------------------


def _snapshot_values(
    trace: RunTrace, value: Callable[[Snapshot], float]
) -> tuple[IntArray, FloatArray]:
    return (
        np.array([s.n for s in trace.snapshots], dtype=np.int64),
        np.array([value(s) for s in trace.snapshots], dtype=np.float64),
    )


Growth = Literal["grows", "levels", "?"]


def _growth_test(n: IntArray, y: FloatArray) -> tuple[Growth, Trend | None]:
    """'grows' when y rises significantly (slope per e-fold > 3 se), by ≥ 10 % of its level
    over the window, and does not level off (late slope ≥ 1/2 early slope); 'levels' when the
    fitted growth over the window is ≤ 5 % of the level or the late slope is ≤ 1/4 of the early
    one and ≤ 2 % of the level per e-fold; '?' otherwise."""
    fit = trend(n, y)
    if fit is None:
        return "?", None
    level = max(abs(fit.end), 1e-12)
    if (
        fit.slope_log > 3 * fit.slope_log_se
        and fit.growth >= 0.1 * level
        and fit.late_slope >= 0.5 * fit.early_slope
    ):
        return "grows", fit
    if abs(fit.growth) <= 0.05 * level or (
        fit.late_slope <= 0.25 * max(fit.early_slope, 0.0) and fit.late_slope <= 0.02 * level
    ):
        return "levels", fit
    return "?", fit


def _value_bound(trace: RunTrace) -> float | None:
    """sup_θ ‖λ(θ)‖∞ ≤ (R_max + τ log|A|)·T_max for state-value critics (ActorCritic, PPO),
    T_max = max_π E[episode length | s_0] by value iteration on unit rewards (exact; None when
    some policy is improper or the learner is not a state-value critic)."""
    mdp = trace.task.mdp
    if mdp is None or trace.facts.fast_iterate != "value_table" or mdp.gamma < 1.0:
        return None
    live = ~mdp.terminal
    T = np.zeros(mdp.n_states)
    for _ in range(100_000):
        T_next = np.where(live, (1.0 + mdp.P @ T).max(axis=1), 0.0)
        if np.max(np.abs(T_next - T)) <= 1e-9 * (1.0 + T_next.max()):
            T = T_next
            break
        T = T_next
        if T.max() > 1e9:
            return None
    else:
        return None
    r_max = float(np.abs(mdp.R).max())
    if mdp.R_next is not None:
        r_max = max(r_max, float(np.abs(mdp.R_next).max()))
    tau = trace.facts.soft_critic_tau
    return (r_max + tau * math.log(mdp.n_actions)) * float(T.max())


def check_a8_bounded(trace: RunTrace) -> Verdict:
    """A8 BND: sup_n ‖θ_n‖ < ∞ and sup_n ‖ω_n‖ < ∞ (θ centred per state: the quotient norm).

    ω: the fast iterate is bounded iff its tracking error is, because λ(θ) is bounded for every θ
    (state-value critics: ‖λ‖∞ ≤ (R_max + τ log|A|)·max_π E[T], exact); the growth test below
    runs on ‖ω_n - λ(θ_n)‖ (on ‖ω_n‖ without an exact λ).

    θ: when the slow ODE has a finite attractor θ* in closed form (entropy-regularised
    ActorCritic), growth of ‖θ_n‖ is an approach to it and the test runs on ‖θ_n - θ*‖. When
    it has no finite equilibrium (A7: attractor at infinity), bounded iterates could not
    converge, so any significant growth counts (no levelling-off requirement) and no growth
    leaves A8 undecided, never ``holds``.

    Growth test (estimated) on the second half of the run's decades (:class:`Trend`, fits
    against ln n and n): ``violated`` when a quantity rises significantly (slope per e-fold of
    n > 3 standard errors), by at least 10 % of its level, without levelling off (late slope
    ≥ 1/2 early slope) — e.g. ‖θ_n‖ ~ c·ln t_b(n) in the greedy limit of unregularised softmax
    PG (THEORY.md §1.2, §9); ``holds`` when all level off or fall; ``undecided`` otherwise.
    Source: THEORY.md §3 A8 (Borkar (A6); K&B (A7)).
    """
    name = "bounded iterates sup ‖θ_n‖ + ‖ω_n‖ < ∞"
    kind, theta_star = _attractor(trace)
    if theta_star is not None:
        live = _live(trace.task)
        n, theta = _snapshot_values(
            trace, lambda s: float(np.linalg.norm(centred(s.theta)[live] - theta_star[live]))
        )
        theta_label = "‖θ_n - θ*_τ‖"
    else:
        n, theta = _snapshot_values(trace, lambda s: float(np.linalg.norm(centred(s.theta))))
        theta_label = "‖θ_n‖"
    _, error = trace.series("track/error")
    if len(error) == len(trace.snapshots) and len(error):
        omega, omega_label = error, "‖ω_n - λ(θ_n)‖"
    else:
        _, omega = _snapshot_values(trace, lambda s: float(np.linalg.norm(s.omega)))
        omega_label = "‖ω_n‖"
    tail = n >= _tail(trace)
    verdict_theta, fit_theta = _growth_test(n[tail], theta[tail])
    verdict_omega, fit_omega = _growth_test(n[tail], omega[tail])
    bound = _value_bound(trace)
    evidence: dict[str, float] = {}
    if len(theta):
        raw = [float(np.linalg.norm(centred(s.theta))) for s in trace.snapshots]
        evidence.update(
            theta_norm_max=max(raw),
            omega_norm_max=max(float(np.linalg.norm(s.omega)) for s in trace.snapshots),
        )
    if bound is not None:
        evidence["lambda_bound"] = bound
    if theta_star is not None:
        evidence["theta_star_norm"] = float(np.linalg.norm(theta_star))
    if fit_theta is not None:
        evidence.update(_trend_evidence("theta", fit_theta))
    if fit_omega is not None:
        evidence.update(_trend_evidence("omega", fit_omega))
    window = f"n ∈ [{int(n[tail][0])}, {int(n[tail][-1])}]" if tail.any() else "the run's tail"

    def describe(label: str, fit: Trend | None) -> str:
        if fit is None:
            return f"{label}: too few points"
        return (
            f"{label} {fit.start:.3g} → {fit.end:.3g} on {window}, {fit.slope_log:+.3g} per "
            f"e-fold of n (± {fit.slope_log_se:.2g}, R² {fit.r2_log:.2f}; vs n: "
            f"{fit.slope_lin:+.3g}/update, R² {fit.r2_lin:.2f}), early {fit.early_slope:+.3g} "
            f"late {fit.late_slope:+.3g}"
        )

    text = f"{describe(theta_label, fit_theta)}; {describe(omega_label, fit_omega)}"
    if theta_star is not None:
        text += f"; ‖θ*_τ‖ = {float(np.linalg.norm(theta_star)):.3g} (closed form, A7)"
    if bound is not None and omega_label != "‖ω_n‖":
        text += f"; ‖λ(θ)‖∞ ≤ {bound:.3g} for every θ (exact)"
    if kind == "infinity" and fit_theta is not None and verdict_theta != "grows":
        significant = (
            fit_theta.slope_log > 3 * fit_theta.slope_log_se
            and fit_theta.growth >= 0.1 * max(abs(fit_theta.end), 1e-12)
        )
        verdict_theta = "grows" if significant else "?"
        text += "; the slow ODE has no finite equilibrium (A7: attractor at infinity)"
    if _beta_limit(_beta_of(trace.facts)) == math.inf:
        text += "; β(n) → ∞, so the effective logits β_n θ_n diverge even if θ_n does not (A9)"
    if "grows" in (verdict_theta, verdict_omega):
        which = theta_label if verdict_theta == "grows" else omega_label
        why = (
            " An unbounded actor while the value converges is the greedy limit of "
            "unregularised softmax (THEORY.md §1.2, §9): an expected, explained outcome, but "
            "outside the theorems' hypotheses."
            if verdict_theta == "grows" and kind == "infinity"
            else ""
        )
        how = (
            "grows significantly while the slow ODE has no finite equilibrium"
            if verdict_theta == "grows" and kind == "infinity"
            else "grows without levelling off"
        )
        detail = f"{which} {how}: {text} (estimated).{why}"
        return Verdict("A8", name, "violated", METHOD_ESTIMATED, detail, evidence, _ALL)
    if verdict_theta == "levels" and verdict_omega == "levels" and kind != "infinity":
        detail = f"both level off or fall: {text} (estimated)"
        return Verdict("A8", name, "holds", METHOD_ESTIMATED, detail, evidence, _ALL)
    detail = f"no clear trend: {text}"
    return Verdict("A8", name, "undecided", METHOD_ESTIMATED, detail, evidence, _ALL)


# --- A9 - A12 ---------------------------------------------------------------------------------


def _beta_limit(beta: Any) -> float | None:
    """lim β(n) from the asymptotic form (inf if β → ∞; None if unknown or only bounded)."""
    try:
        schedule = as_schedule(beta)
    except (ScheduleError, TypeError):
        return None
    form = asymptotic_form(schedule)
    if form is None:
        return None
    kind = form.limit_class
    if kind == "infinite":
        return math.inf
    if kind == "zero":
        return 0.0
    if kind == "constant" and form.exact:
        return float(form.coefficient)
    return None


def check_a9_greediness(beta: Schedule | str | float) -> Verdict:
    """A9 GREEDY: the inverse temperature β(n) stays in a compact set and converges
    (β(n) → β_∞ < ∞), so the ODEs are those at β_∞. Symbolic, from the asymptotic form of the
    schedule (:func:`~acconv.theory_checks.asymptotics.asymptotic_form`); β(n) → ∞ is
    ``violated`` (then A1/A3/A8 fail: Lipschitz constants ∝ β, p_min → 0). Source: THEORY.md §3
    A9 (Holzleitner et al. [R]: greediness as K&B's compact-valued control).
    """
    name = "greediness β(n) bounded and convergent"
    schedule = as_schedule(beta)
    theorems = (HOLZLEITNER,)
    if schedule.is_constant:
        value = float(schedule(0))
        detail = f"β(n) = {schedule.text} is constant"
        return Verdict(
            "A9", name, "holds", METHOD_SYMBOLIC, detail, {"beta_limit": value}, theorems
        )
    form = asymptotic_form(schedule)
    limit = _beta_limit(schedule)
    if form is None or limit is None:
        detail = f"β(n) = {schedule.text}: no asymptotic form / limit derived (not decided)"
        return Verdict("A9", name, "undecided", METHOD_SYMBOLIC, detail, {}, theorems)
    if limit == math.inf:
        detail = (
            f"β(n) = {schedule.text}, {form.describe('β(n)')} → ∞: the policy is driven to "
            "the greedy limit, outside every compact set"
        )
        return Verdict(
            "A9", name, "violated", METHOD_SYMBOLIC, detail, {"beta_limit": limit}, theorems
        )
    detail = f"β(n) = {schedule.text}, {form.describe('β(n)')} → {limit:g}: bounded, convergent"
    return Verdict("A9", name, "holds", METHOD_SYMBOLIC, detail, {"beta_limit": limit}, theorems)


def check_a10_analytic(facts: LearnerFacts) -> Verdict:
    """A10 ANALYTIC: the losses are real-analytic (for the Absil–Kurdyka link between local
    minima and stable equilibria). Symbolic, from the learner's facts: tabular softmax with
    tabular critics (MC, TD, GAE, RUDDER's linear return model) is analytic; PPO's clip, the
    value clip and advantage normalisation are not (piecewise analytic only, ``facts.kinks``).
    A network with a softmax head is analytic with tanh, softplus, SiLU or GELU units and
    without the clip; ELU and ReLU are not. Source: THEORY.md §3 A10 (Holzleitner et al. [R]).
    """
    theorems = (HOLZLEITNER,)
    if facts.policy == "network_softmax" and facts.activation is not None:
        objective = facts.config.get("objective", "?")
        clip = any("clip" in kink for kink in facts.kinks)
        analytic = facts.activation in ANALYTIC_ACTIVATIONS and not clip
        detail = f"activation {facts.activation}, objective {objective}: " + (
            "analytic" if analytic else "min/clip or a kinked activation is not analytic"
        )
        status: Status = "holds" if analytic else "violated"
        name = "real-analytic losses (network)"
        return Verdict("A10", name, status, METHOD_SYMBOLIC, detail, {}, theorems)
    name = "real-analytic losses"
    if facts.policy != "tabular_softmax":
        detail = f"op graph of {facts.name!r} not inspected"
        return Verdict("A10", name, "undecided", METHOD_SYMBOLIC, detail, {}, theorems)
    if facts.kinks:
        detail = f"not analytic, only piecewise analytic: {', '.join(facts.kinks)}"
        return Verdict("A10", name, "violated", METHOD_SYMBOLIC, detail, {}, theorems)
    detail = f"{facts.analytic_parts}: analytic"
    return Verdict("A10", name, "holds", METHOD_SYMBOLIC, detail, {}, theorems)


def check_a11_ppo_old(facts: LearnerFacts, trace: RunTrace | None = None) -> Verdict:
    """A11 PPO-OLD: mode (i) — one gradient step per fresh batch (θ_old = θ_n; the clipped/KL
    objective's gradient is the policy gradient) — ``holds``; mode (ii) — K·M > 1 steps per
    batch — the batch and θ_old are part of the Markov noise and A3/A6 must hold for the
    composite map: reported as ``undecided`` with the KL drift per outer iteration (mean and
    max of PPO's ``approx_kl`` diagnostic over the last decade of recorded updates). From the
    learner's facts (``old_policy``, ``gradient_steps``). Source: THEORY.md §3 A11
    (Holzleitner et al. [R]).
    """
    name = "PPO's previous policy: one step per batch (i) or K epochs as Markov noise (ii)"
    theorems = (HOLZLEITNER,)
    if not facts.old_policy:
        detail = f"{facts.name} has no old policy"
        return Verdict("A11", name, "not_applicable", METHOD_SYMBOLIC, detail, {}, theorems)
    steps = facts.gradient_steps
    evidence: dict[str, float] = {"gradient_steps": float(steps)}
    if steps == 1:
        detail = "mode (i): one gradient step per fresh batch, θ_old = θ_n (ρ = 1, ∇KL = 0)"
        return Verdict("A11", name, "holds", METHOD_SYMBOLIC, detail, evidence, theorems)
    drift = ""
    if trace is not None:
        kl = [
            s.diagnostics["approx_kl"]
            for s in trace.snapshots
            if "approx_kl" in s.diagnostics and s.n >= _last_decade(trace)
        ]
        if kl:
            evidence.update(kl_mean=float(np.mean(kl)), kl_max=float(np.max(kl)))
            drift = (
                f"; KL(π_old ‖ π_new) per outer iteration over the last decade: mean "
                f"{np.mean(kl):.3g}, max {np.max(kl):.3g}"
            )
    detail = (
        f"mode (ii): {facts.gradient_steps_text} per batch; θ_old and the batch are Markov "
        "noise, the mean field is the composite map "
        f"(A3/A6 are checked on the deterministic composite, not on the noisy one){drift}"
    )
    return Verdict("A11", name, "undecided", METHOD_SYMBOLIC, detail, evidence, theorems)


def _rudder_errors(
    mdp: FiniteMDP, pi: FloatArray, omega: FloatArray, visited: BoolArray
) -> tuple[float, float]:
    """At the return model ω (tabular, g_t = Σ_{k<t} r_{k+1} + ω[s_t, a_t]):

    * RMS return-equivalence error sqrt(E[(G_0 - g_{T-1})²]) = sqrt(E[(r_T - ω[s_{T-1},
      a_{T-1}])²]) over the ending step (residual "none");
    * max over visited pairs of |E[Σ_{k>t} r̃_{k+1} | s_t, a_t]| = |f - ω| with
      f = p_end ω + Σ_{s' live} P (r + π f), the expected last prediction.
    """
    S, A = mdp.n_states, mdp.n_actions
    live = ~mdp.terminal
    r_next = mdp.R_next if mdp.R_next is not None else np.repeat(mdp.R[:, :, None], S, axis=2)
    ends = mdp.P * mdp.terminal[None, None, :]
    noise = np.zeros((S, A)) if mdp.R_noise is None else mdp.R_noise**2
    square = np.einsum("sat,sat->sa", ends, (r_next - omega[:, :, None]) ** 2)
    square = square + ends.sum(axis=2) * noise
    weight = expected_visits(mdp, pi)[:, None] * pi
    rms = math.sqrt(max(float(np.sum(np.where(live[:, None], weight * square, 0.0))), 0.0))
    p_end, _ = ending_steps(mdp)
    goes_on = mdp.P * live[None, None, :]
    c = p_end * omega + np.einsum("sat,sat->sa", goes_on, r_next)
    M = np.einsum("sat,tb->satb", goes_on, pi).reshape(S * A, S * A)
    pairs = np.repeat(live, A)
    f = np.zeros(S * A)
    system = np.eye(int(pairs.sum())) - M[np.ix_(pairs, pairs)]
    f[pairs] = np.linalg.solve(system, c.ravel()[pairs])
    error = np.abs(f.reshape(S, A) - omega)
    martingale = float(error[visited].max()) if visited.any() else 0.0
    return rms, martingale


def check_a12_rudder(trace: RunTrace) -> Verdict:
    """A12 RUDDER-ID: the return model's equilibrium λ(θ) is unique on the visited pairs
    (J_ω Hurwitz there: κ > 0) and is E[G_0 | τ_{0:t}] (future-reward martingale error
    max |E[Σ_{k>t} r̃_{k+1} | τ_{0:t}]| = 0 at λ(θ)), at the last iterate; the RMS
    return-equivalence error sqrt(E[(Σ_t r̃_{t+1} - G_0)²]) at λ(θ) (residual "none") is
    reported. Exact (linear solves on the pairs). Source: THEORY.md §3 A12 [D], RUDDER.md §1.
    """
    name = "RUDDER: return-model equilibrium unique on visited pairs and = E[G_0 | prefix]"
    theorems = (HOLZLEITNER,)
    if trace.facts.return_model == "lstm":
        detail = "an LSTM return model has no exact equilibrium: identifiability is not checked"
        return Verdict("A12", name, "undecided", METHOD_EXACT, detail, {}, theorems)
    if trace.facts.return_model == "none":
        return Verdict(
            "A12",
            name,
            "not_applicable",
            METHOD_EXACT,
            f"{trace.learner} has no return decomposition",
            {},
            theorems,
        )
    mdp, fe = trace.task.mdp, trace.fast_equilibrium
    if mdp is None or fe is None or not trace.snapshots:
        return Verdict("A12", name, "undecided", METHOD_EXACT, "no exact model", {}, theorems)
    last = trace.snapshots[-1]
    lam, visited = fe(last.theta, last.n + 1)
    pi = softmax_policy(last.theta, float(last.beta_n))
    rms, martingale = _rudder_errors(mdp, pi, lam, visited)
    kappa = last.metrics.get("track/kappa", _NEVER)
    evidence = {
        "return_equivalence_rms": rms,
        "martingale_error_max": martingale,
        "kappa": kappa,
        "visited_pairs": float(visited.sum()),
    }
    scale = 1e-8 * (1.0 + float(np.abs(lam).max()))
    unique = (
        f"unique on the {int(visited.sum())} visited pairs (κ = {kappa:.3g} > 0)"
        if math.isfinite(kappa) and kappa > 0
        else "uniqueness not checked (no κ)"
    )
    detail = (
        f"{unique}; at λ(θ): future-reward martingale error {martingale:.3g}, RMS "
        f"return-equivalence error {rms:.3g} (residual 'none'; 'uniform'/'terminal' make it 0)"
    )
    if martingale > scale:
        detail += (
            ": λ(θ) is not E[G_0 | prefix] — episodes end at random after some pairs, so the "
            "main loss conditions on the future (RUDDER.md §6.5)"
        )
        return Verdict("A12", name, "violated", METHOD_EXACT, detail, evidence, theorems)
    if not (math.isfinite(kappa) and kappa > 0):
        return Verdict("A12", name, "undecided", METHOD_EXACT, detail, evidence, theorems)
    return Verdict("A12", name, "holds", METHOD_EXACT, detail, evidence, theorems)


# --- Tracking (a conclusion of the theorems, checked on the run) ------------------------------


def _form_or_none(schedule: Any) -> Any:
    try:
        return asymptotic_form(as_schedule(schedule))
    except (ScheduleError, TypeError):
        return None


def check_tracking(
    trace: RunTrace,
    *,
    factor: float = 3.0,
    tolerance: float | None = None,
    s4: Status | None = None,
) -> Verdict:
    """Borkar's tracking lemma ‖ω_n - λ(θ_n)‖ → 0, against the envelope of THEORY.md §4.5.

    With E(n) the tracking error and env(n) = noise(n) + lag(n) + transient(n) its predicted
    size (noise ≈ sqrt(a(n)·tr Σ), Σ the stationary covariance of the linearised fast
    recursion; lag ≈ (b(n)·‖Dλ F‖ + ‖Δ_β λ‖)/(a(n)·κ); transient ≈ E(0)·exp(-κ_min·(t_a(n) -
    t_a(0))), the forgetting of the initial error; see the monitor), over the last decade of
    recorded updates (n + 1 ≥ N/10):

    * ``holds`` when E(n) ≤ ``factor``·env(n) at ≥ 80 % of those points (E is one draw of a
      random vector whose mean square env estimates), the envelope shrinks over the decade (it
      ends below 0.8× its start) and must vanish (a(n) → 0 symbolically, and S4 not violated):
      the error follows a vanishing envelope; or when the final error is below ``tolerance``
      (default 1e-3·(1 + ‖ω‖∞));
    * ``violated`` when S4 (b/a → 0) fails and the error does not decrease over the decade
      (fitted slope of log E against log n ≥ -0.1: a plateau or growth) while above the
      tolerance;
    * ``undecided`` otherwise (e.g. the error sits inside an envelope that does not vanish, or
      outside a shrinking one while S4 holds).

    Estimated. Source: Borkar 1997 / Borkar 2008 two-timescale chapter (THEORY.md §4.1).
    """
    name = "tracking ‖ω_n - λ(θ_n)‖ → 0 within the predicted envelope"
    n, error = trace.series("track/error")
    if not len(error):
        reason = trace.mean_field_reason or "no fast equilibrium (no exact model)"
        return Verdict("tracking", name, "undecided", METHOD_ESTIMATED, reason, {}, _ALL)
    n_env, envelope = trace.series("track/envelope")
    decade = n >= _last_decade(trace)
    lam_scale = 1.0 + max(float(np.abs(s.omega).max()) for s in trace.snapshots)
    tol = 1e-3 * lam_scale if tolerance is None else tolerance
    evidence: dict[str, float] = {
        "error_final": float(error[-1]),
        "error_last_decade_start": float(error[decade][0]),
        "tolerance": tol,
        "factor": factor,
    }
    fit = None
    if decade.sum() >= 3 and (error[decade] > 0).all():
        slope = np.polyfit(np.log(n[decade] + 1.0), np.log(error[decade]), 1)[0]
        fit = float(slope)
        evidence["error_loglog_slope"] = fit
    ratio_text = ""
    within = False
    shrinking = False
    if len(envelope):
        env = dict(zip(n_env.tolist(), envelope.tolist(), strict=True))
        pairs = [
            (e, env[k])
            for k, e in zip(n[decade].tolist(), error[decade], strict=True)
            if k in env and env[k] > 0
        ]
        if pairs:
            ratios = [e / v for e, v in pairs]
            within = float(np.mean(np.array(ratios) <= factor)) >= 0.8
            shrinking = pairs[-1][1] <= 0.8 * pairs[0][1]
            evidence.update(
                envelope_final=pairs[-1][1],
                envelope_last_decade_start=pairs[0][1],
                ratio_max=max(ratios),
                ratio_median=float(np.median(ratios)),
                ratio_final=ratios[-1],
            )
            ratio_text = (
                f"; envelope {pairs[0][1]:.3g} → {pairs[-1][1]:.3g}, E/env median "
                f"{np.median(ratios):.3g}, max {max(ratios):.3g} (factor {factor:g})"
            )
    head = (
        f"E = {error[decade][0]:.3g} → {error[-1]:.3g} over the last decade (n ≥ "
        f"{int(n[decade][0])})"
        + (f", log-log slope {fit:.3g}" if fit is not None else "")
        + ratio_text
    )
    if error[-1] <= tol:
        detail = f"{head}: below the tolerance {tol:.3g} (estimated)"
        return Verdict("tracking", name, "holds", METHOD_ESTIMATED, detail, evidence, _ALL)
    critic_form = _form_or_none(trace.facts.critic_lr)
    vanishing = critic_form is not None and critic_form.limit_class == "zero"
    if within and shrinking and vanishing and s4 != "violated":
        detail = f"{head}: within a shrinking envelope (estimated)"
        return Verdict("tracking", name, "holds", METHOD_ESTIMATED, detail, evidence, _ALL)
    if s4 == "violated" and fit is not None and fit >= -0.1:
        detail = (
            f"{head}: S4 fails (b/a does not tend to 0) and the error does not decrease — "
            "the critic does not track λ(θ_n) (estimated)"
        )
        return Verdict("tracking", name, "violated", METHOD_ESTIMATED, detail, evidence, _ALL)
    if not within:
        why = "the error leaves the envelope"
    elif not vanishing:
        why = "within the envelope, but a(n) does not tend to 0, so the noise floor stays"
    elif s4 == "violated":
        why = "within the envelope, but b/a does not tend to 0, so the lag floor need not vanish"
    else:
        why = "the envelope does not shrink"
    detail = f"{head}: {why}; not decided"
    return Verdict("tracking", name, "undecided", METHOD_ESTIMATED, detail, evidence, _ALL)


# ---------------------------------------------------------------------------------------------
# 5. The report
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssumptionReport:
    """All verdicts of a run, which theorem's hypotheses are fully met, and a statement.

    ``theorems`` maps each theorem to ``holds`` (every required verdict holds or does not
    apply), ``violated`` (one is violated) or ``undecided``; ``estimated`` lists, per theorem,
    the required verdicts that hold only as estimates.
    """

    verdicts: tuple[Verdict, ...]
    theorems: Mapping[str, Status]
    estimated: Mapping[str, tuple[str, ...]]
    statement: str
    step_sizes: StepSizeReport | SharedStepSizes | None = None

    def __getitem__(self, verdict_id: str) -> Verdict:
        for verdict in self.verdicts:
            if verdict.id == verdict_id:
                return verdict
        ids = [v.id for v in self.verdicts]
        raise KeyError(f"no verdict {verdict_id!r}; expected one of {ids}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "verdicts": [v.to_dict() for v in self.verdicts],
            "theorems": dict(self.theorems),
            "estimated": {k: list(v) for k, v in self.estimated.items()},
            "statement": self.statement,
        }


def _coverage(
    verdicts: Mapping[str, Verdict], steps: StepSizeReport | SharedStepSizes | None
) -> tuple[dict[str, Status], dict[str, tuple[str, ...]], str]:
    theorems: dict[str, Status] = {}
    estimated: dict[str, tuple[str, ...]] = {}
    lines = []
    for theorem, required in REQUIREMENTS.items():
        statuses: list[Status] = []
        blockers = []
        for vid in required:
            verdict = verdicts.get(vid)
            status: Status = verdict.status if verdict is not None else "undecided"
            if vid == "A2" and theorem == BORKAR and steps is not None:
                status = combine_statuses([steps[c].status for c in ("S1", "S2", "S3", "S4")])
            statuses.append(status)
            if status not in ("holds", "not_applicable"):
                blockers.append(f"{vid} {status}")
        combined = combine_statuses(statuses)
        theorems[theorem] = combined
        soft = tuple(
            vid
            for vid in required
            if vid in verdicts
            and verdicts[vid].status == "holds"
            and verdicts[vid].method == METHOD_ESTIMATED
        )
        estimated[theorem] = soft
        if combined == "holds":
            line = f"{theorem}: all hypotheses hold as checked"
            if soft:
                line += f" ({', '.join(soft)} only as estimates on this run)"
        else:
            line = f"{theorem}: not fully met ({', '.join(blockers)})"
        lines.append(line)
    met = [t for t, s in theorems.items() if s == "holds"]
    head = (
        f"Hypotheses fully met: {', '.join(met)}."
        if met
        else "No theorem's hypotheses are fully met."
    )
    statement = (
        f"{head} " + "; ".join(lines) + ". The Holzleitner et al. statement is our "
        "reconstruction (THEORY.md §4.3), not the paper's text; a met hypothesis list says the "
        "theorem applies to this configuration as checked, not that the run converged."
    )
    return theorems, estimated, statement


def diagnostic_verdicts(
    facts: LearnerFacts,
    diagnostics: Sequence[tuple[int, Mapping[str, float]]] = (),
    *,
    kl_target: float | None = None,
    clip_fraction_max: float = 0.2,
    window: float = 0.25,
) -> list[Verdict]:
    """For a learner that logs PPO's batch diagnostics (``facts.logs_ppo_diagnostics``), the
    ``ppo/kl``, ``ppo/clip_fraction`` and ``critic/explained_variance`` verdicts of
    ``diagnostics`` (``[(n, {key: value})]`` of every update); none otherwise. ``kl_target``
    defaults to 1.5 × the learner's own target KL (SB3's early-stopping threshold), else 0.05."""
    if not facts.logs_ppo_diagnostics:
        return []
    if kl_target is None:
        kl_target = 1.5 * facts.target_kl if facts.target_kl else 0.05
    return ppo_diagnostic_verdicts(
        series_of([(n, dict(d)) for n, d in diagnostics]),
        kl_target=kl_target,
        clip_fraction_max=clip_fraction_max,
        window=window,
        source=facts.name,
    )


def learner_verdicts(
    facts: LearnerFacts,
    diagnostics: Sequence[tuple[int, Mapping[str, float]]] = (),
    **diagnostic_options: Any,
) -> list[Verdict]:
    """What the learner's facts alone decide, without a monitored run: ``A3`` and ``A10`` from
    the policy's form (for a network, from its activation and the clip), the ``optimizer``
    verdict, and :func:`diagnostic_verdicts` of ``diagnostics``."""
    if facts.policy == "network_softmax" and facts.activation is not None:
        a3 = _network_lipschitz(facts)
    else:
        name = "Lipschitz mean fields ḡ, h̄ in (θ, ω)"
        detail = f"learner {facts.name!r}: the fields need a monitored run (assumption_report)"
        a3 = Verdict("A3", name, "undecided", METHOD_SYMBOLIC, detail, {}, _ALL)
    optimizer = optimizer_verdict(facts)
    return [
        a3,
        check_a10_analytic(facts),
        *([optimizer] if optimizer is not None else []),
        *diagnostic_verdicts(facts, diagnostics, **diagnostic_options),
    ]


def assumption_report(
    trace: RunTrace | Any,
    *,
    episodes: EpisodeSource | None = None,
    step_report: StepSizeReport | SharedStepSizes | None = None,
    n_starts: int = 3,
    sympy_timeout: float | None = 10.0,
    kl_target: float | None = None,
    clip_fraction_max: float = 0.2,
    window: float = 0.25,
) -> AssumptionReport:
    """Check A0-A12 and tracking on a run and say which theorems' hypotheses are fully met.

    ``trace`` is a :class:`RunTrace` or anything with a ``trace()`` method returning one (a
    :class:`~acconv.instrument.monitor.TwoTimescaleMonitor` after its run). Everything is
    decided from the learner's facts and the run: the step sizes it states (S1-S7; one
    optimiser for both roles violates S4), how it draws episodes (A5; ``episodes`` overrides
    it), its optimiser (``optimizer``), its policy's form (A1, A3, A10) and, for learners that
    log PPO's batch diagnostics, the ``ppo/kl``, ``ppo/clip_fraction`` and
    ``critic/explained_variance`` verdicts (``kl_target`` defaults to 1.5 × the learner's own
    target KL, else 0.05). ``n_starts`` random starts test A7's globality. Borkar's step-size
    hypothesis is read as S1-S4, Karmakar & Bhatnagar's and the reconstructed Holzleitner
    statement's as S1-S5.
    """
    if not isinstance(trace, RunTrace):
        trace = trace.trace()
    facts = trace.facts
    steps = step_report if step_report is not None else step_sizes_of(facts, sympy_timeout)
    if isinstance(steps, SharedStepSizes):
        a2 = steps.a2
    elif steps is not None:
        a2 = check_a2_step_sizes(steps.critic, steps.actor, report=steps)
    else:
        why = facts.step_sizes_note or "the learner states no schedules a(n), b(n)"
        a2 = Verdict("A2", "step sizes S1-S5", "undecided", METHOD_SYMBOLIC, why, {}, _ALL)
    a7, a7_global = check_a7_slow(trace, n_starts=n_starts)
    verdicts = [
        check_a0_finite_mdp(trace.task.mdp, [s.policy for s in trace.snapshots]),
        check_a1_policy(trace),
        a2,
        check_a3_lipschitz(trace),
        check_a4_noise(trace),
        check_a5_episodes(episodes or facts.episodes),
        check_a6_fast(trace),
        check_a6_prime_domain(trace),
        a7,
        a7_global,
        check_a8_bounded(trace),
        check_a9_greediness(_beta_of(facts)),
        check_a10_analytic(facts),
        check_a11_ppo_old(facts, trace),
        check_a12_rudder(trace),
        check_tracking(trace, s4=None if steps is None else steps["S4"].status),
    ]
    # The optimiser and the PPO diagnostics: what the facts and the update stream decide.
    optimizer = optimizer_verdict(facts)
    if optimizer is not None:
        verdicts.append(optimizer)
    verdicts += diagnostic_verdicts(
        facts,
        trace.diagnostics,
        kl_target=kl_target,
        clip_fraction_max=clip_fraction_max,
        window=window,
    )
    by_id = {v.id: v for v in verdicts}
    theorems, estimated, statement = _coverage(by_id, steps)
    return AssumptionReport(tuple(verdicts), theorems, estimated, statement, steps)
