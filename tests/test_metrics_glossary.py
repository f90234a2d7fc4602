"""Every key the recorder logs is explained in docs/metrics.md (DESIGN.md §4, rule 6)."""

from __future__ import annotations

import re
from pathlib import Path

import gymnasium
import numpy as np
import pytest

import acconv  # noqa: F401  (registers the acconv/ environments)
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
