"""Results on disk: one folder per run, written atomically, checked before it is trusted.

A run folder holds (DESIGN.md §3):

* ``metrics.parquet``: tidy rows ``run_id: string, seed: int64, n: int64, metric: string,
  value: float64`` at log-spaced updates. Nothing in the file depends on the clock, so the same
  spec and seed give byte-identical files;
* ``verdicts.json``: the step-size verdicts (decided before the first update) and the observers'
  verdicts;
* ``manifest.json``: the resolved config, the seed entropy, versions, platform, git commit, and
  the SHA-256 of the two files above. It is written last.

A folder is written under ``<folder>.tmp-acconv-<pid>-<token>`` and renamed into place, so a
folder under its final name is either complete or was damaged afterwards; :func:`is_complete`
re-checks the checksums and a runner redoes any folder that fails. The temporary folder holds a
marker file, ``.acconv-tmp``, with the same random token, the host and the pid: acconv removes a
leftover temporary folder only when its name and its marker agree and the process that wrote it
is gone (:func:`remove_stale_temporaries`), so a folder acconv did not create is never removed.

Any number of processes may call :func:`write_run` on the same folder at once: each writes its
own temporary folder and publishes it with one ``rename``. When the folder already holds a
complete run with the same manifest, a writer discards its copy (the run is done); otherwise the
old folder is moved aside and the new one renamed in (the last writer wins). No temporary folder
is left behind either way.

:func:`scan_results` reads a results folder and checks every file of every run against its
schema; a run that fails is returned with the reason, never dropped without a word.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from acconv.run_claims import Owner, owner_is_gone, read_owner

__all__ = [
    "MANIFEST",
    "METRICS",
    "VERDICTS",
    "ResultsScan",
    "RunRecord",
    "incomplete_reason",
    "is_complete",
    "load_results",
    "read_manifest",
    "remove_stale_temporaries",
    "scan_results",
    "write_run",
]

MANIFEST = "manifest.json"
METRICS = "metrics.parquet"
VERDICTS = "verdicts.json"
TMP_MARKER = ".acconv-tmp"
# acconv's temporary folders: <run folder name>.tmp-acconv-<pid>-<32 hex digits of token>.
_TMP = re.compile(r"^(?P<name>.+)\.tmp-acconv-(?P<pid>\d+)-(?P<token>[0-9a-f]{32})$")
# The naming of acconv <= 0.2 (no token): never removed, but never read as a run either.
_LEGACY_TMP = re.compile(r"^.+\.tmp-\d+$")
# A temporary folder of another host is stale when its marker is older than this [s].
TMP_STALE_AFTER_S = 24 * 3600.0


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
    """Write one run folder atomically: a temporary folder, the manifest last, then a rename.

    An existing folder under the final name is replaced (the caller decided to redo it), unless
    it is a complete run with the manifest this call would write: then the run is done already
    and this call's copy is discarded. Safe with concurrent callers (module docstring).
    """
    import pyarrow.parquet as pq

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = _make_temporary(folder)
    try:
        pq.write_table(metrics_table(run_id, seed, rows), tmp / METRICS, compression="zstd")
        with (tmp / METRICS).open("rb+") as handle:
            os.fsync(handle.fileno())
        _write_bytes(tmp / VERDICTS, _json_bytes(_json_safe(verdicts)))
        files = {name: _sha256(tmp / name) for name in (METRICS, VERDICTS)}
        full = {**manifest, "run_id": run_id, "seed": seed, "files": files}
        manifest_bytes = _json_bytes(_json_safe(full))
        _write_bytes(tmp / MANIFEST, manifest_bytes)
        if _publish(tmp, folder, manifest_bytes):
            with contextlib.suppress(FileNotFoundError):
                (folder / TMP_MARKER).unlink()  # kept up to the rename: tmp stayed provably ours
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _make_temporary(folder: Path) -> Path:
    """A new temporary folder next to ``folder``, named and marked with a fresh owner token."""
    owner = Owner.of_this_process()
    tmp = folder.with_name(f"{folder.name}.tmp-acconv-{owner.pid}-{owner.token}")
    tmp.mkdir()
    _write_bytes(tmp / TMP_MARKER, owner.to_bytes())
    return tmp


def _publish(tmp: Path, folder: Path, manifest_bytes: bytes) -> bool:
    """Rename ``tmp`` to ``folder`` (``True``); an existing ``folder`` is kept if it is the same
    complete run (``False``: ``tmp`` is not needed), else moved aside (into a marked temporary
    folder) and removed once ``tmp`` is in place."""
    for _ in range(100):
        try:
            os.rename(tmp, folder)  # POSIX: replaces an empty folder, refuses a non-empty one
            return True
        except OSError as error:
            if error.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
        if _same_complete_run(folder, manifest_bytes):
            return False  # written by a concurrent caller (or before): done
        aside = _make_temporary(folder)
        try:
            os.rename(folder, aside / "old")
        except FileNotFoundError:
            pass  # another caller moved it first: try again
        else:
            with contextlib.suppress(OSError):
                os.rename(tmp, folder)
        finally:
            shutil.rmtree(aside, ignore_errors=True)
        if not tmp.exists():
            return True
    raise OSError(f"could not publish {folder}: other writers kept replacing it")


def _same_complete_run(folder: Path, manifest_bytes: bytes) -> bool:
    try:
        same = (folder / MANIFEST).read_bytes() == manifest_bytes
    except OSError:
        return False
    return same and incomplete_reason(folder) is None


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of a run folder, or ``None`` if it is missing or not a JSON object."""
    try:
        manifest = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def incomplete_reason(folder: Path) -> str | None:
    """Why ``folder`` is not a complete run folder, or ``None`` if it is complete.

    A folder that vanishes while it is checked (another writer replacing it) is ``"missing"``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return "missing"
    manifest = read_manifest(folder)
    if manifest is None:
        return "missing" if not folder.is_dir() else f"{MANIFEST} is missing or unreadable"
    files = manifest.get("files")
    if not isinstance(files, dict) or set(files) != {METRICS, VERDICTS}:
        return f"{MANIFEST} lists no checksums for {METRICS} and {VERDICTS}"
    for name, expected in files.items():
        try:
            actual = _sha256(folder / name)
        except OSError:
            return "missing" if not folder.is_dir() else f"{name} is missing or unreadable"
        if actual != expected:
            return f"{name} does not match its checksum"
    return None


def is_complete(folder: Path) -> bool:
    """``True`` if the folder has a manifest and every file matches its recorded checksum."""
    return incomplete_reason(folder) is None


def remove_stale_temporaries(run_folders: Iterable[Path]) -> list[Path]:
    """Remove the temporary folders of ``run_folders`` left by processes that are gone.

    Only siblings named ``<run folder name>.tmp-acconv-<pid>-<token>`` are looked at, and one
    is removed only if it holds a marker with that token whose owner is gone
    (:func:`acconv.run_claims.owner_is_gone`). Nothing else is touched, at any depth. Returns what
    was removed.
    """
    wanted: dict[Path, set[str]] = {}
    for folder in run_folders:
        wanted.setdefault(Path(folder).parent, set()).add(Path(folder).name)
    removed: list[Path] = []
    for parent, names in sorted(wanted.items()):
        try:
            entries = sorted(parent.iterdir())
        except OSError:
            continue
        for path in entries:
            match = _TMP.match(path.name)
            if match is None or match["name"] not in names or path.is_symlink():
                continue
            owner, age = read_owner(path / TMP_MARKER)
            if owner is None or owner.token != match["token"] or owner.pid != int(match["pid"]):
                continue  # not provably ours
            if owner_is_gone(owner, age, TMP_STALE_AFTER_S):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    return removed


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


@dataclass(frozen=True)
class ResultsScan:
    """What :func:`scan_results` found: the valid runs, and every run folder left out with why."""

    records: list[RunRecord]
    rejected: list[tuple[Path, str]]


_METRIC_COLUMNS = (
    ("run_id", "string"),
    ("seed", "int64"),
    ("n", "int64"),
    ("metric", "string"),
    ("value", "double"),
)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _entries_problem(entries: Any, where: str) -> str | None:
    """Why a list of verdict entries is not one (each a JSON object with string id and status)."""
    if not isinstance(entries, list):
        return f"{where} is {type(entries).__name__}, expected a list"
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            return f"{where}[{i}] is {type(entry).__name__}, expected an object"
        for key in ("id", "status"):
            if not isinstance(entry.get(key), str):
                return f"{where}[{i}].{key} is {entry.get(key)!r}, expected a string"
    return None


def _manifest_problem(manifest: dict[str, Any]) -> str | None:
    if not isinstance(manifest.get("run_id"), str) or not manifest["run_id"]:
        return f"{MANIFEST}: run_id is {manifest.get('run_id')!r}, expected a non-empty string"
    if not _is_int(manifest.get("seed")) or manifest["seed"] < 0:
        return f"{MANIFEST}: seed is {manifest.get('seed')!r}, expected an integer >= 0"
    config = manifest.get("config", {})
    if not isinstance(config, dict):
        return f"{MANIFEST}: config is {type(config).__name__}, expected an object"
    if not isinstance(config.get("sweep_point", {}), dict):
        return f"{MANIFEST}: config.sweep_point is not an object"
    return None


def _verdicts_problem(verdicts: Any) -> str | None:
    if not isinstance(verdicts, dict):
        return f"{VERDICTS} is {type(verdicts).__name__}, expected an object"
    step_sizes = verdicts.get("step_sizes")
    if step_sizes is not None and not isinstance(step_sizes, dict):
        return f"{VERDICTS}: step_sizes is {type(step_sizes).__name__}, expected an object"
    if isinstance(step_sizes, dict) and "conditions" in step_sizes:
        problem = _entries_problem(step_sizes["conditions"], f"{VERDICTS}: step_sizes.conditions")
        if problem:
            return problem
    if "observers" in verdicts:
        return _entries_problem(verdicts["observers"], f"{VERDICTS}: observers")
    return None


def _metrics_problem(folder: Path, manifest: dict[str, Any]) -> str | None:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(folder / METRICS)
    except Exception as error:  # pyarrow raises ArrowInvalid, OSError, ... on a bad file
        return f"{METRICS} is unreadable ({type(error).__name__}: {' '.join(str(error).split())})"
    columns = tuple((f.name, str(f.type)) for f in table.schema)
    if columns != _METRIC_COLUMNS:
        shown = ", ".join(f"{name}: {kind}" for name, kind in columns)
        expected = ", ".join(f"{name}: {kind}" for name, kind in _METRIC_COLUMNS)
        return f"{METRICS} has columns ({shown}), expected ({expected})"
    for column, value in (("run_id", manifest["run_id"]), ("seed", manifest["seed"])):
        if table.num_rows and not pc.all(pc.equal(table.column(column), value)).as_py():
            return f"{METRICS}: column {column} is not {value!r} in every row"
    if table.num_rows and (table.column("n").null_count or pc.min(table.column("n")).as_py() < 0):
        return f"{METRICS}: column n has a missing or negative update index"
    return None


def _record_or_reason(folder: Path) -> RunRecord | str:
    """The run in ``folder`` if every file is valid, else why not."""
    reason = incomplete_reason(folder)
    if reason is not None:
        return reason
    manifest = read_manifest(folder)
    if manifest is None:
        return f"{MANIFEST} is missing or unreadable"
    try:
        verdicts = json.loads((folder / VERDICTS).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return f"{VERDICTS} is unreadable ({type(error).__name__})"
    except RecursionError:
        return f"{VERDICTS} is nested too deeply"
    problem = (
        _manifest_problem(manifest)
        or _verdicts_problem(verdicts)
        or _metrics_problem(folder, manifest)
    )
    return problem if problem else RunRecord(folder, manifest, verdicts)


def _is_temporary(path: Path) -> bool:
    return any(_TMP.match(part) or _LEGACY_TMP.match(part) for part in path.parts)


def scan_results(out_dir: Path) -> ResultsScan:
    """Every run folder under ``out_dir``, each checked against the schema of its files.

    A run folder is any folder holding a manifest, metrics or verdicts file (temporary folders
    excepted). It is a record when every file matches its checksum and its schema
    (``metrics.parquet``: the five columns and types of :func:`metrics_table`, the manifest's
    run id and seed in every row; ``verdicts.json``: an object whose verdict entries are objects
    with a string ``id`` and ``status``; the manifest: a string run id, an integer seed >= 0, an
    object config); else it is rejected with the reason. A second folder with a run id already
    seen is rejected too. Records are sorted by run id, rejections by folder.
    """
    out_dir = Path(out_dir)
    folders: set[Path] = set()
    for name in (MANIFEST, METRICS, VERDICTS):
        for path in out_dir.rglob(name):
            if not _is_temporary(path.parent.relative_to(out_dir)):
                folders.add(path.parent)
    records: dict[str, RunRecord] = {}
    rejected: list[tuple[Path, str]] = []
    for folder in sorted(folders):
        found = _record_or_reason(folder)
        if isinstance(found, str):
            rejected.append((folder, found))
        elif found.run_id in records:
            rejected.append(
                (folder, f"run id {found.run_id} is also in {records[found.run_id].folder}")
            )
        else:
            records[found.run_id] = found
    return ResultsScan(sorted(records.values(), key=lambda r: r.run_id), rejected)


def load_results(out_dir: Path) -> list[RunRecord]:
    """The valid runs under ``out_dir`` (:func:`scan_results`), sorted by run id; the rejected
    ones are left out (use :func:`scan_results` to hear why)."""
    return scan_results(out_dir).records
