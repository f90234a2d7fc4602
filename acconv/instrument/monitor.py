"""The two-timescale monitor: does the critic track its equilibrium as the theory predicts?

At log-spaced updates n (the Recorder's grid) the monitor records, after update n, with
θ = θ_{n+1}, ω = ω_{n+1} and the learner's exact λ(θ) (``StartEvent.fast_equilibrium``):

* ``track/error``: D_fast(n) = ‖ω - λ(θ)‖ on the support (the states, or RUDDER's pairs,
  visited with positive probability; elsewhere λ is not unique), Borkar's tracking error
  (THEORY.md §4.1, §6.4);
* ``track/kappa``: κ(θ) = -max Re eig J_ω, J_ω = ∂ḡ/∂ω on the support (central differences of
  the learner's expected-mode fast direction, exact for the affine tabular critics; MC critic:
  J_ω = -diag(expected visits));
* ``track/slow_field_norm``: ‖F(θ)‖, F(θ) = h̄(θ, λ(θ)) the slow field;
* ``track/lambda_lipschitz``: L_λ = ‖Dλ(θ)·F‖/‖F‖, the rate at which λ moves along the slow
  step (central differences of λ along F);
* ``track/lag_envelope``: (b(n)·L_λ‖F‖ + ‖λ(θ, β_{n+2}) - λ(θ, β_{n+1})‖)/(a(n)·κ), the bias
  floor of the tracking-lag heuristic (THEORY.md §4.5) plus the drift of λ caused by a moving
  β (zero for a constant β);
* ``track/noise_envelope``: sqrt(a(n)·tr Σ), Σ solving J_ω Σ + Σ J_ωᵀ + Q = 0 with
  Q = E[M^c M^cᵀ] on the support estimated from the noise window (THEORY.md §4.5's
  sqrt(a σ²/(2κ)) for a general Jacobian; Konda–Tsitsiklis 2004 / Mokkadem–Pelletier 2006);
* ``track/transient_envelope``: E(n_0)·exp(-κ_min·(t_a(n+1) - t_a(n_0+1))), how much of the
  first recorded error E(n_0) the fast iterate can still carry (it contracts at rate ≥ κ_min,
  the smallest κ recorded so far, on its clock t_a = Σ a(k)); the tracking lemma's transient;
* ``track/envelope``: noise + lag + transient envelope; ``track/support_size``: number of
  support entries;
* ``track/equilibrium_residual``: ‖ḡ(θ, λ(θ))‖ on the support (0 if λ is the field's zero);
* ``track/affine_error``: ‖ḡ(θ, ω) - ḡ(θ, λ) - J_ω (ω - λ)‖/(1 + ‖ḡ(θ, ω)‖) on the support
  (0 for a fast field affine in ω, which makes λ(θ) globally stable, A6');
* with a critic network's λ(θ) (``facts.fast_equilibrium_report``, :mod:`acconv.neural.
  equilibrium`): ``track/error_weighted`` and ``track/error_sup`` (the d-weighted RMS and the
  sup of V_ω - V_{λ(θ)} on the support), ``track/approximation_error`` and
  ``track/approximation_error_sup`` (V_{λ(θ)} - V^π: what no step size removes),
  ``track/equilibrium_residual`` (‖ḡ(θ, λ)‖ in parameter space) and
  ``track/equilibrium_iterations`` (the solver's steps);
* ``noise/K``: mean ‖M‖² / mean (1 + ‖θ_k‖² + ‖ω_k‖²) over the noise window (A4),
  ``noise/critic_second_moment`` mean ‖M^c‖², ``noise/actor_second_moment`` mean ‖M^a‖²,
  ``noise/samples`` the window's size. M = sampled direction − expected direction at the same
  pre-update state (θ_k, ω_k); the window is the ``noise_samples`` updates ending at n;
* ``iterate/theta_norm`` (centred), ``iterate/omega_norm`` and ``policy/min_prob`` (p_min(n)
  of π_n), exactly as the :class:`~acconv.instrument.recorder.Recorder` defines them.

The mean fields and λ(θ) are the learner's own, from its facts on the start event
(``StartEvent.facts.mean_field``, ``.fast_equilibrium``; the tabular learners give the exact mean
of their sampled update). Without a mean field (networks, unknown learners) only the tracking
error and the iterate norms are recorded, and the checks that need the mean field are
``undecided``. The monitor also keeps every update's diagnostics (PPO's KL, clip fraction...)
for the diagnostic verdicts.

At the end :meth:`TwoTimescaleMonitor.verdicts` returns the tracking, A8, A1, A9, A6 and A4
verdicts (:mod:`acconv.theory_checks.assumptions`), and :meth:`TwoTimescaleMonitor.trace` the
:class:`~acconv.theory_checks.assumptions.RunTrace` that
:func:`~acconv.theory_checks.assumptions.assumption_report` reads.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import numpy as np
import scipy.linalg
from numpy.typing import NDArray

from acconv.events import EndEvent, StartEvent, UpdateEvent
from acconv.facts import FastEquilibrium, LearnerFacts, MeanField
from acconv.instrument.recorder import TidyRows, log_spaced
from acconv.policies import centred
from acconv.theory_checks.assumptions import (
    RunTrace,
    Snapshot,
    check_a1_policy,
    check_a4_noise,
    check_a6_fast,
    check_a8_bounded,
    check_a9_greediness,
    check_tracking,
    contraction_rate,
    fast_jacobian,
)
from acconv.theory_checks.learner_steps import SharedStepSizes, step_sizes_of
from acconv.theory_checks.step_sizes import StepSizeReport
from acconv.theory_checks.verdicts import Verdict
from acconv.updates import Task, UpdateInfo

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

__all__ = ["METRIC_KEYS", "TwoTimescaleMonitor"]

METRIC_KEYS = (
    "track/error",
    "track/support_size",
    "track/kappa",
    "track/slow_field_norm",
    "track/lambda_lipschitz",
    "track/lag_envelope",
    "track/noise_envelope",
    "track/transient_envelope",
    "track/envelope",
    "track/equilibrium_residual",
    "track/affine_error",
    "track/error_weighted",
    "track/error_sup",
    "track/approximation_error",
    "track/approximation_error_sup",
    "track/equilibrium_iterations",
    "noise/K",
    "noise/critic_second_moment",
    "noise/actor_second_moment",
    "noise/samples",
    "iterate/theta_norm",
    "iterate/omega_norm",
    "policy/min_prob",
)
"""Every key the monitor can write (the iterate/policy keys are the Recorder's)."""

_FD_LAMBDA = 1e-5  # central step of λ along the unit slow direction


class TwoTimescaleMonitor(TidyRows):
    """Observer that measures the two-timescale hypotheses and conclusions along a run.

    Args:
        points_per_decade: density of the log-spaced recorded updates (as the Recorder).
        learner: deprecated and ignored: the mean fields now come from the learner's facts on
            the start event (removed in 0.3.0).
        noise_samples: updates per recorded point at which the noise M is measured (the
            window ending at the recorded update; each costs one expected-mode update).
        trajectory_points_per_decade: density of the log grid on which the actor's θ and its
            clock t_b are kept for ODE shadowing (A7).
        envelope_factor: ``c`` of the tracking verdict (error ≤ c·envelope).
    """

    def __init__(
        self,
        points_per_decade: int = 10,
        *,
        learner: Any = None,
        noise_samples: int = 8,
        trajectory_points_per_decade: int = 40,
        envelope_factor: float = 3.0,
    ) -> None:
        if learner is not None:
            warnings.warn(
                "TwoTimescaleMonitor(learner=...) is deprecated and ignored: the mean fields "
                "come from the learner's facts on the start event; removed in 0.3.0",
                DeprecationWarning,
                stacklevel=2,
            )
        self.points_per_decade = points_per_decade
        self.noise_samples = noise_samples
        self.trajectory_points_per_decade = trajectory_points_per_decade
        self.envelope_factor = envelope_factor
        self.rows: list[tuple[int, str, float]] = []
        self._reset()

    def _reset(self) -> None:
        self._start: StartEvent | None = None
        self._due: set[int] = set()
        self._noise_due: dict[int, int] = {}
        self._trajectory_due: set[int] = set()
        self._field: MeanField | None = None
        self._end_facts: LearnerFacts | None = None
        self._diagnostics: list[tuple[int, Mapping[str, float]]] = []
        self._previous: UpdateInfo | None = None
        self._last: UpdateEvent | None = None
        self._last_recorded = -1
        self._clock = 0.0
        self._fast_clock = 0.0
        self._first_error: tuple[float, float] | None = None  # (E(n_0), t_a at n_0)
        self._kappa_min = math.inf
        self._noise: dict[int, list[tuple[FloatArray, float, float]]] = defaultdict(list)
        self._snapshots: list[Snapshot] = []
        self._trajectory: list[tuple[int, FloatArray, float]] = []
        self._step_report: StepSizeReport | SharedStepSizes | None = None
        self._step_report_done = False
        self._jacobian: FloatArray | None = None
        self._mask: NDArray[np.bool_] | None = None

    # -- observer hooks ------------------------------------------------------------------------

    def reads_tables_at(self, event: StartEvent) -> set[int]:
        """The updates whose tables it reads (see :func:`acconv.events.tables_read_at`): θ, ω
        and π at the recorded updates; and — with a mean field — θ on the trajectory's grid
        (for the slow ODE's shadowing, which needs the mean field) and θ and ω of each noise
        window's updates and of the update before each (the noise is measured from the
        pre-update state); and the last update, on ``on_end``. Without a mean field the
        trajectory is kept but no check reads it."""
        due = log_spaced(event.n_updates, self.points_per_decade).tolist()
        reads = set(due)
        if _mean_field(event) is not None:
            reads.update(log_spaced(event.n_updates, self.trajectory_points_per_decade).tolist())
            for point in due:
                reads.update(range(max(point - self.noise_samples, 0), point + 1))
        return reads

    def on_start(self, event: StartEvent) -> None:
        """Plan the recorded updates; take the learner's mean field from its facts."""
        self.rows = []
        self._reset()
        self._start = event
        due = log_spaced(event.n_updates, self.points_per_decade).tolist()
        self._due = set(due)
        for point in due:
            for k in range(point, max(point - self.noise_samples, 0), -1):
                self._noise_due.setdefault(k, point)
        self._trajectory_due = set(
            log_spaced(event.n_updates, self.trajectory_points_per_decade).tolist()
        )
        self._field = _mean_field(event)

    def on_update(self, event: UpdateEvent) -> None:
        """Measure the noise in the window, keep the trajectory, record at log-spaced n."""
        info = event.info
        self._clock += info.b_n
        self._fast_clock += info.a_n
        previous = self._previous
        if info.diagnostics:
            self._diagnostics.append((info.n, info.diagnostics))
        if (
            self._field is not None
            and previous is not None
            and previous.n == info.n - 1
            and info.n in self._noise_due
        ):
            self._noise[self._noise_due[info.n]].append(self._noise_sample(previous, info))
        if info.n in self._trajectory_due:
            self._trajectory.append((info.n, np.array(info.theta), self._clock))
        if info.n in self._due:
            self._record(event)
        self._previous = info
        self._last = event

    def on_end(self, event: EndEvent) -> None:
        """Record the last update too when a stopping rule ended the run early; keep the facts
        the run completed, if the learner sent any."""
        if event.facts is not None:
            self._end_facts = event.facts
            self._step_report_done = False
        last = self._last
        if last is not None and last.info.n != self._last_recorded:
            self._record(last)
            if not self._trajectory or self._trajectory[-1][0] != last.info.n:
                self._trajectory.append((last.info.n, np.array(last.info.theta), self._clock))

    # -- measurements --------------------------------------------------------------------------

    @property
    def _task(self) -> Task:
        assert self._start is not None
        return self._start.task

    def _noise_sample(
        self, previous: UpdateInfo, info: UpdateInfo
    ) -> tuple[FloatArray, float, float]:
        """``(M^c, ‖M^a‖², 1 + ‖θ_k‖² + ‖ω_k‖²)`` at update k = info.n, from the pre-update
        state (the previous update's result)."""
        theta, omega = np.asarray(previous.theta), np.asarray(previous.omega)
        value = previous.extra_params.get("value")
        assert self._field is not None
        critic, actor = self._field(theta, omega, info.n, value)
        sampled_critic = (info.omega - omega) / info.a_n if info.a_n else np.nan * omega
        sampled_actor = (info.theta - theta) / info.b_n if info.b_n else np.nan * theta
        m_critic = np.asarray(sampled_critic - critic, dtype=np.float64)
        m_actor = float(np.sum((sampled_actor - actor) ** 2))
        scale = 1.0 + float(np.sum(centred(theta) ** 2)) + float(np.sum(omega**2))
        return m_critic, m_actor, scale

    def _record(self, event: UpdateEvent) -> None:
        info = event.info
        self._last_recorded = info.n
        theta, omega = np.asarray(info.theta), np.asarray(info.omega)
        m = info.n + 1  # the iterates after update n are those of update index n + 1
        values: dict[str, float] = {}
        if event.policy.size:  # a learner without tables (a watched loop) sends empty ones
            values["iterate/theta_norm"] = float(np.linalg.norm(centred(theta)))
            values["iterate/omega_norm"] = float(np.linalg.norm(omega))
            values["policy/min_prob"] = float(event.policy.min())
        assert self._start is not None
        equilibrium = self._start.fast_equilibrium
        self._jacobian, self._mask = None, None
        if equilibrium is not None:
            values.update(self._tracking(equilibrium, info, theta, omega, m))
            report = self._start.facts.fast_equilibrium_report
            if report is not None:
                values.update(report(theta, omega, m))
        values.update(self._noise_statistics(info.n, values.get("track/kappa"), info.a_n))
        if "track/error" in values:
            if self._first_error is None:
                self._first_error = (values["track/error"], self._fast_clock)
            kappa = values.get("track/kappa", math.nan)
            if math.isfinite(kappa):
                self._kappa_min = min(self._kappa_min, kappa)
            if math.isfinite(self._kappa_min) and self._kappa_min > 0:
                error0, clock0 = self._first_error
                decay = math.exp(-self._kappa_min * (self._fast_clock - clock0))
                values["track/transient_envelope"] = error0 * decay
        parts = ("track/noise_envelope", "track/lag_envelope", "track/transient_envelope")
        if all(key in values for key in parts):
            values["track/envelope"] = sum(values[key] for key in parts)
        self.rows.extend((info.n, key, float(value)) for key, value in values.items())
        self._snapshots.append(
            Snapshot(
                n=info.n,
                theta=np.array(theta),
                omega=np.array(omega),
                policy=np.array(event.policy),
                a_n=info.a_n,
                b_n=info.b_n,
                beta_n=info.beta_n,
                diagnostics=dict(info.diagnostics),
                metrics=values,
            )
        )

    def _tracking(
        self,
        equilibrium: FastEquilibrium,
        info: UpdateInfo,
        theta: FloatArray,
        omega: FloatArray,
        m: int,
    ) -> dict[str, float]:
        lam, mask = equilibrium(theta, m)
        mask = np.asarray(mask, dtype=bool)
        values = {
            "track/error": float(np.linalg.norm((omega - lam)[mask])),
            "track/support_size": float(mask.sum()),
        }
        field = self._field
        if field is None:
            return values
        jacobian = fast_jacobian(field, theta, omega, m, mask)
        self._jacobian = jacobian
        kappa = contraction_rate(jacobian)
        at_lambda, F = field(theta, lam, m, None)
        at_omega, _ = field(theta, omega, m, None)
        predicted = at_lambda[mask] + jacobian @ (omega - lam)[mask]
        affine = float(np.linalg.norm(at_omega[mask] - predicted)) / (
            1.0 + float(np.linalg.norm(at_omega[mask]))
        )
        F_norm = float(np.linalg.norm(F))
        if F_norm > 0:
            direction = F / F_norm
            plus, _ = equilibrium(theta + _FD_LAMBDA * direction, m)
            minus, _ = equilibrium(theta - _FD_LAMBDA * direction, m)
            lipschitz = float(np.linalg.norm(((plus - minus) / (2 * _FD_LAMBDA))[mask]))
        else:
            lipschitz = 0.0
        next_lam, _ = equilibrium(theta, m + 1)
        beta_drift = float(np.linalg.norm((next_lam - lam)[mask]))
        lag = (
            (info.b_n * lipschitz * F_norm + beta_drift) / (info.a_n * kappa)
            if kappa > 0 and info.a_n > 0
            else math.inf
        )
        values.update(
            {
                "track/kappa": kappa,
                "track/slow_field_norm": F_norm,
                "track/lambda_lipschitz": lipschitz,
                "track/lag_envelope": lag,
                "track/equilibrium_residual": float(np.linalg.norm(at_lambda[mask])),
                "track/affine_error": affine,
            }
        )
        self._mask = mask
        return values

    def _noise_statistics(self, n: int, kappa: float | None, a_n: float) -> dict[str, float]:
        samples = self._noise.get(n, [])
        if not samples:
            if self._start is not None and self._start.facts.mode == "expected":
                return {"track/noise_envelope": 0.0}
            return {}
        critic = np.array([s[0].ravel() for s in samples])
        actor = np.array([s[1] for s in samples])
        scale = np.array([s[2] for s in samples])
        total = np.sum(critic**2, axis=1) + actor
        values = {
            "noise/K": float(total.mean() / scale.mean()),
            "noise/critic_second_moment": float(np.mean(np.sum(critic**2, axis=1))),
            "noise/actor_second_moment": float(actor.mean()),
            "noise/samples": float(len(samples)),
        }
        jacobian, mask = self._jacobian, self._mask
        if jacobian is not None and mask is not None and kappa is not None and kappa > 0:
            restricted = critic[:, np.asarray(mask).ravel()]
            Q = restricted.T @ restricted / len(samples)
            sigma = scipy.linalg.solve_continuous_lyapunov(jacobian, -Q)
            values["track/noise_envelope"] = math.sqrt(max(a_n * float(np.trace(sigma)), 0.0))
        return values

    # -- results -------------------------------------------------------------------------------

    def trace(self) -> RunTrace:
        """What the run left behind, for :func:`~acconv.theory_checks.assumptions.
        assumption_report` and the individual checks."""
        if self._start is None:
            raise RuntimeError("the monitor has not seen a run yet (on_start was not called)")
        start = self._start
        n_updates = self._last.info.n + 1 if self._last is not None else 0
        shape = (start.task.n_states, start.task.n_actions)
        return RunTrace(
            facts=self._end_facts or start.facts,
            task=start.task,
            n_updates=n_updates,
            snapshots=tuple(self._snapshots),
            trajectory_n=np.array([t[0] for t in self._trajectory], dtype=np.int64),
            trajectory_theta=np.array([t[1] for t in self._trajectory]).reshape(
                len(self._trajectory), *shape
            ),
            trajectory_clock=np.array([t[2] for t in self._trajectory], dtype=np.float64),
            diagnostics=tuple(self._diagnostics),
        )

    def step_sizes(self) -> StepSizeReport | SharedStepSizes | None:
        """S1-S7 of the step sizes the learner states in its facts (computed once; SymPy
        cross-checks in subprocesses), or None when it states no schedules."""
        if not self._step_report_done:
            assert self._start is not None
            self._step_report = step_sizes_of(self._end_facts or self._start.facts)
            self._step_report_done = True
        return self._step_report

    def verdicts(self) -> list[Verdict]:
        """Tracking, bounded iterates (A8), greediness (A1, A9), fast Hurwitz (A6) and noise
        (A4) verdicts of the run (:mod:`acconv.theory_checks.assumptions`)."""
        trace = self.trace()
        steps = self.step_sizes()
        s4 = None if steps is None else steps["S4"].status
        return [
            check_tracking(trace, factor=self.envelope_factor, s4=s4),
            check_a8_bounded(trace),
            check_a1_policy(trace),
            check_a9_greediness(trace.facts.beta if trace.facts.beta is not None else 1.0),
            check_a6_fast(trace),
            check_a4_noise(trace),
        ]


def _mean_field(event: StartEvent) -> MeanField | None:
    """The learner's exact mean field, used when the task has a model (the noise needs it)."""
    return event.facts.mean_field if event.task.mdp is not None else None
