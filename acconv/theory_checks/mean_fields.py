"""The mean fields of a learner (its ``facts.mean_field``) as the checks use them: the fast
Jacobian J_ω, the slow field F(θ) = h̄(θ, λ(θ)), contraction rates, and the slow ODE (its flow,
its closed-form attractor when there is one, shadowing of the run).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from acconv.exact import (
    optimal_values,
    policy_gradient,
    soft_value_iteration,
)
from acconv.facts import FastEquilibrium, MeanField
from acconv.mdp import reachable_states
from acconv.policies import centred
from acconv.schedules import ScheduleError, as_schedule
from acconv.theory_checks.setting_checks import _beta_of
from acconv.theory_checks.trace import (
    _FD_OMEGA,
    _FD_THETA,
    _NEVER,
    BoolArray,
    FloatArray,
    RunTrace,
    _last_decade,
)
from acconv.updates import Task


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


def expected_twin(learner: Any, config: Any = None) -> tuple[Any, str]:
    """Deprecated (removed in 0.3.0): call ``learner.expected_twin()``; the checks read the mean
    field from the learner's facts (``LearnerFacts.mean_field``) and never rebuild a learner, so
    a class name is no longer accepted."""
    warnings.warn(
        "expected_twin is deprecated: use learner.expected_twin() or the learner's facts "
        "(LearnerFacts.mean_field); removed in 0.3.0",
        DeprecationWarning,
        stacklevel=2,
    )
    if isinstance(learner, str) or not callable(getattr(learner, "expected_twin", None)):
        name = learner if isinstance(learner, str) else type(learner).__name__
        return None, f"no exact mean field is known for learner {name!r}"
    twin, reason = learner.expected_twin()
    return twin, str(reason)


def mean_field(
    twin: Any,
    task: Task,
    theta: FloatArray,
    omega: FloatArray,
    n: int,
    value: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Deprecated (removed in 0.3.0): ``(ḡ, h̄)`` of a tabular learner at update ``n``; use
    ``learner.mean_field(task)`` or ``LearnerFacts.mean_field``."""
    warnings.warn(
        "mean_field(twin, task, ...) is deprecated: use learner.mean_field(task) or the "
        "learner's facts (LearnerFacts.mean_field); removed in 0.3.0",
        DeprecationWarning,
        stacklevel=2,
    )
    field, reason = twin.mean_field(task)
    if field is None:
        raise ValueError(f"no mean field: {reason}")
    result: tuple[FloatArray, FloatArray] = field(theta, omega, n, value)
    return result


def contraction_rate(jacobian: FloatArray) -> float:
    """``κ = -max Re eig(J)``: the contraction rate of dω/dt = J ω (> 0 iff J is Hurwitz; nan for
    an empty J)."""
    if jacobian.size == 0:
        return _NEVER
    return float(-np.linalg.eigvals(jacobian).real.max())


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
    import scipy.integrate  # lazy: ~0.17 s of `import acconv` (target < 1 s)

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
