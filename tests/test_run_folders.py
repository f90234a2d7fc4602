"""Run folders under stress (issue 14): only acconv's own temporaries are removed, concurrent
writers of one folder, and a report that checks every file before it trusts it."""

from __future__ import annotations

import hashlib
import html
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import acconv.results as results
from acconv.cli import main
from acconv.results import (
    MANIFEST,
    METRICS,
    TMP_MARKER,
    VERDICTS,
    incomplete_reason,
    is_complete,
    remove_stale_temporaries,
    scan_results,
    write_run,
)
from acconv.run_claims import Owner

EXAMPLE = Path(__file__).resolve().parents[1] / "experiments" / "example_actor_critic.toml"
ROWS = [(0, "exact/J", 0.5), (1, "exact/J", 0.75)]
NO_SUCH_PID = 99_999_999  # above Linux's pid_max (at most 2**22): never a running process


def _write(folder: Path, run_id: str = "x/base/seed-0", seed: int = 0, **changes: object) -> Path:
    arguments: dict[str, object] = {
        "run_id": run_id,
        "seed": seed,
        "rows": ROWS,
        "verdicts": {"run_id": run_id, "step_sizes": None, "observers": []},
        "manifest": {"config": {"name": run_id.split("/")[0]}},
    }
    arguments.update(changes)
    return write_run(folder, **arguments)  # type: ignore[arg-type]


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _dead_owner_temporary(run_folder: Path) -> Path:
    """A temporary folder of ``run_folder`` as acconv makes it, by a process that is gone (this
    host, a pid that cannot run)."""
    this = Owner.of_this_process()
    owner = Owner(this.host, this.boot, NO_SUCH_PID, None, this.token)
    tmp = run_folder.with_name(f"{run_folder.name}.tmp-acconv-{owner.pid}-{owner.token}")
    tmp.mkdir(parents=True)
    (tmp / TMP_MARKER).write_bytes(owner.to_bytes())
    (tmp / METRICS).write_bytes(b"half-written")
    return tmp


# -- 1. the stale-temporary cleanup removes only what acconv provably created -----------------


def test_acconv_run_removes_no_folder_it_did_not_create(tmp_path: Path) -> None:
    # The reproducer: a user's folder named like an old acconv temporary, with a pid that
    # is not running, at the top of --out and deeper; and, next to a run folder, names of
    # acconv's own form without a marker, or with a marker whose token does not match the name.
    out = tmp_path / "OUT" / "mydata"
    (out / "photos.tmp-99999999").mkdir(parents=True)
    (out / "photos.tmp-99999999" / "a.jpg").write_bytes(b"precious")
    (out / "sub" / "deeper" / "x.tmp-99999998").mkdir(parents=True)
    (out / "sub" / "deeper" / "x.tmp-99999998" / "b").write_bytes(b"precious")
    run_parent = out / "actor_lr=0.1_n+1-a106be01"  # the first sweep point's slug
    unmarked = run_parent / f"seed-0.tmp-acconv-{NO_SUCH_PID}-{'0' * 32}"
    unmarked.mkdir(parents=True)
    (unmarked / "c").write_bytes(b"precious")
    forged = run_parent / f"seed-0.tmp-acconv-{NO_SUCH_PID}-{'1' * 32}"
    forged.mkdir()
    owner = Owner("host", None, NO_SUCH_PID, None, "2" * 32)  # not the token in the name
    (forged / TMP_MARKER).write_bytes(owner.to_bytes())
    before = _tree(tmp_path)
    argv = ["run", str(EXAMPLE), "--out", str(out), "--quiet", "--workers", "1"]
    argv += [
        "--set",
        "budget.n_updates=5",
        "--set",
        "seeds.count=1",
        "--set",
        "checks.step_sizes=false",
    ]
    assert main(argv) == 0
    after = _tree(tmp_path)
    assert {k: v for k, v in after.items() if k in before} == before
    assert len(list(out.rglob(METRICS))) == 2


def test_a_temporary_of_a_dead_acconv_process_is_removed_and_a_live_ones_kept(
    tmp_path: Path,
) -> None:
    run_folder = tmp_path / "point" / "seed-0"
    stale = _dead_owner_temporary(run_folder)
    live = results._make_temporary(run_folder)  # this process's: running
    other_run = _dead_owner_temporary(tmp_path / "point" / "seed-1")  # not a folder asked about
    assert stale.is_dir() and (stale / TMP_MARKER).is_file()
    assert remove_stale_temporaries([run_folder]) == [stale]
    assert not stale.exists() and live.is_dir() and other_run.is_dir()


# -- 10. concurrent writers of one folder --------------------------------------------------------

