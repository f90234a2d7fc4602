"""Neural and SB3 learners in specs: verdicts on disk, evaluation returns, skipped extras."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from acconv.cli import main
from acconv.results import load_results
from acconv.runner import run_spec
from acconv.spec import SpecError, load_spec

pytest.importorskip("torch")
pytest.importorskip("stable_baselines3")

EXPERIMENTS = Path(__file__).resolve().parents[1] / "acconv" / "experiments"
TINY_PPO = ["learner.params.n_steps=64", "learner.params.batch_size=32", "budget.n_updates=2"]


def _verdicts(out: Path) -> dict[str, dict[str, object]]:
    (path,) = list(out.rglob("verdicts.json"))
    verdicts = json.loads(path.read_text())
    return {v["id"]: v for v in verdicts["observers"]} | {"_steps": verdicts["step_sizes"]}


def test_a_neural_ppo_spec_writes_network_verdicts_and_the_evaluation(tmp_path: Path) -> None:
    spec = load_spec(
        EXPERIMENTS / "neural_ppo_frozenlake.toml",
        [*TINY_PPO, "seeds.count=1", "budget.eval_episodes=5"],
    )
    run_spec(spec, tmp_path, workers=1, progress=False)
    verdicts = _verdicts(tmp_path)
    # Constant 1e-3 for both networks: S3 and S4 fail, decided symbolically before the run.
    steps = {c["id"]: c["status"] for c in verdicts["_steps"]["conditions"]}  # type: ignore[index]
    assert steps["S3"] == "violated" and steps["S4"] == "violated"
    assert verdicts["optimizer"]["status"] == "undecided"  # Adam
    assert verdicts["A10"]["status"] == "violated"  # the clip objective is not analytic
    assert verdicts["A5"]["status"] == "undecided"  # rollouts continue across updates
    assert "rollouts" in str(verdicts["A5"]["detail"])
    (record,) = load_results(tmp_path)
    table = record.metrics().to_pydict()
    metrics = dict(zip(table["metric"], table["value"], strict=False))
    assert 0.0 <= metrics["eval/return"] <= 1.0  # FrozenLake pays 1 on success only
    assert "exact/J" in metrics and "track/error" in metrics


def test_an_sb3_spec_reports_its_learning_rate_as_used(tmp_path: Path) -> None:
    spec = load_spec(
        EXPERIMENTS / "sb3_ppo_cartpole.toml",
        [*TINY_PPO, "seeds.count=1", "budget.eval_episodes=2"],
    )
    run_spec(spec, tmp_path, workers=1, progress=False)
    verdicts = _verdicts(tmp_path)
    steps = {c["id"]: c["status"] for c in verdicts["_steps"]["conditions"]}  # type: ignore[index]
    assert steps["S1"] == "holds" and steps["S3"] == "violated" and steps["S4"] == "violated"
    assert verdicts["_steps"]["two_timescale"] == "violated"  # type: ignore[index]
    assert verdicts["A2"]["status"] == "violated"
    (record,) = load_results(tmp_path)
    assert "eval/return" in record.metrics().column("metric").to_pylist()


def test_neural_kinds_refuse_a_temperature_and_sb3_kinds_refuse_schedules(
    tmp_path: Path,
) -> None:
    with pytest.raises(
        SpecError, match=re.escape("learner.beta is 2.0, expected no beta for neural_ppo")
    ):
        load_spec(EXPERIMENTS / "neural_ppo_cartpole.toml", ["learner.beta=2.0"])
    with pytest.raises(
        SpecError, match=re.escape("SB3 has one optimiser: set learner.params.learning_rate")
    ):
        load_spec(EXPERIMENTS / "sb3_ppo_cartpole.toml", ["learner.critic_lr=0.1"])
    with pytest.raises(SpecError, match="colour is not a hyperparameter of SB3's PPO"):
        load_spec(EXPERIMENTS / "sb3_ppo_cartpole.toml", ["learner.params.colour=1"])


def test_the_same_seed_gives_the_same_neural_metrics(tmp_path: Path) -> None:
    spec = load_spec(EXPERIMENTS / "neural_rudder.toml", ["budget.n_updates=2", "seeds.count=1"])
    run_spec(spec, tmp_path / "a", workers=1, progress=False)
    run_spec(spec, tmp_path / "b", workers=1, progress=False)
    files = [next((tmp_path / d).rglob("metrics.parquet")).read_bytes() for d in "ab"]
    assert files[0] == files[1]


def test_reproduce_skips_entries_whose_extra_is_missing_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import acconv.reproduce as reproduce

    suite = [e for e in reproduce.load_suite() if e.needs][:1]
    monkeypatch.setattr(reproduce, "load_suite", lambda: suite)
    monkeypatch.setattr(type(suite[0]), "missing_extras", lambda self: ["neural"])
    code = main(["reproduce", "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 0
    assert f"skipped {suite[0].spec} ({suite[0].claim}): needs the neural extra" in err
    assert not any((tmp_path / "out").glob("*/*/verdicts.json"))


def test_a_neural_spec_takes_mode_sampled_and_refuses_expected() -> None:
    load_spec(EXPERIMENTS / "neural_rudder.toml", ['learner.mode="sampled"'])
    with pytest.raises(SpecError, match="a network has no exact mean-field twin"):
        load_spec(EXPERIMENTS / "neural_rudder.toml", ['learner.mode="expected"'])
    with pytest.raises(SpecError, match="a network has no exact mean-field twin"):
        load_spec(EXPERIMENTS / "sb3_ppo_cartpole.toml", ['learner.mode="expected"'])


def test_neural_rudder_takes_its_episodes_per_update_from_the_budget(tmp_path: Path) -> None:
    spec = load_spec(
        EXPERIMENTS / "neural_rudder.toml",
        ["budget.n_updates=1", "seeds.count=1", "budget.episodes_per_update=3"],
    )
    run_spec(spec, tmp_path, workers=1, progress=False)
    (record,) = load_results(tmp_path)
    table = record.metrics().to_pydict()
    steps = [
        v for m, v in zip(table["metric"], table["value"], strict=True) if m == "progress/env_steps"
    ]
    # Delay 8: every episode has 9 decisions, so 3 episodes are 27 steps.
    assert steps == [27.0]


def _count_batches(monkeypatch: pytest.MonkeyPatch, learner: type) -> list[int]:
    """The number of seeds of every ``learner.learn_seeds`` call from now on."""
    batches: list[int] = []
    original = learner.learn_seeds  # type: ignore[attr-defined]

    def counted(self: object, envs: object, *args: object, **kwargs: object) -> object:
        batches.append(len(envs))  # type: ignore[arg-type]
        return original(self, envs, *args, **kwargs)

    monkeypatch.setattr(learner, "learn_seeds", counted)
    return batches


def _rows(folder: Path) -> dict[tuple[int, str], float]:
    """A run folder's metrics, ``{(n, metric): value}``."""
    (record,) = load_results(folder)
    table = record.metrics().to_pydict()
    return {(n, m): v for n, m, v in zip(table["n"], table["metric"], table["value"], strict=True)}


