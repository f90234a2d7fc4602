"""acconv's neural PPO against SB3's PPO on CartPole-v1: environment steps per second, same run.

Run: ``python benchmarks/bench_neural_ppo_vs_sb3.py`` (about 3 minutes on 2 cores with the
defaults; needs the ``neural`` extra). Prints a Markdown table for ``docs/performance.md``.

Target (issue 6, Performance): acconv's neural PPO processes at least 1.5x the environment
steps per second of SB3's PPO on CartPole-v1 with matched hyperparameters and one environment,
measured in the same benchmark run.

Matched hyperparameters: SB3's PPO defaults — T = 2048 steps per update, minibatches of 64,
K = 10 epochs, Adam with learning rate 3e-4, γ = 0.99, GAE λ = 0.95, clip ε = 0.2, no entropy
bonus, gradient norm clipped to 0.5, advantages normalised per minibatch, two hidden layers of
64 tanh units for the actor and for the critic, orthogonal initialisation. acconv:
``PPO(optimizer="adam", critic_lr=3e-4, actor_lr=3e-4, gamma=0.99)`` (its defaults otherwise).
SB3: ``PPO("MlpPolicy", env, device="cpu", seed=seed)`` on ``gymnasium.make("CartPole-v1")``
(SB3 wraps it in a ``DummyVecEnv`` and a ``Monitor``). Both run with one torch thread.

Steps per second = environment steps / wall time of the whole training call (collection plus
updates). The two learners alternate per seed (SB3 first on even seeds) so that a change of
machine load hits both; the table gives the median over seeds and the ratio of medians. The
mean undiscounted return of the last 20 finished training episodes is printed beside it as a
sanity check that both learn (the return comparison with confidence intervals is the
``neural_ppo_vs_sb3`` experiment, not this benchmark).
"""

from __future__ import annotations

import argparse
import statistics
import time

import gymnasium
import numpy as np
import torch


def run_sb3(seed: int, n_updates: int) -> tuple[float, float]:
    """``(steps per second, mean return of the last 20 episodes)`` of SB3's PPO."""
    from stable_baselines3 import PPO as SB3PPO

    model = SB3PPO("MlpPolicy", gymnasium.make("CartPole-v1"), device="cpu", seed=seed)
    steps = n_updates * model.n_steps
    start = time.perf_counter()
    model.learn(total_timesteps=steps)
    elapsed = time.perf_counter() - start
    returns = [info["r"] for info in list(model.ep_info_buffer or [])[-20:]]
    return model.num_timesteps / elapsed, float(np.mean(returns))


def run_acconv(seed: int, n_updates: int) -> tuple[float, float]:
    """``(steps per second, mean return of the last 20 episodes)`` of acconv's neural PPO."""
    from acconv.neural import PPO

    learner = PPO(optimizer="adam", critic_lr=3e-4, actor_lr=3e-4, gamma=0.99)
    env = gymnasium.make("CartPole-v1")
    start = time.perf_counter()
    run = learner.learn(env, n_updates, np.random.default_rng(seed))
    elapsed = time.perf_counter() - start
    return run.env_steps / elapsed, float(np.mean(run.episode_returns[-20:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (default 3)")
    parser.add_argument("--updates", type=int, default=6, help="updates of 2048 steps (6)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    results: dict[str, list[tuple[float, float]]] = {"SB3 PPO": [], "acconv neural PPO": []}
    for seed in range(args.seeds):
        order = [("SB3 PPO", run_sb3), ("acconv neural PPO", run_acconv)]
        for name, run in order if seed % 2 == 0 else order[::-1]:
            results[name].append(run(seed, args.updates))
            print(f"seed {seed} {name}: {results[name][-1][0]:,.0f} steps/s", flush=True)
    print()
    print("| learner | steps/s (median) | per seed | last-20-episode return (median) |")
    print("|---|---|---|---|")
    medians = {}
    for name, rows in results.items():
        medians[name] = statistics.median(r[0] for r in rows)
        per_seed = ", ".join(f"{r[0]:,.0f}" for r in rows)
        ret = statistics.median(r[1] for r in rows)
        print(f"| {name} | {medians[name]:,.0f} | {per_seed} | {ret:.1f} |")
    ratio = medians["acconv neural PPO"] / medians["SB3 PPO"]
    print(
        f"\nratio acconv / SB3: {ratio:.2f}x (target ≥ 1.5x); {args.updates} updates × 2048 steps"
    )

    print(
        "SUMMARY | neural PPO vs SB3 PPO, CartPole-v1, matched hyperparameters (6) | ≥ 1.5x "
        f"SB3's env steps/s | {medians['acconv neural PPO']:,.0f} vs {medians['SB3 PPO']:,.0f} "
        f"steps/s: {ratio:.2f}x | {'pass' if ratio >= 1.5 else 'FAIL'} |"
    )


if __name__ == "__main__":
    main()
