"""Tabular PPO with a two-timescale critic (Schulman et al. 2017; THEORY.md §2.2, §6.4, A11).

Pseudocode (the numbered steps are marked in :meth:`PPO.update`):

    for n = 0, 1, 2, ...
        1. β_n, a_n, b_n from the schedules; π_old = softmax(β_n θ_n), ω_old = ω_n
        2. draw B whole episodes with π_old (done by the run loop)
        3. Â_t = GAE_λ(r, V_{ω_old}); value targets Ĝ_t = Â_t + ω_old(s_t)
        4. for K epochs, for each of M minibatches of the transitions:
        5.     actor (slow):  θ ← θ + b_n ∇_θ [ L(θ) + c_H mean_t H(π_θ(·|s_t)) ], where
                 clip: L = mean_t min(ρ_t Â_t, clip(ρ_t, 1-ε, 1+ε) Â_t)
                 kl:   L = mean_t ρ_t Â_t - β_KL mean_t KL(π_old(·|s_t) ‖ π_θ(·|s_t))
               with ρ_t = π_θ(a_t|s_t) / π_old(a_t|s_t)
        6.     critic (fast): ω ← ω + a_n mean_t (Ĝ_t - V_ω(s_t)) e_{s_t}  (value clip optional)

Means are over the minibatch's transitions, as in PPO implementations; ``discount_actor=True``
weights step ``t`` of the surrogate by ``γ^t``. With K = M = 1 the first step of the clipped or
KL objective is the plain policy-gradient direction (ρ = 1 and ∇KL = 0 at θ = θ_old).

``mode="expected"`` runs the same K·M steps on the population surrogate of THEORY.md §6.4: the
transition distribution is the exact visit distribution ``η1(s) π_old(a|s) / Σ η1``, the
advantage is its conditional mean ``E[Â | s, a]`` from ω_old and the value target
``ω_old(s) + E[Â | s]``. Inside the clip this is the deterministic PPO iteration (the ODE's
Euler steps), not the mean of the noisy update, which differs where the clip is active.

The twin is the mean of the sampled update only where the batch's step count ``N`` is fixed.
The sampled update averages over the batch's own transitions, ``Σ_t x_t / N`` (as SB3 and
other PPO code do), whose mean ``E[Σ_t x_t / N]`` is not the twin's ``E[Σ_t x_t]/E[N]`` when
episode lengths vary, even with K = M = 1 and the clip inactive (issue 11 measured 37% apart
with B = 1 episode per update, 11% with B = 4, 2.4% with B = 64; on the task of
tests/test_ppo_mean_field.py 20.8% with B = 1 by exact enumeration, 4.8% ± 1.8% with B = 4
by Monte-Carlo). That bias
shrinks like 1/B but not with the step sizes, so it changes the ODE. Advantage normalisation
by the minibatch's own statistics is likewise not a mean. acconv keeps PPO's per-batch mean
(normalising by a constant ``B·E[N]`` would need the model and change the algorithm) and, in
those configurations, a sampled PPO publishes no mean field and no λ(θ) (:meth:`PPO.facts`,
``mean_field_reason`` says why); with a fixed length (e.g. time-augmented fixed-horizon
tasks, :func:`acconv.exact.episode_length`) the twin is the mean of the first step and, for
K·M > 1, the mean to first order in the step sizes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Any, Literal

import numpy as np

from acconv._validate import check_choice, check_float, check_int
from acconv.estimators import gae, surrogate_is_unclipped
from acconv.exact import (
    discounted_visits,
    episode_length,
    expected_gae_advantage,
    expected_visits,
    policy_evaluation,
)
from acconv.facts import LearnerFacts, MeanField
from acconv.mdp import FiniteMDP
from acconv.policies import (
    entropy,
    entropy_gradient,
    kl_gradient,
    score_gradient,
    softmax_policy,
)
from acconv.sampling import EpisodeBatch
from acconv.tabular._common import (
    FloatArray,
    IntArray,
    TabularLearner,
    TabularState,
    finish_update,
    require_model,
    step_discounts,
)
from acconv.updates import Mode, Task, UpdateInfo

Objective = Literal["clip", "kl"]


@dataclass(frozen=True)
class _Samples:
    """Weighted ``(s, a)`` samples of one PPO phase: transitions of a batch, or the population.

    ``critic_w`` weights the value loss and the per-state terms (entropy, KL); ``actor_w`` the
    surrogate (it carries ``γ^t`` when ``discount_actor``). Each minibatch's weights sum to 1.
    """

    s: IntArray
    sa: IntArray  # flat index s·A + a
    advantage: FloatArray
    target: FloatArray
    critic_w: FloatArray
    actor_w: FloatArray


class PPO(TabularLearner):
    """Tabular PPO whose critic is the fast iterate and whose actor is the slow one.

    Args:
        critic_lr: schedule ``a(n)`` of the critic steps.
        actor_lr: schedule ``b(n)`` of the actor steps.
        beta: inverse temperature schedule ``β(n)``.
        objective: ``"clip"`` (PPO-clip) or ``"kl"`` (PPO with a fixed KL penalty).
        clip_eps: ``ε`` of the clipped surrogate (0.2 in Schulman et al. 2017).
        kl_coef: ``β_KL`` of the KL-penalty objective.
        n_epochs: ``K`` passes over each batch.
        n_minibatches: ``M`` minibatches per pass.
        gae_lambda: λ of GAE (0.95 in Schulman et al. 2017).
        value_clip: clip range of the value change, as in OpenAI baselines, or ``None``.
        entropy_coef: ``c_H``, weight of the entropy bonus.
        discount_actor: weight the surrogate's step ``t`` by ``γ^t`` (PPO code does not).
        normalize_advantage: standardise advantages per minibatch (SB3's default; off by
            default because it changes the mean field).
        mode: ``"sampled"`` or ``"expected"``.
    """

    def __init__(
        self,
        critic_lr: Any = "1/(n+1)**0.6",
        actor_lr: Any = "1/(n+1)",
        beta: Any = 1.0,
        objective: Objective = "clip",
        clip_eps: float = 0.2,
        kl_coef: float = 0.01,
        n_epochs: int = 4,
        n_minibatches: int = 4,
        gae_lambda: float = 0.95,
        value_clip: float | None = None,
        entropy_coef: float = 0.0,
        discount_actor: bool = False,
        normalize_advantage: bool = False,
        mode: Mode = "sampled",
    ) -> None:
        super().__init__(critic_lr, actor_lr, beta, mode)
        check_choice(objective, "objective", ("clip", "kl"))
        check_float(clip_eps, "clip_eps", 0.0, 1.0)
        check_float(kl_coef, "kl_coef", 0.0)
        check_int(n_epochs, "n_epochs", 1)
        check_int(n_minibatches, "n_minibatches", 1)
        check_float(gae_lambda, "gae_lambda", 0.0, 1.0)
        if value_clip is not None:
            check_float(value_clip, "value_clip", 0.0)
        check_float(entropy_coef, "entropy_coef", 0.0)
        self.objective = objective
        self.clip_eps = float(clip_eps)
        self.kl_coef = float(kl_coef)
        self.n_epochs = n_epochs
        self.n_minibatches = n_minibatches
        self.gae_lambda = float(gae_lambda)
        self.value_clip = value_clip
        self.entropy_coef = float(entropy_coef)
        self.discount_actor = bool(discount_actor)
        self.normalize_advantage = bool(normalize_advantage)
        self.config.update(
            objective=objective,
            clip_eps=self.clip_eps,
            kl_coef=self.kl_coef,
            n_epochs=n_epochs,
            n_minibatches=n_minibatches,
            gae_lambda=self.gae_lambda,
            value_clip=value_clip,
            entropy_coef=self.entropy_coef,
            discount_actor=self.discount_actor,
            normalize_advantage=self.normalize_advantage,
        )

    analytic_parts = "softmax policy, KL-penalised surrogate and an unclipped tabular value loss"

    def kinks(self) -> tuple[str, ...]:
        """The clip objective, the value clip and advantage normalisation are not smooth."""
        reasons = []
        if self.objective == "clip":
            reasons.append("PPO's clipped surrogate min(ρÂ, clip(ρ, 1±ε)Â)")
        if self.value_clip is not None:
            reasons.append("the value clip")
        if self.normalize_advantage:
            reasons.append("advantage normalisation (a square root of the batch variance)")
        return tuple(reasons)

    def actor_field(self, mdp: FiniteMDP | None) -> Literal["policy_gradient", "unknown"]:
        """One gradient step per batch (K·M = 1) without entropy bonus or advantage
        normalisation is the actor-critic step: ∇J with the γ^t factor (or γ = 1)."""
        if mdp is None or self.entropy_coef or self.normalize_advantage:
            return "unknown"
        one_step = self.n_epochs * self.n_minibatches == 1
        exact = self.discount_actor or mdp.gamma == 1.0
        return "policy_gradient" if one_step and exact else "unknown"

    def not_the_mean(self, mdp: FiniteMDP | None) -> str:
        """Why the expected twin is not the mean of this (sampled) PPO's update on ``mdp``, or
        ``""`` when it is (module docstring): advantage normalisation, or episode lengths that
        vary (:func:`acconv.exact.episode_length` under every action)."""
        if self.mode != "sampled" or mdp is None:
            return ""
        if self.normalize_advantage:
            return (
                "PPO normalises advantages by each minibatch's own mean and standard deviation; "
                "the expected twin uses the population's, which is not the mean of that update"
            )
        if episode_length(mdp) is None:
            return (
                "episode lengths vary on this task, and PPO averages each batch over its own "
                "step count N (Σ_t x_t / N): the mean E[Σ_t x_t / N] is not the expected "
                "twin's E[Σ_t x_t]/E[N] (a bias that shrinks like 1/B with B episodes per "
                "update, not with the step sizes), so no exact mean field or λ(θ) is published"
            )
        return ""

    def mean_field(self, task: Task, **overrides: Any) -> tuple[MeanField | None, str]:
        """The expected twin's directions where they are the mean of the sampled update;
        otherwise ``(None, reason)`` (:meth:`not_the_mean`)."""
        reason = self.not_the_mean(task.mdp)
        if reason:
            return None, reason
        return super().mean_field(task, **overrides)

    def facts(self, task: Task) -> LearnerFacts:
        """As every tabular learner's, without λ(θ) where the twin is not the mean (the
        sampled critic's equilibrium is then not ``V^π``: its per-batch mean weights visits by
        ``1/N``)."""
        facts = super().facts(task)
        if self.not_the_mean(task.mdp):
            return replace(facts, fast_equilibrium=None)
        return facts

    def extra_facts(self) -> dict[str, Any]:
        """PPO keeps the old policy of the batch for K epochs of M minibatch steps."""
        return {
            "old_policy": True,
            "gradient_steps": self.n_epochs * self.n_minibatches,
            "gradient_steps_text": (
                f"K = {self.n_epochs} epochs × M = {self.n_minibatches} minibatches"
            ),
        }

    def update(
        self, state: TabularState, batch: EpisodeBatch | None
    ) -> tuple[TabularState, UpdateInfo]:
        """One outer PPO iteration: K epochs of M minibatch steps on one batch."""
        task = state.task
        # (1) β_n, a_n, b_n from the schedules; π_old = softmax(β_n θ_n), ω_old = ω_n
        a_n, b_n, beta_n = self.schedules.at(state.n)
        pi_old = self.policy(state)
        # (3) advantages Â_t and value targets Ĝ_t with the old critic ω_old
        if self.mode == "expected":
            samples, mean_return = self._expected_samples(state, pi_old)
            minibatches = [samples] * self.n_minibatches
        else:
            # (2) `batch`: B whole episodes drawn with π_old by the run loop (acconv.loop.train)
            assert batch is not None, "sampled mode needs a batch"
            samples = self._batch_samples(state, batch)
            mean_return = float(batch.returns(task.gamma).mean())
        critic_loss = (
            0.5
            * float(samples.critic_w @ (samples.target - state.omega[samples.s]) ** 2)
            / float(samples.critic_w.sum())
        )
        theta, omega = state.theta, state.omega
        rng = np.random.default_rng([state.seed, state.n])
        # (4) K epochs, each over M minibatches of the transitions
        for _ in range(self.n_epochs):
            if self.mode == "sampled":
                minibatches = _split(samples, self.n_minibatches, rng)
            for minibatch in minibatches:
                theta, omega = self._step(
                    theta, omega, state.omega, pi_old, minibatch, a_n, b_n, beta_n
                )
        pi_new = softmax_policy(theta, beta_n)
        ratio = pi_new.ravel()[samples.sa] / pi_old.ravel()[samples.sa]
        weights = samples.critic_w / samples.critic_w.sum()
        state_weights = np.bincount(samples.s, weights=weights, minlength=task.n_states)
        with np.errstate(divide="ignore", invalid="ignore"):
            kl_terms = np.where(pi_old > 0, pi_old * np.log(pi_old / pi_new), 0.0)
        diagnostics = {
            "clip_fraction": float(weights @ (np.abs(ratio - 1.0) > self.clip_eps)),
            "approx_kl": float(state_weights @ kl_terms.sum(axis=1)),
            "entropy": float(state_weights @ entropy(pi_new)),
            "gradient_steps": float(self.n_epochs * self.n_minibatches),
        }
        actor_loss = -float(samples.actor_w @ (ratio * samples.advantage)) / float(
            samples.actor_w.sum() or 1.0
        )
        return finish_update(
            state,
            batch,
            theta=theta,
            omega=omega,
            steps=(a_n, b_n, beta_n),
            losses=(critic_loss, actor_loss),
            directions=(
                (omega - state.omega) / a_n if a_n else np.zeros_like(omega),
                (theta - state.theta) / b_n if b_n else np.zeros_like(theta),
            ),
            mean_return=mean_return,
            diagnostics=diagnostics,
        )

    def _step(
        self,
        theta: FloatArray,
        omega: FloatArray,
        omega_old: FloatArray,
        pi_old: FloatArray,
        mb: _Samples,
        a_n: float,
        b_n: float,
        beta: float,
    ) -> tuple[FloatArray, FloatArray]:
        """Steps 5 and 6 on one minibatch (or the population): one actor and one critic step."""
        S = theta.shape[0]
        pi = softmax_policy(theta, beta)
        advantage = mb.advantage
        if self.normalize_advantage:
            mean = mb.critic_w @ advantage
            std = np.sqrt(mb.critic_w @ (advantage - mean) ** 2)
            advantage = (advantage - mean) / (std + 1e-8)
        ratio = pi.ravel()[mb.sa] / pi_old.ravel()[mb.sa]
        if self.objective == "clip":
            active = surrogate_is_unclipped(ratio, advantage, self.clip_eps)
        else:
            active = np.ones_like(ratio, dtype=bool)
        # (5) actor step (slow): θ ← θ + b_n ∇_θ [L(θ) + c_H mean_t H(π_θ(·|s_t))], applied in
        # the return statement below.
        # ∇ρ_t = ρ_t ∇ log π(a_t|s_t): a score-weighted table, as for the plain policy gradient
        table = np.bincount(
            mb.sa, weights=mb.actor_w * advantage * ratio * active, minlength=pi.size
        ).reshape(pi.shape).astype(np.float64, copy=False)
        grad = score_gradient(pi, table, beta)
        if self.objective == "kl" or self.entropy_coef:
            state_w = np.bincount(mb.s, weights=mb.critic_w, minlength=S)[:, None]
            if self.objective == "kl":
                grad = grad - self.kl_coef * state_w * kl_gradient(pi_old, pi, beta)
            if self.entropy_coef:
                grad = grad + self.entropy_coef * state_w * entropy_gradient(pi, beta)
        # (6) critic step (fast): ω ← ω + a_n mean_t (Ĝ_t - V_ω(s_t)) e_{s_t}, the semi-gradient
        # of ½ (Ĝ - V)², or of ½ max((Ĝ - V)², (Ĝ - V_clip)²) with the value clip
        v = omega[mb.s]
        error = mb.target - v
        if self.value_clip is not None:
            v_clip = omega_old[mb.s] + np.clip(
                v - omega_old[mb.s], -self.value_clip, self.value_clip
            )
            inside = np.abs(v - omega_old[mb.s]) <= self.value_clip
            error = np.where(
                error**2 >= (mb.target - v_clip) ** 2, error, (mb.target - v_clip) * inside
            )
        critic_dir = np.bincount(mb.s, weights=mb.critic_w * error, minlength=S)
        return theta + b_n * grad, omega + a_n * critic_dir

    def _batch_samples(self, state: TabularState, batch: EpisodeBatch) -> _Samples:
        task = state.task
        values = np.where(batch.bootstrap_mask(), state.omega[batch.states], 0.0)
        # (3) Â_t = GAE_λ(r, V_{ω_old}); targets Ĝ_t = Â_t + ω_old(s_t) (below)
        advantage = gae(batch.rewards, values, task.gamma, self.gae_lambda, batch.mask)
        discounts = step_discounts(batch, task.gamma) if self.discount_actor else 1.0
        actor_w = np.broadcast_to(discounts, batch.rewards.shape)[batch.mask]
        s, a = batch.states[:, :-1][batch.mask], batch.actions[batch.mask]
        return _Samples(
            s=s,
            sa=s * task.n_actions + a,
            advantage=advantage[batch.mask],
            target=(advantage + values[:, :-1])[batch.mask],
            critic_w=np.ones(batch.n_steps),  # normalised per minibatch by _split
            actor_w=np.asarray(actor_w, dtype=np.float64),
        )

    def _expected_samples(self, state: TabularState, pi_old: FloatArray) -> tuple[_Samples, float]:
        mdp = require_model(state.task, "PPO")
        # (3) in expectation: E[Â | s, a] from ω_old; targets ω_old(s) + E[Â | s]
        advantage = expected_gae_advantage(mdp, pi_old, state.omega, self.gae_lambda)
        visits = expected_visits(mdp, pi_old)
        actor_visits = discounted_visits(mdp, pi_old) if self.discount_actor else visits
        live = np.flatnonzero(~mdp.terminal)
        s = np.repeat(live, mdp.n_actions)
        a = np.tile(np.arange(mdp.n_actions), len(live))
        total = visits.sum()
        u = np.einsum("sa,sa->s", pi_old, advantage)
        samples = _Samples(
            s=s,
            sa=s * mdp.n_actions + a,
            advantage=advantage[s, a],
            target=(state.omega + u)[s],
            critic_w=(visits[:, None] * pi_old)[s, a] / total,
            actor_w=(actor_visits[:, None] * pi_old)[s, a] / total,
        )
        return samples, float(mdp.rho @ policy_evaluation(mdp, pi_old))


def _split(samples: _Samples, n_minibatches: int, rng: np.random.Generator) -> list[_Samples]:
    """Shuffle the transitions and cut them into minibatches whose weights average to 1/size."""
    order = rng.permutation(len(samples.s))
    ints = np.stack([samples.s, samples.sa])[:, order]  # two gathers for the whole epoch
    floats = np.stack([samples.advantage, samples.target, samples.critic_w, samples.actor_w])[
        :, order
    ]
    bounds = np.linspace(0, len(order), n_minibatches + 1).astype(int)
    return [
        _Samples(
            s=ints[0, lo:hi],
            sa=ints[1, lo:hi],
            advantage=floats[0, lo:hi],
            target=floats[1, lo:hi],
            critic_w=floats[2, lo:hi] / (hi - lo),
            actor_w=floats[3, lo:hi] / (hi - lo),
        )
        for lo, hi in pairwise(bounds)
        if hi > lo
    ]
