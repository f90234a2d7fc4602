"""Tests of ``acconv.policies``: softmax with inverse temperature, entropy, scores, greedy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acconv.policies import (
    centred,
    entropy,
    greedy_policy,
    log_softmax_policy,
    score_gradient,
    softmax_policy,
)

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
FAST = settings(max_examples=25, deadline=None)


def test_softmax_matches_hand_computation():
    # Row [0, log 3]: exp -> [1, 3], normalised [0.25, 0.75]. With beta = 2: [1, 9] -> [0.1, 0.9].
    theta = np.array([[0.0, np.log(3.0)]])
    np.testing.assert_allclose(softmax_policy(theta), [[0.25, 0.75]], rtol=1e-15)
    np.testing.assert_allclose(softmax_policy(theta, beta=2.0), [[0.1, 0.9]], rtol=1e-15)
    np.testing.assert_allclose(log_softmax_policy(theta, 2.0), np.log([[0.1, 0.9]]), rtol=1e-14)


@FAST
@given(
    seed=SEEDS,
    n_states=st.integers(1, 6),
    n_actions=st.integers(1, 3),
    beta=st.sampled_from([0.5, 1.0, 3.0]),
)
def test_softmax_rows_are_distributions_invariant_to_per_state_shifts(
    seed, n_states, n_actions, beta
):
    rng = np.random.default_rng(seed)
    theta = 3 * rng.normal(size=(n_states, n_actions))
    pi = softmax_policy(theta, beta)
    np.testing.assert_allclose(pi.sum(axis=1), 1.0, rtol=0, atol=1e-14)
    assert (pi > 0).all()
    shift = rng.normal(size=(n_states, 1)) * 10
    np.testing.assert_allclose(softmax_policy(theta + shift, beta), pi, rtol=1e-12, atol=0)
    np.testing.assert_allclose(softmax_policy(centred(theta), beta), pi, rtol=1e-12, atol=0)
    np.testing.assert_allclose(centred(theta).sum(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.exp(log_softmax_policy(theta, beta)), pi, rtol=1e-12)
    # softmax(β θ) = softmax(1, β θ): the temperature only scales the logits.
    np.testing.assert_allclose(softmax_policy(beta * theta), pi, rtol=1e-12)


def test_softmax_and_log_softmax_are_stable_for_huge_logits():
    theta = np.array([[1000.0, 0.0], [-1000.0, -1000.0]])
    pi = softmax_policy(theta)
    assert np.isfinite(pi).all()
    np.testing.assert_array_equal(pi, [[1.0, 0.0], [0.5, 0.5]])
    log_pi = log_softmax_policy(theta)
    # log π(a=1 | s=0) = -1000 - log(1 + e^-1000) = -1000 exactly in floating point.
    np.testing.assert_allclose(log_pi, [[0.0, -1000.0], [np.log(0.5), np.log(0.5)]], rtol=1e-15)


def test_softmax_works_on_time_indexed_logits():
    theta = np.random.default_rng(0).normal(size=(4, 3, 2))
    pi = softmax_policy(theta)
    for t in range(4):
        np.testing.assert_allclose(pi[t], softmax_policy(theta[t]), rtol=1e-15)


def test_entropy_of_uniform_deterministic_and_hand_distribution():
    pi = np.array([[0.25, 0.25, 0.25, 0.25], [1.0, 0.0, 0.0, 0.0], [0.5, 0.5, 0.0, 0.0]])
    # log 4, 0 (0 log 0 = 0), log 2.
    np.testing.assert_allclose(entropy(pi), [np.log(4), 0.0, np.log(2)], rtol=1e-15, atol=0)


@FAST
@given(seed=SEEDS, n_actions=st.integers(1, 4), beta=st.sampled_from([0.5, 1.0, 2.0]))
def test_the_score_of_one_sample_matches_central_finite_differences(seed, n_actions, beta):
    # One sample (s, a) with weight 1: score_gradient's table is e_{(s, a)} and its row s is the
    # score ∂ log π(a|s)/∂θ[s, ·] = β (e_a - π(·|s)). (Moved here from the per-sample
    # grad_log_softmax, removed: score_gradient is the one implementation of the score.)
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=(1, n_actions))
    action = int(rng.integers(n_actions))
    pi = softmax_policy(theta, beta)
    g = score_gradient(pi, np.eye(n_actions)[None, action], beta)[0]
    h = 1e-6
    fd = np.zeros(n_actions)
    for b in range(n_actions):
        up, down = theta.copy(), theta.copy()
        up[0, b] += h
        down[0, b] -= h
        diff = log_softmax_policy(up, beta) - log_softmax_policy(down, beta)
        fd[b] = diff[0, action] / (2 * h)
    # log-softmax has bounded third derivatives (<= β³): truncation ~1e-12, rounding ~1e-10.
    np.testing.assert_allclose(g, fd, rtol=0, atol=1e-8)
    assert g.sum() == pytest.approx(0.0, abs=1e-14)


def test_greedy_policy_picks_the_first_maximiser():
    values = np.array([[1.0, 3.0, 3.0], [5.0, -1.0, 5.0], [0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(
        greedy_policy(values), [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]
    )
