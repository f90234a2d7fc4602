"""K seeds of acconv's neural PPO in one batched run against one seed, and against SB3.

Run: ``python benchmarks/bench_batched_seeds.py`` (about 2 minutes on a quiet machine with the
defaults, up to 10 under load; needs the ``neural`` extra). Prints a Markdown table for
``docs/performance.md``.

Target (issue 15, item 1): 32 seeds in one batched run (``PPO.learn_seeds``) take at most 4x
the wall time of one seed (``PPO.learn``), on CartPole-v1 and ``acconv/Garnet-v0``, at SB3's
default sizes: two hidden layers of 64 tanh units for the actor and for the critic,
T = 2048 steps per update, minibatches of 64, K = 10 epochs, Adam (learning rate 3e-4), clip
0.2, gradient norm 0.5 (stable_baselines3.PPO's defaults). Beside it, SB3's PPO on the same
environment for ``--sb3-seeds`` seeds, one after the other (as a sweep of SB3 runs in one
process would), scaled linearly to 32 seeds: the ratio users care about is (32 SB3 seeds) /
(32 batched acconv seeds).

Wall time is of the whole training call (collection and updates, ``--updates`` updates), and
beside it the process's CPU time (``time.process_time``), which other processes on a shared
machine disturb less. Each round times one seed, then the batch, then SB3, ``--repeats``
rounds per environment. The target is judged on the median over rounds of the ratio within a
round (batch / one seed), as ``bench_exact.py`` does: the machine's speed drifts between
rounds (2026-12-02, the same code and command: 32 CartPole seeds took 3.94 s in one run and
5.15 s in another 16 minutes later, one seed 1.16 and 1.27 s, SB3 alike), and a ratio of
minima taken from different rounds mixes those speeds. The best times and their ratio are
shown beside it. Peak resident memory of the
batched 32-seed run is measured in a fresh child process (``resource.getrusage`` of the
child; torch's own footprint included).

``--threads`` sets the torch threads of the batched run (default: one per CPU, what
``acconv run`` gives a batch). The single seed is timed in each round with one thread (its
default) and with ``--threads`` threads, and the round's ratio divides by the faster of the two,
so a second core counts only where it helps; SB3 gets one thread. The CPU rows show what the
threads cost in CPU time. Results: ``docs/performance.md`` §13.

``--rudder`` times the neural RUDDER instead (``RUDDER.learn_seeds``), in the setting of
``acconv/experiments/neural_rudder.toml`` (read from the spec, so the two cannot drift apart),
for 1 seed and for each ``--rudder-seeds`` count, ``--updates`` updates each; it prints the
same kind of table, the ratio being K seeds batched over one seed.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import gymnasium
import numpy as np

ENVS = ("CartPole-v1", "acconv/Garnet-v0")
SB3_SIZES = {"optimizer": "adam", "critic_lr": 3e-4, "actor_lr": 3e-4, "gamma": 0.99}


def _make(env_id: str) -> Callable[[], gymnasium.Env[Any, Any]]:
    import acconv.envs  # noqa: F401  (registers acconv/Garnet-v0)

    return lambda: gymnasium.make(env_id)


def time_acconv(env_id: str, n_seeds: int, n_updates: int, threads: int) -> tuple[float, float]:
    """Wall and CPU seconds of ``n_seeds`` seeds of neural PPO in one ``learn_seeds`` call."""
    from acconv.neural import PPO

    learner = PPO(n_threads=threads, **SB3_SIZES)  # type: ignore[arg-type]
    make = _make(env_id)
    envs = [make() for _ in range(n_seeds)]
    rngs = [np.random.default_rng(seed) for seed in range(n_seeds)]
    start, cpu = time.perf_counter(), time.process_time()
    learner.learn_seeds(envs, n_updates, rngs)
    return time.perf_counter() - start, time.process_time() - cpu


def time_sb3(env_id: str, n_seeds: int, n_updates: int) -> tuple[float, float]:
    """Wall and CPU seconds of ``n_seeds`` SB3 PPO runs one after the other (one thread)."""
    import torch
    from stable_baselines3 import PPO as SB3PPO

    torch.set_num_threads(1)
    make = _make(env_id)
    start, cpu = time.perf_counter(), time.process_time()
    for seed in range(n_seeds):
        model = SB3PPO("MlpPolicy", make(), device="cpu", seed=seed)
        model.learn(total_timesteps=n_updates * model.n_steps)
    return time.perf_counter() - start, time.process_time() - cpu


def time_rudder(n_seeds: int, n_updates: int, threads: int) -> tuple[float, float]:
    """Wall and CPU seconds of ``n_seeds`` seeds of the neural RUDDER of
    ``acconv/experiments/neural_rudder.toml`` in one ``learn_seeds`` call on ``threads`` torch
    threads (one seed: one thread, its default)."""
    from pathlib import Path

    from acconv.spec import build_env, build_run, load_spec

    root = Path(__file__).resolve().parents[1]
    spec = load_spec(root / "acconv" / "experiments" / "neural_rudder.toml")
    plan = build_run(spec)
    plan.learner.n_threads = threads if n_seeds > 1 else 1
    envs = [plan.source, *(build_env(spec.env) for _ in range(n_seeds - 1))]
    rngs = [np.random.default_rng(seed) for seed in range(n_seeds)]
    start, cpu = time.perf_counter(), time.process_time()
    plan.learner.learn_seeds(envs, n_updates, rngs, **plan.learn_kwargs)
    return time.perf_counter() - start, time.process_time() - cpu


def rudder_table(seed_counts: list[int], n_updates: int, repeats: int, threads: int) -> None:
    """Print the neural RUDDER's table: K seeds batched against one seed."""
    print(f"load average before: {os.getloadavg()}", file=sys.stderr)
    time_rudder(2, 1, threads)  # warm-up
    times: dict[int, list[tuple[float, float]]] = {k: [] for k in [1, *seed_counts]}
    for _ in range(repeats):
        for k in times:
            times[k].append(time_rudder(k, n_updates, threads))
    print(f"(wall, cpu) per seed count: {times}", file=sys.stderr)
    print(f"load average after: {os.getloadavg()}", file=sys.stderr)
    print(
        f"Best of {repeats} alternating repetitions, {n_updates} updates each; 1 seed on one "
        f"torch thread, batches on {threads}."
    )
    print()
    print("| learner | clock | seeds | batched (s) | ratio to 1 seed | per seed (s) |")
    print("|---|---|---|---|---|---|")
    for clock, name in ((0, "wall"), (1, "CPU")):
        one = min(t[clock] for t in times[1])
        for k, runs in times.items():
            best = min(t[clock] for t in runs)
            print(
                f"| neural RUDDER | {name} | {k} | {best:.2f} | {best / one:.2f} | {best / k:.3f} |"
            )
    one = min(t[0] for t in times[1])
    ratios = ", ".join(f"{k} seeds {min(t[0] for t in times[k]) / one:.2f}x" for k in seed_counts)
    print(
        f"SUMMARY | K seeds of the neural RUDDER in one batched computation (15) | report "
        f"(the 4x target is the PPO's) | wall time over one seed: {ratios} | reported |"
    )


