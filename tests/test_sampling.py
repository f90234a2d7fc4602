"""Tests of ``acconv.sampling``: episode statistics of the vectorised :class:`MDPSampler` and of
the Gymnasium slow path against exact quantities (z-tests), batch layout, seeding, truncation and
the reward model (``R_next``, ``R_noise``).

Statistical tests use fixed seeds and a 4-standard-error band: for a correct sampler a single
z-test fails with probability 6e-5, so a failure points at a bug, not at bad luck.
"""

from __future__ import annotations

import dataclasses

import gymnasium
import numpy as np
import pytest

import acconv  # noqa: F401  (registers the acconv/ environments)
from acconv import sampling
from acconv.estimators import discounted_returns
from acconv.exact import expected_visits, optimal_values, policy_evaluation
from acconv.mdp import FiniteMDP, chain, discount_as_termination, from_gymnasium, garnet
from acconv.policies import softmax_policy
from acconv.sampling import EpisodeBatch, MDPSampler, sample_env_episodes

Z = 4.0  # standard errors allowed in every z-test (two-sided false-alarm rate 6.3e-5)


def _frozen_lake() -> FiniteMDP:
    return from_gymnasium(gymnasium.make("FrozenLake-v1"), gamma=1.0)


def _frozen_lake_policy(mdp: FiniteMDP) -> np.ndarray:
    """softmax(10 Q*): proper (every action has positive probability) and reaches the goal
    often enough (J ≈ 0.15) for the mean return to be a sharp check."""
    return softmax_policy(optimal_values(mdp).Q, 10.0)


def _terminating_garnet(seed: int = 0) -> tuple[FiniteMDP, FiniteMDP]:
    base = garnet(6, 3, 3, np.random.default_rng(seed), gamma=0.9)
    return base, discount_as_termination(base)


def _assert_within_z(sample: np.ndarray, expected: np.ndarray | float) -> None:
    """Per coordinate, the sample mean is within Z standard errors of ``expected``.

    Coordinates whose sample has no spread must equal ``expected`` up to rounding.
    """
    sample = np.asarray(sample, dtype=np.float64)
    mean = sample.mean(axis=0)
    se = sample.std(axis=0, ddof=1) / np.sqrt(len(sample))
    expected = np.broadcast_to(np.asarray(expected, dtype=np.float64), mean.shape)
    spread = se > 0
    z = np.abs(mean - expected)[spread] / se[spread]
    assert (z < Z).all(), f"z-scores {z[z >= Z]} at {np.argwhere(spread)[z >= Z].tolist()}"
    np.testing.assert_allclose(mean[~spread], expected[~spread], rtol=0, atol=1e-12)


def _visit_counts(batch: EpisodeBatch, n_states: int) -> np.ndarray:
    """``counts[b, s]``: decisions taken in state ``s`` during episode ``b``."""
    counts = np.zeros((batch.n_episodes, n_states))
    rows = np.broadcast_to(np.arange(batch.n_episodes)[:, None], batch.mask.shape)
    np.add.at(counts, (rows[batch.mask], batch.states[:, :-1][batch.mask]), 1.0)
    return counts


# --------------------------------------------------------------------------------------------
# Episode statistics against exact quantities
# --------------------------------------------------------------------------------------------


def test_mean_return_on_frozen_lake_matches_exact_value_of_policy():
    mdp = _frozen_lake()
    pi = _frozen_lake_policy(mdp)
    batch = MDPSampler(mdp).sample(pi, 20_000, np.random.default_rng(1))
    # γ = 1: J = ρᵀ V^π is the probability of reaching the goal (THEORY.md §6.1).
    _assert_within_z(batch.returns(1.0), float(mdp.rho @ policy_evaluation(mdp, pi)))
    assert batch.terminated.all()  # a proper policy and no max_steps: every episode ends


def test_mean_undiscounted_return_of_discount_as_termination_equals_discounted_value():
    base, episodic = _terminating_garnet()
    pi = softmax_policy(np.random.default_rng(2).normal(size=(episodic.n_states, 3)))
    batch = MDPSampler(episodic).sample(pi, 20_000, np.random.default_rng(3))
    # discount_as_termination keeps V^π on the original states (its docstring), so the mean
    # undiscounted return is ρᵀ V^π of the discounted garnet.
    J = float(base.rho @ policy_evaluation(base, pi[: base.n_states]))
    _assert_within_z(batch.returns(1.0), J)


