"""Neural PPO with two optimisers on two timescales (Schulman et al. 2017; THEORY.md §2.2, A11).

Pseudocode (the numbered steps are marked in :meth:`PPO.learn` and :meth:`PPO._update`):

    for n = 0, 1, 2, ...
        1. a_n, b_n from the schedules: critic optimiser's lr ← a_n, actor optimiser's lr ← b_n
        2. collect T steps with π_θ from the seed's environment (episodes continue across updates)
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

Many seeds, one computation (:meth:`PPO.learn_seeds`): ``K`` independent runs train together.
Each network is a :class:`~acconv.neural.networks.StackedMLP` (seed ``k``'s weights are slice
``k`` of ``(K, out, in)`` tensors, the forward map one ``torch.baddbmm`` per layer), each seed
has its own initialisation (its own torch generator), its own environment
(:mod:`acconv.neural.seed_envs`, stepped together), its own random stream (its own numpy
generator, drawn exactly as a single run draws it) and its own optimiser state: SGD and Adam
are elementwise, so one optimiser over the stacked tensors is ``K`` optimisers, and the
gradient clipping is per seed (:func:`~acconv.neural.networks.clip_grad_norms_`), never over
the stack. The loss is the sum of the seeds' losses, whose gradient is, block by block, each
seed's own. A single run (:meth:`PPO.learn`) is the same code with ``K = 1``. Batched products
rather than ``torch.func.vmap`` over ``functional_call``: both lower to the same batched
products, and on this CPU a K = 32 minibatch step of SB3-sized networks took 7.3 ms with
``baddbmm`` and 8.1 ms with ``vmap`` (best of 5, shared machine), with no ``functorch``
indirection in the code (docs/performance.md).

Differences from Stable-Baselines3's PPO with the same hyperparameters: two optimisers instead
of one on the sum of the losses (with Adam and equal learning rates the two are the same up to
Adam's ε, since Adam is invariant to a loss's scale such as SB3's ``vf_coef``), and gradient
clipping per network instead of over all parameters together.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Literal, get_args

import numpy as np
import torch
from numpy.typing import NDArray

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
    SeedAdam,
    StackedMLP,
    clip_grad_norms_,
    mlp,
    observation_encoder,
    parameter_vectors,
)
from acconv.neural.rollouts import NeuralRun, Rollout, _EpisodeTally
from acconv.neural.seed_envs import SeedEnvs, seed_envs
from acconv.policies import centred, softmax_policy
from acconv.schedules import Schedule, as_schedule
from acconv.updates import Task, UpdateInfo

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
Optimizer = Literal["sgd", "adam"]
Objective = Literal["clip", "kl"]
OPTIMIZERS: tuple[Optimizer, ...] = get_args(Optimizer)
OBJECTIVES: tuple[Objective, ...] = get_args(Objective)


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
        n_threads: torch threads during :meth:`learn` and :meth:`learn_seeds` (1: for one
            seed a second thread costs CPU and gives no speed-up at these sizes; a batch of 32
            seeds runs its batched products about 1.3x faster on 2 cores, ``docs/performance.md``
            §13). The thread count changes float rounding, so keep it fixed to reproduce a run.
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
        self.actor: StackedMLP | None = None
        self.critic: StackedMLP | None = None
        self._tally = _EpisodeTally()
        self._diagnostics: list[list[tuple[int, dict[str, float]]]] = []  # per seed

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
        optional stopping rule asked after every update. This is :meth:`learn_seeds` with one
        seed.
        """
        return self.learn_seeds([env], n_updates, [rng], [observers], until)[0]

    def learn_seeds(
        self,
        envs: Sequence[Any],
        n_updates: int,
        rngs: Sequence[np.random.Generator],
        observers: Sequence[Sequence[Observer]] | None = None,
        until: Callable[[UpdateEvent], bool] | None = None,
    ) -> list[NeuralRun]:
        """``K = len(rngs)`` independent runs as one batched computation.

        Seed ``k`` learns on ``envs[k]`` from ``rngs[k]`` and reports to ``observers[k]``; its
        run is the run :meth:`learn` gives with ``envs[k]`` and ``rngs[k]`` (to float rounding:
        batched products may round differently, see ``tests/test_neural_batched.py``).
        ``until`` is asked per seed; a seed it stops sends its end event and no more updates
        (its networks are kept as they were), and the batch stops when every seed has.
        """
        n_updates = check_int(n_updates, "n_updates", 1)
        if len(envs) != len(rngs) or not rngs:
            raise ValueError(
                f"envs has {len(envs)} entries and rngs {len(rngs)}, expected one per seed"
            )
        if observers is not None and len(observers) != len(rngs):
            raise ValueError(f"observers has {len(observers)} entries, expected {len(rngs)}")
        if not hasattr(envs[0].action_space, "n"):
            raise ValueError(f"action space is {envs[0].action_space}, expected Discrete")
        seeds = seed_envs(envs)
        threads = torch.get_num_threads()
        torch.set_num_threads(self.n_threads)
        try:
            time_limit = getattr(getattr(envs[0], "spec", None), "max_episode_steps", None)
            return self._learn(seeds, n_updates, list(rngs), observers, until, time_limit)
        finally:
            torch.set_num_threads(threads)

    def _learn(
        self,
        envs: SeedEnvs,
        n_updates: int,
        rngs: list[np.random.Generator],
        observers: Sequence[Sequence[Observer]] | None,
        until: Callable[[UpdateEvent], bool] | None,
        time_limit: int | None = None,
    ) -> list[NeuralRun]:
        K = len(rngs)
        self._probe_counts: list[int] | None = None
        dim, encode = observation_encoder(envs.observation_space)
        self._encode = encode
        n_actions = int(envs.action_space.n)
        model: FiniteMDP | None = getattr(envs, "mdp", None)
        gamma = self.gamma if self.gamma is not None else (model.gamma if model else 0.99)
        if model is not None and not math.isclose(gamma, model.gamma):
            model = model.with_gamma(gamma)
        # Each seed draws from its own generator in the order of a single run.
        generators = [torch.Generator().manual_seed(int(r.integers(2**63 - 1))) for r in rngs]
        self._build(dim, n_actions, generators)
        obs = envs.reset([int(r.integers(2**31 - 1)) for r in rngs])
        self._tally = _EpisodeTally(K)
        self._diagnostics = [[] for _ in range(K)]
        first: Rollout | None = None
        if model is not None:
            one = torch.from_numpy(encode(np.arange(model.n_states)))
            states = one.expand(K, *one.shape)
            task = Task.from_mdp(model)
        else:
            # No model: the tables are the networks on a fixed probe set, the first rollout's
            # first observations (as ConvergenceCallback does for SB3 runs); estimates.
            self._set_steps(float(self.critic_lr(0)), float(self.actor_lr(0)))
            first, obs = self._experience(envs, obs, encode, gamma, rngs)
            states = first.obs[:, : self.probe_size]
            # seed k's probe set: its own first min(probe_size, N_k) steps (RUDDER's N_k differ)
            probe_counts = [min(self.probe_size, n) for n in first.counts()]
            self._probe_counts = probe_counts
            task = Task(int(states.shape[1]), n_actions, float(gamma), None)
        # Each seed publishes its own facts: its critic's equilibrium solver is its own (λ(θ) is
        # warm-started from that seed's ω_0 and then from its own last solution).
        emitters = [Emitter(observers[k] if observers else (), until) for k in range(K)]
        for k, emitter in enumerate(emitters):
            equilibrium = None if model is None else self._fast_equilibrium(model, time_limit, k)
            if model is None and probe_counts[k] != task.n_states:
                task = Task(probe_counts[k], n_actions, float(gamma), None)
            emitter.start(self.facts(equilibrium), task, n_updates)
        returns: list[list[float]] = [[] for _ in range(K)]
        runs: list[NeuralRun | None] = [None] * K
        tables = self._tables(states)
        for n in range(n_updates):
            # (1) the two step sizes of update n
            a_n, b_n = float(self.critic_lr(n)), float(self.actor_lr(n))
            self._set_steps(a_n, b_n)
            if first is not None:  # the rollout that chose the probe set is update 0's
                rollout, first = first, None
            else:
                rollout, obs = self._experience(envs, obs, encode, gamma, rngs)
            infos = self._update(n, a_n, b_n, rollout, rngs, states)
            for k, info in enumerate(infos):
                if runs[k] is not None:
                    continue  # stopped by until: no more events
                returns[k].extend(rollout.episode_returns[k])
                sampled_with = softmax_policy(tables[k][0], 1.0)
                self._diagnostics[k].append((n, dict(info.diagnostics)))
                emitter = emitters[k]
                stop = emitter.update(info, sampled_with, emitter.env_steps + info.n_steps)
                if stop or n == n_updates - 1:
                    emitter.end(softmax_policy(np.asarray(info.theta), 1.0))
                    runs[k] = NeuralRun(info, emitter.env_steps, returns[k])
                    self._keep_actor(k)
            tables = [(np.asarray(i.theta), np.asarray(i.omega)) for i in infos]
            if all(run is not None for run in runs):
                break
        return [run for run in runs if run is not None]

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

    def _build(self, dim: int, n_actions: int, generators: Sequence[torch.Generator]) -> None:
        """The networks of every seed (seed ``k``'s from ``generators[k]``: its actor, then its
        critic, as a single run builds them) and their optimisers (the actor's slow, the
        critic's fast)."""
        actors, critics = [], []
        for generator in generators:
            actors.append(mlp([dim, *self.hidden, n_actions], self.activation, 0.01, generator))
            critics.append(mlp([dim, *self.hidden, 1], self.activation, 1.0, generator))
        self.actor = StackedMLP(actors, self.activation)
        self.critic = StackedMLP(critics, self.activation)
        self._actor_opt = self._optimiser(self.actor.parameters(), self._uneven_seeds)
        self._critic_opt = self._optimiser(self.critic.parameters(), self._uneven_seeds)
        # Acting, one observation per seed, in numpy (the same map; see StackedMLP).
        self._actor_numpy = self.actor.numpy_forward()
        self._kept: dict[int, list[torch.Tensor]] = {}

    _uneven_seeds = False
    """Whether a seed may have no step in some minibatches of the stack (RUDDER's padded
    rollouts, whose seeds have different numbers of steps)."""

    def _optimiser(self, parameters: Any, uneven: bool = False) -> torch.optim.Optimizer:
        """An optimiser of the configured kind; its lr is set before every update.

        SGD and Adam act elementwise, so on stacked parameters this is one optimiser per seed
        when every seed steps together (Adam's step count is then the same for all). When seeds
        skip minibatches (``uneven``), Adam is :class:`~acconv.neural.networks.SeedAdam`, whose
        step counts and moments are per seed; plain SGD's zero gradient leaves a seed as it is.
        """
        if uneven and self.optimizer == "adam":
            return SeedAdam(parameters, lr=0.0)
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
        self, mdp: FiniteMDP, time_limit: int | None = None, seed: int = 0
    ) -> NetworkEquilibrium | None:
        """``λ(θ)`` of seed ``seed``'s critic network for ``θ = log π_θ``: the zero of the
        expected semi-gradient GAE(λ) step, its values on every state and the sampled states
        (:class:`~acconv.neural.equilibrium.NetworkEquilibrium`, warm-started from ω_0)."""
        assert self.critic is not None
        states = self._encode(np.arange(mdp.n_states))
        critic = self.critic.seed_network(seed)
        return NetworkEquilibrium(critic, states, mdp, self.gae_lambda, time_limit=time_limit)

    def _act(self, x: NDArray[np.float32], u: FloatArray) -> NDArray[np.int64]:
        """``a_k ~ π_θk(·|s_k)`` for each seed's encoded observation ``x[k]`` (shape ``(K, d)``)
        by inverse CDF at ``u[k]``: the first action whose cumulative weight exceeds
        ``u_k · Σ_a e^{logit_a}`` (``searchsorted(…, side="right")``, row by row)."""
        logits = self._actor_numpy(x[:, None, :])[:, 0]
        cdf = np.cumsum(np.exp(logits - logits.max(axis=1, keepdims=True)), axis=1)
        chosen: NDArray[np.int64] = (cdf <= (u * cdf[:, -1])[:, None]).sum(axis=1)
        np.minimum(chosen, cdf.shape[1] - 1, out=chosen)
        return chosen

    def _experience(
        self,
        envs: SeedEnvs,
        obs: Any,
        encode: Encoder,
        gamma: float,
        rngs: Sequence[np.random.Generator],
    ) -> tuple[Rollout, Any]:
        """(2)-(3) the batch of update n and the observations the next one starts from."""
        return self._collect(envs, obs, encode, gamma, rngs)

    # -- step 2: experience ----------------------------------------------------------------

    def _collect(
        self,
        envs: SeedEnvs,
        obs: Any,
        encode: Encoder,
        gamma: float,
        rngs: Sequence[np.random.Generator],
    ) -> tuple[Rollout, Any]:
        """(2)-(3): ``T`` steps of every seed with its ``π_θ``, then GAE targets from one
        batched critic pass."""
        assert self.actor is not None and self.critic is not None
        K, T = len(rngs), self.n_steps
        x = encode(obs)
        X = np.empty((K, T, x.shape[1]), dtype=np.float32)
        actions = np.empty((K, T), dtype=np.int64)
        rewards = np.empty((K, T))
        terminated = np.zeros((K, T), dtype=bool)
        ended = np.zeros((K, T), dtype=bool)
        truncated_at: list[tuple[int, int]] = []  # (seed, step)
        final_obs: list[NDArray[np.float32]] = []
        tally = self._tally
        u = np.stack([rng.random(T) for rng in rngs])
        # (2) T steps with π_θ; each environment continues where the last rollout stopped
        for t in range(T):
            X[:, t] = x
            a = self._act(x, u[:, t])
            step = envs.step(a)
            actions[:, t], rewards[:, t] = a, step.rewards
            tally.add(step.rewards, gamma)
            done = step.ended
            if done.any():
                tally.finish(done)
                terminated[:, t], ended[:, t] = step.terminated, done
                for k in np.flatnonzero(done & ~step.terminated):
                    truncated_at.append((int(k), t))
                    final_obs.append(encode(step.final[k : k + 1])[0])
            obs = step.obs
            x = encode(obs)
        # no_grad rather than inference_mode: the tensors made here are reused by autograd.
        with torch.no_grad():
            X_t = torch.from_numpy(X)
            values = self.critic(X_t)[..., 0].double().numpy()
            log_probs = self.actor(X_t).log_softmax(-1)
            last_values = self.critic(torch.from_numpy(x[:, None, :]))[:, 0, 0]
            last_values = last_values.double().numpy()
            if final_obs:  # every seed's critic on every final observation; keep its own
                finals = torch.from_numpy(np.stack(final_obs))
                on_finals = self.critic(finals.expand(K, *finals.shape))[..., 0]
                final_values = on_finals.double().numpy()
        next_values = np.concatenate([values[:, 1:], last_values[:, None]], axis=1)
        for j, (seed, t) in enumerate(truncated_at):
            next_values[seed, t] = final_values[seed, j]  # the seed's critic on its final obs
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
        rngs: Sequence[np.random.Generator],
        states: torch.Tensor,
    ) -> list[UpdateInfo]:
        actor, critic = self.actor, self.critic
        actor_opt, critic_opt = self._actor_opt, self._critic_opt
        assert actor is not None and critic is not None
        K, T, B = len(rngs), rollout.n_steps, self.batch_size
        counts = rollout.counts()  # N_k: seed k's steps are its first N_k (T each for PPO)
        theta_before, omega_before = parameter_vectors(actor), parameter_vectors(critic)
        stats = torch.zeros(K, 6, dtype=torch.float64)  # actor, critic, kl, clip, entropy, count
        epoch_kls: list[list[torch.Tensor]] = []  # approx_kl of every minibatch, per epoch
        # (4) K epochs over minibatches, each seed shuffled by its own generator. A seed with
        # N_k < T steps has its own ceil(N_k / B) minibatches (its steps stay in front after
        # the shuffle, the padding behind them); in the later ones it has no step, so a zero
        # loss and gradient, and it is not stepped: plain SGD leaves its parameters exactly as
        # they were, and SeedAdam skips it (its moments and step count too).
        # the seeds with steps in each minibatch (the same in every epoch)
        active = {start: torch.tensor([start < n for n in counts]) for start in range(0, T, B)}
        for _ in range(self.n_epochs):
            epoch_kls.append([])
            permutation = torch.from_numpy(
                np.stack(
                    [
                        np.concatenate([rng.permutation(n), np.arange(n, T)])
                        for rng, n in zip(rngs, counts, strict=True)
                    ]
                )
            )
            shuffled = rollout.steps(permutation)  # one gather per epoch; minibatches are views
            for start in range(0, T, B):
                minibatch = shuffled.steps(slice(start, start + B))
                actor_loss, critic_loss, minibatch_stats = self._losses(minibatch)
                actor_opt.zero_grad(set_to_none=True)
                critic_opt.zero_grad(set_to_none=True)
                # The parameters are disjoint, and seeds never mix: one backward pass of the
                # sum gives every seed's two gradients.
                (actor_loss + critic_loss).sum().backward()  # type: ignore[no-untyped-call]
                if self.max_grad_norm is not None:
                    clip_grad_norms_(list(actor.parameters()), self.max_grad_norm)
                    clip_grad_norms_(list(critic.parameters()), self.max_grad_norm)
                _step(actor_opt, active[start])  # (5) actor, lr b_n
                _step(critic_opt, active[start])  # (6) critic, lr a_n
                stats += minibatch_stats
                epoch_kls[-1].append(minibatch_stats[:, 2])
        theta_after, omega_after = parameter_vectors(actor), parameter_vectors(critic)
        last_kls = torch.stack(epoch_kls[-1], dim=1).tolist()
        # the minibatches of the last epoch in which each seed had steps
        last_present = [[j * B < counts[k] for j in range(len(last_kls[k]))] for k in range(K)]
        # (7) the networks on every state of the model (or on the probe set)
        tables = self._tables(states)
        targets, values_old = rollout.targets.double(), rollout.values_old.double()
        infos = []
        for k in range(K):
            count = float(stats[k, 5])
            mean_actor, mean_critic, _, clip_fraction, entropy = (stats[k, :5] / count).tolist()
            real = slice(0, counts[k])  # seed k's steps (all T but for RUDDER's padding)
            variance = float(targets[k, real].var())
            kls = [kl for kl, here in zip(last_kls[k], last_present[k], strict=True) if here]
            diagnostics = {
                "approx_kl": last_epoch_mean([kls]),  # SB3's train/approx_kl
                "clip_fraction": clip_fraction,
                "entropy": entropy,
                "explained_variance": (
                    1.0 - float((targets[k, real] - values_old[k, real]).var()) / variance
                    if variance > 0
                    else math.nan
                ),
                "episode_return": _mean(rollout.episode_returns[k]),
                "actor_param_norm": float(np.linalg.norm(theta_after[k])),
                "critic_param_norm": float(np.linalg.norm(omega_after[k])),
                **(rollout.diagnostics[k] if rollout.diagnostics else {}),
            }
            theta, omega = tables[k]
            infos.append(
                UpdateInfo(
                    n=n,
                    a_n=a_n,
                    b_n=b_n,
                    beta_n=1.0,
                    theta=theta,
                    omega=omega,
                    critic_loss=mean_critic,
                    actor_loss=mean_actor,
                    critic_grad_norm=_step_norm(omega_after[k] - omega_before[k], a_n),
                    actor_grad_norm=_step_norm(theta_after[k] - theta_before[k], b_n),
                    n_episodes=len(rollout.episode_returns[k]),
                    n_steps=counts[k],
                    mean_return=_mean(rollout.discounted_returns[k]),
                    diagnostics=diagnostics,
                )
            )
        return infos

    def _losses(self, minibatch: Rollout) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per seed (shape ``(K,)``): the minibatch's actor loss ``-(L + c_H H)``, critic loss,
        and detached statistics ``(K, 6)``.

        With a step mask (RUDDER's padded rollouts) every ``mean_t`` is over the seed's real
        steps, ``Σ_t m_t x_t / Σ_t m_t``, and advantages are standardised over them (as a
        minibatch of only those steps would be); a seed with no real step has zero losses,
        gradients and statistics (its count, the last column, is 0).
        """
        assert self.actor is not None and self.critic is not None
        obs, mask = minibatch.obs, minibatch.mask
        if mask is None:
            size = torch.full((obs.shape[0],), float(obs.shape[1]))

            def mean(x: torch.Tensor) -> torch.Tensor:
                return x.mean(1)
        else:
            size = mask.sum(1).float()

            def mean(x: torch.Tensor) -> torch.Tensor:
                return (x * mask).sum(1) / size.clamp(min=1.0)

        log_pi = self.actor(obs).log_softmax(-1)
        log_pi_old = minibatch.log_probs_old
        actions = minibatch.actions[..., None]
        log_ratio = (log_pi.gather(2, actions) - log_pi_old.gather(2, actions))[..., 0]
        ratio = log_ratio.exp()
        advantage = minibatch.advantages
        if self.normalize_advantage and mask is None and advantage.shape[1] > 1:
            m, std = advantage.mean(1, keepdim=True), advantage.std(1, keepdim=True)
            advantage = (advantage - m) / (std + 1e-8)
        elif self.normalize_advantage and mask is not None:
            n = size[:, None]
            m = (advantage * mask).sum(1, keepdim=True) / n.clamp(min=1.0)
            var = ((advantage - m) * mask).pow(2).sum(1, keepdim=True) / (n - 1).clamp(min=1.0)
            advantage = torch.where(n > 1, (advantage - m) / (var.sqrt() + 1e-8), advantage)
        entropy = mean(-(log_pi.exp() * log_pi).sum(-1))
        if self.objective == "clip":
            # the tabular PPO's equation (acconv.estimators.clipped_surrogate), in torch
            surrogate = mean(clipped_surrogate(ratio, advantage, self.clip_eps))
        else:
            kl_old_new = mean((log_pi_old.exp() * (log_pi_old - log_pi)).sum(-1))
            surrogate = mean(ratio * advantage) - self.kl_coef * kl_old_new
        actor_loss = -(surrogate + self.entropy_coef * entropy)
        values = self.critic(obs)[..., 0]
        critic_loss = 0.5 * mean((values - minibatch.targets).pow(2))
        with torch.no_grad():
            stats = torch.stack(
                [
                    actor_loss,
                    critic_loss,
                    mean((ratio - 1.0) - log_ratio),  # SB3's approx_kl estimator
                    mean(((ratio - 1.0).abs() > self.clip_eps).float()),
                    entropy,
                    (size > 0).float(),
                ],
                dim=1,
            ).double()
        return actor_loss, critic_loss, stats

    def _tables(self, states: torch.Tensor) -> list[tuple[FloatArray, FloatArray]]:
        """Per seed, ``(centred log π_θ(a|s), V_ω(s))`` on its encoded ``states[k]``."""
        assert self.actor is not None and self.critic is not None
        with torch.no_grad():
            log_pi = self.actor(states).log_softmax(-1).double().numpy()
            values = self.critic(states)[..., 0].double().numpy()
        sizes = self._probe_counts or [log_pi.shape[1]] * log_pi.shape[0]
        return [(centred(log_pi[k, :n]), values[k, :n]) for k, n in enumerate(sizes)]

    def _keep_actor(self, k: int) -> None:
        """Keep seed ``k``'s actor as it is now: its run has ended (the batch may go on)."""
        assert self.actor is not None
        self._kept[k] = [p.detach()[k].clone() for p in self.actor.parameters()]

    # -- what the run can and cannot claim ------------------------------------------------

    def _policy_logits(self, x: NDArray[np.float32], seed: int) -> NDArray[np.float32]:
        """Seed ``seed``'s actor (as its run ended) on encoded rows ``x``."""
        assert self.actor is not None, "call learn() first"
        if not 0 <= seed < self.actor.n_seeds:
            raise ValueError(f"seed is {seed}, expected an index in [0, {self.actor.n_seeds - 1}]")
        params = self._kept.get(seed) or [p.detach()[seed] for p in self.actor.parameters()]
        h = torch.from_numpy(np.asarray(x, dtype=np.float32))
        with torch.no_grad():
            for i in range(0, len(params), 2):
                h = torch.addmm(params[i + 1], h, params[i].T)
                if i + 2 < len(params):
                    h = self.actor._act(h)
        logits: NDArray[np.float32] = h.numpy()
        return logits

    def action_probabilities(self, obs: Any, seed: int = 0) -> FloatArray:
        """``π_θ(·|obs)`` of seed ``seed`` for one observation of the last run's environment."""
        logits = self._policy_logits(self._encode(np.asarray([obs])), seed)[0].astype(np.float64)
        p: FloatArray = np.exp(logits - logits.max())
        p /= p.sum()
        return p

    def policy_table(self, env: Any, seed: int = 0) -> FloatArray:
        """``π_θ(a|s)`` of seed ``seed`` on every state of ``env``'s Discrete observation space."""
        _, encode = observation_encoder(env.observation_space)
        logits = self._policy_logits(encode(np.arange(env.observation_space.n)), seed)
        return torch.from_numpy(logits).softmax(-1).double().numpy()


def _step_norm(delta: FloatArray, step: float) -> float:
    return float(np.linalg.norm(delta) / step) if step > 0 else math.nan


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else math.nan


def _step(optimiser: torch.optim.Optimizer, active: torch.Tensor) -> None:
    """One optimiser step of the seeds ``active`` (:class:`SeedAdam`); SGD and a shared Adam
    step every seed (the seeds without steps have zero gradients, which SGD leaves as they are,
    and with a shared Adam every seed is active)."""
    if isinstance(optimiser, SeedAdam):
        optimiser.step(active)
    else:
        optimiser.step()
