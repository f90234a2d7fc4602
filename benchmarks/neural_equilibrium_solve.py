"""Time of one warm-started solve of the critic network's λ(θ) (acconv.neural.equilibrium) at
SB3's default critic size (64, 64), on FrozenLake-v1 and acconv/Garnet-v0, GAE λ = 0.95.

The policy moves by 0.02·N(0, 1) per logit between solves, as between recorded updates.
Usage: python benchmarks/neural_equilibrium_solve.py
"""

from __future__ import annotations

import time

import gymnasium
import numpy as np
import torch

import acconv  # noqa: F401  (registers acconv/Garnet-v0)
from acconv.envs import model_of
from acconv.neural.equilibrium import NetworkEquilibrium
from acconv.neural.networks import mlp

torch.set_num_threads(1)
for env_id in ("FrozenLake-v1", "acconv/Garnet-v0"):
    env = gymnasium.make(env_id)
    mdp = model_of(env_id)
    S = mdp.n_states
    critic = mlp([S, 64, 64, 1], "tanh", 1.0, torch.Generator().manual_seed(0))
    limit = env.spec.max_episode_steps if env.spec else None
    eq = NetworkEquilibrium(critic, np.eye(S, dtype=np.float32), mdp, 0.95, time_limit=limit)
    rng = np.random.default_rng(0)
    theta = rng.normal(size=(S, mdp.n_actions))
    start = time.perf_counter()
    first = eq.solve(theta)
    cold = time.perf_counter() - start
    solutions, start = [], time.perf_counter()
    for _ in range(20):
        theta = theta + 0.02 * rng.normal(size=theta.shape)
        solutions.append(eq.solve(theta))
    warm = (time.perf_counter() - start) / 20
    print(
        f"{env_id}: {S} states, p = {first.parameters.size}; first (cold) solve "
        f"{cold * 1e3:.0f} ms in {first.iterations} steps; warm {warm * 1e3:.0f} ms per solve, "
        f"steps "
        f"{np.mean([s.iterations for s in solutions]):.2f} on average, residual max "
        f"{max(s.residual for s in solutions):.2g}"
    )
