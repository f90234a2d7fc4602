"""Specs, the runner and results on disk: one-line spec errors, determinism, atomic resume."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from acconv.cli import main
from acconv.results import METRICS, is_complete, load_results
from acconv.runner import expand, run_spec
from acconv.spec import SpecError, load_spec

EXAMPLE = Path(__file__).resolve().parents[1] / "experiments" / "example_actor_critic.toml"
# A shorter budget keeps the tests fast; every test that compares files uses the same one.
FAST = ["budget.n_updates=30"]


def _metrics_files(out_dir: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(out_dir)): path.read_bytes() for path in sorted(out_dir.rglob(METRICS))
    }


def _published(out_dir: Path) -> list[Path]:
    """Run folders whose atomic rename happened (not ``.tmp-`` folders still being written)."""
    return [p.parent for p in out_dir.rglob("manifest.json") if ".tmp-" not in p.parent.name]


def _spec_with(tmp_path: Path, old: str, new: str) -> Path:
    text = EXAMPLE.read_text()
    assert old in text, old
    path = tmp_path / "spec.toml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('kind = "actor_critic"', 'kind = "foo"', "learner.kind is 'foo', expected one of"),
        ("n_updates = 100", "n_updates = -5", "budget.n_updates is -5, expected"),
        ("n_updates = 100", 'n_updates = "ten"', "budget.n_updates is 'ten', expected"),
        ('critic_lr = "0.5/(n+1)**0.6"', 'critic_lr = "1/(n"', "learner.critic_lr: schedule"),
        (
            'critic_lr = "0.5/(n+1)**0.6"',
            "critic_lr = \"__import__('os')\"",
            "learner.critic_lr: schedule",
        ),
        ('id = "acconv/Garnet-v0"', 'id = "NoSuchEnv-v9"', "env.id is 'NoSuchEnv-v9', expected"),
        ("episodic = true", "episodic = true\ncolour = 1", "env.colour is not a known key"),
        (
            'params = { critic_target = "mc" }',
            "params = { tau = -1.0 }",
            "learner.params.tau is -1.0, expected",
        ),
        (
            'params = { critic_target = "mc" }',
            "params = { bogus = 1 }",
            "learner.params.bogus is not a parameter of ActorCritic",
        ),
        (
            '"learner.actor_lr" = [',
            '"learner.actor_lr" = ["1/(n", ',
            "learner.actor_lr: schedule '1/(n'",
        ),
    ],
    ids=[
        "unknown-learner",
        "negative-budget",
        "wrong-type",
        "malformed-schedule",
        "unsafe-schedule",
        "unknown-env",
        "unknown-key",
        "bad-param-value",
        "unknown-param",
        "bad-sweep-value",
    ],
)
def test_a_bad_spec_is_one_line_with_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, expected: str
) -> None:
    path = _spec_with(tmp_path, old, new)
    code = main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("acconv: error: spec.toml: "), err
    assert expected in err, err
    assert "Traceback" not in out + err
    assert not (tmp_path / "out").exists()  # errors come before any run


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("learner.colour=1", "key 'learner.colour' is unknown"),
        ("nonsense=1", "key 'nonsense' is unknown"),
        ("budget.n_updates", "is not key=value"),
    ],
)
def test_a_bad_set_override_is_one_line_with_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setting: str, expected: str
) -> None:
    code = main(["run", str(EXAMPLE), "--out", str(tmp_path), "--set", setting, "--quiet"])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1 and expected in err, err


def test_the_deprecated_lam_param_is_read_as_gae_lambda_with_a_warning(tmp_path: Path) -> None:
    old = 'params = { critic_target = "mc" }'
    path = _spec_with(tmp_path, old, 'params = { critic_target = "td_lambda", lam = 0.6 }')
    warning = r"^learner\.params\.lam is deprecated, use learner\.params\.gae_lambda; removed in"
    with pytest.warns(DeprecationWarning, match=warning):
        spec = load_spec(path)
    assert spec.learner.params == {"critic_target": "td_lambda", "gae_lambda": 0.6}
    both = _spec_with(tmp_path, old, "params = { lam = 0.6, gae_lambda = 0.7 }")
    with pytest.raises(SpecError, match=r"lam and learner\.params\.gae_lambda are both given"):
        load_spec(both)


def test_set_overrides_parse_toml_scalars_and_bare_schedules() -> None:
    spec = load_spec(EXAMPLE, ["budget.n_updates=7", "learner.critic_lr=1/(n+1)**0.7"])
    assert spec.budget.n_updates == 7
    assert spec.learner.critic_lr == "1/(n+1)**0.7"
    with pytest.raises(SpecError, match=r"^example_actor_critic.toml: budget.n_updates is 0, "):
        load_spec(EXAMPLE, ["budget.n_updates=0"])


def test_expand_gives_distinct_stable_ids_and_one_seed_per_index() -> None:
    spec = load_spec(EXAMPLE)
    runs, again = expand(spec), expand(load_spec(EXAMPLE))
    # 2 sweep values × 2 seeds (the example spec).
    assert len(runs) == 4
    assert [r.run_id for r in runs] == [r.run_id for r in again]
    assert len({r.run_id for r in runs}) == 4
    assert all(r.run_id.startswith("example_actor_critic/") for r in runs)
    states = {r.run_id: r.seed_sequence().generate_state(4).tolist() for r in runs}
    assert len({tuple(s) for s in states.values()}) == 2  # seed k is shared across sweep points
    for run in runs:
        # seed k is the k-th child of SeedSequence(root).spawn(count)
        child = np.random.SeedSequence(2024).spawn(2)[run.seed]
        assert states[run.run_id] == child.generate_state(4).tolist()


def test_same_spec_and_seed_give_byte_identical_metrics(tmp_path: Path) -> None:
    spec = load_spec(EXAMPLE, [*FAST, "seeds.count=1"])
    first = run_spec(spec, tmp_path / "a", workers=1, progress=False)
    second = run_spec(spec, tmp_path / "b", workers=1, progress=False)
    assert len(first.done) == len(second.done) == 2
    a, b = _metrics_files(tmp_path / "a"), _metrics_files(tmp_path / "b")
    assert a.keys() == b.keys() and len(a) == 2
    assert a == b
    records = load_results(tmp_path / "a")
    assert [r.run_id for r in records] == sorted(r.run_id for r in expand(spec))
    table = records[0].metrics()
    assert table.column_names == ["run_id", "seed", "n", "metric", "value"]
    assert str(table.schema.field("seed").type) == "int64"
    assert {"exact/J", "schedule/critic_lr", "return/batch_mean"} <= set(
        table.column("metric").to_pylist()
    )
    # The schedule checks ran before training and are part of the results.
    step_sizes = records[0].verdicts["step_sizes"]
    assert {c["id"] for c in step_sizes["conditions"]} >= {"S1", "S2", "S3", "S4", "S5"}


def test_a_second_invocation_skips_complete_runs(tmp_path: Path) -> None:
    spec = load_spec(EXAMPLE, [*FAST, "seeds.count=1"])
    run_spec(spec, tmp_path, workers=1, progress=False)
    again = run_spec(spec, tmp_path, workers=1, progress=False)
    assert again.done == [] and len(again.skipped) == 2


def test_a_corrupt_run_folder_is_detected_and_redone(tmp_path: Path) -> None:
    spec = load_spec(EXAMPLE, [*FAST, "seeds.count=1"])
    run_spec(spec, tmp_path, workers=1, progress=False)
    before = _metrics_files(tmp_path)
    victim = next(iter(sorted(tmp_path.rglob(METRICS))))
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])  # truncate
    assert not is_complete(victim.parent)
    assert len(load_results(tmp_path)) == 1  # the corrupt run is not loaded
    half = next(p for p in sorted(tmp_path.rglob("manifest.json")) if p.parent != victim.parent)
    half.unlink()  # a folder without its manifest is half-written
    assert not is_complete(half.parent)
    summary = run_spec(spec, tmp_path, workers=1, progress=False)
    assert len(summary.done) == 2 and len(summary.redone) == 2
    assert _metrics_files(tmp_path) == before


def test_two_workers_write_the_same_files_as_one(tmp_path: Path) -> None:
    spec = load_spec(EXAMPLE, FAST)
    run_spec(spec, tmp_path / "one", workers=1, progress=False)
    summary = run_spec(spec, tmp_path / "two", workers=2, progress=False)
    assert len(summary.done) == 4 and summary.failed == []
    assert _metrics_files(tmp_path / "one") == _metrics_files(tmp_path / "two")


def test_a_killed_sweep_resumes_to_the_results_of_an_uninterrupted_one(tmp_path: Path) -> None:
    # Long enough runs (about a second each) that the kill lands mid-sweep.
    settings = ["--set", "budget.n_updates=1500", "--set", "seeds.count=2"]
    command = [sys.executable, "-m", "acconv.cli", "run", str(EXAMPLE), "--workers", "1"]
    command += ["--quiet", *settings]
    reference, resumed = tmp_path / "reference", tmp_path / "resumed"
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    process = subprocess.Popen(
        [*command, "--out", str(resumed)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    deadline = time.monotonic() + 60
    while not _published(resumed) and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    # Run folders published before the kill. A manifest inside a ".tmp-" folder is a run caught
    # between writing its manifest and the atomic rename: not published, and resume redoes it.
    finished = _published(resumed)
    assert 1 <= len(finished) < 4, "the kill should land part-way through the sweep"
    subprocess.run([*command, "--out", str(resumed)], check=True, capture_output=True, env=env)
    subprocess.run([*command, "--out", str(reference)], check=True, capture_output=True, env=env)
    assert _metrics_files(resumed) == _metrics_files(reference)
    assert len(_metrics_files(resumed)) == 4  # nothing lost, nothing duplicated
    assert not [p for p in resumed.rglob("*") if ".tmp-" in p.name]
    assert not list(resumed.rglob("*.claim"))  # the killed sweep's claims were stale: broken
    assert all(is_complete(p) for p in finished)
    shutil.rmtree(reference)


# Ray starts daemons (gcs_server, raylet, workers) in the driver's session. Each Ray test runs its
# driver in a session of its own with a time budget, then kills whatever of that session is left,
# so a Ray instance that cannot start on some machine fails or skips the test instead of hanging
# the suite (a CI run once waited 90 minutes on one).
RAY_PROBE_BUDGET_S = 180
RAY_SWEEP_BUDGET_S = 600
# A local instance: without RAY_ADDRESS, which would make ray.init connect to a cluster instead.
_RAY_ENV = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
_RAY_ENV["RAY_USAGE_STATS_ENABLED"] = "0"


def _session_members(sid: int) -> list[int]:
    """Process ids of the live processes in session ``sid`` (Linux ``/proc``)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def _run_in_own_session(code: str, budget_s: float, log: Path) -> tuple[int | None, list[int]]:
    """Run ``python -c code`` in a new session with output to ``log``.

    Returns the exit code (``None`` when it ran past ``budget_s``) and the processes of its session
    still alive after it ended, which are then killed.
    """
    with log.open("w") as sink:
        driver = subprocess.Popen(
            [sys.executable, "-c", code],
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=_RAY_ENV,
        )
        try:
            code_or_none: int | None = driver.wait(timeout=budget_s)
        except subprocess.TimeoutExpired:
            code_or_none = None
    left = [pid for pid in _session_members(driver.pid) if pid != driver.pid]
    for pid in [driver.pid, *left]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    driver.wait()
    return code_or_none, left


