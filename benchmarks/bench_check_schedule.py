"""`acconv check-schedule`: the README example, and the worst case bounded by the budget.

Run: ``python benchmarks/bench_check_schedule.py [--repeats 5] [--budgets 1 2 5]``.
Prints Markdown tables for ``docs/performance.md``. Targets (issue 11): the README example
(``--critic "1/(n+1)**0.6" --actor "1/(n+1)"``) under 2 s of wall time for the whole command,
Python start-up included; the schedule that once hung SymPy for 170 s
(``((n+1)**(-16)-(n+2)**(-16))**16``) ends within the bound the budget sets: 10 budgeted tasks
(S1–S7, two validity proofs, the forms), at most 4 at once, each killed after ``--sympy-timeout``
seconds, so at most 3 waves of the budget plus process start-up.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

README = ("1/(n+1)**0.6", "1/(n+1)")
HANG = ("((n+1)**(-16)-(n+2)**(-16))**16", "1/(n+1)")


def _wall(critic: str, actor: str, budget: float | None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and all its workers)."""
    command = [sys.executable, "-m", "acconv.cli", "check-schedule", "--critic", critic]
    command += ["--actor", actor, "--json"]
    if budget is not None:
        command += ["--sympy-timeout", str(budget)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--budgets", type=float, nargs="+", default=[1.0, 2.0, 5.0])
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}\n")
    runs = [_wall(*README, None) for _ in range(args.repeats)]
    walls, cpus = [w for w, _ in runs], [c for _, c in runs]
    print("| command | runs | median wall (s) | max wall (s) | median CPU (s) | target |")
    print("|---|---|---|---|---|---|")
    print(
        f"| check-schedule README example | {args.repeats} | {statistics.median(walls):.2f} | "
        f"{max(walls):.2f} | {statistics.median(cpus):.2f} | < 2 s |"
    )
    print("\n| worst case | --sympy-timeout (s) | wall (s) | CPU (s) | bound |")
    print("|---|---|---|---|---|")
    worst = []
    for budget in args.budgets:
        wall, cpu = _wall(*HANG, budget)
        worst.append(f"{wall:.1f} s at budget {budget:g} s")
        print(
            f"| `{HANG[0]}` | {budget:g} | {wall:.2f} | {cpu:.2f} | 3 × {budget:g} s + start-up |"
        )
    median = statistics.median(walls)
    print(
        "SUMMARY | `acconv check-schedule` on the README example (11) | < 2 s; worst case bounded "
        f"by the budget | {median:.2f} s median wall ({args.repeats} runs); the worst case "
        f"{', '.join(worst)} | {'pass' if median < 2.0 else 'FAIL'} (README example) |"
    )
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
