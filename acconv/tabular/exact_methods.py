"""Exact-gradient policy optimisation on a known discounted MDP (THEORY.md §5.1-§5.4).

These learners are the *deterministic* recursions that the rate bounds of
:mod:`acconv.theory_checks.bounds` are proved for: no sampling, an exact critic
(``ω_{n+1} = λ(θ_n) = Ṽ^{π_n}``, the fast iterate jumping to its equilibrium: ``a_n = 1``) and an
exact actor direction. They run under :func:`acconv.loop.train` in ``mode = "expected"``, so every
observer (Recorder, BoundTracker, ...) watches them as it watches a two-timescale learner.

Pseudocode shared by the three learners (θ_0 = 0, the uniform policy):

    for n = 0, 1, 2, ...
        1. π_n = softmax(θ_n);  Ṽ^{π_n}, Q̃^{π_n} by one linear solve  (exact critic, ω ← Ṽ^{π_n})
        2. direction h_n  (SoftmaxPG: ∇_θ Ṽ^{π_θ}(μ);  NPG and PMD: the soft advantage Ã^{π_n})
        3. θ_{n+1} = θ_n + b_n h_n  (b_n = η;  η/(1-γ);  η_n = η_0 γ^{-n} respectively)

``τ`` is the entropy weight: ``Ṽ^π(s) = E[Σ_t γ^t (r_t - τ log π(a_t|s_t)) | s_0 = s]``,
``Q̃^π = R + γ P Ṽ^π`` and ``Ã^π(s, a) = Q̃^π(s, a) - τ log π(a|s) - Ṽ^π(s)`` (``τ = 0``: the
ordinary ``V``, ``Q``, ``A``). Absorbing terminal states make no decision: their logits never move.
All bounds are for discounted MDPs, so every learner here requires ``γ < 1``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from acconv._validate import check_float
from acconv.exact import (
    advantages,
    discounted_visits,
    policy_evaluation,
    softmax_pg_step_size,
    uniform_over_live_states,
    value_equilibrium,
)
from acconv.loop import RunsUnderTheLoop
from acconv.mdp import FiniteMDP
from acconv.policies import softmax_policy
from acconv.sampling import EpisodeBatch
from acconv.tabular._common import (
    BoolArray,
    FloatArray,
    TabularState,
    finish_update,
    initial_state,
    require_model,
)
from acconv.updates import Mode, Task, UpdateInfo

__all__ = [
    "NPG",
    "PolicyMirrorDescent",
    "SoftmaxPG",
    "softmax_pg_step_size",  # defined in acconv.exact, re-exported here
    "uniform_over_live_states",  # defined in acconv.exact, re-exported here
]


def _check_discounted(task: Task, learner: str) -> FiniteMDP:
    mdp: FiniteMDP = require_model(task, learner)
    if not mdp.gamma < 1.0:
        raise ValueError(
            f"{learner}: gamma is {mdp.gamma}, expected gamma < 1 (the exact-gradient rate "
            "bounds are for discounted MDPs; use mdp.with_gamma(0.99))"
        )
    return mdp


class _ExactLearner(RunsUnderTheLoop):
    """The shell of the exact learners: expected mode, θ_0 = 0, π = softmax(θ), exact λ(θ)."""

    mode: Mode = "expected"

    def __init__(self, tau: float) -> None:
        self.tau = check_float(tau, "tau", 0.0)
        self.config: dict[str, Any] = {"mode": self.mode, "tau": self.tau}

    def init(self, task: Task, rng: np.random.Generator) -> TabularState:
        """Zero logits (θ_0 = 0, the uniform policy) and a zero fast iterate; checks ``γ < 1``."""
        mdp = _check_discounted(task, type(self).__name__)
        self._check_task(mdp)
        return initial_state(task, rng)

    def _check_task(self, mdp: FiniteMDP) -> None:
        """Further checks of the learner's constants against the MDP (overridden)."""

    def policy(self, state: TabularState) -> FloatArray:
        """``π_n = softmax(θ_n)``."""
        return softmax_policy(state.theta)

    def fast_equilibrium(
        self, mdp: FiniteMDP, theta: FloatArray, n: int
    ) -> tuple[FloatArray, BoolArray]:
        """``λ(θ) = Ṽ^{π_θ}``, unique on the states visited from ``ρ``
        (:func:`acconv.exact.value_equilibrium`)."""
        return value_equilibrium(mdp, softmax_policy(theta), self.tau)

    def _finish(
        self,
        state: TabularState,
        mdp: FiniteMDP,
        pi: FloatArray,
        V: FloatArray,
        step: float,
        direction: FloatArray,
        objective: float,
    ) -> tuple[TabularState, UpdateInfo]:
        """Step 3, ``θ_{n+1} = θ_n + b_n h_n``, and the info with ``ω_{n+1} = Ṽ^{π_n}``."""
        theta = state.theta + step * direction
        return finish_update(
            state,
            None,
            theta=theta,
            omega=V,
            steps=(1.0, step, 1.0),
            losses=(0.0, -objective),
            directions=(V - state.omega, direction),
            mean_return=float(mdp.rho @ (V if self.tau == 0 else policy_evaluation(mdp, pi))),
        )


