"""One definition of ``diag/approx_kl`` (issue 11, item 9): acconv's neural PPO and SB3's PPO log
the same statistic of the same per-minibatch numbers — the mean of the minibatch KLs of the last
epoch (:func:`acconv.estimators.last_epoch_mean`) — so one ``ppo/kl`` threshold serves both.

Both learners are fed the same prescribed per-minibatch log-ratios: 3 epochs of 2 minibatches,
log r = c_k constant on minibatch k, so minibatch k's KL is e^{c_k} - 1 - c_k. SB3 runs with
learning rate 0 (the policy never moves, so its own log-ratio is 0 and ours is c_k exactly);
the neural PPO's per-minibatch statistic is replaced by the same number.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from acconv.estimators import approx_kl, last_epoch_mean  # noqa: E402

# 3 epochs × 2 minibatches of 4 of the 8 transitions.
LOG_RATIOS = [0.05, -0.1, 0.2, 0.15, -0.3, 0.4]
N_EPOCHS, N_STEPS, BATCH = 3, 8, 4
KLS = [approx_kl(np.array([c])) for c in LOG_RATIOS]
PER_EPOCH = [KLS[0:2], KLS[2:4], KLS[4:6]]


def test_approx_kl_is_the_k3_estimator_and_the_update_statistic_is_the_last_epoch_mean() -> None:
    # k3 at log r = 0.4: e^0.4 - 1 - 0.4 = 0.0918247 (by hand: e^0.4 = 1.4918247).
    assert KLS[-1] == pytest.approx(0.0918247, abs=1e-7)
    expected = (KLS[4] + KLS[5]) / 2
    assert last_epoch_mean(PER_EPOCH) == pytest.approx(expected, rel=1e-12)
    # The all-epoch mean is a different number on these inputs: the test below can tell them.
    assert abs(np.mean(KLS) - expected) > 0.01
    with pytest.raises(ValueError, match="per_epoch"):
        last_epoch_mean([[], []])


def _neural_ppo_kl(monkeypatch: pytest.MonkeyPatch) -> float:
    from acconv.envs import FiniteMDPEnv
    from acconv.mdp import chain
    from acconv.neural.ppo import PPO

    calls = iter(KLS)
    original = PPO._losses

    def losses(self: PPO, minibatch: Any) -> Any:
        actor_loss, critic_loss, stats = original(self, minibatch)
        stats = stats.clone()
        stats[0, 2] = next(calls)  # the prescribed minibatch KL of the one seed
        return actor_loss, critic_loss, stats

    monkeypatch.setattr(PPO, "_losses", losses)
    learner = PPO(n_steps=N_STEPS, batch_size=BATCH, n_epochs=N_EPOCHS, hidden=(8,))
    learner.learn(FiniteMDPEnv(chain(4, slip=0.1, gamma=0.95)), 1, np.random.default_rng(0))
    [(_, diagnostics)] = learner._diagnostics[0]
    return float(diagnostics["approx_kl"])


def _sb3_ppo_kl() -> float:
    pytest.importorskip("stable_baselines3")
    import gymnasium
    from stable_baselines3 import PPO

    model = PPO(
        "MlpPolicy",
        gymnasium.make("FrozenLake-v1"),
        n_steps=N_STEPS,
        batch_size=BATCH,
        n_epochs=N_EPOCHS,
        learning_rate=0.0,
        seed=0,
        device="cpu",
    )
    evaluate = model.policy.evaluate_actions
    shifts = iter(LOG_RATIOS)

    def shifted(obs: Any, actions: Any) -> Any:
        values, log_prob, entropy = evaluate(obs, actions)
        return values, log_prob + next(shifts), entropy  # log r = 0 + c_k (lr 0: no move)

    model.policy.evaluate_actions = shifted  # type: ignore[method-assign]
    model.learn(N_STEPS)  # one rollout, one train(): 3 epochs × 2 minibatches
    return float(model.logger.name_to_value["train/approx_kl"])


def test_neural_ppo_logs_the_last_epoch_mean_of_its_minibatch_kls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _neural_ppo_kl(monkeypatch) == pytest.approx(last_epoch_mean(PER_EPOCH), rel=1e-12)


def test_sb3_logs_the_same_statistic_of_the_same_numbers() -> None:
    # SB3 computes in float32 (relative error ~1e-7 on log r).
    assert _sb3_ppo_kl() == pytest.approx(last_epoch_mean(PER_EPOCH), rel=1e-5)
