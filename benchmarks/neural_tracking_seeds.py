"""Neural PPO's tracking error ‖V_ω - V_{λ(θ)}‖ across seeds, for valid, constant and equal
step sizes, judged by :func:`acconv.theory_checks.seed_tracking.check_tracking_across_seeds`.

Seeds are run one after another (the batched path of issue 15 item 1 will run them together).
Usage: python benchmarks/neural_tracking_seeds.py [n_updates] [seeds]
"""

from __future__ import annotations

import sys
import time

import numpy as np

from acconv.envs.finite import FiniteMDPEnv
from acconv.instrument.monitor import TwoTimescaleMonitor
from acconv.mdp import chain, discount_as_termination
from acconv.neural import PPO
from acconv.schedules import as_schedule

SCHEDULES = {
    "valid": ("0.5/(1+n/10)**0.6", "0.2/(1+n/10)**0.9"),
    "constant": ("0.1", "0.05"),
    "equal": ("0.5/(1+n/10)**0.6", "0.5/(1+n/10)**0.6"),
}


def run(name: str, n_updates: int, seeds: int) -> None:
    from acconv.theory_checks.seed_tracking import check_tracking_across_seeds

    critic_lr, actor_lr = SCHEDULES[name]
    series, extra = [], []
    start = time.perf_counter()
    for seed in range(seeds):
        env = FiniteMDPEnv(discount_as_termination(chain(6, slip=0.1, gamma=0.95)))
        learner = PPO(
            n_steps=64, batch_size=32, n_epochs=2, hidden=(16,),
            critic_lr=critic_lr, actor_lr=actor_lr,
        )  # fmt: skip
        monitor = TwoTimescaleMonitor()
        learner.learn(env, n_updates, np.random.default_rng(seed), [monitor])
        s = monitor.series()
        series.append(s["track/error"])
        extra.append(
            (
                float(s["track/approximation_error"][1][-1]),
                float(np.max(s["track/equilibrium_residual"][1])),
                float(np.mean(s["track/equilibrium_iterations"][1])),
            )
        )
    elapsed = time.perf_counter() - start
    a = as_schedule(critic_lr)
    s4 = "violated" if name == "equal" else None
    v = check_tracking_across_seeds(series, a, rng=np.random.default_rng(0), s4=s4)
    approx, residual, iters = np.array(extra).T
    print(
        f"== {name}: a = {critic_lr}, b = {actor_lr}; {seeds} seeds x {n_updates} updates, "
        f"{elapsed:.0f} s"
    )
    print(f"   {v.shown}: {v.detail}")
    print(
        f"   final approximation error max {approx.max():.2g}; equilibrium residual max "
        f"{residual.max():.2g}; mean Gauss-Newton iterations per solve {iters.mean():.2f}"
    )
    finals = [float(e[1][-1]) for e in series]
    print(
        f"   final track/error median {np.median(finals):.3g} (min {min(finals):.3g}, "
        f"max {max(finals):.3g})"
    )


if __name__ == "__main__":
    n_updates = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    names = sys.argv[3].split(",") if len(sys.argv) > 3 else list(SCHEDULES)
    for name in names:
        run(name, n_updates, seeds)
