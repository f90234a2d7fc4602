"""Overhead of ``acconv.watch`` on a CleanRL-style PPO (CartPole-v1).

Run: ``python benchmarks/bench_watch_overhead.py`` (about 2 minutes on 2 cores; needs the
``neural`` extra: ``pip install -c constraints.txt ".[neural]"``). Prints Markdown tables for
``docs/performance.md``.

Target (issue "acconv.watch"): the watch with its default observers (a ``Recorder`` and a
``TwoTimescaleMonitor``) costs at most 2% of the wall time of training.

Protocol. The loop is :mod:`acconv.examples.cleanrl_ppo` at its defaults (4 CartPole-v1
environments × 128 steps per iteration, 4 epochs × 4 minibatches: 16 Adam steps per
iteration, 100 iterations = 1,600 updates), one torch thread. The watch refreshes its tables
at log-spaced updates, so its share falls with the length of the run: ``--iterations`` sets it.
Each repetition runs the same seed twice in the same process, without and with the watch, the
order alternating between repetitions so that drift in machine load hits both sides alike.
"Without" is the same code with ``acconv.watch`` replaced by a stand-in whose ``close()`` does
nothing (the loop's two added lines then cost nothing); both runs of a pair do the same
computation (the watch reads and never writes: the episode returns of the two runs are checked
equal). Timed: the whole ``run`` call (building the agent, training, closing the watch); the
verdicts, computed after training on demand, are timed once apart.

Wall-time ratios are noisy when other processes share the two cores, so the benchmark also
measures the watch's own time inside each run: its optimiser pre- and post-step hooks (which
include sending each update to the observers), the forward pre-hook that captures the probe
observations and ``close()`` are wrapped in ``time.perf_counter`` calls (on the class, before
the watch is built; ``acconv/adapters/watch.py`` is not changed), and the summed time is divided
by the rest of the run (hook time / (run time − hook time)). ``--profile`` adds a cProfile
table of one watched run, restricted to the watch's hooks and what they call.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import statistics
import time
from collections.abc import Callable
from typing import Any
from unittest import mock

import torch

import acconv
from acconv.adapters.watch import Watch
from acconv.examples import cleanrl_ppo

_HOOKS = ("_before_step", "_after_step", "_capture_probe", "close")


class _Unwatched:
    """Stands in for ``acconv.watch``: no hooks, nothing recorded."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def close(self) -> None:
        pass


def _timed_hooks(spent: list[float]) -> list[Any]:
    """Patch the watch's hooks on the class so that their time adds up in ``spent[0]``."""
    patches = []
    for name in _HOOKS:
        original: Callable[..., Any] = getattr(Watch, name)

        def wrapper(self: Watch, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return _original(self, *args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - start

        patches.append(mock.patch.object(Watch, name, wrapper))
    return patches


def _run(seed: int, iterations: int, watched: bool) -> tuple[float, float, list[float], Any]:
    """(run seconds, seconds inside the watch's hooks, episode returns, the watch or None)."""
    spent = [0.0]
    returns: list[float] = []
    patches = _timed_hooks(spent) if watched else [mock.patch.object(acconv, "watch", _Unwatched)]
    for patch in patches:
        patch.start()
    try:
        start = time.perf_counter()
        watch = cleanrl_ppo.run(seed=seed, iterations=iterations, episode_returns=returns)
        seconds = time.perf_counter() - start
    finally:
        for patch in patches:
            patch.stop()
    return seconds, spent[0], returns, watch if watched else None


def _profile(seed: int, iterations: int) -> str:
    """cProfile of one watched run: the functions under the watch's hooks, by cumulative time."""
    profiler = cProfile.Profile()
    profiler.enable()
    cleanrl_ppo.run(seed=seed, iterations=iterations)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    watched = r"acconv/(adapters/watch|instrument|events|updates|policies)"
    stats.sort_stats("cumulative").print_stats(watched, 25)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=100, help="PPO iterations per run")
    parser.add_argument("--repeats", type=int, default=6, help="pairs of runs (with, without)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first pair (+1 each)")
    parser.add_argument("--profile", action="store_true", help="add a cProfile table")
    args = parser.parse_args()
    print(
        f"torch {torch.__version__}, 1 torch thread (the example's default), "
        f"Python {platform.python_version()}, load {os.getloadavg()[0]:.2f}"
    )
    _run(args.seed, 2, True)  # warm-up: imports, lazy torch initialisation
    _run(args.seed, 2, False)
    rows = []
    watch: Any = None
    for k in range(args.repeats):
        seed = args.seed + k
        order = (False, True) if k % 2 == 0 else (True, False)
        times: dict[bool, float] = {}
        returns: dict[bool, list[float]] = {}
        for watched in order:
            seconds, in_hooks, returns[watched], w = _run(seed, args.iterations, watched)
            times[watched] = seconds
            if w is not None:
                watch, hook_share = w, in_hooks / (seconds - in_hooks)
        assert returns[True] == returns[False], "the watch changed training"
        first = "without first" if k % 2 == 0 else "with first"
        rows.append((seed, times[False], times[True], first, hook_share))
    steps = args.iterations * 4 * 128
    updates = args.iterations * 16
    print(
        f"\nCleanRL-style PPO on CartPole-v1, {args.iterations} iterations per run "
        f"({steps:,} env steps, {updates} Adam steps = updates), {args.repeats} pairs\n"
    )
    print("| seed | order | without (s) | with (s) | with / without | hook time / rest |")
    print("|---|---|---|---|---|---|")
    for seed, without, with_, first, share in rows:
        print(
            f"| {seed} | {first} | {without:.3f} | {with_:.3f} | {with_ / without:.4f} "
            f"| {100 * share:.2f}% |"
        )
    ratios = [r[2] / r[1] for r in rows]
    shares = [r[4] for r in rows]
    total = sum(r[2] for r in rows) / sum(r[1] for r in rows)
    median = statistics.median(ratios)
    print(
        f"\nmedian ratio {median:.4f} (overhead {100 * (median - 1):+.2f}%), ratio of totals "
        f"{total:.4f} ({100 * (total - 1):+.2f}%), min {min(ratios):.4f}, max {max(ratios):.4f}"
    )
    per_update = statistics.median(r[2] * r[4] / (1 + r[4]) for r in rows) / updates
    print(
        f"watch's own time: median {100 * statistics.median(shares):.2f}% of the rest of the "
        f"run (max {100 * max(shares):.2f}%), {1e6 * per_update:.0f} µs per update; "
        "target ≤ 2%: " + ("pass" if statistics.median(shares) <= 0.02 else "FAIL")
    )
    seconds = statistics.median(r[1] for r in rows)
    print(f"PPO alone: {steps / seconds:,.0f} env steps/s (median run)")
    ok = statistics.median(shares) <= 0.02
    print(
        "SUMMARY | `acconv.watch` overhead on a CleanRL-style PPO, CartPole-v1 (acconv.watch) | "
        f"≤ 2% of training time (the watch's own hook time) | hooks "
        f"{100 * statistics.median(shares):.2f}% median ({100 * min(shares):.2f}–"
        f"{100 * max(shares):.2f}%), {1e6 * per_update:.0f} µs per update; wall ratios "
        f"{min(ratios):.2f}–{max(ratios):.2f} | {'pass' if ok else 'FAIL'} |"
    )
    start = time.perf_counter()
    verdicts = watch.verdicts()
    print(
        f"verdicts() after a run: {time.perf_counter() - start:.2f} s once "
        f"({len(verdicts)} verdicts; not part of training)"
    )
    if args.profile:
        print("\n```text\n" + _profile(args.seed, args.iterations) + "```")
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