_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from acconv.results import write_run
    folder, value, times = Path(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    failures = 0
    for i in range(times):
        try:
            write_run(folder, run_id="x/base/seed-0", seed=0, rows=[(0, "exact/J", value)],
                      verdicts={"observers": []}, manifest={"config": {}})
        except Exception as error:
            failures += 1
            print(type(error).__name__, error, file=sys.stderr)
    print(failures)
    """
)


@pytest.mark.slow  # two interpreters start (about 2 s)
@pytest.mark.parametrize("values", [(0.5, 0.5), (0.5, 0.25)], ids=["same", "different"])
def test_two_processes_writing_one_folder_never_fail_nor_leave_a_temporary(
    tmp_path: Path, values: tuple[float, float]
) -> None:
    # Before: 14-25% of the writes failed (Directory not empty, FileNotFoundError) and a .tmp
    # folder was left. Same content: one write wins, the other sees it done; different
    # content: the last writer wins; either way the folder is complete and nothing is left.
    folder = tmp_path / "runs" / "seed-0"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(folder), str(value), "40"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for value in values
    ]
    outputs = [writer.communicate(timeout=60) for writer in writers]
    assert [out.strip() for out, _ in outputs] == ["0", "0"], [err for _, err in outputs]
    assert is_complete(folder)
    assert sorted(p.name for p in folder.parent.iterdir()) == ["seed-0"]
    assert sorted(p.name for p in folder.iterdir()) == [MANIFEST, METRICS, VERDICTS]
    value = pq.read_table(folder / METRICS).column("value").to_pylist()
    assert value in ([values[0]], [values[1]])


def test_a_write_of_the_same_run_keeps_the_folder_and_another_replaces_it(tmp_path: Path) -> None:
    folder = _write(tmp_path / "seed-0")
    inode = folder.stat().st_ino
    _write(folder)  # the same run: already done, the folder is kept as it is
    assert folder.stat().st_ino == inode
    _write(folder, rows=[(0, "exact/J", 1.0)])  # another run: replaces it
    assert folder.stat().st_ino != inode and is_complete(folder)
    assert pq.read_table(folder / METRICS).column("value").to_pylist() == [1.0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seed-0"]


def test_incomplete_reason_of_a_folder_that_vanishes_while_checked_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _write(tmp_path / "seed-0")
    checksum = results._sha256

    def vanish_then_hash(path: Path) -> str:
        import shutil

        shutil.rmtree(folder)  # another writer moves it away between the manifest and the hash
        return checksum(path)

    monkeypatch.setattr(results, "_sha256", vanish_then_hash)
    assert incomplete_reason(folder) == "missing"


# -- 7. the report checks every file against its schema -----------------------------------------


def _rewrite(folder: Path, name: str, data: bytes) -> None:
    """Replace a file and fix its checksum in the manifest, as a careless tool would."""
    (folder / name).write_bytes(data)
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["files"][name] = hashlib.sha256(data).hexdigest()
    (folder / MANIFEST).write_text(json.dumps(manifest))


def _wrong_schema_parquet() -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({"step": [0, 1], "J": [0.5, 0.75]}), sink)
    return bytes(sink.getvalue().to_pybytes())


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda f: _rewrite(f, VERDICTS, b"[]"), "verdicts.json is list, expected an object"),
        (
            lambda f: _rewrite(f, VERDICTS, b'{"observers": [{"id": 3}]}'),
            "verdicts.json: observers[0].id is 3, expected a string",
        ),
        (lambda f: _rewrite(f, METRICS, _wrong_schema_parquet()), "metrics.parquet has columns"),
        (lambda f: _rewrite(f, METRICS, b"PAR1 not parquet"), "metrics.parquet is unreadable"),
        (
            lambda f: (f / METRICS).write_bytes((f / METRICS).read_bytes()[:100]),  # truncated
            "metrics.parquet does not match its checksum",
        ),
        (
            lambda f: _rewrite(f, METRICS, (f.parent / "seed-1" / METRICS).read_bytes()),
            "metrics.parquet: column run_id is not 'x/base/seed-0' in every row",
        ),
    ],
    ids=["verdicts-list", "verdict-id", "parquet-schema", "parquet-garbage", "truncated", "other"],
)
def test_a_damaged_run_is_named_with_its_reason_on_stderr_and_in_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: object, reason: str
) -> None:
    runs = tmp_path / "runs"
    for seed in (0, 1, 2):
        _write(runs / "base" / f"seed-{seed}", run_id=f"x/base/seed-{seed}", seed=seed)
    damage(runs / "base" / "seed-0")  # type: ignore[operator]
    assert main(["report", str(runs)]) == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert err.count("\n") == 1 and err.startswith("acconv: warning: left out ")
    assert "seed-0" in err and reason in err, err
    summary = (runs / "summary.md").read_text(encoding="utf-8")
    assert "2 complete run(s)" in summary
    assert "## Runs left out" in summary and f"- `base/seed-0`: {reason}" in summary
    page = (runs / "report.html").read_text(encoding="utf-8")
    assert f"base/seed-0</code>: {html.escape(reason)}" in page


def test_a_folder_of_damaged_runs_only_is_exit_2_after_naming_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = tmp_path / "runs"
    _write(runs / "base" / "seed-0")
    _rewrite(runs / "base" / "seed-0", VERDICTS, b"[]")
    assert main(["report", str(runs)]) == 2
    _, err = capsys.readouterr()
    lines = err.splitlines()
    assert len(lines) == 2 and "Traceback" not in err
    assert lines[0].startswith("acconv: warning: left out ") and "verdicts.json is list" in lines[0]
    assert lines[1].startswith("acconv: error: ") and "holds no complete run" in lines[1]
    assert "1 run folder(s) left out" in lines[1]
    assert not (runs / "report.html").exists()


def test_scan_results_rejects_a_copied_run_and_ignores_temporaries(tmp_path: Path) -> None:
    import shutil

    first = _write(tmp_path / "a" / "seed-0")
    shutil.copytree(first, tmp_path / "b" / "seed-0")  # the same run id twice
    shutil.copytree(first, tmp_path / "a" / f"seed-0.tmp-acconv-1-{'a' * 32}")
    scan = scan_results(tmp_path)
    assert [r.folder for r in scan.records] == [first]
    assert scan.rejected == [
        (tmp_path / "b" / "seed-0", f"run id x/base/seed-0 is also in {first}")
    ]