def _assert_close_rows(got: dict[Any, float], expected: dict[Any, float]) -> None:
    """The same rows, values to the rounding of tests/test_neural_batched.py."""
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert np.isclose(got[key], value, rtol=1e-4, atol=1e-4, equal_nan=True), key


def _assert_only_the_missing_seed_is_redone(
    spec: Any, out: Path, run: Any, batches: list[int], first: dict[Any, float]
) -> None:
    """Delete ``run``'s folder and run the sweep again: only that seed trains, and alone."""
    shutil.rmtree(out / run.folder)
    batches.clear()
    again = run_spec(spec, out, workers=1, progress=False)
    assert again.done == [run.run_id] and len(again.skipped) == 2
    assert batches == [1]  # only the missing seed
    manifest = json.loads((out / run.folder / "manifest.json").read_text())
    assert manifest["batch"] == {"seeds": [run.seed], "torch_threads": 1}  # workers=1
    _assert_close_rows(_rows(out / run.folder), first)


def test_neural_ppo_seeds_train_as_one_batch_write_one_folder_each_and_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--seeds 3`` is one batched job; each folder holds what its seed alone gives (to the
    rounding of tests/test_neural_batched.py), and a missing folder is redone alone."""
    from acconv.neural import PPO
    from acconv.runner import execute, expand

    batches = _count_batches(monkeypatch, PPO)
    spec = load_spec(
        EXPERIMENTS / "neural_ppo_frozenlake.toml",
        [*TINY_PPO, "seeds.count=3", "budget.eval_episodes=3"],
    )
    summary = run_spec(spec, tmp_path, workers=2, progress=False)
    assert batches == [3] and len(summary.done) == 3 and not summary.failed

    runs = expand(spec)
    # The manifest says how the seed was computed: its batch, and workers as torch threads.
    manifest = json.loads((tmp_path / runs[1].folder / "manifest.json").read_text())
    assert manifest["batch"] == {"seeds": [0, 1, 2], "torch_threads": min(2, os.cpu_count() or 1)}
    first = _rows(tmp_path / runs[1].folder)
    result = execute(runs[1])
    alone = {(n, m): v for n, m, v in result.rows}
    written = json.loads((tmp_path / runs[1].folder / "verdicts.json").read_text())

    def statuses(verdicts: dict[str, object]) -> list[tuple[object, ...]]:
        return [(v["id"], v["status"], v.get("lean")) for v in verdicts["observers"]]  # type: ignore[attr-defined, index]

    assert statuses(written) == statuses(result.verdicts)  # the same verdicts, seed by seed
    # Seed 1 of the batch solved its own critic's equilibrium λ(θ) (its slice of the stack):
    # the tracking numbers against it are among the rows compared below.
    assert {m for _, m in alone} >= {"track/error_weighted", "track/approximation_error"}
    _assert_close_rows(first, alone)  # tables to 1e-4 in the test above; metrics of them too
    _assert_only_the_missing_seed_is_redone(spec, tmp_path, runs[1], batches, first)


def test_a_failing_batch_fails_each_of_its_runs_and_writes_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from acconv.neural import PPO

    def broken(self: PPO, *args: object, **kwargs: object) -> object:
        raise RuntimeError("no luck")

    monkeypatch.setattr(PPO, "learn_seeds", broken)
    spec = load_spec(EXPERIMENTS / "neural_ppo_frozenlake.toml", [*TINY_PPO, "seeds.count=2"])
    summary = run_spec(spec, tmp_path, workers=1, progress=False)
    assert not summary.done
    assert [message for _, message in summary.failed] == ["RuntimeError: no luck"] * 2
    assert not list(tmp_path.rglob("verdicts.json"))


TINY_RUDDER = ["budget.n_updates=2", "budget.episodes_per_update=3", "budget.eval_episodes=3"]


def test_neural_rudder_seeds_train_as_one_batch_write_one_folder_each_and_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As for neural PPO above: ``--seeds 3`` of neural_rudder.toml is one batched job, each
    folder is what its seed alone gives, and a resumed sweep trains only the missing seed."""
    from acconv.neural import RUDDER
    from acconv.runner import execute, expand

    batches = _count_batches(monkeypatch, RUDDER)
    spec = load_spec(EXPERIMENTS / "neural_rudder.toml", [*TINY_RUDDER, "seeds.count=3"])
    summary = run_spec(spec, tmp_path, workers=2, progress=False)
    assert batches == [3] and len(summary.done) == 3 and not summary.failed

    runs = expand(spec)
    first = _rows(tmp_path / runs[2].folder)
    alone = {(n, m): v for n, m, v in execute(runs[2]).rows}
    assert (1, "diag/return_model_loss") in alone
    _assert_close_rows(first, alone)
    _assert_only_the_missing_seed_is_redone(spec, tmp_path, runs[2], batches, first)


def test_a_neural_rudder_spec_with_adam_trains_its_seeds_as_one_batch_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Adam is per seed in a RUDDER batch (SeedAdam), so an Adam spec batches as SGD does."""
    from acconv.neural import RUDDER
    from acconv.runner import batches_seeds

    batches = _count_batches(monkeypatch, RUDDER)
    overrides = ["budget.n_updates=1", "budget.episodes_per_update=2", "seeds.count=2"]
    adam = load_spec(
        EXPERIMENTS / "neural_rudder.toml", [*overrides, "learner.params.optimizer=adam"]
    )
    assert batches_seeds(adam)
    summary = run_spec(adam, tmp_path, workers=1, progress=False)
    assert len(summary.done) == 2 and not summary.failed
    assert batches == [2]