@pytest.mark.parametrize("which", ["frozen_lake", "terminating_garnet"])
def test_empirical_visits_per_episode_match_expected_visits(which):
    if which == "frozen_lake":
        mdp = _frozen_lake()
        pi = _frozen_lake_policy(mdp)
    else:
        mdp = _terminating_garnet()[1]
        pi = softmax_policy(np.random.default_rng(4).normal(size=(mdp.n_states, 3)))
    batch = MDPSampler(mdp).sample(pi, 10_000, np.random.default_rng(5))
    counts = _visit_counts(batch, mdp.n_states)
    # η1(s) = E[Σ_t 1{s_t = s}] (acconv.exact.expected_visits); terminal states get 0 visits.
    _assert_within_z(counts, expected_visits(mdp, pi))
    # Every decision is counted once: Σ_s counts = episode length.
    np.testing.assert_array_equal(counts.sum(axis=1), batch.lengths)


# --------------------------------------------------------------------------------------------
# Batch layout, seeding, truncation
# --------------------------------------------------------------------------------------------


def test_batch_layout_pads_with_last_state_and_zeros_and_mask_matches_lengths():
    _, mdp = _terminating_garnet()
    pi = np.full((mdp.n_states, 3), 1 / 3)
    batch = MDPSampler(mdp).sample(pi, 200, np.random.default_rng(6))
    T = batch.actions.shape[1]
    assert batch.states.shape == (200, T + 1)
    assert batch.rewards.shape == batch.mask.shape == (200, T)
    assert T == batch.lengths.max()
    np.testing.assert_array_equal(batch.mask, np.arange(T)[None, :] < batch.lengths[:, None])
    assert batch.n_episodes == 200
    assert batch.n_steps == batch.lengths.sum()
    for b in range(200):
        L = batch.lengths[b]
        assert (batch.states[b, L:] == batch.states[b, L]).all()  # padded with s_L
        assert (batch.actions[b, L:] == 0).all() and (batch.rewards[b, L:] == 0).all()
        assert not mdp.terminal[batch.states[b, :L]].any()  # decisions only in live states
        assert batch.terminated[b] == mdp.terminal[batch.states[b, L]]
    # returns(γ) = Σ_t γ^t r_{t+1} per episode.
    gamma = 0.7
    direct = [sum(gamma**t * batch.rewards[b, t] for t in range(T)) for b in range(200)]
    np.testing.assert_allclose(batch.returns(gamma), direct, rtol=1e-12, atol=1e-12)
    # ... which is acconv's one discounted-return function at t = 0, to the last bit.
    G = discounted_returns(batch.rewards, gamma, batch.mask)
    np.testing.assert_array_equal(batch.returns(gamma), G[:, 0])


def test_same_seed_gives_identical_batches_and_different_seed_different_ones():
    _, mdp = _terminating_garnet()
    pi = np.full((mdp.n_states, 3), 1 / 3)
    sampler = MDPSampler(mdp)
    first = sampler.sample(pi, 50, np.random.default_rng(7))
    again = sampler.sample(pi, 50, np.random.default_rng(7))
    other = sampler.sample(pi, 50, np.random.default_rng(8))
    for field in ("states", "actions", "rewards", "mask", "lengths", "terminated"):
        np.testing.assert_array_equal(getattr(first, field), getattr(again, field))
    # 50 episodes of 3 actions each: two seeds agreeing everywhere has probability < 3^-50.
    assert first.actions.shape != other.actions.shape or (first.actions != other.actions).any()


def test_truncation_at_max_steps_is_not_terminated_and_bootstraps_the_last_state():
    _, mdp = _terminating_garnet()
    pi = np.full((mdp.n_states, 3), 1 / 3)
    batch = MDPSampler(mdp).sample(pi, 500, np.random.default_rng(9), max_steps=3)
    assert batch.lengths.max() == 3
    truncated = ~batch.terminated
    # Each step survives w.p. γ = 0.9, so ≈ 0.9³ = 73% of episodes are cut: both kinds occur.
    assert truncated.any() and batch.terminated.any()
    assert (batch.lengths[truncated] == 3).all()
    assert not mdp.terminal[batch.states[truncated, 3]].any()
    boot = batch.bootstrap_mask()
    assert boot.shape == batch.states.shape
    for b in range(batch.n_episodes):
        L = batch.lengths[b]
        assert boot[b, :L].all()  # live states inside the episode
        assert boot[b, L] == truncated[b]  # s_L: bootstrap only where the episode was cut
        assert not boot[b, L + 1 :].any()


