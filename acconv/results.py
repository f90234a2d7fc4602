"""Results on disk: one folder per run, written atomically, checked before it is trusted.

A run folder holds (DESIGN.md §3):

* ``metrics.parquet``: tidy rows ``run_id: string, seed: int64, n: int64, metric: string,
  value: float64`` at log-spaced updates. Nothing in the file depends on the clock, so the same
  spec and seed give byte-identical files;
* ``verdicts.json``: the step-size verdicts (decided before the first update) and the observers'
  verdicts;
* ``manifest.json``: the resolved config, the seed entropy, versions, platform, git commit, and
  the SHA-256 of the two files above. It is written last.

A folder is written under ``<folder>.tmp-<pid>`` and renamed into place with :func:`os.replace`,
so a folder under its final name is either complete or was damaged afterwards; :func:`is_complete`
re-checks the checksums and a runner redoes any folder that fails.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "MANIFEST",
    "METRICS",
    "VERDICTS",
    "RunRecord",
    "incomplete_reason",
    "is_complete",
    "load_results",
    "read_manifest",
    "remove_stale_temporaries",
    "write_run",
]

MANIFEST = "manifest.json"
METRICS = "metrics.parquet"
VERDICTS = "verdicts.json"
_TMP = re.compile(r"^(?P<name>.+)\.tmp-(?P<pid>\d+)$")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_bytes(path: Path, data: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _json_bytes(payload: Any) -> bytes:
    return (json.dumps(payload, indent=2, sort_keys=True, allow_nan=False) + "\n").encode()


def _json_safe(value: Any) -> Any:
    """Non-finite floats as strings ("inf", "nan"): strict JSON has no such numbers."""
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    return value


@lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The commit of the acconv checkout, or ``None`` (not a git checkout, no git)."""
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = completed.stdout.strip()
    return commit if completed.returncode == 0 and commit else None


def environment_info() -> dict[str, Any]:
    """Versions and platform recorded in every manifest."""
    import pyarrow

    from acconv._version import __version__

    return {
        "acconv": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pyarrow": pyarrow.__version__,
        "platform": platform.platform(),
        "git_commit": git_commit(),
    }


def metrics_table(run_id: str, seed: int, rows: Sequence[tuple[int, str, float]]) -> Any:
    """The tidy Arrow table of a run's ``(n, metric, value)`` rows."""
    import pyarrow as pa

    schema = pa.schema(
        [
            ("run_id", pa.string()),
            ("seed", pa.int64()),
            ("n", pa.int64()),
            ("metric", pa.string()),
            ("value", pa.float64()),
        ]
    )
    return pa.table(
        {
            "run_id": [run_id] * len(rows),
            "seed": np.full(len(rows), seed, dtype=np.int64),
            "n": np.array([row[0] for row in rows], dtype=np.int64),
            "metric": [row[1] for row in rows],
            "value": np.array([row[2] for row in rows], dtype=np.float64),
        },
        schema=schema,
    )


def write_run(
    folder: Path,
    *,
    run_id: str,
    seed: int,
    rows: Sequence[tuple[int, str, float]],
    verdicts: Mapping[str, Any],
    manifest: Mapping[str, Any],
) -> Path:
    """Write one run folder atomically: temp folder, manifest last, then ``os.replace``.

    An existing folder under the final name is removed first (the caller decided to redo it).
    """
    import pyarrow.parquet as pq

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    pq.write_table(metrics_table(run_id, seed, rows), tmp / METRICS, compression="zstd")
    with (tmp / METRICS).open("rb+") as handle:
        os.fsync(handle.fileno())
    _write_bytes(tmp / VERDICTS, _json_bytes(_json_safe(verdicts)))
    files = {name: _sha256(tmp / name) for name in (METRICS, VERDICTS)}
    full = {**manifest, "run_id": run_id, "seed": seed, "files": files}
    _write_bytes(tmp / MANIFEST, _json_bytes(_json_safe(full)))
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(tmp, folder)
    return folder


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of a run folder, or ``None`` if it is missing or not a JSON object."""
    try:
        manifest = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def incomplete_reason(folder: Path) -> str | None:
    """Why ``folder`` is not a complete run folder, or ``None`` if it is complete."""
    folder = Path(folder)
    if not folder.is_dir():
        return "missing"
    manifest = read_manifest(folder)
    if manifest is None:
        return f"{MANIFEST} is missing or unreadable"
    files = manifest.get("files")
    if not isinstance(files, dict) or set(files) != {METRICS, VERDICTS}:
        return f"{MANIFEST} lists no checksums for {METRICS} and {VERDICTS}"
    for name, expected in files.items():
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        if _sha256(path) != expected:
            return f"{name} does not match its checksum"
    return None


def is_complete(folder: Path) -> bool:
    """``True`` if the folder has a manifest and every file matches its recorded checksum."""
    return incomplete_reason(folder) is None


def remove_stale_temporaries(out_dir: Path) -> list[Path]:
    """Remove ``*.tmp-<pid>`` folders left by processes that are gone; return what was removed."""
    removed: list[Path] = []
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return removed
    for path in sorted(out_dir.rglob("*.tmp-*")):
        match = _TMP.match(path.name)
        if match is None or not path.is_dir() or _alive(int(match["pid"])):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # our own leftover from an earlier attempt in this process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class RunRecord:
    """A completed run on disk: its folder, manifest and verdicts; metrics read on demand."""

    folder: Path
    manifest: dict[str, Any]
    verdicts: dict[str, Any]

    @property
    def run_id(self) -> str:
        """The run's stable id, ``<name>/<sweep point>/seed-<k>``."""
        return str(self.manifest["run_id"])

    def metrics(self) -> Any:
        """The run's tidy metrics as a ``pyarrow.Table``."""
        import pyarrow.parquet as pq

        return pq.read_table(self.folder / METRICS)


def load_results(out_dir: Path) -> list[RunRecord]:
    """Every complete run folder under ``out_dir``, sorted by run id (incomplete ones: skipped)."""
    records: list[RunRecord] = []
    for manifest_path in sorted(Path(out_dir).rglob(MANIFEST)):
        folder = manifest_path.parent
        if _TMP.match(folder.name) or not is_complete(folder):
            continue
        manifest = read_manifest(folder)
        assert manifest is not None
        verdicts = json.loads((folder / VERDICTS).read_text(encoding="utf-8"))
        records.append(RunRecord(folder, manifest, verdicts))
    return sorted(records, key=lambda record: record.run_id)
