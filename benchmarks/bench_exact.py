"""Exact ground truth against its physical limit, a bare dense solve, in the same process.

Run: ``python benchmarks/bench_exact.py [--states 1000] [--actions 4] [--repeats 7]``.
Prints a Markdown table for ``docs/performance.md``. Targets (issue 2): policy evaluation within
1.2x of ``np.linalg.solve`` of the same system, one exact policy gradient within 2.5x, ``V*`` to
1e-8 within 10x; ``import acconv`` under 1 s without torch or SB3.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np

from acconv.exact import (
    optimal_values,
    policy_evaluation,
    policy_gradient,
    policy_reward,
    policy_transition,
    value_iteration,
)
from acconv.mdp import FiniteMDP, garnet
from acconv.policies import softmax_policy


def interleaved_ratios(
    reference: Callable[[], object], candidate: Callable[[], object], repeats: int
) -> tuple[float, float, float]:
    """Median reference time, median candidate time and median per-round ratio.

    Each round times the reference and then the candidate, so a change in the machine's load
    affects both sides of a ratio alike.
    """
    reference()
    candidate()
    ref_times, cand_times, ratios = [], [], []
    for _ in range(repeats):
        start = time.perf_counter()
        reference()
        middle = time.perf_counter()
        candidate()
        end = time.perf_counter()
        ref_times.append(middle - start)
        cand_times.append(end - middle)
        ratios.append((end - middle) / (middle - start))
    return statistics.median(ref_times), statistics.median(cand_times), statistics.median(ratios)


def import_time() -> tuple[float, bool]:
    """Wall time of ``python -c 'import acconv'`` (best of 3) and whether torch/SB3 got imported."""
    code = (
        "import time, sys; t = time.perf_counter(); import acconv; "
        "print(time.perf_counter() - t, any(m.split('.')[0] in ('torch', 'stable_baselines3') "
        "for m in sys.modules))"
    )
    runs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        for _ in range(3)
    ]
    seconds, heavy = zip(*(r.stdout.split() for r in runs), strict=True)
    return min(map(float, seconds)), "True" in heavy


def bench_one_mdp(mdp: FiniteMDP, theta: np.ndarray, repeats: int) -> None:
    """Print one table row per exact computation, timed against the bare solve."""
    pi = softmax_policy(theta)
    # The reference: the same linear system, already assembled, handed to LAPACK.
    M = np.eye(mdp.n_states) - mdp.gamma * policy_transition(mdp, pi)
    r = policy_reward(mdp, pi)
    def bare() -> object:
        return np.linalg.solve(M, r)

    rows = [
        ("policy evaluation V^π", lambda: policy_evaluation(mdp, pi), 1.2),
        ("exact policy gradient", lambda: policy_gradient(mdp, theta), 2.5),
        ("V* (policy iteration)", lambda: optimal_values(mdp), 10.0),
        ("V* (value iteration, 1e-8)", lambda: value_iteration(mdp, tol=1e-8), None),
    ]
    for name, fn, target in rows:
        bare_s, seconds, ratio = interleaved_ratios(bare, fn, repeats if target else 1)
        goal = f"≤ {target}x" if target else "reference"
        print(
            f"| {mdp.gamma} | {name} | {1e3 * seconds:.1f} | {1e3 * bare_s:.1f} | "
            f"{ratio:.2f}x | {goal} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--states", type=int, default=1000)
    parser.add_argument("--actions", type=int, default=4)
    parser.add_argument("--branching", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    print("| γ | quantity | acconv (ms) | bare solve (ms) | median ratio per round | target |")
    print("|---|---|---|---|---|---|")
    for gamma in (0.9, 0.99):
        mdp = garnet(args.states, args.actions, args.branching, rng, gamma=gamma)
        bench_one_mdp(mdp, rng.normal(size=(args.states, args.actions)), args.repeats)
    seconds, heavy = import_time()
    print(f"\n`import acconv`: {seconds:.3f} s (target < 1 s); imports torch or SB3: {heavy}")


if __name__ == "__main__":
    main()
