"""Tests of the tabular learners (``acconv.tabular``: ActorCritic, PPO, RUDDER).

Three kinds of checks:

* expected (mean-field) mode against ``acconv.exact``: at the critic's fixed point the actor's
  direction is the exact policy gradient and the critic's direction is 0 (THEORY.md §2.2 facts
  1, 4, 5; §6.3);
* sampled mode against expected mode: the average of many sampled update directions from one
  state equals the mean field, coordinate by coordinate within 4 standard errors (THEORY.md
  §1.3: the noise M_{n+1} = ĥ - h̄ is a martingale difference, assumption A4);
* RUDDER's redistribution against its definition and ``exact.optimal_redistribution``, and
  hyperparameter validation.

A direction is ``(θ' - θ) / b_n`` for the actor and ``(ω' - ω) / a_n`` for the fast iterate.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium
import numpy as np
import pytest

import acconv  # noqa: F401  (registers the acconv/ environments)
from acconv import exact, policies
from acconv.mdp import FiniteMDP, chain, discount_as_termination, garnet, with_time
from acconv.policies import softmax_policy
from acconv.sampling import MDPSampler
from acconv.tabular.actor_critic import ActorCritic
from acconv.tabular.exact_methods import NPG, SoftmaxPG
from acconv.tabular.ppo import PPO
from acconv.tabular.rudder import RUDDER, ending_steps, predictions, redistribute
from acconv.updates import Task

Z = 4.0  # standard errors allowed per coordinate (two-sided false-alarm rate 6.3e-5)
# Identities between two exact computations (linear solves on <= 16 states, sums of <= 100
# terms of size O(1)) hold to rounding, ~1e-15; 1e-10 leaves room for the solves' conditioning.
EXACT = 1e-10


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _terminating_garnet() -> FiniteMDP:
    """γ = 1 episodic garnet: a discounted garnet whose γ = 0.8 became a stopping probability."""
    return discount_as_termination(garnet(5, 3, 2, np.random.default_rng(0), gamma=0.8))


def _time_augmented_garnet() -> FiniteMDP:
    """A 3-state garnet with horizon 4 in the states, keeping γ = 0.9 (tests the γ^t weights)."""
    return with_time(garnet(3, 2, 2, np.random.default_rng(1), gamma=0.9), 4)


def _delayed_chain(delay: int = 3, noise: float = 0.0) -> FiniteMDP:
    mdp = gymnasium.make("acconv/DelayedChain-v0", delay=delay, noise=noise).unwrapped.mdp
    assert isinstance(mdp, FiniteMDP)
    return mdp


MDPS = {
    "terminating_garnet": _terminating_garnet,
    "time_augmented_garnet": _time_augmented_garnet,
}


def _state_at(learner: Any, mdp: FiniteMDP, theta: np.ndarray, omega: np.ndarray) -> Any:
    """The learner's initial state on ``mdp`` with the iterates replaced."""
    state = learner.init(Task.from_mdp(mdp), np.random.default_rng(0))
    return dataclasses.replace(state, theta=theta, omega=omega)


