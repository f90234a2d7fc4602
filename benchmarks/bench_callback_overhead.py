"""Overhead of acconv's ConvergenceCallback on SB3 A2C and PPO training, with SB3's defaults.

Run: ``python benchmarks/bench_callback_overhead.py`` (about 3.5 minutes on 2 cores; needs the
``neural`` extra: ``pip install -c constraints.txt ".[neural]"``). Prints Markdown tables for
``docs/performance.md``.

Target (issue 6, performance): the callback with its default observers (a ``Recorder`` and a
``TwoTimescaleMonitor``) costs at most 5% of SB3's training time.

Three configurations, SB3's defaults each (``seed=s, device="cpu"``):

* ``a2c-cartpole``: ``A2C("MlpPolicy", "CartPole-v1")``: n_steps 5, so one update (one acconv
  update n) is 5 environment steps and one RMSprop step: the callback's work per update weighs
  most here. ``--a2c-timesteps`` steps (default 10,000: 2,000 updates). No model: the tables
  are on a probe of 256 observations from the first rollout.
* ``a2c-frozenlake``: ``A2C("MlpPolicy", "FrozenLake-v1")`` (slippery), the same budget, with
  the callback given the environment's exact model (``mdp=from_gymnasium(...)``): tables on the
  16 states, and the observers' exact ``J(π)``, gap and tracking error at recorded updates.
* ``ppo-cartpole``: ``PPO("MlpPolicy", "CartPole-v1")``: n_steps 2048, batch 64, 10 epochs;
  ``--timesteps`` steps (default 8,192: 4 updates).

Protocol. Same process, one torch thread (``torch.set_num_threads(1)``, stated in the output).
Each repetition runs, for every configuration in turn, a pair of fresh models of the same seed:
one trained without a callback, one with ``ConvergenceCallback()``. The order within a pair
alternates between repetitions (ABBA...) and the configurations interleave, so drift in machine
load hits every side alike. Only ``learn`` is timed (model construction is not). Both runs of a
pair do the same computation (the callback does not change training, a test checks it): the
difference is the callback. Reported per configuration: the per-pair ratio with/without, its
median, and the ratio of total times. The verdicts (SymPy step-size checks in worker processes)
are computed after training, on demand; their one-off time is reported separately.

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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium
import torch
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

from acconv.adapters.sb3 import ConvergenceCallback
from acconv.mdp import from_gymnasium

_HOOKS: tuple[str, ...] = ("_on_step", "_on_rollout_start", "_on_rollout_end")
_HOOKS += ("_on_training_start", "_on_training_end")


@dataclass(frozen=True)
class Config:
    """One benchmarked setting: how to build the model and the callback."""

    name: str
    title: str
    model: Callable[[int], OnPolicyAlgorithm]
    callback: Callable[[], ConvergenceCallback]


def _frozenlake_callback() -> ConvergenceCallback:
    return ConvergenceCallback(mdp=from_gymnasium(gymnasium.make("FrozenLake-v1"), gamma=0.99))


CONFIGS = {
    config.name: config
    for config in (
        Config(
            "a2c-cartpole",
            "A2C on CartPole-v1 (n_steps 5, probe of 256 observations)",
            lambda seed: A2C("MlpPolicy", "CartPole-v1", seed=seed, device="cpu"),
            ConvergenceCallback,
        ),
        Config(
            "a2c-frozenlake",
            "A2C on FrozenLake-v1 (n_steps 5, exact model: 16 states)",
            lambda seed: A2C("MlpPolicy", "FrozenLake-v1", seed=seed, device="cpu"),
            _frozenlake_callback,
        ),
        Config(
            "ppo-cartpole",
            "PPO on CartPole-v1 (n_steps 2048, batch 64, 10 epochs)",
            lambda seed: PPO("MlpPolicy", "CartPole-v1", seed=seed, device="cpu"),
            ConvergenceCallback,
        ),
    )
}


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
    config: Config, seed: int, timesteps: int, with_callback: bool
) -> tuple[float, float, ConvergenceCallback | None]:
    """(learn seconds, seconds inside the callback's hooks, callback)."""
    model = config.model(seed)
    callback = config.callback() if with_callback else None
    spent = _timed(callback) if callback is not None else [0.0]
    start = time.perf_counter()
    model.learn(timesteps, callback=callback)
    seconds = time.perf_counter() - start
    if callback is not None:  # the wrappers refer to the callback: no cycle outlives the run
        for name in _HOOKS:
            vars(callback).pop(name)
    return seconds, spent[0], callback


@dataclass(frozen=True)
class Pair:
    seed: int
    order: str
    without: float
    with_: float
    hook_share: float


def _report(config: Config, timesteps: int, pairs: list[Pair], updates: int) -> tuple[str, bool]:
    """Print the configuration's table and lines; return its summary cell and whether it passed
    (the callback's own time, max over pairs, ≤ 5%)."""
    print(f"\n{config.title}: {timesteps} steps ({updates} updates) per run, {len(pairs)} pairs\n")
    print("| seed | order | without (s) | with (s) | with / without | hook time / rest |")
    print("|---|---|---|---|---|---|")
    for p in pairs:
        print(
            f"| {p.seed} | {p.order} | {p.without:.3f} | {p.with_:.3f} "
            f"| {p.with_ / p.without:.4f} | {100 * p.hook_share:.2f}% |"
        )
    ratios = [p.with_ / p.without for p in pairs]
    shares = [p.hook_share for p in pairs]
    total = sum(p.with_ for p in pairs) / sum(p.without for p in pairs)
    median = statistics.median(ratios)
    print(
        f"\nmedian ratio {median:.4f} (overhead {100 * (median - 1):+.2f}%), ratio of totals "
        f"{total:.4f} ({100 * (total - 1):+.2f}%), min {min(ratios):.4f}, max {max(ratios):.4f}; "
        f"target ≤ 1.05: {'pass' if median <= 1.05 else 'FAIL'}"
    )
    print(
        f"callback's own time: median {100 * statistics.median(shares):.2f}% of the rest of "
        f"learn (max {100 * max(shares):.2f}%); target ≤ 5%: "
        + ("pass" if max(shares) <= 0.05 else "FAIL")
    )
    steps = timesteps / statistics.median(p.without for p in pairs)
    print(f"SB3 alone: {steps:,.0f} env steps/s (median run)")
    cell = (
        f"{config.title} ({updates:,} updates): hooks {100 * statistics.median(shares):.2f}% "
        f"(max {100 * max(shares):.2f}%), wall ratio {median:.3f}"
    )
    return cell, max(shares) <= 0.05


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--configs",
        nargs="+",
        choices=sorted(CONFIGS),
        default=list(CONFIGS),
        help="configurations to run (default: all three)",
    )
    parser.add_argument("--timesteps", type=int, default=8192, help="steps per PPO run")
    parser.add_argument("--a2c-timesteps", type=int, default=10_000, help="steps per A2C run")
    parser.add_argument("--repeats", type=int, default=6, help="pairs of runs per configuration")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first pair (+1 each)")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads value")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    configs = [CONFIGS[name] for name in args.configs]
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} torch thread(s), "
        f"Python {platform.python_version()}, load {os.getloadavg()[0]:.2f}"
    )
    for config in configs:  # warm-up: imports, lazy torch initialisation
        _train(config, args.seed, 2048, True)
    pairs: dict[str, list[Pair]] = {config.name: [] for config in configs}
    last: dict[str, ConvergenceCallback] = {}
    for k in range(args.repeats):
        seed = args.seed + k
        order = (False, True) if k % 2 == 0 else (True, False)
        for config in configs:
            timesteps = args.timesteps if config.name.startswith("ppo") else args.a2c_timesteps
            times, share = {}, 0.0
            for with_callback in order:
                seconds, in_hooks, callback = _train(config, seed, timesteps, with_callback)
                times[with_callback] = seconds
                if callback is not None:
                    last[config.name], share = callback, in_hooks / (seconds - in_hooks)
            first = "without first" if k % 2 == 0 else "with first"
            pairs[config.name].append(Pair(seed, first, times[False], times[True], share))
    cells, passed = [], []
    for config in configs:
        timesteps = args.timesteps if config.name.startswith("ppo") else args.a2c_timesteps
        callback = last[config.name]
        cell, ok = _report(config, timesteps, pairs[config.name], callback.n_updates)
        cells.append(cell)
        passed.append(ok)
        start = time.perf_counter()
        verdicts = callback.verdicts()
        print(
            f"verdicts() after a run: {time.perf_counter() - start:.2f} s once "
            f"({len(verdicts)} verdicts; not part of training)"
        )
    print(f"\nload after: {os.getloadavg()[0]:.2f}")
    print(
        "SUMMARY | ConvergenceCallback overhead on SB3 A2C and PPO (6) | ≤ 5% of training time "
        f"(the callback's own hook time) | {'; '.join(cells)} | "
        f"{'pass' if all(passed) else 'FAIL'} |"
    )


if __name__ == "__main__":
    main()
