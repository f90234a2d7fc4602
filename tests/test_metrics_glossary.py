"""Every key the recorder logs is explained in docs/metrics.md (DESIGN.md §4, rule 6)."""

from __future__ import annotations

import re
from pathlib import Path

import gymnasium
import numpy as np
import pytest

import acconv  # registers the acconv/ environments; also used below
from acconv.instrument import Recorder
from acconv.loop import train
from acconv.tabular.actor_critic import ActorCritic
from acconv.tabular.ppo import PPO
from acconv.tabular.rudder import RUDDER

GLOSSARY = Path(__file__).resolve().parents[1] / "docs" / "metrics.md"


def _documented_keys() -> set[str]:
    return set(re.findall(r"^\| `([a-z_]+/[A-Za-z_]+)` \|", GLOSSARY.read_text(), re.MULTILINE))


@pytest.mark.parametrize(
    "learner",
    [
        ActorCritic(),
        ActorCritic(mode="expected"),
        PPO(),
        PPO(mode="expected"),
        RUDDER(),
        RUDDER(mode="expected"),
    ],
    ids=["ac", "ac-expected", "ppo", "ppo-expected", "rudder", "rudder-expected"],
)
def test_every_recorded_key_is_in_the_glossary(learner: object) -> None:
    mdp = gymnasium.make("acconv/DelayedChain-v0", delay=3).unwrapped.mdp
    recorder = Recorder()
    train(learner, mdp, 3, np.random.default_rng(0), [recorder])  # type: ignore[arg-type]
    recorded = {key for _, key, _ in recorder.rows}
    assert recorded, "the recorder logged nothing"
    assert recorded <= _documented_keys(), recorded - _documented_keys()


def test_every_bound_tracker_key_is_in_the_glossary() -> None:
    from acconv.instrument import BoundTracker
    from acconv.mdp import from_gymnasium
    from acconv.tabular import NPG, PolicyMirrorDescent, SoftmaxPG
    from acconv.theory_checks import BOUNDS

    mdp = from_gymnasium(gymnasium.make("FrozenLake-v1"), gamma=0.9)
    # The learner each bound certifies (the envelopes watch a two-timescale actor-critic).
    learners = {
        "mei2020_thm4": SoftmaxPG(),
        "mei2020_thm6": SoftmaxPG(tau=0.1),
        "akm2021_npg": NPG(eta=1.0),
        "cen2022_thm1": NPG(eta=0.5, tau=0.1),
        "cen2022_thm1_policy": NPG(eta=0.5, tau=0.1),
        "xiao2022_pmd": PolicyMirrorDescent(eta0=1.0),
        "mp2006_fast": ActorCritic(),
        "mp2006_slow": ActorCritic(),
    }
    documented = set(
        re.findall(r"^\| `(bound/<id>/[a-z_]+)` \|", GLOSSARY.read_text(), re.MULTILINE)
    )
    episodic = acconv.discount_as_termination(mdp)
    for bound in BOUNDS:
        learner = learners[bound.id]
        tracker = BoundTracker(bound)
        model = episodic if isinstance(learner, ActorCritic) else mdp
        train(learner, model, 2, np.random.default_rng(0), [tracker])  # type: ignore[arg-type]
        seen = {key.replace(f"bound/{bound.id}/", "bound/<id>/") for _, key, _ in tracker.rows}
        assert seen <= documented, (bound.id, seen - documented)


def test_every_monitor_key_is_in_the_glossary() -> None:
    from acconv.instrument.monitor import METRIC_KEYS

    assert set(METRIC_KEYS) <= _documented_keys(), set(METRIC_KEYS) - _documented_keys()


@pytest.mark.parametrize("algorithm", ["PPO", "A2C"])
def test_every_key_of_an_sb3_run_is_in_the_glossary(algorithm: str) -> None:
    pytest.importorskip("stable_baselines3")
    from acconv.adapters.sb3 import ConvergenceCallback, run_sb3

    env = gymnasium.make("acconv/DelayedChain-v0", delay=3)
    settings = {"n_steps": 32, "batch_size": 16, "n_epochs": 1} if algorithm == "PPO" else {}
    run = run_sb3(algorithm, env, 64, seed=0, hyperparameters=settings)
    callback: ConvergenceCallback = run.callback
    assert callback.recorder is not None and callback.monitor is not None
    recorded = {key for _, key, _ in callback.recorder.rows + callback.monitor.rows}
    assert recorded, "the SB3 run logged nothing"
    assert recorded <= _documented_keys(), recorded - _documented_keys()


def test_every_key_of_a_neural_run_is_in_the_glossary() -> None:
    pytest.importorskip("torch")
    from acconv.neural import PPO as NeuralPPO
    from acconv.neural import RUDDER as NeuralRUDDER

    small = {"hidden": (8,), "batch_size": 16, "n_epochs": 1}
    runs = [
        (NeuralPPO(n_steps=32, **small), "CartPole-v1"),  # type: ignore[arg-type]
        (
            NeuralRUDDER(
                coupling="replace_reward", residual="uniform", episodes_per_update=2, n_cells=4,
                **small,  # type: ignore[arg-type]
            ),
            "acconv/DelayedChain-v0",
        ),
    ]
    for learner, env_id in runs:
        recorder = Recorder()
        learner.learn(gymnasium.make(env_id), 2, np.random.default_rng(0), [recorder])
        recorded = {key for _, key, _ in recorder.rows}
        assert recorded <= _documented_keys(), recorded - _documented_keys()
    assert {"eval/return", "eval/return_std"} <= _documented_keys()