def _directions(learner: Any, state: Any, batch: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """``((θ' - θ) / b_n, (ω' - ω) / a_n)`` of one update from ``state``."""
    new_state, info = learner.update(state, batch)
    return (new_state.theta - state.theta) / info.b_n, (new_state.omega - state.omega) / info.a_n


def _assert_mean_within_z(samples: np.ndarray, expected: np.ndarray) -> None:
    """Per coordinate, the mean of ``samples`` is within Z standard errors of ``expected``;
    coordinates without spread (e.g. terminal states, always 0) must match up to rounding."""
    mean = samples.mean(axis=0)
    se = samples.std(axis=0, ddof=1) / np.sqrt(len(samples))
    # A coordinate that is the same number in every sample can still show a rounding-level
    # spread (~1e-17); treat anything below 1e-12 as no spread rather than divide by it.
    spread = se > 1e-12
    z = np.abs(mean - expected)[spread] / se[spread]
    assert (z < Z).all(), f"z-scores {z[z >= Z]} at {np.argwhere(spread)[z >= Z].tolist()}"
    np.testing.assert_allclose(mean[~spread], expected[~spread], rtol=0, atol=1e-12)


# --------------------------------------------------------------------------------------------
# ActorCritic, expected mode, against acconv.exact
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", sorted(MDPS))
@pytest.mark.parametrize(("tau", "beta"), [(0.0, 1.0), (0.3, 1.7)])
def test_expected_actor_critic_actor_direction_at_exact_critic_is_the_policy_gradient(
    which, tau, beta
):
    mdp = MDPS[which]()
    rng = np.random.default_rng(2)
    theta = rng.normal(size=(mdp.n_states, mdp.n_actions))
    # ω = Ṽ^π (the soft values when τ > 0), the fast equilibrium of the critic.
    V = exact.policy_evaluation(mdp, softmax_policy(theta, beta), tau)
    learner = ActorCritic(
        critic_lr=0.5, actor_lr=0.25, beta=beta, tau=tau, critic_target="mc",
        discount_actor=True, mode="expected",
    )
    actor_dir, _ = _directions(learner, _state_at(learner, mdp, theta, V))
    # Σ_t γ^t ∇log π Â_t with E[Â | s, a] = Q̃ - τ log π - ω has mean β η_γ π Ã = ∇J
    # (THEORY.md §6.2; exact.policy_gradient).
    expected = exact.policy_gradient(mdp, theta, beta, tau)
    assert np.abs(expected).max() > 1e-2  # a non-trivial gradient
    np.testing.assert_allclose(actor_dir, expected, rtol=0, atol=EXACT)


@pytest.mark.parametrize("which", sorted(MDPS))
def test_expected_actor_critic_with_monte_carlo_critic_gives_the_policy_gradient_at_any_critic(
    which,
):
    mdp = MDPS[which]()
    rng = np.random.default_rng(3)
    theta = rng.normal(size=(mdp.n_states, mdp.n_actions))
    omega = 5 * rng.normal(size=mdp.n_states)  # far from V^π
    learner = ActorCritic(critic_target="mc", discount_actor=True, mode="expected")
    actor_dir, _ = _directions(learner, _state_at(learner, mdp, theta, omega))
    # THEORY.md §2.2 fact 4: with Â_t = G_t - V_ω(s_t) the baseline does not change the mean.
    np.testing.assert_allclose(actor_dir, exact.policy_gradient(mdp, theta), rtol=0, atol=EXACT)


@pytest.mark.parametrize("which", sorted(MDPS))
@pytest.mark.parametrize("target", ["mc", "td0", "td_lambda"])
@pytest.mark.parametrize("tau", [0.0, 0.3])
def test_expected_actor_critic_critic_direction_vanishes_at_the_value_of_the_policy(
    which, target, tau
):
    mdp = MDPS[which]()
    rng = np.random.default_rng(4)
    theta = rng.normal(size=(mdp.n_states, mdp.n_actions))
    V = exact.policy_evaluation(mdp, softmax_policy(theta), tau)  # soft values Ṽ^π if τ > 0
    learner = ActorCritic(
        critic_target=target, gae_lambda=0.6, tau=tau, discount_actor=True, mode="expected"
    )
    state = _state_at(learner, mdp, theta, V)
    actor_dir, critic_dir = _directions(learner, state)
    # V^π is the fixed point of the MC, TD(0) and TD(λ) mean fields (THEORY.md §6.3): the mean
    # TD error r_π + γ P_π V^π - V^π is 0, and so is every λ-return's mean error (with the
    # soft reward r - τ log π and Ṽ^π when τ > 0).
    np.testing.assert_allclose(critic_dir, 0.0, rtol=0, atol=EXACT)
    # ... and there the bootstrapped actor is unbiased too (fact 4: "equals ∇J only where
    # V_ω = V^π").
    np.testing.assert_allclose(
        actor_dir, exact.policy_gradient(mdp, theta, tau=tau), rtol=0, atol=EXACT
    )
    # Away from V^π the critic moves: ω = V^π + 1 on the live states gives a non-zero field.
    shifted = dataclasses.replace(state, omega=V + np.where(mdp.terminal, 0.0, 1.0))
    assert np.abs(_directions(learner, shifted)[1]).max() > 1e-3


def test_expected_actor_critic_critic_direction_is_visits_times_value_error_for_mc():
    mdp = _terminating_garnet()
    rng = np.random.default_rng(5)
    theta = rng.normal(size=(mdp.n_states, mdp.n_actions))
    omega = rng.normal(size=mdp.n_states)
    pi = softmax_policy(theta)
    learner = ActorCritic(critic_target="mc", mode="expected")
    _, critic_dir = _directions(learner, _state_at(learner, mdp, theta, omega))
    # THEORY.md §6.3 (C-MC, tabular): ḡ(s) = η1(s) (V^π(s) - ω(s)) (the factor 2 of the squared
    # loss is absorbed in a_n); terminal states get no visits.
    expected = exact.expected_visits(mdp, pi) * (exact.policy_evaluation(mdp, pi) - omega)
    np.testing.assert_allclose(critic_dir, expected, rtol=0, atol=EXACT)


@pytest.mark.parametrize(
    "make",
    [
        lambda: ActorCritic(beta=1.5, tau=0.3),
        lambda: PPO(beta=0.7),
        lambda: SoftmaxPG(tau=0.2),
        lambda: NPG(eta=0.5),
    ],
    ids=["ActorCritic", "PPO", "SoftmaxPG", "NPG"],
)
def test_state_value_learners_take_their_equilibrium_from_exact_value_equilibrium(make):
    # λ(θ) = Ṽ^π and the visited mask come from one function (acconv.exact.value_equilibrium).
    # γ < 1 with a reachable terminal state (the goal of the chain): it is never "visited".
    learner = make()
    mdp = chain(5, slip=0.1, gamma=0.9)
    theta = np.random.default_rng(3).normal(size=(mdp.n_states, mdp.n_actions))
    V, visited = learner.fast_equilibrium(mdp, theta, 4)
    beta = float(learner.schedules.beta(4)) if hasattr(learner, "schedules") else 1.0
    expected = exact.value_equilibrium(mdp, softmax_policy(theta, beta), getattr(learner, "tau", 0))
    np.testing.assert_array_equal(V, expected[0])
    np.testing.assert_array_equal(visited, expected[1])
    assert visited.tolist() == [True, True, True, True, False]


def test_rudder_equilibrium_lives_on_the_pairs_of_the_visited_states():
    mdp = _delayed_chain(delay=3)
    learner = RUDDER(beta=2.0)
    theta = np.random.default_rng(5).normal(size=(mdp.n_states, mdp.n_actions))
    _, visited = learner.fast_equilibrium(mdp, theta, 0)
    states = exact.visited_states(mdp, softmax_policy(theta, 2.0))
    p_end, _ = ending_steps(mdp)
    weight = learner.aux_weight + (1 - learner.aux_weight) * p_end
    np.testing.assert_array_equal(visited, states[:, None] & (weight > 0))  # softmax: π > 0


# --------------------------------------------------------------------------------------------
# Sampled mode: the mean of many sampled directions is the expected-mode direction (A4)
# --------------------------------------------------------------------------------------------

N_BATCHES, EPISODES = 2000, 8


def _sampled_vs_expected(make, mdp: FiniteMDP, seed: int) -> None:
    """Fix θ, ω; average N_BATCHES sampled directions; z-test against expected mode."""
    rng = np.random.default_rng(seed)
    sampled, expected = make("sampled"), make("expected")
    state = sampled.init(Task.from_mdp(mdp), rng)
    state = dataclasses.replace(
        state,
        theta=rng.normal(size=state.theta.shape),
        omega=rng.normal(size=state.omega.shape),
    )
    mean_actor, mean_fast = _directions(expected, state)
    sampler = MDPSampler(mdp)
    pi = sampled.policy(state)
    actor, fast = [], []
    for _ in range(N_BATCHES):
        a, f = _directions(sampled, state, sampler.sample(pi, EPISODES, rng))
        actor.append(a)
        fast.append(f)
    assert np.abs(mean_actor).max() > 1e-2 and np.abs(mean_fast).max() > 1e-2  # non-trivial
    _assert_mean_within_z(np.array(actor), mean_actor)
    _assert_mean_within_z(np.array(fast), mean_fast)


@pytest.mark.parametrize("target", ["mc", "td0", "td_lambda"])
def test_actor_critic_sampled_directions_average_to_the_expected_direction(target):
    # Noisy delayed rewards (zero-mean ±0.5, invisible to the exact model) and entropy
    # regularisation with β ≠ 1 exercise every term of the update.
    def make(mode: str) -> ActorCritic:
        return ActorCritic(
            critic_lr=0.5, actor_lr=0.5, beta=1.3, tau=0.2, critic_target=target, gae_lambda=0.6,
            mode=mode,
        )

    _sampled_vs_expected(make, _delayed_chain(delay=3, noise=0.5), seed=10)


def test_actor_critic_sampled_discounted_directions_average_to_the_expected_direction():
    # γ = 0.9 < 1 on a time-augmented garnet: the actor's γ^t weights must match η_γ.
    def make(mode: str) -> ActorCritic:
        return ActorCritic(critic_target="mc", discount_actor=True, mode=mode)

    _sampled_vs_expected(make, _time_augmented_garnet(), seed=11)


@pytest.mark.parametrize("coupling", ["immediate_pg", "replace_reward", "mix_advantage"])
@pytest.mark.parametrize("residual", ["none", "terminal"])
def test_rudder_sampled_directions_average_to_the_expected_direction(residual, coupling):
    def make(mode: str) -> RUDDER:
        return RUDDER(
            critic_lr=0.5, actor_lr=0.5, beta=1.3, residual=residual, coupling=coupling,
            gae_lambda=0.7, entropy_coef=0.1, mode=mode,
        )

    _sampled_vs_expected(make, _delayed_chain(delay=3, noise=0.5), seed=12)


@pytest.mark.parametrize("coupling", ["replace_reward", "mix_advantage"])
def test_rudder_value_critic_sampled_directions_average_to_the_expected_direction(coupling):
    # The value critic's mean field includes the redistributed reward's carry-over from the
    # previous step (c_t), which cancels in the actor but not here.
    rng = np.random.default_rng(13)
    mdp = _delayed_chain(delay=3, noise=0.5)
    sampled, expected = (
        RUDDER(critic_lr=0.5, actor_lr=0.5, coupling=coupling, gae_lambda=0.7, mode=mode)
        for mode in ("sampled", "expected")
    )
    state = sampled.init(Task.from_mdp(mdp), rng)
    state = dataclasses.replace(
        state,
        theta=rng.normal(size=state.theta.shape),
        omega=rng.normal(size=state.omega.shape),
        value=rng.normal(size=state.value.shape),
    )

    def value_direction(learner: RUDDER, batch: Any = None) -> np.ndarray:
        _, info = learner.update(state, batch)
        return (info.extra_params["value"] - state.value) / info.a_n

    mean = value_direction(expected)
    sampler, pi = MDPSampler(mdp), sampled.policy(state)
    samples = np.array(
        [value_direction(sampled, sampler.sample(pi, EPISODES, rng)) for _ in range(N_BATCHES)]
    )
    assert np.abs(mean).max() > 1e-2  # non-trivial
    _assert_mean_within_z(samples, mean)


# --------------------------------------------------------------------------------------------
# PPO: one epoch on fresh data is the policy gradient (THEORY.md §2.2 fact 1)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", sorted(MDPS))
@pytest.mark.parametrize("objective", ["clip", "kl"])
def test_expected_ppo_first_step_times_total_visits_is_the_policy_gradient(which, objective):
    mdp = MDPS[which]()
    rng = np.random.default_rng(6)
    theta = rng.normal(size=(mdp.n_states, mdp.n_actions))
    omega = rng.normal(size=mdp.n_states)  # any critic: λ = 1 advantages are Q^π - ω
    learner = PPO(
        critic_lr=0.5, actor_lr=0.25, objective=objective, kl_coef=0.5, n_epochs=1,
        n_minibatches=1, gae_lambda=1.0, discount_actor=True, mode="expected",
    )
    actor_dir, critic_dir = _directions(learner, _state_at(learner, mdp, theta, omega))
    pi = softmax_policy(theta)
    total = exact.expected_visits(mdp, pi).sum()
    # At θ = θ_old: ρ = 1 lies inside the clip range and ∇KL = 0, so the step is the plain
    # score-weighted advantage, averaged over the visit distribution η1 / Σ η1 instead of
    # summed over an episode. Multiplying by Σ η1 undoes the average.
    np.testing.assert_allclose(
        actor_dir * total, exact.policy_gradient(mdp, theta), rtol=0, atol=EXACT
    )
    # The value step is the averaged MC critic field η1 (V^π - ω) / Σ η1 (cf. the ActorCritic
    # test above).
    expected_critic = exact.expected_visits(mdp, pi) * (exact.policy_evaluation(mdp, pi) - omega)
    np.testing.assert_allclose(critic_dir * total, expected_critic, rtol=0, atol=EXACT)


def test_expected_ppo_entropy_bonus_adds_the_visit_weighted_entropy_gradient():
    mdp = _terminating_garnet()
    rng = np.random.default_rng(8)
    theta = rng.normal(size=(mdp.n_states, mdp.n_actions))
    beta, c_h = 1.5, 0.3
    learner = PPO(
        actor_lr=0.25, beta=beta, n_epochs=1, n_minibatches=1, gae_lambda=1.0,
        entropy_coef=c_h, discount_actor=True, mode="expected",
    )
    actor_dir, _ = _directions(learner, _state_at(learner, mdp, theta, np.zeros(mdp.n_states)))
    pi = softmax_policy(theta, beta)
    visits = exact.expected_visits(mdp, pi)
    # The objective adds c_H E_{s ~ η1/Σ η1}[H(π(·|s))]; its gradient is
    # c_H η1(s)/Σ η1 · ∂H_s/∂θ[s, ·] (entropy_gradient, checked by finite differences in
    # test_estimators.py), added to the policy-gradient step of the previous test.
    expected = (
        exact.policy_gradient(mdp, theta, beta)
        + c_h * visits[:, None] * policies.entropy_gradient(pi, beta)
    ) / visits.sum()
    np.testing.assert_allclose(actor_dir, expected, rtol=0, atol=EXACT)


@pytest.mark.parametrize("which", sorted(MDPS))
@pytest.mark.parametrize("objective", ["clip", "kl"])
def test_sampled_ppo_first_step_is_the_actor_critic_direction_rescaled(which, objective):
    mdp = MDPS[which]()
    rng = np.random.default_rng(7)
    theta = rng.normal(size=(mdp.n_states, mdp.n_actions))
    omega = rng.normal(size=mdp.n_states)
    ppo = PPO(
        critic_lr=0.5, actor_lr=0.25, objective=objective, kl_coef=0.5, n_epochs=1,
        n_minibatches=1, gae_lambda=1.0, discount_actor=True,
    )
    ac = ActorCritic(critic_lr=0.5, actor_lr=0.25, critic_target="mc", discount_actor=True)
    batch = MDPSampler(mdp).sample(softmax_policy(theta), 16, rng)
    ppo_actor, ppo_critic = _directions(ppo, _state_at(ppo, mdp, theta, omega), batch)
    ac_actor, ac_critic = _directions(ac, _state_at(ac, mdp, theta, omega), batch)
    # Same batch, same λ = 1 advantages and γ^t weights: ActorCritic sums over the steps and
    # divides by B episodes, PPO averages over the N = batch.n_steps transitions, so
    # PPO · N / B = ActorCritic exactly (up to the order of summation).
    scale = batch.n_steps / batch.n_episodes
    assert np.abs(ac_actor).max() > 1e-2
    np.testing.assert_allclose(ppo_actor * scale, ac_actor, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ppo_critic * scale, ac_critic, rtol=0, atol=1e-12)


def _bandit() -> FiniteMDP:
    """One decision: state 0, action 0 pays 1 and action 1 pays 0, both end the episode."""
    P = np.zeros((2, 2, 2))
    P[:, :, 1] = 1.0
    return FiniteMDP(
        P=P, R=np.array([[1.0, 0.0], [0.0, 0.0]]), gamma=1.0, rho=np.array([1.0, 0.0]),
        terminal=np.array([False, True]),
    )


def _sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


@pytest.mark.parametrize("objective", ["clip", "kl"])
def test_expected_ppo_on_a_bandit_follows_the_hand_derived_clipped_iteration(objective):
    # Hand derivation (expected mode, θ = 0, critic frozen at ω = 0 with critic_lr = 0):
    # π_old = (1/2, 1/2), η1(0) = 1, advantages Â = Q^π - ω = R = (1, 0) (one-step episodes, so
    # every GAE λ gives the same). Let d = θ_0 - θ_1, so
    # π_θ(0) = σ(d) and the ratios are ρ_0 = 2σ(d), ρ_1 = 2σ(-d). The surrogate's gradient in
    # θ_0 is π_old(0) Â_0 ρ_0 (1 - π_θ(0)) = ½ ρ_0 σ(-d) = σ(d) σ(-d) (the pair (0, 1) has
    # Â = 0), and -that in θ_1, so each step with b = 1/2 moves d by 2 · ½ · σ(d)σ(-d).
    # PPO-clip drops the term once ρ_0 > 1 + ε = 1.2 (Â > 0): the policy stops at the first
    # step past σ(d) = 0.6. With kl_coef = 0 the KL objective is the unclipped surrogate, and
    # 50 steps drive π(0) towards 1.
    epochs, eps = 50, 0.2
    d = 0.0
    for _ in range(epochs):
        active = objective == "kl" or 2 * _sigmoid(d) <= 1 + eps
        d += _sigmoid(d) * _sigmoid(-d) if active else 0.0
    learner = PPO(
        critic_lr=0.0, actor_lr=0.5, objective=objective, clip_eps=eps, kl_coef=0.0,
        n_epochs=epochs, n_minibatches=1, mode="expected",
    )
    state = learner.init(Task.from_mdp(_bandit()), np.random.default_rng(0))
    new_state, info = learner.update(state, None)
    ratio_0 = softmax_policy(new_state.theta)[0, 0] / 0.5
    # 50 steps of the same scalar recursion in a different order of operations: rounding only.
    assert ratio_0 == pytest.approx(2 * _sigmoid(d), abs=1e-12)
    if objective == "clip":
        # The step that crosses 1.2 moves d by at most max σσ = 1/4, from below log(1.5)
        # (σ(d) = 0.6), so ρ_0 ≤ 2σ(log 1.5 + 1/4) ≈ 1.316: the ratio stays bounded.
        assert 1 + eps < ratio_0 <= 2 * _sigmoid(np.log(1.5) + 0.25)
    else:
        assert ratio_0 > 2 * _sigmoid(np.log(1.5) + 0.25)  # unclipped: past the clip bound
    # Both pairs end outside [0.8, 1.2] (ρ_1 = 2 - ρ_0), each with weight π_old = 1/2.
    assert info.diagnostics["clip_fraction"] == pytest.approx(1.0, abs=1e-12)


def test_sampled_ppo_clip_keeps_the_policy_closer_to_the_old_one_than_the_unclipped_objective():
    # Large actor steps (b = 2) and 30 epochs of 4 minibatches on one batch. Without clipping
    # (objective "kl" with kl_coef = 0 is the plain importance-weighted surrogate) every step
    # keeps pushing the taken actions' probabilities in the sign of their advantage, so the
    # policy drifts far from π_old; PPO-clip zeroes a sample's gradient once its ratio leaves
    # [1 - ε, 1 + ε] in the favoured direction, so the drift stalls. Expected: some ratios end
    # outside the range (clip fraction > 0), and the KL to π_old is smaller with clipping.
    mdp = _terminating_garnet()
    results = {}
    for objective in ("clip", "kl"):
        learner = PPO(
            critic_lr=0.0, actor_lr=2.0, objective=objective, kl_coef=0.0, n_epochs=30,
            n_minibatches=4, gae_lambda=1.0,
        )
        state = learner.init(Task.from_mdp(mdp), np.random.default_rng(0))
        batch = MDPSampler(mdp).sample(learner.policy(state), 64, np.random.default_rng(1))
        results[objective] = learner.update(state, batch)[1].diagnostics
    assert results["clip"]["clip_fraction"] > 0.0
    assert results["clip"]["approx_kl"] < results["kl"]["approx_kl"]
    # The unclipped run pushes more ratios out of [1 - ε, 1 + ε], too.
    assert results["clip"]["clip_fraction"] < results["kl"]["clip_fraction"]


# --------------------------------------------------------------------------------------------
# RUDDER: predictions, redistribution, exact redistribution, expected mode
# --------------------------------------------------------------------------------------------


def _rudder_batch(which: str, seed: int = 20):
    mdp = _delayed_chain(delay=5, noise=0.5) if which == "delayed_chain" else _terminating_garnet()
    rng = np.random.default_rng(seed)
    pi = softmax_policy(rng.normal(size=(mdp.n_states, mdp.n_actions)))
    batch = MDPSampler(mdp).sample(pi, 40, rng)
    return mdp, pi, batch, rng


@pytest.mark.parametrize("which", ["delayed_chain", "terminating_garnet"])
def test_rudder_predictions_are_earned_reward_plus_model_of_current_pair(which):
    mdp, _, batch, rng = _rudder_batch(which)
    omega = rng.normal(size=(mdp.n_states, mdp.n_actions))
    g = predictions(omega, batch)
    for b in range(batch.n_episodes):
        L = batch.lengths[b]
        for t in range(L):
            # g_t = Σ_{k<t} r_{k+1} + ω[s_t, a_t] (RUDDER.md §1.2; module docstring).
            earned = batch.rewards[b, :t].sum()
            expected = earned + omega[batch.states[b, t], batch.actions[b, t]]
            assert g[b, t] == pytest.approx(expected, abs=1e-12)
        assert (g[b, L:] == 0.0).all()


@pytest.mark.parametrize("which", ["delayed_chain", "terminating_garnet"])
def test_rudder_redistribution_sums_to_the_return_or_to_the_last_prediction(which):
    mdp, _, batch, rng = _rudder_batch(which)
    omega = rng.normal(size=(mdp.n_states, mdp.n_actions))
    g = predictions(omega, batch)
    G0 = batch.returns(1.0)
    rows = np.arange(batch.n_episodes)
    last = g[rows, batch.lengths - 1]
    none = redistribute(g, batch, "none")
    # Σ_t (g_t - g_{t-1}) telescopes to g_{T-1} (RUDDER.md §1.3(a)).
    np.testing.assert_allclose(none.sum(axis=1), last, rtol=0, atol=1e-12)
    for residual in ("uniform", "terminal"):
        # Return equivalence: the residual G_0 - g_{T-1} is put back, so Σ_t r̃ = G_0.
        out = redistribute(g, batch, residual)
        np.testing.assert_allclose(out.sum(axis=1), G0, rtol=0, atol=1e-12)
        assert (out[~batch.mask] == 0.0).all()
    error = G0 - last
    # "uniform" spreads it evenly over the T steps, "terminal" adds it to the last step.
    share = (redistribute(g, batch, "uniform") - none)[batch.mask]
    np.testing.assert_allclose(
        share, np.repeat(error / batch.lengths, batch.lengths), rtol=0, atol=1e-12
    )
    extra = redistribute(g, batch, "terminal") - none
    np.testing.assert_allclose(extra[rows, batch.lengths - 1], error, rtol=0, atol=1e-12)
    extra[rows, batch.lengths - 1] = 0.0
    assert (extra == 0.0).all()


@pytest.mark.parametrize("which", ["delayed_chain", "terminating_garnet"])
def test_rudder_redistribution_at_exact_action_values_is_the_optimal_redistribution(which):
    mdp, pi, batch, _ = _rudder_batch(which)
    # With ω = Q^π and γ = 1, g_t = Σ_{k<t} r_{k+1} + Q^π(s_t, a_t) = E[G_0 | τ_{0:t}], which is
    # exactly optimal_redistribution's prediction, so the realised redistributions coincide
    # step by step (RUDDER.md §1.2 step 3), and the terminal residual is its correction.
    omega = exact.action_values(mdp, pi)
    g = predictions(omega, batch)
    none = redistribute(g, batch, "none")
    terminal = redistribute(g, batch, "terminal")
    for b in range(batch.n_episodes):
        L = batch.lengths[b]
        best = exact.optimal_redistribution(
            mdp, pi, batch.states[b, :L], batch.actions[b, :L], batch.rewards[b, :L]
        )
        np.testing.assert_allclose(g[b, :L], best.predictions, rtol=0, atol=1e-12)
        np.testing.assert_allclose(none[b, :L], best.rewards, rtol=0, atol=1e-12)
        assert terminal[b, L - 1] - none[b, L - 1] == pytest.approx(best.correction, abs=1e-12)


def test_rudder_sampled_diagnostics_report_zero_return_equivalence_error_with_a_residual():
    mdp, _, batch, rng = _rudder_batch("terminating_garnet")
    omega = rng.normal(size=(mdp.n_states, mdp.n_actions))
    for residual, equivalent in (("uniform", True), ("terminal", True), ("none", False)):
        learner = RUDDER(residual=residual)
        state = _state_at(learner, mdp, np.zeros((mdp.n_states, mdp.n_actions)), omega)
        diagnostics = learner.update(state, batch)[1].diagnostics
        G0 = batch.returns(1.0)
        residuals = G0 - predictions(omega, batch)[np.arange(40), batch.lengths - 1]
        # residual_abs_mean = mean_b |G_0 - g_{T-1}|, whatever the residual option.
        assert diagnostics["residual_abs_mean"] == pytest.approx(np.abs(residuals).mean())
        if equivalent:
            assert diagnostics["return_equivalence_error"] == pytest.approx(0.0, abs=1e-12)
        else:  # without a correction the error is the residual itself
            assert diagnostics["return_equivalence_error"] == pytest.approx(
                np.abs(residuals).mean(), abs=1e-12
            )


@pytest.mark.parametrize("which", ["delayed_chain", "terminating_garnet"])
def test_expected_rudder_at_exact_action_values_has_zero_model_direction_where_endings_are_sure(
    which,
):
    mdp = _delayed_chain(delay=3) if which == "delayed_chain" else _terminating_garnet()
    rng = np.random.default_rng(21)
    theta = rng.normal(size=(mdp.n_states, mdp.n_actions))
    pi = softmax_policy(theta)
    q = exact.action_values(mdp, pi)
    aux = 0.5
    learner = RUDDER(critic_lr=0.5, actor_lr=0.25, aux_weight=aux, mode="expected")
    actor_dir, model_dir = _directions(learner, _state_at(learner, mdp, theta, q))
    p_end, r_end = ending_steps(mdp)
    sure = (p_end == 0.0) | (p_end == 1.0)
    # At ω = Q^π the auxiliary term c (Q^π - ω) vanishes; the main-loss term (1 - c)(r_end -
    # p_end ω) vanishes where the ending is sure: p_end = 0 gives r_end = 0, and p_end = 1
    # gives Q^π = R = r_end (nothing follows the step).
    np.testing.assert_allclose(model_dir[sure], 0.0, rtol=0, atol=EXACT)
    # Elsewhere it is η1 π (1 - c)(r_end - p_end Q^π) ≠ 0: the main loss pulls ω[s, a] toward
    # the reward of the last step, the documented bias where endings are random.
    visits = exact.expected_visits(mdp, pi)[:, None] * pi
    expected = visits * (1 - aux) * (r_end - p_end * q)
    np.testing.assert_allclose(model_dir, np.where(sure, 0.0, expected), rtol=0, atol=EXACT)
    if which == "delayed_chain":
        assert sure.all()  # fixed-horizon task: every ending is determined by (s, a)
    else:
        assert (~sure).any() and np.abs(model_dir[~sure]).max() > 1e-3
    # Actor: Â_t = ω[s_t, a_t] - Σ_a π ω[s_t, a] = A^π at ω = Q^π, so the direction is ∇J
    # (THEORY.md §2.2 fact 5).
    np.testing.assert_allclose(actor_dir, exact.policy_gradient(mdp, theta), rtol=0, atol=EXACT)


def test_expected_rudder_with_terminal_residual_gives_the_policy_gradient_on_fixed_horizon_task():
    mdp = _delayed_chain(delay=3)
    theta = np.random.default_rng(22).normal(size=(mdp.n_states, mdp.n_actions))
    q = exact.action_values(mdp, softmax_policy(theta))
    learner = RUDDER(residual="terminal", mode="expected")
    actor_dir, _ = _directions(learner, _state_at(learner, mdp, theta, q))
    # The terminal residual adds r_end - p_end ω, which is 0 at ω = Q^π where p_end ∈ {0, 1}.
    np.testing.assert_allclose(actor_dir, exact.policy_gradient(mdp, theta), rtol=0, atol=EXACT)


def test_rudder_rejects_discounted_tasks_with_a_clear_message():
    mdp = garnet(4, 2, 2, np.random.default_rng(0), gamma=0.9)
    with pytest.raises(ValueError, match=r"gamma is 0\.9, expected 1"):
        RUDDER().init(Task.from_mdp(mdp), np.random.default_rng(0))


def test_expected_rudder_rejects_the_uniform_residual_at_construction():
    # The uniform share G_0/T depends on the random episode length (see RUDDER's docstring).
    with pytest.raises(ValueError, match=r"mode 'expected' with residual 'uniform'"):
        RUDDER(mode="expected", residual="uniform")


# --------------------------------------------------------------------------------------------
# Hyperparameter validation
# --------------------------------------------------------------------------------------------

BAD_HYPERPARAMETERS = [
    (ActorCritic, {"tau": -0.1}, "tau"),
    (ActorCritic, {"critic_target": "td2"}, "critic_target"),
    (ActorCritic, {"gae_lambda": 1.5}, "gae_lambda"),
    (ActorCritic, {"gae_lambda": -0.1}, "gae_lambda"),
    (ActorCritic, {"mode": "exact"}, "mode"),
    (ActorCritic, {"beta": 0.0}, "beta"),
    (PPO, {"objective": "trpo"}, "objective"),
    (PPO, {"n_epochs": 0}, "n_epochs"),
    (PPO, {"n_epochs": 1.5}, "n_epochs"),
    (PPO, {"n_minibatches": 0}, "n_minibatches"),
    (PPO, {"gae_lambda": 1.2}, "gae_lambda"),
    (PPO, {"clip_eps": -0.1}, "clip_eps"),
    (PPO, {"kl_coef": -1.0}, "kl_coef"),
    (PPO, {"entropy_coef": -1.0}, "entropy_coef"),
    (PPO, {"value_clip": -1.0}, "value_clip"),
    (PPO, {"mode": "exact"}, "mode"),
    (RUDDER, {"residual": "half"}, "residual"),
    (RUDDER, {"coupling": "mix"}, "coupling"),
    (RUDDER, {"gae_lambda": -0.5}, "gae_lambda"),
    (RUDDER, {"mix_coef": 1.5}, "mix_coef"),
    (RUDDER, {"aux_weight": -1.0}, "aux_weight"),
    (RUDDER, {"mode": "exact"}, "mode"),
]


@pytest.mark.parametrize(
    ("learner", "kwargs", "name"),
    BAD_HYPERPARAMETERS,
    ids=[f"{cls.__name__}-{kw}" for cls, kw, _ in BAD_HYPERPARAMETERS],
)
def test_learners_reject_bad_hyperparameters_naming_the_parameter(learner, kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name} is "):
        learner(**kwargs)


def test_the_deprecated_lam_keyword_warns_and_gives_the_same_learner():
    warning = r"^lam is deprecated, use gae_lambda; removed in 0\.3\.0$"
    with pytest.warns(DeprecationWarning, match=warning):
        old = ActorCritic(critic_target="td_lambda", lam=0.6)
    new = ActorCritic(critic_target="td_lambda", gae_lambda=0.6)
    assert old.gae_lambda == new.gae_lambda == 0.6
    assert old.config == new.config and "lam" not in new.config
    # The same learner: the same update from the same state and batch, to the last bit.
    mdp = _terminating_garnet()
    state = new.init(Task.from_mdp(mdp), np.random.default_rng(0))
    batch = MDPSampler(mdp).sample(new.policy(state), 8, np.random.default_rng(1))
    old_state, old_info = old.update(state, batch)
    new_state, new_info = new.update(state, batch)
    np.testing.assert_array_equal(old_state.theta, new_state.theta)
    np.testing.assert_array_equal(old_state.omega, new_state.omega)
    assert old_info.critic_loss == new_info.critic_loss
    # The old attribute still reads, with the same warning; an invalid λ is named as passed.
    with pytest.warns(DeprecationWarning, match="lam is deprecated"):
        assert old.lam == 0.6
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match=r"^lam is 1\.5"):
        ActorCritic(lam=1.5)
    with pytest.warns(DeprecationWarning), pytest.raises(TypeError, match="gae_lambda only"):
        ActorCritic(lam=0.5, gae_lambda=0.7)


