"""Exact ground truth against its physical limit, a bare dense solve, in the same process.

Run: ``python benchmarks/bench_exact.py [--states 1000] [--actions 4] [--repeats 15]``.
Prints a Markdown table for ``docs/performance.md`` and its ``SUMMARY |`` rows
(``tools/regenerate_docs.py`` moves them into the summary table). Targets (issue 2): policy
evaluation within 1.2x of ``np.linalg.solve`` of the same system, one exact policy gradient
within 2.5x, ``V*`` to 1e-8 within 10x; ``import acconv`` under 1 s without torch or SB3.
"""

from __future__ import annotations

import argparse
import os
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


def bench_one_mdp(mdp: FiniteMDP, theta: np.ndarray, repeats: int) -> dict[str, float]:
    """Print one table row per exact computation, timed against the bare solve; return the
    median ratio of each computation."""
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
    ratios = {}
    for name, fn, target in rows:
        bare_s, seconds, ratio = interleaved_ratios(bare, fn, repeats if target else 1)
        goal = f"≤ {target:g}x: {'pass' if ratio <= target else 'FAIL'}" if target else "reference"
        print(
            f"| {mdp.gamma} | {name} | {1e3 * seconds:.1f} | {1e3 * bare_s:.1f} | "
            f"{ratio:.2f}x | {goal} |"
        )
        ratios[name] = ratio
    return ratios


SUMMARY = (
    ("exact policy evaluation", ("policy evaluation V^π",), 1.2),
    ("exact policy gradient", ("exact policy gradient",), 2.5),
    (
        "`V*` to 1e-8 by policy iteration",
        ("V* (policy iteration)", "V* (value iteration, 1e-8)"),
        10.0,
    ),
)


def summary_rows(by_gamma: dict[float, dict[str, float]], threads: str) -> list[str]:
    """``SUMMARY |`` rows: the ratio at each γ against the target (value iteration shown beside
    policy iteration, as a reference)."""
    out = []
    for label, names, target in SUMMARY:
        shown = []
        for name in names:
            values = ", ".join(f"{r[name]:.2f}x (γ = {g})" for g, r in by_gamma.items())
            shown.append(values if name == names[0] else f"value iteration {values}")
        ok = all(r[names[0]] <= target for r in by_gamma.values())
        out.append(
            f"SUMMARY | {label}, BLAS threads: {threads} (2) | ≤ {target:g}x a bare "
            f"`np.linalg.solve` | {'; '.join(shown)} | {'pass' if ok else 'FAIL'} |"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--states", type=int, default=1000)
    parser.add_argument("--actions", type=int, default=4)
    parser.add_argument("--branching", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--skip-import", action="store_true", help="do not time `import acconv`")
    args = parser.parse_args()

    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    rng = np.random.default_rng(0)
    print(
        f"Garnet({args.states}, {args.actions}, branching {args.branching}), BLAS threads: "
        f"{threads}, median over {args.repeats} rounds:\n"
    )
    print("| γ | quantity | acconv (ms) | bare solve (ms) | median ratio per round | target |")
    print("|---|---|---|---|---|---|")
    by_gamma = {}
    for gamma in (0.9, 0.99):
        mdp = garnet(args.states, args.actions, args.branching, rng, gamma=gamma)
        theta = rng.normal(size=(args.states, args.actions))
        by_gamma[gamma] = bench_one_mdp(mdp, theta, args.repeats)
    for row in summary_rows(by_gamma, threads):
        print(row)
    if not args.skip_import:
        seconds, heavy = import_time()
        ok = seconds < 1.0 and not heavy
        print(f"\n`import acconv`: {seconds:.3f} s (target < 1 s); imports torch or SB3: {heavy}")
        print(
            f"SUMMARY | `import acconv` (2) | < 1 s, no torch or SB3 | {seconds:.2f} s (best of "
            f"3); torch or SB3 imported: {heavy} | {'pass' if ok else 'FAIL'} |"
        )


if __name__ == "__main__":
    main()
