"""Neural PPO with two optimisers on two timescales (Schulman et al. 2017; THEORY.md §2.2, A11).

Pseudocode (the numbered steps are marked in :meth:`PPO.learn` and :meth:`PPO._update`):

    for n = 0, 1, 2, ...
        1. a_n, b_n from the schedules: critic optimiser's lr ← a_n, actor optimiser's lr ← b_n
        2. collect T steps with π_θ from one environment (episodes continue across updates)
        3. Â_t = GAE_λ(r, V_ω), truncated episodes bootstrapped from V_ω; Ĝ_t = Â_t + V_ω(s_t)
        4. for K epochs, for each minibatch of B steps (a fresh permutation per epoch):
        5.     actor (slow):  θ ← θ + b_n ∇_θ [ L(θ) + c_H mean_t H(π_θ(·|s_t)) ], where
                 clip: L = mean_t min(ρ_t Â_t, clip(ρ_t, 1-ε, 1+ε) Â_t)
                 kl:   L = mean_t ρ_t Â_t - β_KL mean_t KL(π_old(·|s_t) ‖ π_θ(·|s_t))
               with ρ_t = π_θ(a_t|s_t) / π_old(a_t|s_t)  (one optimiser step with lr b_n)
        6.     critic (fast): ω ← ω - a_n ∇_ω ½ mean_t (V_ω(s_t) - Ĝ_t)²  (lr a_n)
        7. with a model, evaluate π_θ and V_ω on every state: the exact checks' θ and ω

The actor and the critic are separate networks with separate optimisers, so the critic is the
fast iterate and the actor the slow one, as in the two-timescale theorems. Plain SGD (the
default) is the update those theorems are about; Adam rescales every coordinate by a running
second-moment estimate, so its effective steps are not a(n), b(n), and the ``optimizer``
verdict (decided in :mod:`acconv.theory_checks` from :meth:`PPO.facts`) reports an Adam run as
outside the verified hypotheses.

What a run reports (:class:`~acconv.updates.UpdateInfo`), for an environment with a finite
model (``env.unwrapped.mdp``): ``theta`` is the centred log-policy table ``log π_θ(a|s)`` and
``omega`` the critic table ``V_ω(s)`` on every state, so the Recorder and the
two-timescale monitor compute the exact ``J(π_θ)`` and the tracking error ``‖V_ω - V_{λ(θ)}‖``
as for tabular runs, λ(θ) the critic network's own equilibrium
(:mod:`acconv.neural.equilibrium`; its distance to ``V^{π_θ}`` is recorded apart). Without a
model the same tables are taken on a fixed probe set, the first ``probe_size`` observations
of the first rollout (as the SB3 callback does), and the checks that need a model say
``undecided``. The parameter norms are diagnostics
(``actor_param_norm``, ``critic_param_norm``); gradient norms are ``‖Δθ‖/b_n`` and ``‖Δω‖/a_n``
in parameter space.

Differences from Stable-Baselines3's PPO with the same hyperparameters: two optimisers instead
of one on the sum of the losses (with Adam and equal learning rates the two are the same up to
Adam's ε, since Adam is invariant to a loss's scale such as SB3's ``vf_coef``), and gradient
clipping per network instead of over all parameters together.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from acconv._validate import check_choice, check_float, check_int
from acconv.estimators import gae_rollout, last_epoch_mean
from acconv.events import Emitter, Observer, UpdateEvent
from acconv.facts import EpisodeSource, FastEquilibrium, LearnerFacts
from acconv.mdp import FiniteMDP
from acconv.neural.equilibrium import NetworkEquilibrium
from acconv.neural.estimators import clipped_surrogate
from acconv.neural.networks import (
    ACTIVATIONS,
    Activation,
    Encoder,
    mlp,
    numpy_forward,
    observation_encoder,
    parameter_vector,
)
from acconv.policies import centred, softmax_policy
from acconv.schedules import Schedule, as_schedule
from acconv.updates import Task, UpdateInfo

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
Optimizer = Literal["sgd", "adam"]
Objective = Literal["clip", "kl"]
OPTIMIZERS: tuple[Optimizer, ...] = get_args(Optimizer)
OBJECTIVES: tuple[Objective, ...] = get_args(Objective)


@dataclass(frozen=True)
class Rollout:
    """``T`` consecutive steps and what step 3 derives from them (float32 tensors for torch).

    ``obs[t]`` is the encoded ``s_t``, ``actions[t]`` ``a_t``, ``log_probs_old[t]`` the table
    ``log π_old(·|s_t)``, ``advantages``/``targets`` Â_t and Ĝ_t, ``values_old`` ``V_ω(s_t)``.
    """

    obs: torch.Tensor
    actions: torch.Tensor
    log_probs_old: torch.Tensor
    advantages: torch.Tensor
    targets: torch.Tensor
    values_old: torch.Tensor
    episode_returns: list[float] = field(default_factory=list)  # undiscounted, finished episodes
    discounted_returns: list[float] = field(default_factory=list)
    diagnostics: dict[str, float] = field(default_factory=dict)  # from the experience step

    @property
    def n_steps(self) -> int:
        """``T``, the number of steps."""
        return int(self.actions.shape[0])


@dataclass(frozen=True)
class NeuralRun:
    """What :meth:`PPO.learn` ends with: the last update, the step count, finished episodes."""

    last_update: UpdateInfo
    env_steps: int
    episode_returns: list[float]


class PPO:
    """Neural PPO for discrete actions: separate actor and critic MLPs on two timescales.

    Args:
        critic_lr: schedule ``a(n)`` of the critic optimiser (fast), ``n`` the update index.
        actor_lr: schedule ``b(n)`` of the actor optimiser (slow).
        optimizer: ``"sgd"`` (the theory's update) or ``"adam"`` (reported as outside it).
        objective: ``"clip"`` (PPO-clip) or ``"kl"`` (fixed KL penalty ``kl_coef``).
        clip_eps: ``ε`` of the clipped surrogate (0.2, Schulman et al. 2017).
        kl_coef: ``β_KL`` of the KL-penalty objective.
        n_steps: ``T`` environment steps per update (2048, SB3's default).
        batch_size: ``B`` steps per minibatch (64, SB3's default).
        n_epochs: ``K`` passes over each rollout (10, SB3's default).
        gamma: discount; ``None`` takes the model's (``env.unwrapped.mdp.gamma``), else 0.99.
        gae_lambda: λ of GAE (0.95).
        entropy_coef: ``c_H`` (0, SB3's default).
        max_grad_norm: clip each network's gradient to this norm (0.5, SB3's), or ``None``.
        normalize_advantage: standardise Â per minibatch (SB3's default).
        hidden: widths of the hidden layers of both networks ((64, 64), SB3's default).
        activation: ``tanh`` (SB3's default) or another of :data:`ACTIVATIONS`; ``relu``
            networks are not C¹, which the A1/A3 verdicts report (from :meth:`facts`).
        n_threads: torch threads during :meth:`learn` (1: a second thread costs CPU and gives
            no speed-up for networks this small).
        probe_size: without a model, the tables ``θ``, ``ω`` of the reports are the networks
            on the first ``probe_size`` observations of the first rollout.
    """

    name = "neural.PPO"  # the StartEvent's learner: not the tabular PPO, whose twin is exact

    def __init__(
        self,
        critic_lr: Any = "0.05/(1+n/10)**0.6",
        actor_lr: Any = "0.02/(1+n/10)**0.9",
        optimizer: Optimizer = "sgd",
        objective: Objective = "clip",
        clip_eps: float = 0.2,
        kl_coef: float = 0.01,
        n_steps: int = 2048,
        batch_size: int = 64,
        n_epochs: int = 10,
        gamma: float | None = None,
        gae_lambda: float = 0.95,
        entropy_coef: float = 0.0,
        max_grad_norm: float | None = 0.5,
        normalize_advantage: bool = True,
        hidden: Sequence[int] = (64, 64),
        activation: Activation = "tanh",
        n_threads: int = 1,
        probe_size: int = 256,
    ) -> None:
        self.critic_lr: Schedule = as_schedule(critic_lr)
        self.actor_lr: Schedule = as_schedule(actor_lr)
        self.optimizer = check_choice(optimizer, "optimizer", OPTIMIZERS)
        self.objective = check_choice(objective, "objective", OBJECTIVES)
        self.clip_eps = check_float(clip_eps, "clip_eps", 0.0, 1.0, open_minimum=True)
        self.kl_coef = check_float(kl_coef, "kl_coef", 0.0)
        self.n_steps = check_int(n_steps, "n_steps", 2)
        self.batch_size = check_int(batch_size, "batch_size", 1, self.n_steps)
        self.n_epochs = check_int(n_epochs, "n_epochs", 1)
        self.gamma = None if gamma is None else check_float(gamma, "gamma", 0.0, 1.0)
        self.gae_lambda = check_float(gae_lambda, "gae_lambda", 0.0, 1.0)
        self.entropy_coef = check_float(entropy_coef, "entropy_coef", 0.0)
        self.max_grad_norm = (
            None
            if max_grad_norm is None
            else check_float(max_grad_norm, "max_grad_norm", 0.0, open_minimum=True)
        )
        self.normalize_advantage = bool(normalize_advantage)
        if isinstance(hidden, str | bytes) or not isinstance(hidden, Sequence):
            raise ValueError(f"hidden is {hidden!r}, expected a list of layer widths")
        self.hidden = tuple(check_int(w, "hidden[]", 1) for w in hidden)
        self.activation = check_choice(activation, "activation", ACTIVATIONS)
        self.n_threads = check_int(n_threads, "n_threads", 1)
        self.probe_size = check_int(probe_size, "probe_size", 1)
        self.mode = "sampled"
        self.config: dict[str, Any] = {
            "critic_lr": self.critic_lr.text,
            "actor_lr": self.actor_lr.text,
            "optimizer": self.optimizer,
            "objective": self.objective,
            "clip_eps": self.clip_eps,
            "kl_coef": self.kl_coef,
            "n_steps": self.n_steps,
            "batch_size": self.batch_size,
            "n_epochs": self.n_epochs,
            "gamma": self.gamma,
            "gae_lambda": self.gae_lambda,
            "entropy_coef": self.entropy_coef,
            "max_grad_norm": self.max_grad_norm,
            "normalize_advantage": self.normalize_advantage,
            "hidden": list(self.hidden),
            "activation": self.activation,
        }
        self.actor: nn.Sequential | None = None
        self.critic: nn.Sequential | None = None
        self._tally = _EpisodeTally()
        self._diagnostics: list[tuple[int, dict[str, float]]] = []

    # -- the run ---------------------------------------------------------------------------

    def learn(
        self,
        env: Any,
        n_updates: int,
        rng: np.random.Generator,
        observers: Sequence[Observer] = (),
        until: Callable[[UpdateEvent], bool] | None = None,
    ) -> NeuralRun:
        """Run ``n_updates`` updates on a Gymnasium ``env`` and report them to ``observers``.

        The networks are (re)built from ``rng``, which also seeds the environment, draws the
        actions and shuffles the minibatches: the same seed gives the same run. ``until`` is an
        optional stopping rule asked after every update.
        """
        n_updates = check_int(n_updates, "n_updates", 1)
        if not hasattr(env.action_space, "n"):
            raise ValueError(f"action space is {env.action_space}, expected Discrete")
        threads = torch.get_num_threads()
        torch.set_num_threads(self.n_threads)
        try:
            return self._learn(env, n_updates, rng, observers, until)
        finally:
            torch.set_num_threads(threads)

    def _learn(
        self,
        env: Any,
        n_updates: int,
        rng: np.random.Generator,
        observers: Sequence[Observer],
        until: Callable[[UpdateEvent], bool] | None,
    ) -> NeuralRun:
        dim, encode = observation_encoder(env.observation_space)
        self._encode = encode
        n_actions = int(env.action_space.n)
        model: FiniteMDP | None = getattr(env.unwrapped, "mdp", None)
        gamma = self.gamma if self.gamma is not None else (model.gamma if model else 0.99)
        if model is not None and not math.isclose(gamma, model.gamma):
            model = model.with_gamma(gamma)
        self._build(dim, n_actions, torch.Generator().manual_seed(int(rng.integers(2**63 - 1))))
        obs, _ = env.reset(seed=int(rng.integers(2**31 - 1)))
        self._tally = _EpisodeTally()
        self._diagnostics = []
        first: Rollout | None = None
        if model is not None:
            states = torch.from_numpy(encode(np.arange(model.n_states)))
            task = Task.from_mdp(model)
        else:
            # No model: the tables are the networks on a fixed probe set, the first rollout's
            # first observations (as ConvergenceCallback does for SB3 runs); estimates.
            self._set_steps(float(self.critic_lr(0)), float(self.actor_lr(0)))
            first, obs = self._experience(env, obs, encode, gamma, rng)
            states = first.obs[: self.probe_size]
            task = Task(int(states.shape[0]), n_actions, float(gamma), None)
        time_limit = getattr(getattr(env, "spec", None), "max_episode_steps", None)
        equilibrium = None if model is None else self._fast_equilibrium(model, time_limit)
        emitter = Emitter(observers, until)
        emitter.start(self.facts(equilibrium), task, n_updates)
        returns: list[float] = []
        info: UpdateInfo | None = None
        table = self._tables(states)
        for n in range(n_updates):
            # (1) the two step sizes of update n
            a_n, b_n = float(self.critic_lr(n)), float(self.actor_lr(n))
            self._set_steps(a_n, b_n)
            if first is not None:  # the rollout that chose the probe set is update 0's
                rollout, first = first, None
            else:
                rollout, obs = self._experience(env, obs, encode, gamma, rng)
            returns.extend(rollout.episode_returns)
            sampled_with = softmax_policy(table[0], 1.0)
            info = self._update(n, a_n, b_n, rollout, rng, states)
            table = (np.asarray(info.theta), np.asarray(info.omega))
            self._diagnostics.append((n, dict(info.diagnostics)))
            if emitter.update(info, sampled_with, emitter.env_steps + rollout.n_steps):
                break
        assert info is not None
        emitter.end(softmax_policy(table[0], 1.0))
        return NeuralRun(info, emitter.env_steps, returns)

    # -- what the learner says about itself (acconv.facts) ---------------------------------

    episodes: EpisodeSource = "rollout"
    """T-step rollouts that continue episodes across updates (RUDDER: whole episodes)."""

    def facts(self, fast_equilibrium: FastEquilibrium | None = None) -> LearnerFacts:
        """This learner as data for the checks: two optimisers with the schedules a(n), b(n),
        a softmax MLP policy, the clip's kink, K·M optimiser steps per batch, and λ(θ) on a
        model (networks have no exact mean field)."""
        steps, text = self._gradient_steps()
        return LearnerFacts(
            name=self.name,
            config=self.config,
            critic_lr=self.critic_lr,
            actor_lr=self.actor_lr,
            optimizer="SGD" if self.optimizer == "sgd" else "Adam",
            plain_sgd=self.optimizer == "sgd",
            policy="network_softmax",
            activation=self.activation,
            kinks=(
                ("PPO's clipped surrogate min(ρÂ, clip(ρ, 1±ε)Â)",)
                if self.objective == "clip"
                else ()
            ),
            mean_field_reason=f"no exact mean field is known for learner {self.name!r}",
            fast_equilibrium=fast_equilibrium,
            fast_equilibrium_report=getattr(fast_equilibrium, "report", None),
            episodes=self.episodes,
            old_policy=True,
            gradient_steps=steps,
            gradient_steps_text=text,
            return_model=self.return_model_kind,
            fast_iterate="network",
            logs_ppo_diagnostics=True,
        )

    return_model_kind: Literal["none", "lstm"] = "none"
    """RUDDER's return model, if any (A12)."""

    def _gradient_steps(self) -> tuple[int, str]:
        """K·M optimiser steps per batch and their description."""
        minibatches = -(-self.n_steps // self.batch_size)
        return (
            self.n_epochs * minibatches,
            f"K = {self.n_epochs} epochs × M = {minibatches} minibatches",
        )

    # -- the parts a subclass changes (RUDDER) -------------------------------------------

    def _build(self, dim: int, n_actions: int, generator: torch.Generator) -> None:
        """The networks and their optimisers (the actor's slow, the critic's fast)."""
        self.actor = mlp([dim, *self.hidden, n_actions], self.activation, 0.01, generator)
        self.critic = mlp([dim, *self.hidden, 1], self.activation, 1.0, generator)
        self._actor_opt = self._optimiser(self.actor.parameters())
        self._critic_opt = self._optimiser(self.critic.parameters())
        # Acting, one observation at a time, in numpy (the same map; see numpy_forward).
        self._actor_numpy = numpy_forward(self.actor, self.activation)

    def _optimiser(self, parameters: Any) -> torch.optim.Optimizer:
        """An optimiser of the configured kind; its lr is set before every update."""
        kind = torch.optim.SGD if self.optimizer == "sgd" else torch.optim.Adam
        # fused: one kernel for all parameters (same arithmetic; about 25% faster here).
        return kind(parameters, lr=0.0, fused=True)

    def _set_steps(self, a_n: float, b_n: float) -> None:
        """(1) the critic's optimiser steps with a_n, the actor's with b_n."""
        for group in self._critic_opt.param_groups:
            group["lr"] = a_n
        for group in self._actor_opt.param_groups:
            group["lr"] = b_n

    def _fast_equilibrium(
        self, mdp: FiniteMDP, time_limit: int | None = None
    ) -> NetworkEquilibrium | None:
        """``λ(θ)`` of the critic network for ``θ = log π_θ``: the zero of the expected
        semi-gradient GAE(λ) step, its values on every state and the sampled states
        (:class:`~acconv.neural.equilibrium.NetworkEquilibrium`, warm-started from ω_0)."""
        assert self.critic is not None
        states = self._encode(np.arange(mdp.n_states))
        return NetworkEquilibrium(self.critic, states, mdp, self.gae_lambda, time_limit=time_limit)

    def _act(self, x: NDArray[np.float32], u: float) -> int:
        """``a ~ π_θ(·|s)`` for one encoded observation row ``x`` by inverse CDF at ``u``."""
        logits = self._actor_numpy(x)[0]
        cdf = np.cumsum(np.exp(logits - logits.max()))
        return min(int(cdf.searchsorted(u * cdf[-1], side="right")), cdf.size - 1)

    def _experience(
        self, env: Any, obs: Any, encode: Encoder, gamma: float, rng: np.random.Generator
    ) -> tuple[Rollout, Any]:
        """(2)-(3) the batch of update n and the observation the next one starts from."""
        return self._collect(env, obs, encode, gamma, rng)

    # -- step 2: experience ----------------------------------------------------------------

    def _collect(
        self,
        env: Any,
        obs: Any,
        encode: Encoder,
        gamma: float,
        rng: np.random.Generator,
    ) -> tuple[Rollout, Any]:
        """(2)-(3): ``T`` steps with ``π_θ``, then GAE targets from one batched critic pass."""
        assert self.actor is not None and self.critic is not None
        T = self.n_steps
        first = encode(np.asarray([obs]))
        X = np.empty((T, first.shape[1]), dtype=np.float32)
        actions = np.empty(T, dtype=np.int64)
        rewards = np.empty(T)
        terminated = np.zeros(T, dtype=bool)
        ended = np.zeros(T, dtype=bool)
        truncated_at: list[int] = []
        final_obs: list[NDArray[np.float32]] = []
        tally = self._tally
        u = rng.random(T)
        actor = self.actor
        # no_grad rather than inference_mode: the tensors made here are reused by autograd.
        with torch.no_grad():
            # (2) T steps with π_θ; the environment continues where the last rollout stopped
            for t in range(T):
                X[t] = encode(np.asarray([obs]))[0]
                a = self._act(X[t : t + 1], float(u[t]))
                obs, r, term, trunc, _ = env.step(a)
                actions[t], rewards[t] = a, r
                tally.add(float(r), gamma)
                if term or trunc:
                    tally.finish()
                    terminated[t], ended[t] = term, True
                    if not term:
                        truncated_at.append(t)
                        final_obs.append(encode(np.asarray([obs]))[0])
                    obs, _ = env.reset()
            X_t = torch.from_numpy(X)
            values = self.critic(X_t)[:, 0].double().numpy()
            log_probs = actor(X_t).log_softmax(-1)
            tail = encode(np.asarray([obs]))
            if final_obs:
                tail = np.concatenate([np.stack(final_obs), tail])
            tail_values = self.critic(torch.from_numpy(tail))[:, 0].double().numpy()
        next_values = np.append(values[1:], tail_values[-1])
        next_values[truncated_at] = tail_values[:-1]
        next_values[terminated] = 0.0
        episode_returns, discounted = tally.take()
        # (3) advantages and value targets
        advantages = gae_rollout(rewards, values, next_values, ended, gamma, self.gae_lambda)
        targets = advantages + values
        rollout = Rollout(
            obs=X_t,
            actions=torch.from_numpy(actions),
            log_probs_old=log_probs,
            advantages=torch.from_numpy(advantages.astype(np.float32)),
            targets=torch.from_numpy(targets.astype(np.float32)),
            values_old=torch.from_numpy(values.astype(np.float32)),
            episode_returns=episode_returns,
            discounted_returns=discounted,
        )
        return rollout, obs

    # -- steps 4-7: the update -------------------------------------------------------------

    def _update(
        self,
        n: int,
        a_n: float,
        b_n: float,
        rollout: Rollout,
        rng: np.random.Generator,
        states: torch.Tensor,
    ) -> UpdateInfo:
        actor, critic = self.actor, self.critic
        actor_opt, critic_opt = self._actor_opt, self._critic_opt
        assert actor is not None and critic is not None
        theta_before, omega_before = parameter_vector(actor), parameter_vector(critic)
        T, B = rollout.n_steps, self.batch_size
        stats = torch.zeros(6, dtype=torch.float64)  # actor, critic, kl, clip, entropy, count
        epoch_kls: list[list[float]] = []  # approx_kl of every minibatch, per epoch
        # (4) K epochs over minibatches
        for _ in range(self.n_epochs):
            epoch_kls.append([])
            permutation = torch.from_numpy(rng.permutation(T))
            for start in range(0, T, B):
                idx = permutation[start : start + B]
                actor_loss, critic_loss, minibatch_stats = self._losses(rollout, idx)
                actor_opt.zero_grad(set_to_none=True)
                critic_opt.zero_grad(set_to_none=True)
                # The parameters are disjoint: one backward pass gives both gradients.
                (actor_loss + critic_loss).backward()  # type: ignore[no-untyped-call]
                if self.max_grad_norm is not None:
                    nn.utils.clip_grad_norm_(actor.parameters(), self.max_grad_norm, foreach=True)
                    nn.utils.clip_grad_norm_(critic.parameters(), self.max_grad_norm, foreach=True)
                actor_opt.step()  # (5) actor, lr b_n
                critic_opt.step()  # (6) critic, lr a_n
                stats += minibatch_stats
                epoch_kls[-1].append(float(minibatch_stats[2]))
        count = float(stats[5])
        mean_actor, mean_critic, _, clip_fraction, entropy = (stats[:5] / count).tolist()
        kl = last_epoch_mean(epoch_kls)  # SB3's train/approx_kl: one definition for ppo/kl
        theta_after, omega_after = parameter_vector(actor), parameter_vector(critic)
        targets, values_old = rollout.targets.double(), rollout.values_old.double()
        variance = float(targets.var())
        diagnostics = {
            "approx_kl": kl,
            "clip_fraction": clip_fraction,
            "entropy": entropy,
            "explained_variance": (
                1.0 - float((targets - values_old).var()) / variance if variance > 0 else math.nan
            ),
            "episode_return": _mean(rollout.episode_returns),
            "actor_param_norm": float(np.linalg.norm(theta_after)),
            "critic_param_norm": float(np.linalg.norm(omega_after)),
            **rollout.diagnostics,
        }
        # (7) the networks on every state of the model (or on the probe set)
        theta, omega = self._tables(states)
        return UpdateInfo(
            n=n,
            a_n=a_n,
            b_n=b_n,
            beta_n=1.0,
            theta=theta,
            omega=omega,
            critic_loss=mean_critic,
            actor_loss=mean_actor,
            critic_grad_norm=_step_norm(omega_after - omega_before, a_n),
            actor_grad_norm=_step_norm(theta_after - theta_before, b_n),
            n_episodes=len(rollout.episode_returns),
            n_steps=T,
            mean_return=_mean(rollout.discounted_returns),
            diagnostics=diagnostics,
        )

    def _losses(
        self, rollout: Rollout, idx: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The minibatch's actor loss ``-(L + c_H H)``, critic loss and detached statistics."""
        assert self.actor is not None and self.critic is not None
        log_pi = self.actor(rollout.obs[idx]).log_softmax(-1)
        log_pi_old = rollout.log_probs_old[idx]
        actions = rollout.actions[idx, None]
        log_ratio = (log_pi.gather(1, actions) - log_pi_old.gather(1, actions))[:, 0]
        ratio = log_ratio.exp()
        advantage = rollout.advantages[idx]
        if self.normalize_advantage and advantage.numel() > 1:
            advantage = (advantage - advantage.mean()) / (advantage.std() + 1e-8)
        entropy = -(log_pi.exp() * log_pi).sum(-1).mean()
        if self.objective == "clip":
            # the tabular PPO's equation (acconv.estimators.clipped_surrogate), in torch
            surrogate = clipped_surrogate(ratio, advantage, self.clip_eps).mean()
        else:
            kl_old_new = (log_pi_old.exp() * (log_pi_old - log_pi)).sum(-1).mean()
            surrogate = (ratio * advantage).mean() - self.kl_coef * kl_old_new
        actor_loss = -(surrogate + self.entropy_coef * entropy)
        values = self.critic(rollout.obs[idx])[:, 0]
        critic_loss = 0.5 * (values - rollout.targets[idx]).pow(2).mean()
        with torch.no_grad():
            stats = torch.stack(
                [
                    actor_loss,
                    critic_loss,
                    ((ratio - 1.0) - log_ratio).mean(),  # SB3's approx_kl estimator
                    ((ratio - 1.0).abs() > self.clip_eps).float().mean(),
                    entropy,
                    torch.ones(()),
                ]
            ).double()
        return actor_loss, critic_loss, stats

    def _tables(self, states: torch.Tensor) -> tuple[FloatArray, FloatArray]:
        """``(centred log π_θ(a|s), V_ω(s))`` on the encoded ``states``."""
        assert self.actor is not None and self.critic is not None
        with torch.no_grad():
            log_pi = self.actor(states).log_softmax(-1).double().numpy()
            values = self.critic(states)[:, 0].double().numpy()
        return centred(log_pi), values

    # -- what the run can and cannot claim ------------------------------------------------

    def action_probabilities(self, obs: Any) -> FloatArray:
        """``π_θ(·|obs)`` for one observation of the environment of the last :meth:`learn`."""
        x = self._encode(np.asarray([obs]))
        logits = self._actor_numpy(x)[0].astype(np.float64)
        p = np.exp(logits - logits.max())
        return p / p.sum()  # type: ignore[no-any-return]

    def policy_table(self, env: Any) -> FloatArray:
        """``π_θ(a|s)`` on every state of ``env``'s Discrete observation space."""
        assert self.actor is not None, "call learn() first"
        _, encode = observation_encoder(env.observation_space)
        all_states = torch.from_numpy(encode(np.arange(env.observation_space.n)))
        with torch.inference_mode():
            return self.actor(all_states).softmax(-1).double().numpy()  # type: ignore[no-any-return]


class _EpisodeTally:
    """Undiscounted and discounted returns of episodes, which may span several rollouts.

    Not :func:`acconv.estimators.discounted_returns`: an episode's rewards are not kept in one
    array (the rollout that ends an episode may not hold its start), so ``G_0 = Σ_t γ^t r_{t+1}``
    is accumulated forwards, one reward at a time, with the weight ``γ^t`` carried along.
    """

    def __init__(self) -> None:
        self.plain, self.discounted, self.weight = 0.0, 0.0, 1.0
        self.finished: list[tuple[float, float]] = []

    def add(self, reward: float, gamma: float) -> None:
        self.plain += reward
        self.discounted += self.weight * reward
        self.weight *= gamma

    def finish(self) -> None:
        self.finished.append((self.plain, self.discounted))
        self.plain, self.discounted, self.weight = 0.0, 0.0, 1.0

    def take(self) -> tuple[list[float], list[float]]:
        """The returns of the episodes finished since the last call."""
        plain = [p for p, _ in self.finished]
        discounted = [d for _, d in self.finished]
        self.finished = []
        return plain, discounted


def _step_norm(delta: FloatArray, step: float) -> float:
    return float(np.linalg.norm(delta) / step) if step > 0 else math.nan


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else math.nan
