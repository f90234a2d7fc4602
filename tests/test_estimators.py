"""Tests of ``acconv.estimators`` (GAE, TD errors, returns, PPO's clipped surrogate) and of the
score / entropy / KL gradients of ``acconv.policies`` that the learners build their updates from:
hand-computed traces, identities between estimators, and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from _numerics import central_fd
from hypothesis import given, settings
from hypothesis import strategies as st

from acconv.estimators import (
    clipped_surrogate,
    discounted_returns,
    gae,
    surrogate_is_unclipped,
    td_errors,
)
from acconv.policies import (
    entropy,
    entropy_gradient,
    kl_gradient,
    log_softmax_policy,
    score_gradient,
    softmax_policy,
)

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
FAST = settings(max_examples=25, deadline=None)

# --------------------------------------------------------------------------------------------
# A hand-computed 5-step trace (in the style of SB3's tests/test_gae.py)
# --------------------------------------------------------------------------------------------
#
# γ = 1/2, λ = 1/2 (γλ = 1/4), rewards r_1..r_5 = [1, 0, 2, -1, 3], V(s_0..s_4) = [1, 2, 0, 1, -1].
# Every number below is a dyadic rational, so floating point computes them exactly; the
# tolerance 1e-15 only guards against a different (still exact) summation order.

GAMMA, LAM = 0.5, 0.5
REWARDS = np.array([1.0, 0.0, 2.0, -1.0, 3.0])
VALUES_TERMINAL = np.array([1.0, 2.0, 0.0, 1.0, -1.0, 0.0])  # V(s_5) = 0: s_5 is terminal
VALUES_TRUNCATED = np.array([1.0, 2.0, 0.0, 1.0, -1.0, 2.0])  # V(s_5) = 2 bootstraps the cut


def test_td_errors_match_hand_computation_on_five_step_trace():
    # δ_t = r_{t+1} + γ V(s_{t+1}) - V(s_t):
    # δ_0 = 1 + 0.5·2 - 1 = 1;      δ_1 = 0 + 0.5·0 - 2 = -2;     δ_2 = 2 + 0.5·1 - 0 = 2.5;
    # δ_3 = -1 + 0.5·(-1) - 1 = -2.5; δ_4 = 3 + 0.5·0 - (-1) = 4 (terminal: V(s_5) = 0).
    np.testing.assert_allclose(
        td_errors(REWARDS, VALUES_TERMINAL, GAMMA), [1.0, -2.0, 2.5, -2.5, 4.0], rtol=0, atol=1e-15
    )
    # Truncated with V(s_5) = 2: only δ_4 changes, δ_4 = 3 + 0.5·2 + 1 = 5.
    np.testing.assert_allclose(
        td_errors(REWARDS, VALUES_TRUNCATED, GAMMA), [1.0, -2.0, 2.5, -2.5, 5.0], rtol=0, atol=1e-15
    )


def test_gae_matches_hand_computed_backward_recursion_with_terminal_end():
    # Â_t = δ_t + γλ Â_{t+1}, Â_5 = 0, δ from the previous test:
    # Â_4 = 4
    # Â_3 = -2.5 + 0.25·4        = -1.5
    # Â_2 =  2.5 + 0.25·(-1.5)   =  2.125
    # Â_1 = -2   + 0.25·2.125    = -1.46875
    # Â_0 =  1   + 0.25·(-1.46875) = 0.6328125
    expected = [0.6328125, -1.46875, 2.125, -1.5, 4.0]
    np.testing.assert_allclose(gae(REWARDS, VALUES_TERMINAL, GAMMA, LAM), expected, atol=1e-15)


def test_gae_matches_hand_computed_backward_recursion_with_truncated_end():
    # Same trace cut after 5 steps with bootstrap V(s_5) = 2, so δ_4 = 5:
    # Â_4 = 5
    # Â_3 = -2.5 + 0.25·5        = -1.25
    # Â_2 =  2.5 + 0.25·(-1.25)  =  2.1875
    # Â_1 = -2   + 0.25·2.1875   = -1.453125
    # Â_0 =  1   + 0.25·(-1.453125) = 0.63671875
    expected = [0.63671875, -1.453125, 2.1875, -1.25, 5.0]
    np.testing.assert_allclose(gae(REWARDS, VALUES_TRUNCATED, GAMMA, LAM), expected, atol=1e-15)


def test_discounted_returns_match_hand_computation():
    # G_t = r_{t+1} + γ G_{t+1}: G_4 = 3, G_3 = -1 + 1.5 = 0.5, G_2 = 2 + 0.25 = 2.25,
    # G_1 = 0 + 1.125 = 1.125, G_0 = 1 + 0.5625 = 1.5625.
    np.testing.assert_allclose(
        discounted_returns(REWARDS, GAMMA), [1.5625, 1.125, 2.25, 0.5, 3.0], rtol=0, atol=1e-15
    )


def test_estimators_reject_values_of_the_wrong_length():
    with pytest.raises(ValueError, match=r"expected \(B, T\), \(B, T \+ 1\)"):
        gae(REWARDS, VALUES_TERMINAL[:-1], GAMMA, LAM)
    with pytest.raises(ValueError, match="mask"):
        td_errors(REWARDS, VALUES_TERMINAL, GAMMA, mask=np.ones(4, dtype=bool))


# --------------------------------------------------------------------------------------------
# Identities
# --------------------------------------------------------------------------------------------


def _random_episode(seed: int, length: int) -> tuple[np.ndarray, np.ndarray, float]:
    rng = np.random.default_rng(seed)
    rewards = rng.normal(size=length)
    values = rng.normal(size=length + 1)
    gamma = float(rng.uniform(0.5, 1.0))
    return rewards, values, gamma


@FAST
@given(seed=SEEDS, length=st.integers(1, 12), truncated=st.booleans())
def test_gae_with_lambda_one_equals_monte_carlo_advantage(seed, length, truncated):
    rewards, values, gamma = _random_episode(seed, length)
    if not truncated:
        values[-1] = 0.0  # terminal: nothing to bootstrap
    # Â_t(λ=1) = Σ_k γ^k δ_{t+k} telescopes to G_t + γ^{T-t} V(s_T) - V(s_t).
    T = length
    bootstrap = gamma ** (T - np.arange(T)) * values[-1]
    expected = discounted_returns(rewards, gamma) + bootstrap - values[:-1]
    # Telescoping vs direct sums of ~12 terms of size O(1): rounding ~1e-15.
    np.testing.assert_allclose(gae(rewards, values, gamma, 1.0), expected, rtol=0, atol=1e-12)


@FAST
@given(seed=SEEDS, length=st.integers(1, 12))
def test_gae_with_lambda_zero_equals_td_errors(seed, length):
    rewards, values, gamma = _random_episode(seed, length)
    # Â_t = δ_t + γ·0·Â_{t+1} = δ_t: the same floating-point operations, so exactly equal.
    np.testing.assert_array_equal(
        gae(rewards, values, gamma, 0.0), td_errors(rewards, values, gamma)
    )


@FAST
@given(seed=SEEDS)
def test_discounted_returns_are_gae_of_zero_values_and_satisfy_the_return_recursion(seed):
    rng = np.random.default_rng(seed)
    rewards = rng.normal(size=7)
    gamma = float(rng.uniform(0.1, 1.0))
    G = discounted_returns(rewards, gamma)
    # The same floating-point operations as GAE with V = 0 and λ = 1: the same numbers.
    np.testing.assert_array_equal(G, gae(rewards, np.zeros(8), gamma, 1.0))
    # G_t - γ G_{t+1} = r_{t+1} (G_T = 0): the defining recursion.
    np.testing.assert_allclose(G - gamma * np.append(G[1:], 0.0), rewards, rtol=0, atol=1e-12)
    # G_0 = Σ_t γ^t r_{t+1}, directly.
    assert G[0] == pytest.approx(float(gamma ** np.arange(7) @ rewards), abs=1e-12)


@FAST
@given(seed=SEEDS, lam=st.sampled_from([0.0, 0.3, 0.95, 1.0]))
def test_padded_batch_gives_the_same_advantages_as_one_dimensional_calls(seed, lam):
    rng = np.random.default_rng(seed)
    gamma = 0.9
    lengths = rng.integers(1, 9, size=5)
    T = int(lengths.max())
    # Junk past each episode's end must be ignored (module docstring: "Everything past an
    # episode's end is ignored"), so fill the padding with large numbers, not zeros.
    rewards = rng.normal(size=(5, T)) + 100.0
    values = rng.normal(size=(5, T + 1)) - 100.0
    mask = np.arange(T)[None, :] < lengths[:, None]
    for b, L in enumerate(lengths):
        rewards[b, :L] = rng.normal(size=L)
        values[b, : L + 1] = rng.normal(size=L + 1)  # V(s_L) is the bootstrap (or 0 if terminal)
    batch_gae = gae(rewards, values, gamma, lam, mask)
    batch_td = td_errors(rewards, values, gamma, mask)
    batch_returns = discounted_returns(rewards, gamma, mask)
    for b, L in enumerate(lengths):
        r, v = rewards[b, :L], values[b, : L + 1]
        # Same recursion on the same numbers: equal up to rounding of at most ~10 terms.
        np.testing.assert_allclose(batch_gae[b, :L], gae(r, v, gamma, lam), rtol=0, atol=1e-12)
        np.testing.assert_allclose(batch_td[b, :L], td_errors(r, v, gamma), rtol=0, atol=1e-12)
        np.testing.assert_allclose(
            batch_returns[b, :L], discounted_returns(r, gamma), rtol=0, atol=1e-12
        )
    # Outside the episodes every estimator is exactly 0.
    for out in (batch_gae, batch_td, batch_returns):
        assert (out[~mask] == 0.0).all()


# --------------------------------------------------------------------------------------------
# PPO's clipped surrogate
# --------------------------------------------------------------------------------------------


def test_clipped_surrogate_matches_hand_values_inside_and_outside_the_clip_range():
    eps = 0.2
    ratio = np.array([0.5, 1.0, 1.5, 0.5, 1.0, 1.5])
    advantage = np.array([2.0, 2.0, 2.0, -2.0, -2.0, -2.0])
    # min(ρ Â, clip(ρ, 0.8, 1.2) Â):
    # Â = +2: ρ = 0.5 -> min(1.0, 0.8·2 = 1.6) = 1.0 (unclipped term, below the range)
    #         ρ = 1.0 -> min(2.0, 2.0) = 2.0
    #         ρ = 1.5 -> min(3.0, 1.2·2 = 2.4) = 2.4 (clipped)
    # Â = -2: ρ = 0.5 -> min(-1.0, 0.8·-2 = -1.6) = -1.6 (clipped)
    #         ρ = 1.0 -> -2.0
    #         ρ = 1.5 -> min(-3.0, 1.2·-2 = -2.4) = -3.0 (unclipped term, above the range)
    np.testing.assert_allclose(
        clipped_surrogate(ratio, advantage, eps), [1.0, 2.0, 2.4, -1.6, -2.0, -3.0], atol=1e-15
    )
    # The unclipped term is the one chosen exactly in the cases marked "unclipped" above.
    np.testing.assert_array_equal(
        surrogate_is_unclipped(ratio, advantage, eps), [True, True, False, False, True, True]
    )


@FAST
@given(seed=SEEDS, eps=st.sampled_from([0.1, 0.2, 0.3]))
def test_surrogate_is_unclipped_agrees_with_finite_difference_derivative_in_ratio(seed, eps):
    rng = np.random.default_rng(seed)
    ratio = rng.uniform(0.3, 1.7, size=50)
    advantage = rng.normal(size=50) * 3
    # Stay away from the kinks at 1 ± ε, where the surrogate is not differentiable.
    keep = (np.abs(ratio - (1 - eps)) > 1e-3) & (np.abs(ratio - (1 + eps)) > 1e-3)
    ratio, advantage = ratio[keep], advantage[keep]
    h = 1e-6
    fd = (
        clipped_surrogate(ratio + h, advantage, eps) - clipped_surrogate(ratio - h, advantage, eps)
    ) / (2 * h)
    derivative = np.where(surrogate_is_unclipped(ratio, advantage, eps), advantage, 0.0)
    # The surrogate is linear on each side of the kinks, so the central difference is exact up
    # to rounding: ~1e-16 · |ρ Â| / h ≈ 1e-9.
    np.testing.assert_allclose(fd, derivative, rtol=0, atol=1e-7)


# --------------------------------------------------------------------------------------------
# Score, entropy and KL gradients of the tabular softmax (acconv.policies)
# --------------------------------------------------------------------------------------------



@FAST
@given(seed=SEEDS, beta=st.sampled_from([0.5, 1.0, 2.5]))
def test_score_gradient_from_a_table_equals_the_sum_of_per_sample_scores(seed, beta):
    rng = np.random.default_rng(seed)
    S, A, N = 4, 3, 30
    theta = rng.normal(size=(S, A))
    pi = softmax_policy(theta, beta)
    s = rng.integers(S, size=N)
    a = rng.integers(A, size=N)
    w = rng.normal(size=N)
    table = np.zeros((S, A))
    np.add.at(table, (s, a), w)
    # Per sample: ∇_{θ[s_i, ·]} log π(a_i|s_i) = β (e_{a_i} - π(·|s_i)), zero on other rows.
    expected = np.zeros((S, A))
    for si, ai, wi in zip(s, a, w, strict=True):
        expected[si] += wi * beta * (np.eye(A)[ai] - pi[si])
    np.testing.assert_allclose(score_gradient(pi, table, beta), expected, rtol=0, atol=1e-12)
    # And it is the gradient of Σ_i w_i log π_θ(a_i|s_i) (central differences, h = 1e-5:
    # truncation ~h² β³ ≈ 1e-9, rounding ~1e-16·30/h ≈ 1e-10).
    fd = central_fd(lambda t: float(w @ log_softmax_policy(t, beta)[s, a]), theta, 1e-5)
    np.testing.assert_allclose(score_gradient(pi, table, beta), fd, rtol=0, atol=1e-7)


@FAST
@given(seed=SEEDS, beta=st.sampled_from([0.5, 1.0, 2.5]))
def test_entropy_gradient_equals_finite_differences(seed, beta):
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=(3, 4))
    # Each row's entropy depends on its own logits only, so ∂(Σ_s H_s)/∂θ[s, a] = ∂H_s/∂θ[s, a].
    fd = central_fd(lambda t: float(entropy(softmax_policy(t, beta)).sum()), theta, 1e-5)
    # Central differences with h = 1e-5: truncation ~h² β³ ≈ 2e-9, rounding ~1e-11.
    np.testing.assert_allclose(
        entropy_gradient(softmax_policy(theta, beta), beta), fd, rtol=0, atol=1e-7
    )


def test_entropy_gradient_vanishes_at_the_uniform_policy():
    # The uniform policy maximises the entropy: log π = -log A = -H, so π (log π + H) = 0.
    np.testing.assert_allclose(entropy_gradient(np.full((2, 5), 0.2), 3.0), 0.0, atol=1e-15)


@FAST
@given(seed=SEEDS, beta=st.sampled_from([0.5, 1.0, 2.5]))
def test_kl_gradient_equals_finite_differences_and_vanishes_at_the_old_policy(seed, beta):
    rng = np.random.default_rng(seed)
    theta_old = rng.normal(size=(3, 4))
    theta = theta_old + rng.normal(size=(3, 4))
    pi_old = softmax_policy(theta_old, beta)

    def kl(t: np.ndarray) -> float:
        log_pi = log_softmax_policy(t, beta)
        return float(np.sum(pi_old * (np.log(pi_old) - log_pi)))

    fd = central_fd(kl, theta, 1e-5)
    # Central differences with h = 1e-5: truncation ~h² β³ ≈ 2e-9, rounding ~1e-11.
    np.testing.assert_allclose(
        kl_gradient(pi_old, softmax_policy(theta, beta), beta), fd, rtol=0, atol=1e-7
    )
    # At θ = θ_old the KL has its minimum 0, so its gradient is exactly 0 (π - π_old = 0).
    assert (kl_gradient(pi_old, pi_old, beta) == 0.0).all()