def _tail(log: Path, lines: int = 15) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Skip (with the reason) when this machine cannot run one trivial task on a local Ray."""
    pytest.importorskip("ray")
    log = tmp_path_factory.mktemp("ray-probe") / "probe.log"
    code, _ = _run_in_own_session(
        "import ray\n"
        "ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)\n"
        "assert ray.get(ray.remote(lambda: 1).remote()) == 1\n"
        "ray.shutdown()\n",
        RAY_PROBE_BUDGET_S,
        log,
    )
    if code != 0:
        outcome = f"exit code {code}" if code is not None else f"no answer in {RAY_PROBE_BUDGET_S}s"
        pytest.skip(f"a local Ray instance does not work here ({outcome}):\n{_tail(log)}")


@pytest.mark.ray
def test_the_ray_backend_writes_the_same_files_as_the_local_one(
    tmp_path: Path, local_ray: None
) -> None:
    spec = load_spec(EXAMPLE, FAST)
    run_spec(spec, tmp_path / "local", workers=1, progress=False)
    argv = ["run", str(EXAMPLE), "--out", str(tmp_path / "ray"), "--workers", "2"]
    argv += ["--backend", "ray", "--quiet", *[a for o in FAST for a in ("--set", o)]]
    log = tmp_path / "ray.log"
    code, left = _run_in_own_session(
        f"from acconv.cli import main\nraise SystemExit(main({argv!r}))\n", RAY_SWEEP_BUDGET_S, log
    )
    assert code == 0, f"acconv run --backend ray: exit code {code}\n{_tail(log)}"
    assert left == []  # run_spec started Ray, so it shut it down: no daemon outlives the driver
    assert _metrics_files(tmp_path / "local") == _metrics_files(tmp_path / "ray")
    assert len(list((tmp_path / "ray").rglob(METRICS))) == 4
    assert all(is_complete(p.parent) for p in (tmp_path / "ray").rglob(METRICS))
    # Resuming is shared with the local backend: nothing pending, so Ray is not even started.
    again = run_spec(spec, tmp_path / "ray", workers=2, progress=False, backend="ray")
    assert again.done == [] and len(again.skipped) == 4


def test_the_ray_backend_without_ray_is_one_line_with_exit_code_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    out_dir = tmp_path / "out"
    code = main(["run", str(EXAMPLE), "--out", str(out_dir), "--backend", "ray", "--quiet"])
    out, err = capsys.readouterr()
    assert code == 2
    assert err == (
        "acconv: error: backend 'ray' needs the ray extra: "
        'pip install -c constraints.txt ".[ray]"\n'
    )
    assert "Traceback" not in out + err
    assert not out_dir.exists()  # the error comes before anything is written


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--backend", "dask"], "--backend is 'dask', expected local or ray"),
        (["--address", "auto"], "--address needs --backend ray"),
    ],
)
def test_a_bad_backend_option_is_one_line_with_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], expected: str
) -> None:
    code = main(["run", str(EXAMPLE), "--out", str(tmp_path / "out"), "--quiet", *arguments])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1 and expected in err, err


def test_importing_acconv_does_not_import_ray() -> None:
    code = "import sys, acconv, acconv.runner, acconv.cli; assert 'ray' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_run_reports_its_progress_without_changing_its_results() -> None:
    from acconv.runner import execute

    run = expand(load_spec(EXAMPLE, ["budget.n_updates=100", "seeds.count=1"]))[0]
    seen: list[tuple[int, int]] = []
    with_bar = execute(run, lambda done, total: seen.append((done, total)))
    # About 50 reports per run (every max(1, 100 // 50) = 2 updates), ending at (100, 100).
    assert seen[-1] == (100, 100) and len(seen) == 50
    assert [done for done, _ in seen] == sorted({done for done, _ in seen})
    assert with_bar.rows == execute(run).rows  # the progress observer logs nothing
