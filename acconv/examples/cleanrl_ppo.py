"""A CleanRL-style PPO on CartPole-v1, under acconv.watch: what the verdicts say about it.

The PPO most people run (Huang et al. 2022, "The 37 implementation details of PPO"), written for
acconv in CleanRL's manner — one file, read top to bottom — not copied from CleanRL: an agent
whose ``actor`` and ``critic`` heads sit on one small shared torso, ONE Adam optimiser over all
its parameters, a learning rate annealed linearly BY HAND in the loop, and 4 vectorised
environments. One iteration::

    for i = 0, 1, ..., I - 1
        1. anneal: optimizer.param_groups[0]["lr"] = (1 - i/I) · lr
        2. collect T steps in each of the N environments with π_θ (actions, log π, V)
        3. GAE(λ) advantages Â and returns R = Â + V (a truncated episode bootstraps
           from V of its final observation)
        4. K epochs × M minibatches: the clipped surrogate, the clipped value loss and the
           entropy bonus in ONE loss; one Adam step on all parameters (gradient norm ≤ 0.5)

The numbered ``# (k)`` comments in :func:`train` are these steps. acconv's two lines (everything
else is the loop)::

    watch = acconv.watch(optimizer, actor=agent.actor, critic=agent.critic)  # before the loop
    watch.close()                                                             # after it

The watch hooks the optimiser and reads, never writes: training is bit-identical with and
without it. Each optimiser step is one update n of both roles (one optimiser).

What the verdicts say, and why this loop is outside the two-timescale theorems:

* **S4 violated** (and so A2): one optimiser and one learning rate move the critic and the actor,
  so b(n)/a(n) = 1: there is no timescale separation;
* **optimizer undecided**: Adam's step lr·m̂/(√v̂ + ε) is a data-dependent step size, not
  lr × gradient, so the step-size conditions speak only about the nominal lr;
* **S1–S3 undecided**: the loop sets its lr by hand, and acconv sees only the values it applied
  (recorded at every step); an asymptotic condition cannot be decided from finitely many
  values. Declared (``declare_lr=True`` passes the annealing law as ``critic_lr=``/``actor_lr=``)
  they are decided: the lr reaches 0 after I iterations, so Σ a(n) < ∞ and S1 is violated;
* CartPole has no model in acconv, so the tables are taken on a probe of observations and
  every check that needs λ(θ) or a mean field is undecided; the loop's losses and its
  sampling are not visible to a watch either.

Run: ``python -m acconv.examples.cleanrl_ppo [folder]`` (about 8 s) prints every verdict and
saves the run to ``folder`` (default ``results/cleanrl_ppo``) for ``acconv report``.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

import acconv
from acconv.adapters.watch import Watch

__all__ = [
    "Agent",
    "Options",
    "annealing_law",
    "layer",
    "make_envs",
    "print_verdicts",
    "run",
    "train",
]


@dataclasses.dataclass(frozen=True)
class Options:
    """The loop's hyperparameters, CleanRL's defaults for CartPole unless said otherwise
    (``run(**options)`` sets any of them)."""

    env_id: str = "CartPole-v1"
    """the Gymnasium environment of the default vector env"""
    num_envs: int = 4
    """N, environments stepped together"""
    num_steps: int = 128
    """T, steps per environment per iteration"""
    learning_rate: float = 2.5e-4
    """Adam's initial learning rate"""
    anneal_lr: bool = True
    """anneal the learning rate linearly towards 0 over the iterations, by hand"""
    declare_lr: bool = False
    """pass the annealing law to acconv.watch as critic_lr=/actor_lr= (off: acconv records it)"""
    gamma: float = 0.99
    """the discount"""
    gae_lambda: float = 0.95
    """λ of GAE"""
    num_minibatches: int = 4
    """M, minibatches per epoch"""
    update_epochs: int = 4
    """K, epochs over each batch"""
    norm_adv: bool = True
    """normalise the advantages per minibatch"""
    clip_coef: float = 0.2
    """ε of the clipped surrogate (and of the clipped value loss)"""
    clip_vloss: bool = True
    """clip the value loss as PPO's reference implementation does"""
    ent_coef: float = 0.01
    """entropy bonus coefficient"""
    vf_coef: float = 0.5
    """value-loss coefficient"""
    max_grad_norm: float = 0.5
    """global gradient-norm clip"""
    hidden: int = 64
    """width of the torso and of each head's hidden layer"""
    name: str = "cleanrl_ppo"
    """the run's name in reports"""
    torch_threads: int = 1
    """torch's intra-op threads during the run (restored after): networks this small gain
    nothing from a second thread, and on a shared machine lose much to it"""