def test_improper_policy_is_truncated_by_max_steps():
    # chain(4): action 0 moves left (walls at both ends), so "always left" never ends.
    mdp = chain(4)
    always_left = np.tile([1.0, 0.0], (4, 1))
    batch = MDPSampler(mdp).sample(always_left, 5, np.random.default_rng(0), max_steps=7)
    np.testing.assert_array_equal(batch.lengths, 7)
    assert not batch.terminated.any()
    assert batch.bootstrap_mask()[:, 7].all()


def test_improper_policy_without_max_steps_raises_runtime_error(monkeypatch):
    # The documented limit (MDPSampler.sample docstring: "RuntimeError past 100,000 steps").
    assert sampling.MAX_STEPS_WITHOUT_LIMIT == 100_000
    # Lower it so the test does not step 100,000 times; the check is the same.
    monkeypatch.setattr(sampling, "MAX_STEPS_WITHOUT_LIMIT", 500)
    always_left = np.tile([1.0, 0.0], (4, 1))
    with pytest.raises(RuntimeError, match=r"improper.*max_steps"):
        MDPSampler(chain(4)).sample(always_left, 3, np.random.default_rng(0))


def test_horizon_of_time_augmented_model_ends_every_episode_at_its_length():
    delay = 4
    mdp = gymnasium.make("acconv/DelayedChain-v0", delay=delay).unwrapped.mdp
    batch = MDPSampler(mdp).sample(np.full((mdp.n_states, 2), 0.5), 30, np.random.default_rng(0))
    # Decisions at t = 0..delay, then the terminal state (DelayedChainEnv docstring).
    np.testing.assert_array_equal(batch.lengths, delay + 1)
    assert batch.terminated.all()


def test_episode_starting_in_a_terminal_state_has_length_zero_and_is_terminated():
    P = np.zeros((2, 1, 2))
    P[:, 0, 1] = 1.0  # state 0 -> terminal state 1
    mdp = FiniteMDP(
        P=P, R=np.array([[1.0], [0.0]]), gamma=1.0, rho=np.array([0.5, 0.5]),
        terminal=np.array([False, True]),
    )
    batch = MDPSampler(mdp).sample(np.ones((2, 1)), 400, np.random.default_rng(0))
    started_terminal = batch.states[:, 0] == 1
    assert started_terminal.any() and (~started_terminal).any()  # ~200 of each
    np.testing.assert_array_equal(batch.lengths, np.where(started_terminal, 0, 1))
    assert batch.terminated.all()
    # The one decision from state 0 pays R[0, 0] = 1; a terminal start earns nothing.
    np.testing.assert_array_equal(batch.returns(1.0), np.where(started_terminal, 0.0, 1.0))
    assert not batch.bootstrap_mask()[started_terminal].any()
    # When every episode starts in the terminal state the batch has no steps at all (T = 0).
    only_terminal = dataclasses.replace(mdp, rho=np.array([0.0, 1.0]))
    empty = MDPSampler(only_terminal).sample(np.ones((2, 1)), 3, np.random.default_rng(0))
    assert empty.rewards.shape == (3, 0)
    np.testing.assert_array_equal(empty.returns(0.9), np.zeros(3))


# --------------------------------------------------------------------------------------------
# Reward model
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["slippery_chain", "frozen_lake"])
def test_sampled_rewards_come_from_r_next_of_the_realised_transition(which):
    if which == "slippery_chain":
        mdp = chain(5, slip=0.3, gamma=0.9)
        pi = np.full((5, 2), 0.5)
    else:
        mdp = _frozen_lake()
        pi = _frozen_lake_policy(mdp)
    assert mdp.R_next is not None
    batch = MDPSampler(mdp).sample(pi, 500, np.random.default_rng(10))
    s, a = batch.states[:, :-1], batch.actions
    s_next = batch.states[:, 1:]
    np.testing.assert_array_equal(
        batch.rewards[batch.mask], mdp.R_next[s, a, s_next][batch.mask]
    )
    # R[s, a] is a mean (e.g. chain: R[3, 1] = 0.7, the chance of entering the goal), while
    # every realised reward is 0 or 1: the sampler did not use R.
    assert set(np.unique(batch.rewards[batch.mask])) <= {0.0, 1.0}
    assert ((mdp.R > 0) & (mdp.R < 1)).any()