class SoftmaxPG(_ExactLearner):
    """Exact softmax policy gradient (Mei, Xiao, Szepesvári, Schuurmans 2020; THEORY.md §5.1).

    ``θ_{n+1} = θ_n + η ∇_θ Ṽ^{π_θ}(μ)`` with the exact gradient (THEORY.md §6.2)

        ∂Ṽ^{π_θ}(μ)/∂θ[s, a] = η_μ^{π_θ}(s) π_θ(a|s) Ã^{π_θ}(s, a),   η_μ^π = μᵀ(I - γP_π)^{-1}

    (``η_μ = d_μ^π/(1-γ)``). Mei's Theorem 4 (``τ = 0``, O(1/t)) and Theorem 6 (``τ > 0``, linear)
    are stated for the default step :func:`softmax_pg_step_size`.

    Args:
        eta: step size η; ``None`` for ``(1-γ)³/8`` (``τ = 0``) or
            ``(1-γ)³/(8 + τ(4 + 8 log|A|))`` (``τ > 0``), resolved from the task.
        mu: the start distribution μ inside the algorithm (shape ``(S,)``); ``None`` for the
            uniform distribution over non-terminal states (full support, as Mei et al. need).
            The objective reported and bounded is still evaluated at the MDP's ``ρ``.
        tau: entropy weight τ ≥ 0.
    """

    def __init__(
        self, eta: float | None = None, mu: FloatArray | None = None, tau: float = 0.0
    ) -> None:
        super().__init__(tau)
        self.eta = None if eta is None else check_float(eta, "eta", 0.0, open_minimum=True)
        self.mu = None if mu is None else np.asarray(mu, dtype=np.float64)
        self.config.update(
            eta="(1-γ)³/(8 + τ(4 + 8 log|A|))" if eta is None else self.eta,
            mu="uniform over non-terminal states" if self.mu is None else self.mu.tolist(),
        )

    def step_size(self, mdp: FiniteMDP) -> float:
        """η for this MDP (the given one, or Mei et al.'s default)."""
        if self.eta is not None:
            return self.eta
        return softmax_pg_step_size(mdp.gamma, mdp.n_actions, self.tau)

    def start_distribution(self, mdp: FiniteMDP) -> FloatArray:
        """μ for this MDP (the given one, or uniform over the non-terminal states)."""
        return uniform_over_live_states(mdp) if self.mu is None else self.mu

    def _check_task(self, mdp: FiniteMDP) -> None:
        mu = self.start_distribution(mdp)
        if mu.shape != (mdp.n_states,) or (mu < 0).any() or abs(mu.sum() - 1.0) > 1e-8:
            raise ValueError(
                f"mu has shape {mu.shape} and sum {mu.sum():.6g}, expected a distribution over "
                f"the {mdp.n_states} states"
            )

    def update(
        self, state: TabularState, batch: EpisodeBatch | None
    ) -> tuple[TabularState, UpdateInfo]:
        """One exact gradient step (steps 1-3 of the module docstring)."""
        mdp = require_model(state.task, "SoftmaxPG")
        mu = self.start_distribution(mdp)
        # 1. exact critic of π_n
        pi = self.policy(state)
        V = policy_evaluation(mdp, pi, self.tau)
        # 2. ∇_θ Ṽ^{π_θ}(μ) = η_μ(s) π(a|s) Ã(s, a)
        gradient = discounted_visits(mdp, pi, mu)[:, None] * pi * advantages(mdp, pi, self.tau)
        # 3. θ ← θ + η ∇
        return self._finish(state, mdp, pi, V, self.step_size(mdp), gradient, float(mu @ V))


