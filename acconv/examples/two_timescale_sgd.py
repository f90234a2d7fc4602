"""A two-timescale actor-critic with two plain SGD optimisers, on a Garnet MDP, under acconv.watch.

The loop the theorems study (Borkar 1997; Konda & Tsitsiklis 2003), written as an ordinary
PyTorch loop: a critic network V_ω and an actor network π_θ (separate, no shared torso), each
with its own ``torch.optim.SGD`` (no momentum, no weight decay), whose learning rates follow two
declared decaying schedules — the critic's a(n) is the fast one, the actor's b(n) the slow one,
b(n)/a(n) → 0. One iteration is one update n::

    for n = 0, 1, 2, ...
        1. a(n), b(n) from the schedules: the optimisers' learning rates for this update
        2. collect T steps with π_θ on the environment (the state index, one-hot encoded)
        3. TD errors δ_t = r_t + γ V_ω(s'_t) - V_ω(s_t), GAE(λ) advantages Â_t
        4. critic (fast): one SGD step on ½ mean_t (V_ω(s_t) - (Â_t + V_ω(s_t)))², lr a(n)
        5. actor (slow): one SGD step on -mean_t [log π_θ(a_t|s_t) Â_t + τ H(π_θ(·|s_t))], lr b(n)

The numbered ``# (k)`` comments in :func:`train` are these steps. The environment is
``acconv/Garnet-v0`` (8 states, 3 actions, γ = 0.9): continuing, truncated every 200 steps, so
every step bootstraps from the true next state s'_t, also at a truncation.

acconv's two lines (everything else is the loop)::

    watch = acconv.watch(actor=actor_optimizer, critic=critic_optimizer, critic_lr=a_text,
                         actor_lr=b_text, env=env, policy=..., value=...)   # before the loop
    watch.close()                                                           # after it

``critic_lr=``/``actor_lr=`` declare the schedules the loop sets by hand (the same texts the loop
evaluates), so acconv decides S1–S7 symbolically. ``env=`` hands over the Garnet's model
(``env.unwrapped.mdp``), and ``policy=``/``value=`` are the networks as functions of a batch of
state indices: the watch evaluates θ (the centred log-policy table) and ω (the value table) on
every state, and λ(θ) = V^{π_θ} exactly, so the tracking error ``track/error`` = ‖V_ω - V^{π_θ}‖
recorded by the watch's :class:`~acconv.instrument.TwoTimescaleMonitor` is exact.

What acconv can then say: S1–S5 hold (symbolic), the optimiser verdict holds (plain SGD: each
step is lr × gradient), and the tracking error falls along the run. The hypotheses about the
loop's losses and its sampling stay ``undecided``: a watched loop does not show them.

Run: ``python -m acconv.examples.two_timescale_sgd [folder]`` (about 10 s) prints every verdict
and saves the run to ``folder`` (default ``results/two_timescale_sgd``) for ``acconv report``.
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

__all__ = ["ACTOR_LR", "CRITIC_LR", "Options", "mlp", "print_verdicts", "run", "train"]

CRITIC_LR = "0.1/(1 + n/100)**0.6"
"""a(n), the critic's (fast) step size: Σ a = ∞, Σ a² < ∞ (exponent in (1/2, 1])."""
ACTOR_LR = "0.05/(1 + n/100)**0.9"
"""b(n), the actor's (slow) step size: b(n)/a(n) = 0.5·(1 + n/100)^-0.3 → 0."""


@dataclasses.dataclass(frozen=True)
class Options:
    """The loop's hyperparameters (``run(**options)`` sets any of them)."""

    n_states: int = 8
    """states of the default Garnet"""
    n_actions: int = 3
    """actions of the default Garnet"""
    gamma: float = 0.9
    """discount of the loop (and of the exact tables)"""
    rollout_steps: int = 64
    """T, environment steps per update"""
    gae_lambda: float = 0.8
    """λ of the GAE(λ) advantages and TD(λ) critic targets"""
    entropy_coef: float = 0.1
    """τ, the entropy bonus in the actor's loss"""
    hidden: int = 32
    """units of the one tanh hidden layer of each network"""
    critic_lr: str = CRITIC_LR
    """a(n), an acconv expression in the update index n"""
    actor_lr: str = ACTOR_LR
    """b(n), an acconv expression in the update index n"""
    name: str = "two_timescale_sgd"
    """the run's name in reports"""
    torch_threads: int = 1
    """torch's intra-op threads during the run (restored after): networks this small gain
    nothing from a second thread, and on a shared machine lose much to it"""


def mlp(n_in: int, n_out: int, hidden: int, generator: torch.Generator, gain: float) -> nn.Module:
    """A one-hidden-layer tanh network, orthogonal weights drawn from ``generator``, zero bias."""
    first, last = nn.Linear(n_in, hidden), nn.Linear(hidden, n_out)
    with torch.no_grad():
        for layer, std in ((first, 2**0.5), (last, gain)):
            nn.init.orthogonal_(layer.weight, std, generator=generator)
            layer.bias.zero_()
    return nn.Sequential(first, nn.Tanh(), last)


def run(
    *,
    seed: int = 0,
    iterations: int = 1500,
    env: Any = None,
    observers: Sequence[Any] | None = None,
    **options: Any,
) -> Watch:
    """Train the two-timescale actor-critic for ``iterations`` updates and return the closed watch.

    ``env=None`` makes ``acconv/Garnet-v0`` with the options' size and γ; a given environment
    (discrete observations: state indices) is used instead. ``observers`` go to acconv.watch
    (default: a Recorder and a TwoTimescaleMonitor). ``options`` set :class:`Options`' fields.
    Every random number comes from ``seed``: a torch.Generator (networks, actions) and the
    environment's own generator (``reset(seed=seed)``); nothing is seeded globally.
    """
    opts = Options(**options)
    if env is None:
        env = gym.make(
            "acconv/Garnet-v0", n_states=opts.n_states, n_actions=opts.n_actions, gamma=opts.gamma
        )
    threads = torch.get_num_threads()
    torch.set_num_threads(opts.torch_threads)
    try:
        return train(opts, env, seed=seed, iterations=iterations, observers=observers)
    finally:
        torch.set_num_threads(threads)


