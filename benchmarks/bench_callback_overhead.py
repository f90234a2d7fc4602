"""Overhead of acconv's ConvergenceCallback on SB3 PPO training (CartPole-v1).

Run: ``python benchmarks/bench_callback_overhead.py`` (about 1.5 minutes on 2 cores; needs the
``neural`` extra: ``pip install -c constraints.txt ".[neural]"``). Prints Markdown tables for
``docs/performance.md``.

Target (issue 6, performance): the callback with its default observers (a ``Recorder`` and a
``TwoTimescaleMonitor``) costs at most 5% of SB3's training time.

Protocol. Same process, one torch thread (``torch.set_num_threads(1)``, stated in the output).
Each repetition trains two fresh ``PPO("MlpPolicy", "CartPole-v1", seed=s, device="cpu")``
models with SB3's defaults (n_steps 2048, batch 64, 10 epochs) for ``--timesteps`` steps: one
without a callback, one with ``ConvergenceCallback()``. The order alternates between
repetitions (ABBA...) so that drift in machine load hits both sides alike. Only ``learn`` is
timed (model construction is not). Both runs of a pair use the same seed, so they do the same
computation (the callback does not change training, a test checks it): the difference is the
callback. Reported: per-pair ratio with/without, its median, and the ratio of total times.
The verdicts (SymPy step-size checks in worker processes) are computed after training, on
demand; their one-off time is reported separately.

Wall-time ratios are noisy when other processes share the two cores, so the benchmark also
measures the callback's own time inside each run: every hook SB3 calls (``_on_step``,
``_on_rollout_start``, ``_on_rollout_end``, ``_on_training_start``, ``_on_training_end``) is
wrapped in ``time.perf_counter`` calls, and the summed hook time is divided by the time of
``learn`` without the hooks' share (hook time / (learn time − hook time)). That fraction
includes the timer calls themselves (an overestimate by ~0.1 µs per environment step).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from typing import Any

import torch
from stable_baselines3 import PPO

from acconv.adapters.sb3 import ConvergenceCallback

_HOOKS = ("_on_step", "_on_rollout_start", "_on_rollout_end", "_on_training_start")
_HOOKS += ("_on_training_end",)


def _timed(callback: ConvergenceCallback) -> list[float]:
    """Wrap the callback's hooks (on the instance) so that their time adds up in a list."""
    spent = [0.0]
    for name in _HOOKS:
        hook = getattr(callback, name)

        def wrapper(hook: Any = hook) -> Any:
            start = time.perf_counter()
            result = hook()
            spent[0] += time.perf_counter() - start
            return result

        setattr(callback, name, wrapper)
    return spent


def _train(
    seed: int, timesteps: int, with_callback: bool
) -> tuple[float, float, ConvergenceCallback | None]:
    """(learn seconds, seconds inside the callback's hooks, callback)."""
    model = PPO("MlpPolicy", "CartPole-v1", seed=seed, device="cpu")
    callback = ConvergenceCallback() if with_callback else None
    spent = _timed(callback) if callback is not None else [0.0]
    start = time.perf_counter()
    model.learn(timesteps, callback=callback)
    return time.perf_counter() - start, spent[0], callback


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timesteps", type=int, default=8192, help="steps per training run")
    parser.add_argument("--repeats", type=int, default=6, help="pairs of runs (with, without)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first pair (+1 each)")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads value")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} torch thread(s), "
        f"Python {platform.python_version()}, load {os.getloadavg()[0]:.2f}"
    )
    _train(args.seed, 2048, True)  # warm-up: imports, lazy torch initialisation
    rows = []
    callback: ConvergenceCallback | None = None
    for k in range(args.repeats):
        seed = args.seed + k
        order = (False, True) if k % 2 == 0 else (True, False)
        times = {}
        for with_callback in order:
            seconds, in_hooks, cb = _train(seed, args.timesteps, with_callback)
            times[with_callback] = seconds
            if cb is not None:
                callback, hook_share = cb, in_hooks / (seconds - in_hooks)
        first = "without first" if k % 2 == 0 else "with first"
        rows.append((seed, times[False], times[True], first, hook_share))
    print(f"\nPPO on CartPole-v1, {args.timesteps} steps per run, {args.repeats} pairs\n")
    print("| seed | order | without (s) | with (s) | with / without | hook time / rest |")
    print("|---|---|---|---|---|---|")
    for seed, without, with_, order, share in rows:
        print(
            f"| {seed} | {order} | {without:.3f} | {with_:.3f} | {with_ / without:.4f} "
            f"| {100 * share:.2f}% |"
        )
    ratios = [r[2] / r[1] for r in rows]
    shares = [r[4] for r in rows]
    total = sum(r[2] for r in rows) / sum(r[1] for r in rows)
    median = statistics.median(ratios)
    verdict = "pass" if median <= 1.05 else "FAIL"
    print(
        f"\nmedian ratio {median:.4f} (overhead {100 * (median - 1):+.2f}%), ratio of totals "
        f"{total:.4f} ({100 * (total - 1):+.2f}%), min {min(ratios):.4f}, max {max(ratios):.4f}; "
        f"target ≤ 1.05: {verdict}"
    )
    print(
        f"callback's own time: median {100 * statistics.median(shares):.2f}% of the rest of "
        f"learn (max {100 * max(shares):.2f}%); target ≤ 5%: "
        + ("pass" if max(shares) <= 0.05 else "FAIL")
    )
    steps = args.timesteps / statistics.median(r[1] for r in rows)
    print(f"SB3 alone: {steps:,.0f} env steps/s (median run)")
    assert callback is not None
    start = time.perf_counter()
    verdicts = callback.verdicts()
    print(
        f"verdicts() after a run: {time.perf_counter() - start:.2f} s once "
        f"({len(verdicts)} verdicts; not part of training)"
    )
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