def peak_rss_mib(env_id: str, n_seeds: int, n_updates: int, threads: int) -> float:
    """Peak resident memory (MiB) of a fresh process running the batched seeds."""
    code = (
        "import benchmarks.bench_batched_seeds as b; "
        f"b.time_acconv({env_id!r}, {n_seeds}, {n_updates}, {threads})"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, env=env)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=32)
    parser.add_argument("--updates", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--sb3-seeds", type=int, default=2)
    parser.add_argument("--envs", nargs="*", default=list(ENVS))
    parser.add_argument("--rudder", action="store_true", help="time the neural RUDDER instead")
    parser.add_argument("--rudder-seeds", type=int, nargs="*", default=[8, 32])
    args = parser.parse_args()
    if args.rudder:
        rudder_table(args.rudder_seeds, args.updates, args.repeats, args.threads)
        return
    print(f"load average before: {os.getloadavg()}", file=sys.stderr)
    rows = []
    for env_id in args.envs:
        time_acconv(env_id, 2, 1, 1)  # warm-up: imports, torch's first calls
        single, batched, sb3 = [], [], []
        for _ in range(args.repeats):
            # one seed at its faster thread count in this round (clock by clock)
            one_thread = time_acconv(env_id, 1, args.updates, 1)
            threads = time_acconv(env_id, 1, args.updates, args.threads)
            single.append((min(one_thread[0], threads[0]), min(one_thread[1], threads[1])))
            batched.append(time_acconv(env_id, args.seeds, args.updates, args.threads))
            if args.sb3_seeds:
                wall, cpu = time_sb3(env_id, args.sb3_seeds, args.updates)
                sb3.append((wall / args.sb3_seeds, cpu / args.sb3_seeds))
        print(
            f"{env_id}: (wall, cpu) single {single}, batched {batched}, sb3/seed {sb3}",
            file=sys.stderr,
        )
        for clock in (0, 1):
            one, many = min(t[clock] for t in single), min(t[clock] for t in batched)
            sb3_all = min(t[clock] for t in sb3) * args.seeds if sb3 else float("nan")
            name = ("wall", "CPU")[clock]
            per_round = [b[clock] / s[clock] for s, b in zip(single, batched, strict=True)]
            rows.append((env_id, name, one, many, per_round, many / one, sb3_all, sb3_all / many))
    rss = peak_rss_mib(args.envs[-1], args.seeds, 1, args.threads)
    print(f"load average after: {os.getloadavg()}", file=sys.stderr)
    print()
    print(
        f"{args.repeats} rounds per environment, each timing 1 seed (on 1 and on {args.threads} "
        f"torch threads, the faster counted) and then {args.seeds} seeds batched on "
        f"{args.threads} threads ({args.updates} updates), then SB3 on 1 thread; the target is "
        "judged on the median over rounds of the ratio within a round [lowest, highest]."
    )
    print()
    print(
        f"| environment | clock | 1 seed (s, best) | {args.seeds} seeds batched (s, best) | "
        f"ratio per round, median [range] (target ≤ 4) | ratio of the bests | "
        f"SB3, {args.seeds} seeds (s, from {args.sb3_seeds}) | SB3 / batched |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for env_id, name, one, many, per_round, ratio, sb3_all, speedup in rows:
        print(
            f"| {env_id} | {name} | {one:.2f} | {many:.2f} | {statistics.median(per_round):.2f} "
            f"[{min(per_round):.2f}, {max(per_round):.2f}] | {ratio:.2f} | {sb3_all:.1f} "
            f"| {speedup:.1f} |"
        )
    print()
    print(f"peak RSS of {args.seeds} batched seeds on {args.envs[-1]}: {rss:.0f} MiB")
    walls = [
        (env_id, statistics.median(per_round))
        for env_id, name, _, _, per_round, *_ in rows
        if name == "wall"
    ]
    speedups = [speedup for _, name, *_, speedup in rows if name == "wall"]
    print(
        f"SUMMARY | {args.seeds} seeds of the neural PPO in one batched computation (15) | "
        f"{args.seeds} seeds ≤ 4x the wall time of one | "
        + ", ".join(f"{env_id} {ratio:.2f}x" for env_id, ratio in walls)
        + " (median per round)"
        + f"; SB3 / batched {min(speedups):.1f}–{max(speedups):.1f}x | "
        + (
            "pass"
            if all(r <= 4 for _, r in walls)
            else "FAIL on " + ", ".join(e for e, r in walls if r > 4)
        )
        + " |"
    )


if __name__ == "__main__":
    main()