def train(
    opts: Options, env: Any, *, seed: int, iterations: int, observers: Sequence[Any] | None
) -> Watch:
    """The loop: steps (1)–(5) of the module docstring, ``iterations`` times."""
    n_states, n_actions = int(env.observation_space.n), int(env.action_space.n)
    generator = torch.Generator().manual_seed(seed)

    def one_hot(states: Any) -> torch.Tensor:
        """The networks' input: one-hot rows of the state indices."""
        return nn.functional.one_hot(torch.as_tensor(states), n_states).to(torch.float32)

    actor = mlp(n_states, n_actions, opts.hidden, generator, gain=0.01)
    critic = mlp(n_states, 1, opts.hidden, generator, gain=1.0)
    actor_optimizer = torch.optim.SGD(actor.parameters(), lr=0.0)  # lr set before every step
    critic_optimizer = torch.optim.SGD(critic.parameters(), lr=0.0)
    a = acconv.parse_schedule(opts.critic_lr)
    b = acconv.parse_schedule(opts.actor_lr)

    # acconv, line 1 of 2: watch the two optimisers; declare the schedules the loop follows,
    # hand over the model and the networks as functions of state indices (exact tables).
    watch: Watch = acconv.watch(
        actor=actor_optimizer,
        critic=critic_optimizer,
        critic_lr=opts.critic_lr,
        actor_lr=opts.actor_lr,
        env=env,
        gamma=opts.gamma,
        policy=lambda states: actor(one_hot(states)),
        value=lambda states: critic(one_hot(states)).squeeze(-1),
        observers=observers,
        n_updates=iterations,
        name=opts.name,
    )

    T = opts.rollout_steps
    states = np.zeros(T, dtype=np.int64)
    actions = np.zeros(T, dtype=np.int64)
    rewards = np.zeros(T, dtype=np.float32)
    next_states = np.zeros(T, dtype=np.int64)
    alive = np.zeros(T, dtype=np.float32)  # 0 where s'_t is terminal (V = 0 there)
    continues = np.zeros(T, dtype=np.float32)  # 0 where the next stored state starts afresh
    obs, _ = env.reset(seed=seed)
    for n in range(iterations):
        # (1) a(n), b(n) from the schedules: this update's learning rates.
        critic_optimizer.param_groups[0]["lr"] = a(n)
        actor_optimizer.param_groups[0]["lr"] = b(n)

        # (2) T steps with π_θ. On the Garnet an episode's end is a truncation (the task is
        # continuing): s'_t is a true next state and the critic bootstraps from it.
        with torch.no_grad():
            for t in range(T):
                probs = torch.softmax(actor(one_hot(obs)), dim=-1)
                action = int(torch.multinomial(probs, 1, generator=generator))
                next_obs, reward, terminated, truncated, _ = env.step(action)
                states[t], actions[t], rewards[t] = obs, action, reward
                next_states[t], alive[t] = next_obs, 0.0 if terminated else 1.0
                continues[t] = 0.0 if terminated or truncated else 1.0
                obs = next_obs
                if terminated or truncated:
                    obs, _ = env.reset()

        # (3) TD errors and GAE(λ) advantages, with the critic before this update.
        s, s_next = one_hot(states), one_hot(next_states)
        with torch.no_grad():
            v, v_next = critic(s).squeeze(-1), critic(s_next).squeeze(-1)
            delta = torch.as_tensor(rewards) + opts.gamma * torch.as_tensor(alive) * v_next - v
            advantages = torch.zeros(T)
            trace = torch.zeros(())
            for t in reversed(range(T)):
                trace = delta[t] + opts.gamma * opts.gae_lambda * float(continues[t]) * trace
                advantages[t] = trace
            targets = advantages + v

        # (4) critic, fast timescale: one SGD step with lr a(n).
        critic_loss: torch.Tensor = 0.5 * ((critic(s).squeeze(-1) - targets) ** 2).mean()
        critic_optimizer.zero_grad()
        critic_loss.backward()  # type: ignore[no-untyped-call]
        critic_optimizer.step()

        # (5) actor, slow timescale: one SGD step with lr b(n).
        log_pi = torch.log_softmax(actor(s), dim=-1)
        entropy = -(log_pi.exp() * log_pi).sum(-1)
        chosen = log_pi[torch.arange(T), torch.as_tensor(actions)]
        actor_loss = -(chosen * advantages + opts.entropy_coef * entropy).mean()
        actor_optimizer.zero_grad()
        actor_loss.backward()  # type: ignore[no-untyped-call]
        actor_optimizer.step()

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
    folder = sys.argv[1] if len(sys.argv) > 1 else "results/two_timescale_sgd"
    watch = run()
    print_verdicts(watch)
    for key, what in (("track/error", "‖V_ω - V^π‖"), ("exact/J", "J(π) = ρᵀV^π")):
        observer = watch.monitor if key.startswith("track") else watch.recorder
        n, values = observer.series()[key] if observer is not None else ([0], [np.nan])
        print(f"{key} {what}: {values[0]:.3f} at n = {n[0]} → {values[-1]:.3f} at n = {n[-1]}")
    print(f"saved to {watch.save(folder)}")