@pytest.mark.parametrize("learner", [ActorCritic, PPO, RUDDER])
@pytest.mark.parametrize("parameter", ["critic_lr", "actor_lr", "beta"])
def test_learners_reject_schedule_with_unknown_name(learner, parameter):
    # The grammar allows only n and log/exp/sqrt/min/max/floor (acconv.schedules).
    with pytest.raises(ValueError, match="unknown name 'm'"):
        learner(**{parameter: "0.5/(m+1)"})


@pytest.mark.parametrize("parameter", ["critic_lr", "actor_lr", "beta"])
def test_learners_name_the_schedule_argument_that_is_bad(parameter):
    with pytest.raises(ValueError, match=parameter):
        ActorCritic(**{parameter: "0.5/(m+1)"})


@pytest.mark.parametrize("learner", [ActorCritic, PPO, RUDDER])
def test_expected_mode_without_a_model_raises_at_init(learner):
    task = Task(n_states=3, n_actions=2, gamma=1.0, mdp=None)
    with pytest.raises(ValueError, match=r"expected.*needs an exact model"):
        learner(mode="expected").init(task, np.random.default_rng(0))


# --------------------------------------------------------------------------------------------
# What UpdateInfo reports
# --------------------------------------------------------------------------------------------

REPORTING = {
    "ActorCritic": lambda mode: ActorCritic(critic_lr=0.5, actor_lr=0.25, mode=mode),
    "PPO": lambda mode: PPO(critic_lr=0.5, actor_lr=0.25, mode=mode),
    "RUDDER": lambda mode: RUDDER(critic_lr=0.5, actor_lr=0.25, mode=mode),
}


