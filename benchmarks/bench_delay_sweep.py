"""Episodes to solve the delayed chain as the delay grows: RUDDER vs Monte-Carlo and TD critics.

Run: ``python benchmarks/bench_delay_sweep.py [--seeds 20] [--budget 8000]``.

The RUDDER poster's claim (RUDDER.md §3, task II) on acconv's own task: one decision, a ±1
reward ``delay`` steps later, ±1 noise on every step in between (``acconv/DelayedChain-v0``,
``noise=1``). All three learners use the same two-timescale schedules and 16 episodes per
update; a run is solved once the exact J(π) stays ≥ 0.9 (the right decision with probability
0.95) to the end of the budget. Prints a Markdown table for ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import time

import gymnasium
import numpy as np

import acconv  # noqa: F401  (registers the acconv/ environments)
from acconv.instrument import episodes_to_solve
from acconv.tabular.actor_critic import ActorCritic
from acconv.tabular.rudder import RUDDER

CRITIC_LR = "min(1, 2/(n+1)**0.51)"
ACTOR_LR = "4/(n+1)**0.6"
LEARNERS = {
    "RUDDER (immediate_pg)": lambda: RUDDER(critic_lr=CRITIC_LR, actor_lr=ACTOR_LR),
    "actor-critic, MC critic": lambda: ActorCritic(
        critic_lr=CRITIC_LR, actor_lr=ACTOR_LR, critic_target="mc"
    ),
    "actor-critic, TD(0) critic": lambda: ActorCritic(
        critic_lr=CRITIC_LR, actor_lr=ACTOR_LR, critic_target="td0"
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--budget", type=int, default=8000, help="episodes per run")
    parser.add_argument("--delays", default="10,20,50,100")
    args = parser.parse_args()
    delays = [int(d) for d in args.delays.split(",")]
    print("| learner | delay | mean episodes | median | unsolved runs | wall (s) |")
    print("|---|---|---|---|---|---|")
    for name, make in LEARNERS.items():
        for delay in delays:
            mdp = gymnasium.make("acconv/DelayedChain-v0", delay=delay, noise=1.0).unwrapped.mdp
            start = time.perf_counter()
            results = episodes_to_solve(make, mdp, range(args.seeds), args.budget)
            charged = np.array([args.budget if r is None else r for r in results])
            unsolved = sum(r is None for r in results)
            print(
                f"| {name} | {delay} | {charged.mean():.0f} | {np.median(charged):.0f} | "
                f"{unsolved}/{args.seeds} | {time.perf_counter() - start:.0f} |",
                flush=True,
            )
    print(f"\nUnsolved runs count as the whole budget ({args.budget} episodes) in the mean.")


if __name__ == "__main__":
    main()
