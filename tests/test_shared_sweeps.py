"""Processes that share a sweep (issue 14): per-run claims, and pool workers that die with the
process that started them."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from acconv.results import METRICS, is_complete, write_run
from acconv.run_claims import ClaimKeeper, Owner, SharedQueue, claim_run, read_owner

EXAMPLE = Path(__file__).resolve().parents[1] / "experiments" / "example_actor_critic.toml"
NO_SUCH_PID = 99_999_999  # above Linux's pid_max (at most 2**22): never a running process


def _owner(host: str | None = None, pid: int | None = None) -> Owner:
    this = Owner.of_this_process()
    return Owner(host or this.host, this.boot, pid or this.pid, None, this.token)


def _age(path: Path, seconds: float) -> None:
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))


def test_a_claim_is_held_once_and_released_by_its_holder_only(tmp_path: Path) -> None:
    folder = tmp_path / "point" / "seed-0"
    first = claim_run(folder, _owner())
    assert first is not None and first.path.name == "seed-0.claim"
    assert read_owner(first.path)[0] == first.owner
    assert claim_run(folder, _owner()) is None  # a live process (this one) holds it
    first.release()
    second = claim_run(folder, _owner())
    assert second is not None
    first.release()  # no longer its claim: nothing happens
    assert second.path.is_file() and second.is_ours()


@pytest.mark.parametrize(
    ("holder", "age_s", "taken"),
    [
        (lambda: _owner(pid=NO_SUCH_PID), 0.0, True),  # this host, its process is gone
        (lambda: _owner(), 0.0, False),  # this host, running (this process)
        (lambda: _owner(host="elsewhere." + socket.gethostname()), 0.0, False),  # refreshed
        (lambda: _owner(host="elsewhere." + socket.gethostname()), 3600.0, True),  # not for 1 h
        (lambda: None, 0.0, False),  # no owner record: being written
        (lambda: None, 3600.0, True),  # no owner record for an hour: its writer died
    ],
    ids=["dead-pid", "live-pid", "other-host-fresh", "other-host-old", "empty-new", "empty-old"],
)
def test_a_stale_claim_is_taken_over_and_a_live_one_is_not(
    tmp_path: Path, holder: object, age_s: float, taken: bool
) -> None:
    folder = tmp_path / "seed-0"
    path = tmp_path / "seed-0.claim"
    owner = holder()  # type: ignore[operator]
    path.write_bytes(owner.to_bytes() if owner is not None else b"")
    _age(path, age_s)
    claim = claim_run(folder, _owner(), stale_after_s=600.0)
    assert (claim is not None) == taken
    assert not path.with_name("seed-0.claim.break").exists()


def _done(folder: Path) -> None:
    write_run(folder, run_id="x/p/s", seed=0, rows=[], verdicts={}, manifest={"config": {}})


def test_two_queues_split_the_runs_and_each_sees_the_others_done(tmp_path: Path) -> None:
    folders = {f"run-{k}": tmp_path / f"seed-{k}" for k in range(3)}
    with ClaimKeeper() as keeper_a, ClaimKeeper() as keeper_b:
        a = SharedQueue(folders, is_complete, keeper_a)
        b = SharedQueue(folders, is_complete, keeper_b)
        assert a.take() == "run-0" and b.take() == "run-1" and a.take() == "run-2"
        assert b.take() is None and b.waiting()  # run-0 and run-2 are a's
        _done(folders["run-0"])
        a.finish("run-0")
        assert b.take() is None and b.by_others == ["run-0"]
        a.finish("run-2")  # a gave run-2 up (it failed): b may take it
        assert b.take() == "run-2" and not b.waiting()
        _done(folders["run-1"])
        _done(folders["run-2"])
    assert not list(tmp_path.glob("*.claim"))  # the keepers let go of every claim


def _group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group ``pgid``, from Linux's /proc."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(stat.parent.name))
    return members


ACCONV = Path(sys.executable).with_name("acconv")  # the console script, as a user runs it


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
@pytest.mark.skipif(not ACCONV.is_file(), reason="the acconv console script is not installed")
@pytest.mark.parametrize("bars", [[], ["--quiet"]], ids=["progress", "quiet"])
def test_killing_acconv_run_leaves_no_process_running(tmp_path: Path, bars: list[str]) -> None:
    # Runs of about half a minute each on 2 workers; with progress bars, a manager process too.
    # Before: after a SIGKILL of the main process alone, the workers went on with their runs,
    # and they, the forkserver and the resource tracker were still there 15 s later. Now every
    # process of the group is gone within a few seconds, and no run is finished after the kill.
    out = tmp_path / "out"
    command = [str(ACCONV), "run", str(EXAMPLE), "--workers", "2", "--out", str(out), *bars]
    command += ["--set", "budget.n_updates=40000", "--set", "seeds.count=2"]
    main = subprocess.Popen(
        command, process_group=0, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while len(list(out.rglob("*.claim"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(list(out.rglob("*.claim"))) == 2, "two runs should be under way"
        time.sleep(2.0)  # the workers start their runs
        assert len(_group_members(main.pid)) >= 4  # main, forkserver, 2 workers, ...
        main.send_signal(signal.SIGKILL)
        main.wait()
        deadline = time.monotonic() + 10
        while _group_members(main.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _group_members(main.pid) == []
        assert not list(out.rglob(METRICS))  # no run was finished after the kill
    finally:
        for pid in _group_members(main.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


_SWEEP = """
import json, sys
from acconv.runner import run_spec
from acconv.spec import load_spec
spec = load_spec(sys.argv[1], ["budget.n_updates=600", "seeds.count=2"])
summary = run_spec(spec, sys.argv[2], workers=1, progress=False)
print(json.dumps({"done": summary.done, "by_others": summary.by_others}))
"""


@pytest.mark.slow
def test_two_acconv_runs_on_one_sweep_compute_each_run_once(tmp_path: Path) -> None:
    shared, alone = tmp_path / "shared", tmp_path / "alone"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _SWEEP, str(EXAMPLE), str(out)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for out in (shared, shared, alone)
    ]
    first, second, single = (json.loads(p.communicate(timeout=300)[0]) for p in processes)
    assert sorted(first["done"] + second["done"]) == sorted(single["done"])  # each once
    assert first["done"] and second["done"]  # both took a share
    assert sorted(first["by_others"]) == sorted(second["done"])
    assert sorted(second["by_others"]) == sorted(first["done"])

    def files(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob(METRICS))}

    assert files(shared) == files(alone) and len(files(alone)) == 4
    assert not [p for p in shared.rglob("*") if "claim" in p.name or ".tmp-" in p.name]
