"""Time one command and print one line for a generated block.

Run: ``python tools/time_command.py --label "acconv reproduce" -- python -m acconv.cli reproduce
--quiet --out {tmp}``. ``{tmp}`` in an argument becomes a fresh temporary folder (removed
afterwards), so a resumable command starts from nothing. ``python`` as the first word is the
current interpreter. The command runs without a shell from the current folder, its output
discarded; the line printed gives its wall time and the CPU time of it and its children
(``resource.getrusage(RUSAGE_CHILDREN)``), and ``os.cpu_count()``. Exits with the command's code
when it fails.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{seconds:.1f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", required=True, help="how the command is named in the line")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        print("error: command is empty, expected -- COMMAND ...", file=sys.stderr)
        return 2
    if command[0] == "python":
        command[0] = sys.executable
    with tempfile.TemporaryDirectory(prefix="time-command-") as tmp:
        command = [part.replace("{tmp}", tmp) for part in command]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.stderr.write(done.stderr.decode(errors="replace"))
        return done.returncode
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(
        f"`{args.label}` took {_duration(wall)} of wall time and {_duration(cpu)} of CPU time "
        f"on {os.cpu_count()} cores."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