class NPG(_ExactLearner):
    """Natural policy gradient for tabular softmax, exact (THEORY.md §5.2-§5.3).

    ``τ = 0`` (Agarwal, Kakade, Lee, Mahajan 2021, Theorem 5.3; θ_0 = 0):

        θ_{n+1} = θ_n + (η/(1-γ)) A^{π_n}   ⇔   π_{n+1}(a|s) ∝ π_n(a|s) exp(η A^{π_n}(s, a)/(1-γ))

    ``τ > 0`` (Cen, Cheng, Chen, Wei, Chi 2022, exact evaluation, ``0 < η ≤ (1-γ)/τ``):

        π_{n+1}(a|s) ∝ π_n(a|s)^{1 - ητ/(1-γ)} exp(η Q̃^{π_n}(s, a)/(1-γ)),

    which in logits is the same line with the soft advantage ``Ã = Q̃ - τ log π - Ṽ`` in place
    of ``A`` (the two differ by ``-τ log π_n`` plus a per-state constant, which softmax ignores).
    ``η = (1-γ)/τ`` is soft policy iteration, ``π_{n+1} ∝ exp(Q̃^{π_n}/τ)``.
    Neither update depends on a start distribution.
    """

    def __init__(self, eta: float, tau: float = 0.0) -> None:
        super().__init__(tau)
        self.eta = check_float(eta, "eta", 0.0, open_minimum=True)
        self.config.update(eta=self.eta)

    def _check_task(self, mdp: FiniteMDP) -> None:
        if self.tau > 0 and self.eta > (1.0 - mdp.gamma) / self.tau * (1.0 + 1e-12):
            raise ValueError(
                f"NPG: eta is {self.eta}, expected 0 < eta <= (1-γ)/τ = "
                f"{(1.0 - mdp.gamma) / self.tau:.6g} for the entropy-regularised update "
                "(Cen et al. 2022)"
            )

    def update(
        self, state: TabularState, batch: EpisodeBatch | None
    ) -> tuple[TabularState, UpdateInfo]:
        """One exact NPG step (steps 1-3 of the module docstring)."""
        mdp = require_model(state.task, "NPG")
        # 1. exact critic of π_n
        pi = self.policy(state)
        V = policy_evaluation(mdp, pi, self.tau)
        # 2. the (soft) advantage Ã^{π_n}, the natural gradient direction
        direction = advantages(mdp, pi, self.tau)
        # 3. θ ← θ + (η/(1-γ)) Ã   (the actor "loss" reported is -Ṽ^{π_n}(ρ))
        step = self.eta / (1.0 - mdp.gamma)
        return self._finish(state, mdp, pi, V, step, direction, float(mdp.rho @ V))


class PolicyMirrorDescent(_ExactLearner):
    """KL policy mirror descent with geometrically increasing steps (Xiao 2022; THEORY.md §5.4).

        π_{k+1}(·|s) = argmax_p { η_k ⟨Q^{π_k}(s, ·), p⟩ - KL(p ‖ π_k(·|s)) }
                     ∝ π_k(·|s) exp(η_k Q^{π_k}(s, ·)),      η_k = η_0 / γ^k,

    i.e. ``θ_{k+1} = θ_k + η_k A^{π_k}`` (``A`` and ``Q`` differ by a per-state constant). This is
    NPG with the AKM step ``η = (1-γ) η_k``; the growing steps (``η_{k+1} ≥ η_k/γ``) give Xiao's
    linear rate ``γ^k`` without regularisation. ``η_k`` overflows after about
    ``700 / log(1/γ)`` updates, by when ``π_k`` is greedy to machine precision.
    """

    def __init__(self, eta0: float) -> None:
        super().__init__(0.0)
        self.eta0 = check_float(eta0, "eta0", 0.0, open_minimum=True)
        self.config.update(eta0=self.eta0, eta="eta0 / gamma**n")

    def step_size(self, gamma: float, n: int) -> float:
        """``η_n = η_0 γ^{-n}``."""
        return float(self.eta0 * gamma ** (-float(n)))

    def update(
        self, state: TabularState, batch: EpisodeBatch | None
    ) -> tuple[TabularState, UpdateInfo]:
        """One exact PMD step (steps 1-3 of the module docstring)."""
        mdp = require_model(state.task, "PolicyMirrorDescent")
        # 1. exact critic of π_k
        pi = self.policy(state)
        V = policy_evaluation(mdp, pi)
        # 2. the advantage A^{π_k} (= Q^{π_k} up to a per-state constant)
        direction = advantages(mdp, pi)
        # 3. θ ← θ + η_k A, η_k = η_0 / γ^k
        step = self.step_size(mdp.gamma, state.n)
        return self._finish(state, mdp, pi, V, step, direction, float(mdp.rho @ V))