@pytest.mark.parametrize("name", sorted(REPORTING))
def test_expected_mode_reports_the_exact_objective_and_no_episodes(name):
    mdp = _delayed_chain(delay=3)
    learner = REPORTING[name]("expected")
    theta = np.random.default_rng(30).normal(size=(mdp.n_states, mdp.n_actions))
    state = learner.init(Task.from_mdp(mdp), np.random.default_rng(0))
    state = dataclasses.replace(state, theta=theta)
    info = learner.update(state, None)[1]
    # UpdateInfo.mean_return: "exact J in expected mode" = ρᵀ V^π of the sampling policy.
    J = float(mdp.rho @ exact.policy_evaluation(mdp, softmax_policy(theta)))
    assert info.mean_return == pytest.approx(J, abs=EXACT)
    assert info.n_episodes == 0 and info.n_steps == 0
    # The constant schedules of REPORTING (critic_lr 0.5, actor_lr 0.25, default beta 1).
    assert (info.n, info.a_n, info.b_n, info.beta_n) == (0, 0.5, 0.25, 1.0)


@pytest.mark.parametrize("name", sorted(REPORTING))
def test_sampled_mode_reports_the_batch_and_the_norms_of_its_directions(name):
    mdp = _delayed_chain(delay=3, noise=0.5)
    learner = REPORTING[name]("sampled")
    state = learner.init(Task.from_mdp(mdp), np.random.default_rng(0))
    batch = MDPSampler(mdp).sample(learner.policy(state), 12, np.random.default_rng(31))
    new_state, info = learner.update(state, batch)
    # DelayedChain with delay 3: every episode has delay + 1 = 4 decisions.
    assert info.n_episodes == 12 and info.n_steps == batch.n_steps == 12 * 4
    assert info.mean_return == pytest.approx(batch.returns(1.0).mean(), abs=1e-12)
    # UpdateInfo docstring: the norms of Δω / a_n and Δθ / b_n.
    actor_dir = (new_state.theta - state.theta) / info.b_n
    fast_dir = (new_state.omega - state.omega) / info.a_n
    assert info.actor_grad_norm == pytest.approx(np.linalg.norm(actor_dir), rel=1e-12)
    assert info.critic_grad_norm == pytest.approx(np.linalg.norm(fast_dir), rel=1e-12)
    np.testing.assert_array_equal(info.theta, new_state.theta)
    np.testing.assert_array_equal(info.omega, new_state.omega)
