"""Print the machine and the versions the benchmarks ran with, as a Markdown table.

Run: ``python tools/machine_info.py``. Reads ``/proc/cpuinfo`` and ``/proc/meminfo`` (Linux),
numpy's build configuration and the installed versions (``importlib.metadata``; torch and SB3
are not imported). ``tools/regenerate_docs.py`` puts the table in ``docs/performance.md``.
"""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path

import numpy as np


def _proc(name: str, key: str) -> str | None:
    """The first ``key: value`` of ``/proc/<name>``, or None off Linux."""
    try:
        lines = Path("/proc", name).read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        field, _, value = line.partition(":")
        if field.strip() == key:
            return value.strip()
    return None


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def rows() -> list[tuple[str, str]]:
    cpu = _proc("cpuinfo", "model name") or platform.processor() or "unknown"
    family = _proc("cpuinfo", "cpu family")
    model = _proc("cpuinfo", "model")
    if family and model:
        cpu += f" (family {family}, model {model})"
    mem = _proc("meminfo", "MemTotal")
    memory = f"{int(mem.split()[0]) / 2**20:.0f} GiB" if mem else "unknown"
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    blas_text = f"{blas.get('name')} {blas.get('version')}"
    if blas.get("openblas configuration"):
        blas_text += f" (`{blas['openblas configuration'].split('  ', 1)[-1]}`)"
    return [
        ("CPUs", f"`os.cpu_count()` = {os.cpu_count()}"),
        ("CPU model", cpu),
        ("memory", memory),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("numpy", f"{np.__version__}, BLAS {blas_text}"),
        ("scipy", _version("scipy")),
        ("torch", _version("torch")),
        ("stable-baselines3", _version("stable-baselines3")),
        ("gymnasium", _version("gymnasium")),
    ]


def main() -> None:
    print("| | |\n|---|---|")
    for name, value in rows():
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