def layer(n_in: int, n_out: int, generator: torch.Generator, std: float = 2**0.5) -> nn.Linear:
    """A linear layer, orthogonal weights of gain ``std`` and zero bias (PPO's detail #2),
    drawn from ``generator``."""
    linear = nn.Linear(n_in, n_out)
    with torch.no_grad():
        nn.init.orthogonal_(linear.weight, std, generator=generator)
        linear.bias.zero_()
    return linear


class Agent(nn.Module):
    """``actor`` (observations → action logits) and ``critic`` (observations → values): two
    heads on one shared tanh torso, which both modules contain (shared parameters)."""

    def __init__(self, n_obs: int, n_actions: int, hidden: int, generator: torch.Generator):
        super().__init__()
        torso = nn.Sequential(layer(n_obs, hidden, generator), nn.Tanh())
        self.actor = nn.Sequential(
            torso,
            layer(hidden, hidden, generator),
            nn.Tanh(),
            layer(hidden, n_actions, generator, std=0.01),
        )
        self.critic = nn.Sequential(
            torso, layer(hidden, hidden, generator), nn.Tanh(), layer(hidden, 1, generator, std=1.0)
        )

    def value(self, x: torch.Tensor) -> torch.Tensor:
        """V(x), shape (batch,)."""
        values: torch.Tensor = self.critic(x)
        return values[..., 0]

    def evaluate(
        self, x: torch.Tensor, action: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(log π(action|x), entropy of π(·|x), V(x)), each of shape (batch,)."""
        log_pi = self.actor(x).log_softmax(-1)
        log_prob = log_pi.gather(-1, action[:, None])[:, 0]
        entropy = -(log_pi.exp() * log_pi).sum(-1)
        return log_prob, entropy, self.value(x)


def annealing_law(opts: Options, iterations: int) -> str:
    """The learning rate the loop applies at optimiser step n, as an acconv expression:
    lr·(1 - i/I) with i = floor(n/(K·M)) the iteration, and 0 after the run."""
    if not opts.anneal_lr:
        return repr(float(opts.learning_rate))
    steps = opts.update_epochs * opts.num_minibatches
    return f"{opts.learning_rate!r}*max(0, 1 - floor(n/{steps})/{iterations})"


def make_envs(opts: Options, env: Any) -> gym.vector.VectorEnv:
    """The vector environment: ``env`` itself if it is one (it must reset finished episodes in
    the same step), one given environment as a vector of one, or N copies of ``opts.env_id``."""
    same_step = gym.vector.AutoresetMode.SAME_STEP
    if env is None:
        return gym.make_vec(
            opts.env_id,
            num_envs=opts.num_envs,
            vectorization_mode="sync",
            vector_kwargs={"autoreset_mode": same_step},
        )
    if isinstance(env, gym.vector.VectorEnv):
        if env.metadata.get("autoreset_mode") != same_step:
            raise ValueError(
                f"env autoresets as {env.metadata.get('autoreset_mode')!r}; expected a vector "
                "env made with autoreset_mode=AutoresetMode.SAME_STEP"
            )
        return env
    return gym.vector.SyncVectorEnv([lambda: env], autoreset_mode=same_step)


def run(
    *,
    seed: int = 0,
    iterations: int = 100,
    env: Any = None,
    observers: Sequence[Any] | None = None,
    episode_returns: list[float] | None = None,
    **options: Any,
) -> Watch:
    """Train PPO for ``iterations`` iterations (N·T environment steps and K·M optimiser steps
    each) and return the closed watch.

    ``env=None`` makes 4 ``CartPole-v1`` environments; a given environment (or a vector env
    with same-step autoreset) is used instead. ``observers`` go to acconv.watch (default: a
    Recorder and a TwoTimescaleMonitor). ``episode_returns``, if given, receives the return of
    every finished episode (the watch does not see rewards). ``options`` set :class:`Options`'
    fields. Every random number comes from ``seed``: a torch.Generator (network, actions,
    minibatches) and the environments' own generators (``reset(seed=seed)``); nothing is seeded
    globally.
    """
    opts = Options(**options)
    envs = make_envs(opts, env)
    threads = torch.get_num_threads()
    torch.set_num_threads(opts.torch_threads)
    try:
        return train(
            opts,
            envs,
            seed=seed,
            iterations=iterations,
            observers=observers,
            episode_returns=episode_returns,
        )
    finally:
        torch.set_num_threads(threads)
        if env is None:
            envs.close()


def train(
    opts: Options,
    envs: gym.vector.VectorEnv,
    *,
    seed: int,
    iterations: int,
    observers: Sequence[Any] | None,
    episode_returns: list[float] | None = None,
) -> Watch:
    """The loop: steps (1)–(4) of the module docstring, ``iterations`` times."""
    observation_space, action_space = envs.single_observation_space, envs.single_action_space
    if not isinstance(action_space, gym.spaces.Discrete) or observation_space.shape is None:
        raise ValueError(f"expected a Box observation and Discrete action, got {action_space}")
    n_obs, n_actions = int(np.prod(observation_space.shape)), int(action_space.n)
    generator = torch.Generator().manual_seed(seed)
    agent = Agent(n_obs, n_actions, opts.hidden, generator)
    optimizer = torch.optim.Adam(agent.parameters(), lr=opts.learning_rate, eps=1e-5)

    # acconv, line 1 of 2: watch the one optimiser; say which parameters are the actor's and
    # which the critic's (the torso is in both: shared).
    declared = annealing_law(opts, iterations) if opts.declare_lr else None
    watch: Watch = acconv.watch(
        optimizer,
        actor=agent.actor,
        critic=agent.critic,
        critic_lr=declared,
        actor_lr=declared,
        observers=observers,
        n_updates=iterations * opts.update_epochs * opts.num_minibatches,
        name=opts.name,
    )

    N, T = envs.num_envs, opts.num_steps
    batch_size = N * T
    minibatch_size = batch_size // opts.num_minibatches
    obs = torch.zeros((T, N, n_obs))
    actions = torch.zeros((T, N), dtype=torch.long)
    logprobs = torch.zeros((T, N))
    rewards = torch.zeros((T, N))
    dones = torch.zeros((T, N))
    values = torch.zeros((T, N))
    next_obs = torch.as_tensor(envs.reset(seed=seed)[0], dtype=torch.float32)
    next_done = torch.zeros(N)
    running = np.zeros(N)  # the return of each environment's current episode
    for i in range(iterations):
        # (1) anneal the learning rate by hand, as CleanRL does.
        if opts.anneal_lr:
            optimizer.param_groups[0]["lr"] = (1.0 - i / iterations) * opts.learning_rate

        # (2) T steps in each environment with the current policy.
        for t in range(T):
            obs[t], dones[t] = next_obs, next_done
            with torch.no_grad():
                log_pi = agent.actor(next_obs).log_softmax(-1)
                action = torch.multinomial(log_pi.exp(), 1, generator=generator)[:, 0]
                logprobs[t] = log_pi.gather(-1, action[:, None])[:, 0]
                values[t] = agent.value(next_obs)
            actions[t] = action
            observation, reward, terminated, truncated, info = envs.step(action.numpy())
            rewards[t] = torch.as_tensor(reward, dtype=torch.float32)
            running += reward
            if episode_returns is not None:
                episode_returns.extend(running[terminated | truncated].tolist())
            running[terminated | truncated] = 0.0
            if truncated.any():  # a time limit is not an end: bootstrap from V(final obs)
                with torch.no_grad():
                    for k in np.flatnonzero(truncated & ~terminated):
                        final = torch.as_tensor(info["final_obs"][k], dtype=torch.float32)
                        rewards[t, k] += opts.gamma * agent.value(final[None])[0]
            next_obs = torch.as_tensor(observation, dtype=torch.float32)
            next_done = torch.as_tensor(terminated | truncated, dtype=torch.float32)

        # (3) GAE(λ) advantages and the returns, backwards through the rollout.
        with torch.no_grad():
            next_value = agent.value(next_obs)
            advantages = torch.zeros((T, N))
            last = torch.zeros(N)
            for t in reversed(range(T)):
                not_done = 1.0 - (next_done if t == T - 1 else dones[t + 1])
                following = next_value if t == T - 1 else values[t + 1]
                delta = rewards[t] + opts.gamma * following * not_done - values[t]
                last = delta + opts.gamma * opts.gae_lambda * not_done * last
                advantages[t] = last
            returns = advantages + values

        # (4) K epochs over shuffled minibatches: one loss, one optimiser step each.
        b_obs, b_actions = obs.reshape(-1, n_obs), actions.reshape(-1)
        b_logprobs, b_advantages = logprobs.reshape(-1), advantages.reshape(-1)
        b_returns, b_values = returns.reshape(-1), values.reshape(-1)
        for _ in range(opts.update_epochs):
            order = torch.randperm(batch_size, generator=generator)
            for start in range(0, batch_size, minibatch_size):
                mb = order[start : start + minibatch_size]
                logprob, entropy, value = agent.evaluate(b_obs[mb], b_actions[mb])
                ratio = (logprob - b_logprobs[mb]).exp()
                adv = b_advantages[mb]
                if opts.norm_adv:
                    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                pg_loss = torch.max(
                    -adv * ratio, -adv * ratio.clamp(1 - opts.clip_coef, 1 + opts.clip_coef)
                ).mean()
                v_loss_unclipped = (value - b_returns[mb]) ** 2
                if opts.clip_vloss:
                    v_clipped = b_values[mb] + (value - b_values[mb]).clamp(
                        -opts.clip_coef, opts.clip_coef
                    )
                    v_loss_max = torch.max(v_loss_unclipped, (v_clipped - b_returns[mb]) ** 2)
                    v_loss = 0.5 * v_loss_max.mean()
                else:
                    v_loss = 0.5 * v_loss_unclipped.mean()
                loss = pg_loss - opts.ent_coef * entropy.mean() + opts.vf_coef * v_loss
                optimizer.zero_grad()
                loss.backward()  # type: ignore[no-untyped-call]
                nn.utils.clip_grad_norm_(agent.parameters(), opts.max_grad_norm)
                optimizer.step()

    # acconv, line 2 of 2: send the last update and the end event (save() and report() close
    # the watch too).
    watch.close()
    return watch


def print_verdicts(watch: Watch) -> None:
    """Every verdict of the run: the step-size conditions S1–S7, then A0–A12, tracking and
    the optimiser, each with its id, status and detail."""
    report = watch.report()
    steps = report.step_sizes
    for verdict in (*(steps.conditions if steps is not None else ()), *report.verdicts):
        print(f"{verdict.id:<10} {verdict.shown:<44} {verdict.detail}")
    print(report.statement)


if __name__ == "__main__":
    folder = sys.argv[1] if len(sys.argv) > 1 else "results/cleanrl_ppo"
    returns: list[float] = []
    watch = run(episode_returns=returns)
    print_verdicts(watch)
    print(f"{len(returns)} episodes; mean return of the last 20: {np.mean(returns[-20:]):.1f}")
    print(f"saved to {watch.save(folder)}")
