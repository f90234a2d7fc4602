"""Two-timescale tabular actor-critic (THEORY.md §1.3, §2; docs/algorithms/actor_critic.md).

Pseudocode (the numbered steps are marked in :meth:`ActorCritic.update`):

    for n = 0, 1, 2, ...
        1. β_n, a_n, b_n from the schedules; π_n = softmax(β_n θ_n)
        2. draw B whole episodes with π_n (done by the run loop)
        3. rewards r̃_{t+1} = r_{t+1} - τ log π_n(a_t|s_t)          (entropy regularisation)
        4. Â_t = GAE_λ(r̃, V_ω): λ = 1 Monte-Carlo, λ = 0 TD(0), else TD(λ)
        5. critic (fast):  ω ← ω + a_n (1/B) Σ_b Σ_t Â_t e_{s_t}     (target_t - ω(s_t) = Â_t)
        6. actor  (slow):  θ ← θ + b_n (1/B) Σ_b Σ_t γ^t ∇_θ log π_n(a_t|s_t) Â_t

``discount_actor=False`` drops the ``γ^t`` of step 6 as PPO implementations do; the direction is
then not ``∇J`` for ``γ < 1`` (THEORY.md §2.2 fact 3). In ``mode="expected"`` steps 2-6 use the
exact expectations instead of a batch (the mean field ḡ, h̄ of the ODEs), computed from the
MDP: ``E[Σ_t Â_t 1{s_t = s}] = η1(s) u(s)`` and ``E[Σ_t γ^t Â_t 1{s_t = s, a_t = a}] =
η_γ(s) π(a|s) E[Â|s, a]`` (:func:`acconv.exact.expected_gae_advantage`). Expected mode assumes
episodes are not truncated.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np

from acconv._validate import check_choice, check_float
from acconv.estimators import gae
from acconv.exact import (
    discounted_visits,
    expected_gae_advantage,
    expected_visits,
    policy_evaluation,
    value_equilibrium,
)
from acconv.mdp import FiniteMDP
from acconv.policies import log_softmax_policy, score_gradient
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
    step_discounts,
    taken,
)
from acconv.updates import Mode, UpdateInfo

CriticTarget = Literal["mc", "td0", "td_lambda"]
LAM_DEPRECATION = "lam is deprecated, use gae_lambda; removed in 0.3.0"


class ActorCritic(TabularLearner):
    """Tabular softmax actor (slow, ``actor_lr``) with a tabular state-value critic (fast).

    Args:
        critic_lr: schedule ``a(n)`` of the critic, e.g. ``"1/(n+1)**0.6"``.
        actor_lr: schedule ``b(n)`` of the actor, e.g. ``"0.5/(n+1)"``.
        beta: inverse temperature schedule ``β(n)`` of the softmax policy.
        tau: entropy-regularisation weight ``τ`` (the soft objective of THEORY.md §5.1).
        critic_target: ``"mc"`` (Monte-Carlo returns), ``"td0"`` or ``"td_lambda"``.
        gae_lambda: λ of TD(λ) targets and GAE advantages (``critic_target="td_lambda"``
            only; ``"mc"`` uses λ = 1 and ``"td0"`` λ = 0), the name PPO and SB3 use.
        discount_actor: keep the ``γ^t`` factor of the policy gradient (the true ``∇J``).
        mode: ``"sampled"`` (stochastic approximation) or ``"expected"`` (its exact mean field).
        lam: deprecated alias of ``gae_lambda`` (``DeprecationWarning``; removed in 0.3.0).
    """

    def __init__(
        self,
        critic_lr: Any = "1/(n+1)**0.6",
        actor_lr: Any = "1/(n+1)",
        beta: Any = 1.0,
        tau: float = 0.0,
        critic_target: CriticTarget = "mc",
        gae_lambda: float = 0.9,
        discount_actor: bool = True,
        mode: Mode = "sampled",
        *,
        lam: float | None = None,
    ) -> None:
        super().__init__(critic_lr, actor_lr, beta, mode)
        self.tau = check_float(tau, "tau", 0.0)
        self.critic_target = check_choice(
            critic_target, "critic_target", ("mc", "td0", "td_lambda")
        )
        name = "gae_lambda"
        if lam is not None:
            warnings.warn(LAM_DEPRECATION, DeprecationWarning, stacklevel=2)
            if gae_lambda != 0.9:
                raise TypeError("lam and gae_lambda are both given, expected gae_lambda only")
            gae_lambda, name = lam, "lam"
        check_float(gae_lambda, name, 0.0, 1.0)
        self.gae_lambda = {"mc": 1.0, "td0": 0.0, "td_lambda": float(gae_lambda)}[critic_target]
        self.discount_actor = bool(discount_actor)
        self.config.update(
            tau=self.tau,
            critic_target=critic_target,
            gae_lambda=self.gae_lambda,
            discount_actor=self.discount_actor,
        )

    @property
    def lam(self) -> float:
        """Deprecated alias of :attr:`gae_lambda` (removed in 0.3.0)."""
        warnings.warn(LAM_DEPRECATION, DeprecationWarning, stacklevel=2)
        return self.gae_lambda

    def update(
        self, state: TabularState, batch: EpisodeBatch | None
    ) -> tuple[TabularState, UpdateInfo]:
        """One two-timescale step (steps 1-6 of the module docstring)."""
        # (1) β_n, a_n, b_n from the schedules; π_n = softmax(β_n θ_n)
        a_n, b_n, beta_n = self.schedules.at(state.n)
        pi = self.policy(state)
        # Steps (3)-(4), soft rewards and GAE advantages, as batch sums (_sampled) or as exact
        # expectations (_expected)
        if self.mode == "expected":
            critic_dir, actor_table, critic_loss, mean_return = self._expected(state, pi, beta_n)
        else:
            # (2) `batch`: B whole episodes drawn with π_n by the run loop (acconv.loop.train)
            assert batch is not None, "sampled mode needs a batch"
            critic_dir, actor_table, critic_loss, mean_return = self._sampled(
                state, batch, pi, beta_n
            )
        # (5) critic step (fast): ω ← ω + a_n (1/B) Σ_b Σ_t Â_t e_{s_t}
        omega = state.omega + a_n * critic_dir
        # (6) actor step (slow): θ ← θ + b_n (1/B) Σ_b Σ_t γ^t ∇_θ log π_n(a_t|s_t) Â_t
        actor_dir = score_gradient(pi, actor_table, beta_n)
        theta = state.theta + b_n * actor_dir
        return finish_update(
            state,
            batch,
            theta=theta,
            omega=omega,
            steps=(a_n, b_n, beta_n),
            losses=(critic_loss, policy_gradient_loss(actor_table, pi)),
            directions=(critic_dir, actor_dir),
            mean_return=mean_return,
        )

    analytic_parts = "softmax policy and a tabular critic with linear (GAE/TD/MC) targets"

    def actor_field(self, mdp: FiniteMDP | None) -> Literal["policy_gradient", "unknown"]:
        """Without entropy (τ = 0) the critic's equilibrium is V^π whatever its target, and the
        actor's mean step is ∇J when it keeps the γ^t factor (or γ = 1): THEORY.md §2.2."""
        if mdp is None or self.tau > 0:
            return "unknown"
        return "policy_gradient" if self.discount_actor or mdp.gamma == 1.0 else "unknown"

    def extra_facts(self) -> dict[str, Any]:
        """The soft critic's temperature τ (the slow ODE's closed-form attractor θ*_τ)."""
        return {"soft_critic_tau": self.tau}

    def fast_equilibrium(
        self, mdp: FiniteMDP, theta: FloatArray, n: int
    ) -> tuple[FloatArray, BoolArray]:
        """``λ(θ) = Ṽ^π``: the value of the (soft, when ``τ > 0``) rewards the critic learns,
        on the visited states (:func:`acconv.exact.value_equilibrium`)."""
        return value_equilibrium(mdp, self.policy_at(theta, n), self.tau)

    def _sampled(
        self, state: TabularState, batch: EpisodeBatch, pi: FloatArray, beta: float
    ) -> tuple[FloatArray, FloatArray, float, float]:
        task = state.task
        rewards = batch.rewards
        # (3) soft rewards r̃_{t+1} = r_{t+1} - τ log π_n(a_t|s_t)
        if self.tau:
            log_pi = log_softmax_policy(state.theta, beta)
            rewards = rewards - self.tau * np.where(batch.mask, taken(log_pi, batch), 0.0)
        values = np.where(batch.bootstrap_mask(), state.omega[batch.states], 0.0)
        # (4) Â_t = GAE_λ(r̃, V_ω): λ = 1 Monte-Carlo, λ = 0 TD(0), else TD(λ)
        advantages = gae(rewards, values, task.gamma, self.gae_lambda, batch.mask)
        critic_dir = state_sums(batch, advantages, task.n_states)
        weights = step_discounts(batch, task.gamma) if self.discount_actor else 1.0
        actor_table = pair_sums(batch, weights * advantages, task.n_states, task.n_actions)
        critic_loss = 0.5 * float(np.sum(advantages**2)) / batch.n_episodes
        return critic_dir, actor_table, critic_loss, float(batch.returns(task.gamma).mean())

    def _expected(
        self, state: TabularState, pi: FloatArray, beta: float
    ) -> tuple[FloatArray, FloatArray, float, float]:
        mdp = require_model(state.task, "ActorCritic")
        reward = mdp.R
        # (3) in expectation: soft reward r̄(s, a) - τ log π(a|s)
        if self.tau:
            reward = mdp.R - self.tau * log_softmax_policy(state.theta, beta)
        # (4) in expectation: E[Â_t | s_t = s, a_t = a]
        advantage = expected_gae_advantage(mdp, pi, state.omega, self.gae_lambda, reward)
        u = np.einsum("sa,sa->s", pi, advantage)  # E[Â_t | s_t = s] = E[target - ω(s)]
        visits = expected_visits(mdp, pi)
        actor_visits = discounted_visits(mdp, pi) if self.discount_actor else visits
        critic_dir = visits * u
        actor_table = actor_visits[:, None] * pi * advantage
        critic_loss = 0.5 * float(visits @ u**2)  # the mean field's own error (no noise term)
        mean_return = float(mdp.rho @ policy_evaluation(mdp, pi))
        return critic_dir, actor_table, critic_loss, mean_return
