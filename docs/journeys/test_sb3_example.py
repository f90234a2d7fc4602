"""Convergence assertions on a Stable-Baselines3 run (needs the neural extra).

The callback turns SB3's training into acconv's events; the environment carries its model, so
the critic's tracking error against the exact V^π is computed exactly.
"""

import gymnasium as gym
import pytest
import torch
from stable_baselines3 import PPO

import acconv  # noqa: F401  (registers the acconv/ environments)
from acconv.adapters.sb3 import ConvergenceCallback
from acconv.testing import assert_assumptions, assert_two_timescale

torch.set_num_threads(1)  # small networks: a second thread only costs CPU


@pytest.fixture(scope="module")
def callback():
    env = gym.make("acconv/DelayedChain-v0", delay=3)  # its model is env.unwrapped.mdp
    callback = ConvergenceCallback()  # default observers: a Recorder and a TwoTimescaleMonitor
    model = PPO("MlpPolicy", env, n_steps=64, batch_size=32, n_epochs=2, seed=0, device="cpu")
    model.learn(total_timesteps=6 * 64, callback=callback)
    return callback


def test_sb3_default_ppo_has_no_timescale_separation(callback):
    report = callback.step_size_report()  # S1-S7 of the learning rate SB3 actually used
    with pytest.raises(AssertionError, match="S4"):  # one optimiser: b(n)/a(n) = 1
        assert_two_timescale(report.critic, report.actor)


def test_the_run_meets_some_hypotheses_and_not_others(callback):
    verdicts = callback.verdicts()
    assert_assumptions(verdicts, require=["A9"])  # a fixed softmax temperature
    with pytest.raises(AssertionError, match="no timescale separation"):
        assert_assumptions(verdicts, require=["A2"])


def test_the_tracking_error_is_measured_through_the_last_update(callback):
    # ‖V_ω − V^π‖ on the visited states, with V^π solved exactly from the environment's model.
    updates = [n for n, key, _ in callback.monitor.rows if key == "track/error"]
    assert updates[-1] == 5  # 6 rollouts of 64 steps: updates n = 0..5
