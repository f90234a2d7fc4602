"""Tabular RUDDER: return decomposition (fast) feeding a policy-gradient actor (slow).

RUDDER.md §1.2-1.6; THEORY.md §2.1 (C-RUDDER), §6.3 and A12. The return model predicts the
episode return ``G_0`` from every prefix ``τ_{0:t}``. On a Markov (time-augmented) MDP the
prefix enters through what is already earned and the current pair, so the tabular model is

    g(τ_{0:t}; ω) = Σ_{k<t} r_{k+1} + ω[s_t, a_t],

whose fast equilibrium is ``ω = Q^π`` (``g_t = E[G_0 | τ_{0:t}]``) wherever the end of an
episode is determined by ``(s_t, a_t)``, as in acconv's fixed-horizon delayed-reward tasks.

Pseudocode (the numbered steps are marked in :meth:`RUDDER.update`):

    for n = 0, 1, 2, ...
        1. β_n, a_n, b_n from the schedules; π_n = softmax(β_n θ_n)
        2. draw B whole episodes with π_n (done by the run loop)
        3. return model (fast): minimise ½ [(G_0 - g_{T-1})² + c_aux Σ_{t<T-1} (G_0 - g_t)²]
              ω ← ω + a_n (1/B) Σ_b Σ_t w_t (G_0 - g_t) e_{(s_t, a_t)},  w_{T-1} = 1, else c_aux
        4. redistribute: r̃_{t+1} = g_t - g_{t-1} (g_{-1} = 0); residual G_0 - g_{T-1} is dropped
              ("none"), spread evenly ("uniform") or added to the last step ("terminal")
        5. advantages by coupling:
              immediate_pg:   Â_t = r̃_{t+1} - E_{a∼π}[r̃_{t+1} | τ_{0:t-1}, s_t]      (Theorem 3)
              replace_reward: Â_t = GAE_λ(r̃, V) with a value critic V trained on r̃ (fast)
              mix_advantage:  Â_t = c GAE_λ(r, V) + (1 - c) Σ_k λ^k r̃_{t+1+k}  (2018 PPO code)
        6. actor (slow): θ ← θ + b_n (1/B) Σ_b Σ_t ∇_θ log π_n(a_t|s_t) Â_t

RUDDER's theory has ``γ = 1`` and a finite horizon; the learner requires ``γ = 1``. Where an
episode can end at random after ``(s_t, a_t)`` (``0 < p_end < 1``), the main loss at the last
step conditions on the future, so the model's equilibrium is not ``Q^π`` there and residual
``"terminal"`` biases the actor; on fixed-horizon tasks both are exact. The code guards it:
there :meth:`RUDDER.actor_field` is ``"unknown"`` (the expected actor field at ``λ(θ)``, the
exact mean of the sampled one, is then not ``∇J``: 28% and 55% apart with residual ``"none"``
and ``"terminal"`` on a random-end task of tests/test_rudder_fields.py, 2% and 4% on another),
so no check treats the slow ODE as gradient ascent, and A12 is ``violated``.
``mode="expected"`` (every coupling; residual ``none`` or ``terminal``) replaces steps 2-6 by
exact expectations: with ``p_end(s, a)`` the probability that the step ends the
episode and ``r_end(s, a)`` the expected reward of such a step, the model's field is
``η1(s) π(a|s) [c_aux (Q^π - ω) + (1 - c_aux)(r_end - p_end ω)](s, a)``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

import numpy as np

from acconv._validate import check_choice, check_float
from acconv.estimators import gae, redistribute_rewards
from acconv.exact import (
    action_values,
    ending_steps,
    expected_discounted_sum,
    expected_gae_advantage,
    expected_visits,
    policy_evaluation,
    visited_states,
)
from acconv.facts import MeanField
from acconv.mdp import FiniteMDP
from acconv.policies import entropy_gradient, score_gradient
from acconv.sampling import EpisodeBatch
from acconv.tabular._common import (
    BoolArray,
    FloatArray,
    TabularLearner,
    TabularState,
    finish_update,
    pair_sums,
    policy_gradient_loss,
    require_model,
    state_sums,
    taken,
)
from acconv.updates import Mode, Task, UpdateInfo

Residual = Literal["none", "uniform", "terminal"]
Coupling = Literal["immediate_pg", "replace_reward", "mix_advantage"]


def predictions(omega: FloatArray, batch: EpisodeBatch) -> FloatArray:
    """``g_t = Σ_{k<t} r_{k+1} + ω[s_t, a_t]`` on every decision step, 0 after the end."""
    # Σ_{k<t} r_{k+1}: the reward earned before step t, a prefix sum (not the return-to-go G_t
    # of acconv.estimators.discounted_returns).
    earned = np.cumsum(batch.rewards, axis=1) - batch.rewards
    return np.where(batch.mask, earned + taken(omega, batch), 0.0)


def redistribute(g: FloatArray, batch: EpisodeBatch, residual: Residual) -> FloatArray:
    """``r̃_{t+1} = g_t - g_{t-1}`` (``g_{-1} = 0``) with the residual handled as asked.

    With ``residual`` ``"uniform"`` or ``"terminal"``, ``Σ_t r̃_{t+1} = G_0`` for every episode
    (:func:`acconv.estimators.redistribute_rewards` on the batch's arrays).
    """
    return redistribute_rewards(g, batch.returns(1.0), batch.mask, residual)


class RUDDER(TabularLearner):
    """Tabular return decomposition (fast iterate ω) with a softmax actor (slow iterate θ).

    Args:
        critic_lr: schedule ``a(n)`` of the return model (and of the value critic, if any).
        actor_lr: schedule ``b(n)`` of the actor.
        beta: inverse temperature schedule ``β(n)``.
        aux_weight: ``c_aux``, weight of the every-step auxiliary loss (0.5 in the RUDDER
            tutorial and the pocket-watch demo).
        residual: ``"none"``, ``"uniform"`` or ``"terminal"`` (RUDDER.md §1.5).
        coupling: ``"immediate_pg"``, ``"replace_reward"`` or ``"mix_advantage"`` (§1.6).
        gae_lambda: λ of GAE (replace_reward) and of the redistributed-reward trace (mix).
        mix_coef: ``c``, the environment advantage's share in ``mix_advantage`` (0.5 in the
            2018 code, ``vf_contrib``).
        entropy_coef: ``c_H``, weight of an entropy bonus on the actor (PPO's form:
            ``c_H Σ_t ∇_θ H(π(·|s_t))`` over the visited states).
        mode: ``"sampled"`` or ``"expected"``.

    Defaults ``residual="none"``, ``coupling="immediate_pg"``, the same for the tabular and the
    neural RUDDER: they are the pair the docs (docs/algorithms/rudder.md: Theorem 3's immediate
    policy gradient, whose fast equilibrium gives an unbiased ``∇J``, A12) and the canonical
    claims run (``rudder_two_timescale`` and ``rudder_delay_sweep`` with these defaults,
    ``neural_rudder`` with ``immediate_pg``), and ``"none"`` is also the only residual besides
    ``"terminal"`` that the tabular expected mode supports. (In acconv 0.1.0 the neural RUDDER
    defaulted to ``"uniform"`` and ``"replace_reward"``.)
    """

    def __init__(
        self,
        critic_lr: Any = "1/(n+1)**0.6",
        actor_lr: Any = "1/(n+1)",
        beta: Any = 1.0,
        aux_weight: float = 0.5,
        residual: Residual = "none",
        coupling: Coupling = "immediate_pg",
        gae_lambda: float = 0.95,
        mix_coef: float = 0.5,
        entropy_coef: float = 0.0,
        mode: Mode = "sampled",
    ) -> None:
        super().__init__(critic_lr, actor_lr, beta, mode)
        check_float(aux_weight, "aux_weight", 0.0)
        check_choice(residual, "residual", ("none", "uniform", "terminal"))
        check_choice(coupling, "coupling", ("immediate_pg", "replace_reward", "mix_advantage"))
        check_float(gae_lambda, "gae_lambda", 0.0, 1.0)
        check_float(mix_coef, "mix_coef", 0.0, 1.0)
        self.entropy_coef = check_float(entropy_coef, "entropy_coef", 0.0)
        if mode == "expected" and residual == "uniform":
            raise ValueError(
                "mode 'expected' with residual 'uniform' is not available: the share G_0/T "
                "depends on the random episode length; expected mode supports residual "
                "'none' or 'terminal'"
            )
        self.aux_weight = float(aux_weight)
        self.residual: Residual = residual
        self.coupling: Coupling = coupling
        self.gae_lambda = float(gae_lambda)
        self.mix_coef = float(mix_coef)
        self.config.update(
            aux_weight=self.aux_weight,
            residual=residual,
            coupling=coupling,
            gae_lambda=self.gae_lambda,
            mix_coef=self.mix_coef,
            entropy_coef=self.entropy_coef,
        )

    def init(self, task: Task, rng: np.random.Generator) -> TabularState:
        """Uniform policy, zero return model (and value critic)."""
        if task.gamma != 1.0:
            raise ValueError(
                f"gamma is {task.gamma}, expected 1: RUDDER's return decomposition is defined "
                "for undiscounted finite-horizon tasks (RUDDER.md §6.5)"
            )
        state = super().init(task, rng)
        value = None if self.coupling == "immediate_pg" else np.zeros(task.n_states)
        omega = np.zeros((task.n_states, task.n_actions))  # the return model ω[s, a]
        return replace(state, omega=omega, value=value)

    def update(
        self, state: TabularState, batch: EpisodeBatch | None
    ) -> tuple[TabularState, UpdateInfo]:
        """One two-timescale step (steps 1-6 of the module docstring)."""
        # (1) β_n, a_n, b_n from the schedules; π_n = softmax(β_n θ_n)
        a_n, b_n, beta_n = self.schedules.at(state.n)
        pi = self.policy(state)
        if self.mode == "expected":
            model_dir, actor_table, value_dir, model_loss, diagnostics, mean_return = (
                self._expected(state, pi)
            )
        else:
            # (2) `batch`: B whole episodes drawn with π_n by the run loop (acconv.loop.train)
            assert batch is not None, "sampled mode needs a batch"
            model_dir, actor_table, value_dir, model_loss, diagnostics = self._sampled(
                state, batch, pi
            )
            mean_return = float(batch.returns(1.0).mean())
        # (3) return-model step (fast): ω ← ω + a_n (1/B) Σ_b Σ_t w_t (G_0 - g_t) e_{(s_t, a_t)};
        # the value critic of replace_reward / mix_advantage moves with a_n too
        omega = state.omega + a_n * model_dir
        value = state.value
        if value is not None and value_dir is not None:
            value = value + a_n * value_dir
        # (6) actor step (slow): θ ← θ + b_n (1/B) Σ_b Σ_t ∇_θ log π_n(a_t|s_t) Â_t
        # (plus c_H Σ_t ∇H(π(·|s_t)), PPO's entropy bonus)
        actor_dir = score_gradient(pi, actor_table, beta_n)
        if self.entropy_coef:
            if batch is None:
                visits = expected_visits(require_model(state.task, "RUDDER"), pi)
            else:
                visits = state_sums(batch, np.ones(batch.rewards.shape), state.task.n_states)
            actor_dir = actor_dir + self.entropy_coef * visits[:, None] * entropy_gradient(
                pi, beta_n
            )
        theta = state.theta + b_n * actor_dir
        return finish_update(
            state,
            batch,
            theta=theta,
            omega=omega,
            steps=(a_n, b_n, beta_n),
            losses=(model_loss, policy_gradient_loss(actor_table, pi)),
            directions=(model_dir, actor_dir),
            mean_return=mean_return,
            diagnostics=diagnostics,
            value=value,
        )

    analytic_parts = "softmax policy and a linear tabular return model"

    def actor_field(self, mdp: FiniteMDP | None) -> Literal["policy_gradient", "unknown"]:
        """With ``immediate_pg`` and no entropy bonus the actor's step is Σ_a π ∇log π λ(θ);
        λ(θ) = Q^π where every pair decides whether the episode ends (p_end ∈ {0, 1}), and
        then the step is ∇J."""
        if mdp is None or self.entropy_coef or self.coupling != "immediate_pg":
            return "unknown"
        p_end, _ = ending_steps(mdp)
        live = ~mdp.terminal
        decided = np.all((p_end[live] < 1e-12) | (p_end[live] > 1 - 1e-12))
        return "policy_gradient" if decided else "unknown"

    def mean_field(self, task: Task, **overrides: Any) -> tuple[MeanField | None, str]:
        """The exact mean field over the return model ω, for ``immediate_pg``. With
        ``replace_reward`` or ``mix_advantage`` a value critic is a second fast iterate beside
        ω; the field over ω alone (what the monitor differentiates) leaves it out, so none is
        published and the checks that need one say ``undecided`` with this reason."""
        if self.coupling != "immediate_pg":
            return None, (
                f"RUDDER with coupling {self.coupling!r} has a second fast iterate (the value "
                "critic) beside the return model: no mean field over ω alone is published"
            )
        return super().mean_field(task, **overrides)

    def extra_facts(self) -> dict[str, Any]:
        """A tabular return model ω[s, a] (A12 checks it)."""
        return {"return_model": "tabular", "fast_iterate": "return_model"}

    def fast_equilibrium(
        self, mdp: FiniteMDP, theta: FloatArray, n: int
    ) -> tuple[FloatArray, BoolArray]:
        """The return model's equilibrium, where its mean field (module docstring) vanishes:
        ``ω* = (c_aux Q^π + (1 - c_aux) r_end) / (c_aux + (1 - c_aux) p_end)`` on the visited
        pairs; it is ``Q^π`` wherever ``(s, a)`` decides whether the episode ends."""
        pi = self.policy_at(theta, n)
        q = action_values(mdp, pi)
        p_end, r_end = ending_steps(mdp)
        c = self.aux_weight
        weight = c + (1.0 - c) * p_end
        with np.errstate(divide="ignore", invalid="ignore"):
            omega = np.where(weight > 0, (c * q + (1.0 - c) * r_end) / weight, 0.0)
        # the pairs of the visited states (acconv.exact.visited_states) that π takes
        visited = visited_states(mdp, pi)[:, None] & (pi > 0) & (weight > 0)
        return np.where(visited, omega, 0.0), visited

    def _sampled(
        self, state: TabularState, batch: EpisodeBatch, pi: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray | None, float, dict[str, float]]:
        task = state.task
        S, A = task.n_states, task.n_actions
        # (3) the return model's errors, main loss on the last step, auxiliary on the others
        g = predictions(state.omega, batch)
        G0 = batch.returns(1.0)
        error = np.where(batch.mask, G0[:, None] - g, 0.0)
        is_last = np.arange(batch.actions.shape[1])[None, :] == (batch.lengths - 1)[:, None]
        weights = np.where(is_last, 1.0, self.aux_weight)
        model_dir = pair_sums(batch, weights * error, S, A)
        model_loss = 0.5 * float(np.sum(weights * error**2)) / batch.n_episodes
        # (4) redistribute: r̃_{t+1} = g_t - g_{t-1}, residual G_0 - g_{T-1} as configured
        redistributed = redistribute(g, batch, self.residual)
        # (5) advantages Â_t by coupling (immediate_pg, replace_reward, mix_advantage)
        value_dir = None
        if self.coupling == "immediate_pg":
            # r̃_{t+1} = (earned_t - g_{t-1}) + ω[s_t, a_t] + residual share; the baseline is the
            # same with ω[s_t, ·] averaged over π, so only ω[s_t, a_t] - ω̄(s_t) and the
            # residual share remain.
            mean_omega = (pi * state.omega).sum(axis=1)
            model_advantage = taken(state.omega, batch) - mean_omega[batch.states[:, :-1]]
            residual_share = redistributed - np.diff(g, axis=1, prepend=0.0)
            advantage = np.where(batch.mask, model_advantage + residual_share, 0.0)
        else:
            assert state.value is not None
            values = np.where(batch.bootstrap_mask(), state.value[batch.states], 0.0)
            if self.coupling == "replace_reward":
                advantage = gae(redistributed, values, 1.0, self.gae_lambda, batch.mask)
                value_dir = state_sums(batch, advantage, S)  # V learns the r̃ returns
            else:
                env_advantage = gae(batch.rewards, values, 1.0, self.gae_lambda, batch.mask)
                trace = gae(redistributed, np.zeros_like(values), 1.0, self.gae_lambda, batch.mask)
                advantage = self.mix_coef * env_advantage + (1.0 - self.mix_coef) * trace
                value_dir = state_sums(batch, env_advantage, S)  # V learns the r returns
        actor_table = pair_sums(batch, advantage, S, A)
        rows = np.arange(batch.n_episodes)
        residual = G0 - g[rows, np.maximum(batch.lengths - 1, 0)]
        diagnostics = {
            "residual_abs_mean": float(np.abs(residual).mean()),
            "return_equivalence_error": float(np.abs(redistributed.sum(axis=1) - G0).mean()),
        }
        return model_dir, actor_table, value_dir, model_loss, diagnostics

    def _expected(
        self, state: TabularState, pi: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray | None, float, dict[str, float], float]:
        mdp = require_model(state.task, "RUDDER")
        q = action_values(mdp, pi)
        p_end, r_end = ending_steps(mdp)
        omega = state.omega
        eta = expected_visits(mdp, pi)
        visits = eta[:, None] * pi
        live = ~mdp.terminal[:, None]
        # (3) in expectation: η1(s) π(a|s) [c_aux (Q^π - ω) + (1 - c_aux)(r_end - p_end ω)]
        model_error = self.aux_weight * (q - omega) + (1.0 - self.aux_weight) * (
            r_end - p_end * omega
        )
        model_dir = np.where(live, visits * model_error, 0.0)
        # (4) in expectation: the residual G_0 - g_{T-1} = r_T - ω(s_{T-1}, a_{T-1}) lands on the
        # last step ("terminal"; "none" drops it).
        residual = r_end - p_end * omega if self.residual == "terminal" else 0.0
        value_dir = None
        # (5) in expectation: E[Â | s, a] by coupling
        if self.coupling == "immediate_pg":
            advantage = omega - (pi * omega).sum(axis=1, keepdims=True) + residual
        else:
            # r̃_{t+1} = ω(s_t, a_t) - c_t, c_t = ω(s_{t-1}, a_{t-1}) - r_t. Moving each c_{u+1}
            # onto step u gives a Markov per-step term x(s, a) whose λ-sums are exact; the
            # left-over c_t depends only on the past, so it cancels in the actor's score but
            # not in the value critic (RUDDER.md §1.6, module docstring).
            carry = self.gae_lambda * ((1.0 - p_end) * omega - (mdp.R - r_end))
            x_redistributed = omega - carry + residual
            assert state.value is not None, "replace_reward and mix_advantage keep a critic"
            value = np.where(mdp.terminal, 0.0, state.value)
            if self.coupling == "replace_reward":
                td = (mdp.P @ value) - value[:, None]
                advantage = expected_discounted_sum(mdp, pi, x_redistributed + td, self.gae_lambda)
                value_dir = eta * (pi * advantage).sum(axis=1) - _expected_carry_in(
                    mdp, visits, omega
                )
            else:
                env_advantage = expected_gae_advantage(mdp, pi, value, self.gae_lambda)
                trace = expected_discounted_sum(mdp, pi, x_redistributed, self.gae_lambda)
                advantage = self.mix_coef * env_advantage + (1.0 - self.mix_coef) * trace
                value_dir = eta * (pi * env_advantage).sum(axis=1)
        actor_table = np.where(live, visits * advantage, 0.0)
        model_loss = 0.5 * float(np.sum(visits * (q - omega) ** 2))
        diagnostics = {"model_error_max": float(np.abs(np.where(visits > 0, q - omega, 0)).max())}
        mean_return = float(mdp.rho @ policy_evaluation(mdp, pi))
        return model_dir, actor_table, value_dir, model_loss, diagnostics, mean_return


def _expected_carry_in(mdp: FiniteMDP, visits: FloatArray, omega: FloatArray) -> FloatArray:
    """``E[Σ_t 1{s_t = s} c_t]`` with ``c_t = ω(s_{t-1}, a_{t-1}) - r_t`` and ``c_0 = 0``:
    ``Σ_{s', a'} η1(s') π(a'|s') P[s', a', s] (ω(s', a') - r(s', a', s))`` on live ``s``, where
    ``visits = η1 π`` and ``r(s', a', s)`` is ``R_next`` (or ``R`` without it)."""
    r_next = (
        mdp.R_next if mdp.R_next is not None else np.broadcast_to(mdp.R[:, :, None], mdp.P.shape)
    )
    inflow = np.einsum("ta,tas->s", visits * omega, mdp.P) - np.einsum(
        "ta,tas->s", visits, mdp.P * r_next
    )
    return np.where(mdp.terminal, 0.0, inflow)