def test_reward_noise_adds_zero_mean_plus_minus_noise_on_delayed_chain():
    mdp = gymnasium.make("acconv/DelayedChain-v0", delay=5, noise=0.5).unwrapped.mdp
    assert mdp.R_noise is not None
    pi = np.full((mdp.n_states, 2), 0.5)
    batch = MDPSampler(mdp).sample(pi, 4000, np.random.default_rng(11))
    s, a = batch.states[:, :-1][batch.mask], batch.actions[batch.mask]
    deviation = batch.rewards[batch.mask] - mdp.R[s, a]
    # Rademacher noise: the deviation from the mean reward is exactly ±R_noise[s, a]
    # (0 where the model has no noise: the first and the last transition).
    np.testing.assert_array_equal(np.abs(deviation), mdp.R_noise[s, a])
    noisy = mdp.R_noise[s, a] > 0
    # delay - 1 = 4 noisy transitions per episode (DelayedChainEnv docstring).
    assert noisy.sum() == 4 * 4000
    # Fair signs: the mean of ±1 is 0 with standard error 1/sqrt(N).
    _assert_within_z(np.sign(deviation[noisy]), 0.0)


# --------------------------------------------------------------------------------------------
# The slow path: episodes from a Gymnasium environment
# --------------------------------------------------------------------------------------------


def test_env_episodes_have_the_same_mean_return_as_model_episodes_on_frozen_lake():
    env = gymnasium.make("FrozenLake-v1")  # registered with TimeLimit(max_episode_steps=100)
    mdp = from_gymnasium(env, gamma=1.0)
    theta = np.zeros((16, 4))
    theta[:, 1:3] = 1.0  # prefer down and right: short episodes (≈ 6 steps), J ≈ 0.024
    pi = softmax_policy(theta)
    from_env = sample_env_episodes(env, pi, 3000, np.random.default_rng(12)).returns(1.0)
    from_model = MDPSampler(mdp).sample(pi, 30_000, np.random.default_rng(13), max_steps=100)
    model_returns = from_model.returns(1.0)
    # Two-sample z-test: both estimate the same truncated-at-100 mean return.
    se = np.sqrt(from_env.var(ddof=1) / len(from_env) + model_returns.var(ddof=1) / 30_000)
    assert abs(from_env.mean() - model_returns.mean()) < Z * se


def test_env_episodes_truncated_by_time_limit_are_not_terminated():
    env = gymnasium.make("FrozenLake-v1", max_episode_steps=5)
    mdp = from_gymnasium(env, gamma=1.0)
    pi = np.full((16, 4), 0.25)
    batch = sample_env_episodes(env, pi, 300, np.random.default_rng(14))
    final = batch.states[np.arange(300), batch.lengths]
    # Terminated exactly when the episode entered a hole or the goal; otherwise it was cut by
    # the TimeLimit after 5 steps (and may be bootstrapped).
    np.testing.assert_array_equal(batch.terminated, mdp.terminal[final])
    assert (batch.lengths[~batch.terminated] == 5).all()
    assert (~batch.terminated).any() and batch.terminated.any()
    assert batch.bootstrap_mask()[~batch.terminated, 5].all()
    # The same layout as the fast path.
    np.testing.assert_array_equal(
        batch.mask, np.arange(batch.actions.shape[1])[None, :] < batch.lengths[:, None]
    )


def test_env_episodes_are_a_function_of_the_generator_state():
    env = gymnasium.make("FrozenLake-v1")
    pi = np.full((16, 4), 0.25)
    first = sample_env_episodes(env, pi, 20, np.random.default_rng(15))
    again = sample_env_episodes(env, pi, 20, np.random.default_rng(15))
    for field in ("states", "actions", "rewards", "lengths", "terminated"):
        np.testing.assert_array_equal(getattr(first, field), getattr(again, field))


def test_env_episodes_are_cut_at_max_steps_and_marked_not_terminated():
    # The hole nearest to the start (row 1, column 1 of the 4x4 map) is two moves away, so some
    # episodes terminate at their 2nd step and all others are cut by max_steps=2.
    env = gymnasium.make("FrozenLake-v1")
    mdp = from_gymnasium(env, gamma=1.0)
    batch = sample_env_episodes(env, np.full((16, 4), 0.25), 50, np.random.default_rng(16), 2)
    assert batch.lengths.max() <= 2
    final = batch.states[np.arange(50), batch.lengths]
    np.testing.assert_array_equal(batch.terminated, mdp.terminal[final])
    assert (~batch.terminated).any()
