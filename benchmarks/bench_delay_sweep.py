"""Episodes to solve the delayed chain as the delay grows: RUDDER vs Monte-Carlo and TD critics.

Run: ``python benchmarks/bench_delay_sweep.py [--mode full] [--seeds N] [--updates N] [--out DIR]``.

The RUDDER claim of the canonical suite, run exactly as ``acconv reproduce`` runs it: the spec
``acconv/experiments/delay_sweep.toml`` (RUDDER, an MC and a TD(0) critic over one seed stream,
delays 10, 20, 50, 100 on ``acconv/DelayedChain-v0`` with ``noise=1``) with the overrides of
its ``suite.toml`` entry for ``--mode`` (full: 6 seeds, 500 updates × 16 episodes, about 2
minutes on 2 cores; quick: 1 seed, 200 updates), then ``--seeds``/``--updates`` if given. A run
is solved once the exact J(π) stays ≥ 0.9 (the right decision with probability 0.95) to the end
of the budget; an unsolved run is censored at the budget, never dropped.

Prints, per learner and delay, the median and the IQM of the episodes to solve across seeds with
their 95% bootstrap intervals (``acconv.claims.solve_table``, the numbers the claim's checks
use; the median is "unsolved" when half or more runs are unsolved, and the IQM and intervals are
lower bounds when a run is censored), the unsolved runs, and a ``SUMMARY |`` row for
``tools/regenerate_docs.py``. Runs go to ``--out`` (default: a temporary folder, removed
afterwards); an existing folder resumes.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

from acconv.claim_metrics import Censored
from acconv.claims import solve_table
from acconv.reproduce import load_suite, suite_spec
from acconv.results import load_results
from acconv.runner import run_spec
from acconv.spec import load_spec

SPEC = "delay_sweep.toml"
OVER = "env.kwargs.delay"
NAMES = {"rudder": "RUDDER", "mc": "actor-critic, MC critic", "td": "actor-critic, TD(0) critic"}


def _episodes(value: float) -> str:
    return "unsolved" if math.isinf(value) else f"{value:,.0f}"


def _row(label: str, delay: float, s: Censored) -> str:
    """One table row: median [CI], IQM [CI] (≥ when censored), unsolved runs."""
    bound = "≥ " if s.lower_bound else ""
    median_ci = f"[{s.median_ci[0]:,.0f}, {s.median_ci[1]:,.0f}]"
    iqm_ci = f"[{s.iqm_ci[0]:,.0f}, {s.iqm_ci[1]:,.0f}]"
    return (
        f"| {NAMES.get(label, label)} | {delay:g} | {_episodes(s.median)} {median_ci} | "
        f"{bound}{s.iqm:,.0f} {iqm_ci} | {s.n_unsolved}/{s.n_runs} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("quick", "full"), default="full")
    parser.add_argument("--seeds", type=int, default=None, help="override seeds.count")
    parser.add_argument("--updates", type=int, default=None, help="override budget.n_updates")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: CPUs)")
    parser.add_argument("--out", type=Path, default=None, help="run folder (default: temporary)")
    args = parser.parse_args()

    (entry,) = [e for e in load_suite() if e.spec == SPEC]
    overrides = list(entry.overrides(args.mode))
    if args.seeds is not None:
        overrides.append(f"seeds.count={args.seeds}")
    if args.updates is not None:
        overrides.append(f"budget.n_updates={args.updates}")
    overrides = list({o.partition("=")[0]: o for o in overrides}.values())  # the last one wins
    with suite_spec(entry) as path:
        spec = load_spec(path, overrides)
    with tempfile.TemporaryDirectory(prefix="bench-delay-") as tmp:
        out = args.out if args.out is not None else Path(tmp)
        start = time.perf_counter()
        summary = run_spec(spec, out / spec.name, workers=args.workers, progress=False)
        if summary.failed:
            raise SystemExit(f"runs failed: {summary.failed[0][0]}: {summary.failed[0][1]}")
        minutes = (time.perf_counter() - start) / 60
        table = solve_table(load_results(out / spec.name), OVER)
    budget = spec.budget.n_updates * spec.budget.episodes_per_update
    print(
        f"`{SPEC}` with `{' '.join(overrides)}` ({args.mode} mode of `suite.toml`): "
        f"{spec.seeds.count} seeds, {spec.budget.n_updates} updates × "
        f"{spec.budget.episodes_per_update} episodes = {budget:,} episodes per run; "
        f"{summary.total} runs in {minutes:.1f} min.\n"
    )
    print("| learner | delay | median episodes [95% CI] | IQM [95% CI] | unsolved runs |")
    print("|---|---|---|---|---|")
    for label in sorted(table, key=lambda k: list(NAMES).index(k) if k in NAMES else 99):
        for delay, s in table[label].items():
            print(_row(label, delay, s))
    print(
        f"\nUnsolved runs are censored at the budget ({budget:,} episodes): the median is "
        "`unsolved` when half or more runs are; the IQM and intervals use the budget in their "
        "place and are then lower bounds (≥)."
    )
    shown = []
    for label in ("rudder", "mc", "td"):
        by_delay = table.get(label, {})
        cells = ", ".join(f"{_episodes(s.median)}" for s in by_delay.values())
        unsolved = sum(s.n_unsolved for s in by_delay.values())
        runs = sum(s.n_runs for s in by_delay.values())
        shown.append(f"{NAMES[label].split(', ')[-1]} {cells} ({unsolved}/{runs} unsolved)")
    delays = ", ".join(f"{d:g}" for d in next(iter(table.values()), {}))
    print(
        f"SUMMARY | RUDDER vs MC and TD critics over delays {delays} (3, 13) | RUDDER roughly "
        f"flat, the others grow | median episodes to solve by delay: {'; '.join(shown)} | "
        "shown; checked by `acconv reproduce` |"
    )


if __name__ == "__main__":
    main()
