"""Two ``acconv run`` processes sharing one sweep, against one process alone.

Run: ``python benchmarks/bench_shared_sweep.py`` (about 3.5 minutes on 2 cores). Prints a
Markdown table for ``docs/reliability.md`` and ``docs/performance.md``.

Target (issue 14): two concurrent ``acconv run`` on one sweep and one ``--out`` finish it in
about half the time of one, each run computed once.

Protocol. The sweep is ``experiments/example_actor_critic.toml`` (2 sweep points) with
``--seeds`` seeds and ``budget.n_updates`` updates per run (defaults: 4 seeds, 4000 updates:
8 runs of about 1.7 s of CPU each). "One": ``acconv run --workers 1`` into a fresh folder.
"Two": two such commands started together into another fresh folder; each claims runs one at a
time (``acconv.run_claims``). Timed: wall time from starting the command(s) to the last exit,
process start-up included. Each repetition runs "one" and "two", the order alternating. Each
process's summary table gives how many runs it computed ("done now") and how many it found done
by the other ("done by another process"); the runs computed must add up to the sweep, and the
metrics files of "two" must equal those of "one" byte for byte. The CPU time of each command
(user + system, from ``wait4``) is reported too: it hardly depends on the machine's load, and
the longer of the two against the one process's is the wall-time ratio an idle machine with a
core per process would show.

Each command runs in a session of its own, as two terminals or two machines would. Linux's
autogroup scheduler (``/proc/sys/kernel/sched_autogroup_enabled``) shares the CPU between
sessions first: on a busy machine, two processes of one session get no more CPU than one.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "experiments" / "example_actor_critic.toml"


def _command(out: Path, seeds: int, updates: int) -> list[str]:
    return [
        *(sys.executable, "-m", "acconv.cli", "run", str(SPEC), "--out", str(out)),
        *("--workers", "1", "--quiet", "--seeds", str(seeds)),
        *("--set", f"budget.n_updates={updates}"),
    ]


def _count(table: str, row: str) -> int:
    match = re.search(rf"{re.escape(row)}\s*│\s*(\d+)", table)
    if match is None:
        raise RuntimeError(f"no row {row!r} in:\n{table}")
    return int(match.group(1))


def _sweep(
    out: Path, processes: int, seeds: int, updates: int
) -> tuple[float, list[float], list[int]]:
    """Wall time of ``processes`` concurrent ``acconv run`` into ``out``, the CPU time of each
    (user + system, from ``wait4``) and the runs each computed."""
    env = {**os.environ, "COLUMNS": "200", "OPENBLAS_NUM_THREADS": "1"}
    start = time.perf_counter()
    running = [
        subprocess.Popen(
            _command(out, seeds, updates),
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            start_new_session=True,
        )
        for _ in range(processes)
    ]
    outputs: list[str] = []
    cpus: list[float] = []
    for process in running:  # a few lines of output each: reading one pipe after the other is safe
        assert process.stdout is not None
        outputs.append(process.stdout.read())
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        cpus.append(usage.ru_utime + usage.ru_stime)
    elapsed = time.perf_counter() - start
    if any(process.returncode for process in running):
        raise RuntimeError("acconv run failed:\n" + "\n".join(outputs))
    done = [_count(text, "done now") for text in outputs]
    by_others = [_count(text, "done by another process (shared sweep)") for text in outputs]
    if sum(done) != 2 * seeds or any(
        d + o != 2 * seeds for d, o in zip(done, by_others, strict=True)
    ):
        raise RuntimeError(f"runs computed {done}, found done {by_others}: not each once")
    return elapsed, cpus, done


def _metrics(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("metrics.parquet"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=4, help="seeds per sweep point (2 points)")
    parser.add_argument("--updates", type=int, default=4000, help="updates per run")
    parser.add_argument("--repeats", type=int, default=3, help="repetitions of one and two")
    args = parser.parse_args()
    rows = []
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as scratch:
        for repeat in range(args.repeats):
            one_dir, two_dir = Path(scratch) / f"one-{repeat}", Path(scratch) / f"two-{repeat}"
            order = [(1, one_dir), (2, two_dir)]
            results: dict[int, tuple[float, list[float], list[int]]] = {}
            for processes, out in order if repeat % 2 == 0 else order[::-1]:
                results[processes] = _sweep(out, processes, args.seeds, args.updates)
            if _metrics(one_dir) != _metrics(two_dir):
                raise RuntimeError("the shared sweep's files differ from one process's")
            (one_s, (one_cpu,), _), (two_s, two_cpus, split) = results[1], results[2]
            rows.append((repeat + 1, one_s, two_s, one_cpu, two_cpus, split))
            shutil.rmtree(one_dir)
            shutil.rmtree(two_dir)
    runs = 2 * args.seeds
    print(f"{runs} runs of {args.updates} updates; 1-minute load at the start: {load:.2f}\n")
    print(
        "| repetition | wall, one process [s] | wall, two [s] | two / one | CPU, one process "
        "[s] | CPU, each of two [s] | longer of two / one (CPU) | runs computed by each |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for repeat, one_s, two_s, one_cpu, two_cpus, split in rows:
        each = " + ".join(map(str, split))
        cpus = " and ".join(f"{cpu:.1f}" for cpu in two_cpus)
        print(
            f"| {repeat} | {one_s:.1f} | {two_s:.1f} | {two_s / one_s:.2f} | {one_cpu:.1f} | "
            f"{cpus} | {max(two_cpus) / one_cpu:.2f} | {each} |"
        )
    walls = [two_s / one_s for _, one_s, two_s, *_ in rows]
    longer = [max(two_cpus) / one_cpu for _, _, _, one_cpu, two_cpus, _ in rows]
    once = all(sum(split) == runs for *_, split in rows)
    print(
        f"SUMMARY | two `acconv run` sharing one sweep, {runs} runs of {args.updates} updates (14) "
        f"| about half the time of one, each run computed once | each run once: {once}; wall "
        f"two / one {min(walls):.2f}–{max(walls):.2f}; longer of two / one (CPU) "
        f"{min(longer):.2f}–{max(longer):.2f} | each run once: {'pass' if once else 'FAIL'}; "
        f"half the time: {'pass' if max(walls) <= 0.55 else 'not reached'} |"
    )


if __name__ == "__main__":
    main()
