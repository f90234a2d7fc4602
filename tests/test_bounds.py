"""Exact-gradient learners against the proven rate bounds (THEORY.md §5, §8) and the per-iterate
certificates (THEORY.md §6.2): bound trackers, certificates, hand-checked NPG steps."""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import Any

import gymnasium
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acconv.exact import (
    Solution,
    advantages,
    optimal_values,
    policy_evaluation,
    policy_gradient,
    softmax_pg_step_size,
    uniform_over_live_states,
)
from acconv.instrument.bound_tracker import BoundTracker
from acconv.loop import train
from acconv.mdp import FiniteMDP, from_gymnasium, garnet
from acconv.policies import softmax_policy
from acconv.tabular.actor_critic import ActorCritic
from acconv.tabular.exact_methods import (
    NPG,
    PolicyMirrorDescent,
    SoftmaxPG,
)
from acconv.theory_checks.bounds import (
    AKM2021_NPG,
    BOUNDS,
    CEN2022_THM1,
    CEN2022_THM1_POLICY,
    MEI2020_THM4,
    MEI2020_THM6,
    MP2006_FAST,
    XIAO2022_PMD,
    RateBound,
    cen_thm1,
)
from acconv.theory_checks.certificates import (
    gradient_domination_certificate,
    gradient_domination_ratio,
    lojasiewicz_certificate,
)
from acconv.updates import Task

FAST = settings(max_examples=30, deadline=None)


@pytest.fixture(scope="module", params=[0.9, 0.99], ids=["gamma0.9", "gamma0.99"])
def frozen_lake(request: pytest.FixtureRequest) -> FiniteMDP:
    return from_gymnasium(gymnasium.make("FrozenLake-v1"), gamma=request.param)


def _bandit(gamma: float = 0.5) -> FiniteMDP:
    """One state, two actions paying 1 and 0, looping forever."""
    P = np.ones((1, 2, 1))
    return FiniteMDP(P=P, R=np.array([[1.0, 0.0]]), gamma=gamma, rho=np.array([1.0]))


def _track(learner: Any, mdp: FiniteMDP, n: int, bound: RateBound, **kw: Any) -> BoundTracker:
    tracker = BoundTracker(bound, **kw)
    train(learner, mdp, n, np.random.default_rng(0), [tracker])
    return tracker


def _policies(learner: Any, mdp: FiniteMDP, n: int) -> list[np.ndarray]:
    """π_0, ..., π_n of an exact learner (stepped by hand, no observers)."""
    state = learner.init(Task.from_mdp(mdp), np.random.default_rng(0))
    policies = [learner.policy(state)]
    for _ in range(n):
        state, _ = learner.update(state, None)
        policies.append(learner.policy(state))
    return policies


# --------------------------------------------------------------------------------------------
# Exact learners: hand-computed steps and identities
# --------------------------------------------------------------------------------------------


def test_npg_one_step_on_a_bandit_is_pi0_times_exp_eta_advantage_over_one_minus_gamma() -> None:
    # γ = 1/2, π_0 uniform: V = 0.5/(1-γ) = 1, Q = R + γV = (1.5, 0.5), A = (0.5, -0.5).
    # AKM Thm 5.3 update: π_1 ∝ π_0 exp(η A/(1-γ)) = exp(0.5·2·(±0.5)), so
    # π_1(a_0) = 1/(1 + e^{-1}) = 0.7310585786300049 (hand computed).
    pi1 = _policies(NPG(eta=0.5), _bandit(), 1)[1]
    np.testing.assert_allclose(pi1[0], [0.7310585786300049, 0.2689414213699951], rtol=1e-12)


def test_entropy_npg_with_the_largest_step_is_soft_policy_iteration_on_a_bandit() -> None:
    # Cen et al. 2022: η = (1-γ)/τ gives π_1 ∝ exp(Q̃^{(0)}/τ). γ = τ = 1/2, η = 1:
    # Q̃(a_0) - Q̃(a_1) = R(a_0) - R(a_1) = 1 (same next state), so π_1(a_0) = σ(1/τ) = σ(2)
    # = 0.8807970779778823 (hand computed).
    pi1 = _policies(NPG(eta=1.0, tau=0.5), _bandit(), 1)[1]
    assert pi1[0, 0] == pytest.approx(0.8807970779778823, rel=1e-12)


def test_entropy_npg_logit_update_equals_cens_multiplicative_update() -> None:
    # Cen et al. 2022: π_{t+1} ∝ π_t^{1-ητ/(1-γ)} exp(η Q̃_τ^{(t)}/(1-γ)), checked for 3 steps.
    mdp = garnet(4, 3, 2, rng=np.random.default_rng(3), gamma=0.8)
    eta, tau = 0.1, 0.5
    policies = _policies(NPG(eta=eta, tau=tau), mdp, 3)
    for pi, pi_next in itertools.pairwise(policies):
        q = mdp.R + mdp.gamma * mdp.P @ policy_evaluation(mdp, pi, tau)
        logits = (1 - eta * tau / (1 - mdp.gamma)) * np.log(pi) + eta * q / (1 - mdp.gamma)
        np.testing.assert_allclose(pi_next, softmax_policy(logits), rtol=1e-10)


def test_pmd_steps_grow_geometrically_and_follow_the_kl_prox_update() -> None:
    # Xiao 2022: π_{k+1} ∝ π_k exp(η_k Q^{π_k}), η_k = η_0/γ^k.
    mdp = garnet(3, 2, 2, rng=np.random.default_rng(4), gamma=0.7)
    learner = PolicyMirrorDescent(eta0=0.3)
    policies = _policies(learner, mdp, 3)
    for k, (pi, pi_next) in enumerate(itertools.pairwise(policies)):
        q = mdp.R + mdp.gamma * mdp.P @ policy_evaluation(mdp, pi)
        expected = softmax_policy(np.log(pi) + 0.3 / 0.7**k * q)
        np.testing.assert_allclose(pi_next, expected, rtol=1e-10)


def test_softmax_pg_uses_meis_step_and_the_exact_gradient_at_mu(frozen_lake: FiniteMDP) -> None:
    # Mei et al. 2020: θ_{t+1} = θ_t + η ∇_θ V^{π_θ}(μ), η = (1-γ)³/8, μ uniform over the
    # non-terminal states; the gradient is cross-checked against acconv.exact.policy_gradient.
    mdp, learner = frozen_lake, SoftmaxPG()
    mu = uniform_over_live_states(mdp)
    state = learner.init(Task.from_mdp(mdp), np.random.default_rng(0))
    theta = np.zeros((mdp.n_states, mdp.n_actions))
    for _ in range(2):
        state, info = learner.update(state, None)
        theta = theta + (1 - mdp.gamma) ** 3 / 8 * policy_gradient(mdp, theta, mu=mu)
        assert info.b_n == pytest.approx((1 - mdp.gamma) ** 3 / 8, rel=1e-15)
        np.testing.assert_allclose(info.theta, theta, rtol=1e-12, atol=1e-18)


def test_the_step_and_mu_helpers_live_in_exact_and_are_re_exported_by_exact_methods() -> None:
    from acconv.tabular import exact_methods

    assert exact_methods.softmax_pg_step_size is softmax_pg_step_size
    assert exact_methods.uniform_over_live_states is uniform_over_live_states
    # Mei et al.'s step at γ = 0.5, τ = 0: (1/2)³/8 = 1/64, exactly representable.
    assert softmax_pg_step_size(0.5, 4) == 1 / 64


def test_exact_learners_report_the_exact_value_of_the_current_policy() -> None:
    mdp = garnet(4, 2, 2, rng=np.random.default_rng(5), gamma=0.9)
    learner = NPG(eta=0.4, tau=0.2)
    state = learner.init(Task.from_mdp(mdp), np.random.default_rng(0))
    state, _ = learner.update(state, None)
    pi = learner.policy(state)
    _, info = learner.update(state, None)
    # ω_{n+1} = Ṽ^{π_n} (soft), mean_return = J(π_n) = ρᵀV^{π_n}, b_n = η/(1-γ) = 0.4/0.1.
    np.testing.assert_allclose(info.omega, policy_evaluation(mdp, pi, 0.2), rtol=1e-12)
    assert info.mean_return == pytest.approx(float(mdp.rho @ policy_evaluation(mdp, pi)))
    assert info.n_steps == 0 and info.a_n == 1.0 and info.b_n == pytest.approx(4.0)


@pytest.mark.parametrize(
    "learner",
    [SoftmaxPG(), NPG(eta=1.0), PolicyMirrorDescent(eta0=1.0)],
    ids=lambda learner: type(learner).__name__,
)
def test_exact_learners_refuse_gamma_one(learner: Any) -> None:
    mdp = from_gymnasium(gymnasium.make("FrozenLake-v1"), gamma=1.0)
    with pytest.raises(ValueError, match="expected gamma < 1"):
        learner.init(Task.from_mdp(mdp), np.random.default_rng(0))


def test_entropy_npg_refuses_a_step_above_cens_limit() -> None:
    # Cen et al. 2022 need 0 < η ≤ (1-γ)/τ = 0.1/0.5 = 0.2 here.
    with pytest.raises(ValueError, match=r"eta <= \(1-γ\)/τ"):
        NPG(eta=0.3, tau=0.5).init(Task.from_mdp(_bandit(0.9)), np.random.default_rng(0))


# --------------------------------------------------------------------------------------------
# Bound trackers on exact runs (FrozenLake-v1, THEORY.md §8 quick table)
# --------------------------------------------------------------------------------------------


def test_exact_softmax_pg_stays_under_meis_theorem4_bound(frozen_lake: FiniteMDP) -> None:
    # Mei et al. 2020 Thm 4 with running c; the bound is ~1e9 (γ = 0.9) to ~1e13 (γ = 0.99)
    # times the gap at η = (1-γ)³/8, so it holds by a wide margin.
    n = 1500 if frozen_lake.gamma == 0.9 else 300
    tracker = _track(SoftmaxPG(), frozen_lake, n, MEI2020_THM4)
    verdict = tracker.verdict()
    assert verdict.status == "holds", verdict.detail
    assert verdict.method == "exact"
    assert verdict.evidence["iterates"] == n + 1  # π_0..π_n, the final policy included
    assert 0 < verdict.evidence["max_ratio"] < 1e-6


def test_entropy_softmax_pg_stays_under_meis_theorem6_recalled_form(
    frozen_lake: FiniteMDP,
) -> None:
    # Mei et al. 2020 Thm 6, constant C (UNVERIFIED): the recalled form holds on FrozenLake.
    tracker = _track(SoftmaxPG(tau=0.1), frozen_lake, 300, MEI2020_THM6)
    assert tracker.verdict().status == "holds", tracker.verdict().detail
    assert MEI2020_THM6.provenance == "unverified"


def test_npg_stays_under_akm_theorem_5_3(frozen_lake: FiniteMDP) -> None:
    # AKM Thm 5.3 rescaled by the rewards' span k (reward_rescale): V* - V^{(t)} ≤
    # log|A|/(ηt) + k/((1-γ)²t). FrozenLake's expected rewards span [0, 1/3] (the goal is
    # entered w.p. 1/3 on the slippery lake), so k = 1/3; NPG converges much faster.
    tracker = _track(NPG(eta=1.0), frozen_lake, 150, AKM2021_NPG)
    verdict = tracker.verdict()
    assert verdict.status == "holds", verdict.detail
    assert verdict.evidence["max_ratio"] < 0.02


@pytest.mark.parametrize("bound", [CEN2022_THM1, CEN2022_THM1_POLICY], ids=lambda b: b.id)
@pytest.mark.parametrize("fraction", [0.5, 1.0], ids=["half_step", "soft_policy_iteration"])
def test_entropy_npg_stays_under_cens_linear_rate(
    frozen_lake: FiniteMDP, bound: RateBound, fraction: float
) -> None:
    # Cen et al. 2022 Thm 1: ‖Q*_τ - Q_τ^{(t)}‖ ≤ C_1 γ (1-ητ)^{t-1}, 0 < η ≤ (1-γ)/τ.
    tau = 0.1
    eta = fraction * (1 - frozen_lake.gamma) / tau
    tracker = _track(NPG(eta=eta, tau=tau), frozen_lake, 120, bound)
    assert tracker.verdict().status == "holds", tracker.verdict().detail


def test_pmd_with_geometric_steps_stays_under_xiaos_bound(frozen_lake: FiniteMDP) -> None:
    # Xiao 2022: V* - V^{π_t} ≤ γ^t (gap_0 + D_0*/((1-γ)η_0)) when η_{t+1} = η_t/γ.
    tracker = _track(PolicyMirrorDescent(eta0=1.0), frozen_lake, 80, XIAO2022_PMD)
    verdict = tracker.verdict()
    assert verdict.status == "holds", verdict.detail
    # and it learns: FrozenLake's gap falls from 0.064 to 0 (γ = 0.9), 0.53 to 0.094 (γ = 0.99)
    assert verdict.evidence["last_gap"] < tracker.observations[0][2] / 5


def test_a_bound_ten_times_too_small_is_violated_at_the_first_failing_iterate() -> None:
    mdp = from_gymnasium(gymnasium.make("FrozenLake-v1"), gamma=0.9)

    def too_small(t: float, **constants: float) -> float:
        return cen_thm1(t, **constants) / 10

    wrong = dataclasses.replace(CEN2022_THM1, id="cen_too_small", formula=too_small)
    tracker = _track(NPG(eta=0.5, tau=0.1), mdp, 30, wrong)
    verdict = tracker.verdict()
    first = next(n for n, _, gap, bound in tracker.observations if gap > bound)
    assert verdict.status == "violated"
    assert verdict.evidence["first_n"] == first
    assert f"at n = {first} " in verdict.detail and "bug in acconv" in verdict.detail


def test_tracker_rows_are_gap_value_ratio_t_and_the_running_c() -> None:
    mdp = from_gymnasium(gymnasium.make("FrozenLake-v1"), gamma=0.9)
    tracker = _track(SoftmaxPG(), mdp, 3, MEI2020_THM4)
    keys = {key for _, key, _ in tracker.rows}
    expected = {"gap", "value", "ratio", "t", "c"}
    assert keys == {f"bound/mei2020_thm4/{name}" for name in expected}
    # π_0 is uniform, so the running c is 1/|A| = 0.25 at n = 0.
    assert (0, "bound/mei2020_thm4/c", 0.25) in tracker.rows


def test_a_bound_for_another_algorithm_is_not_applicable() -> None:
    mdp = from_gymnasium(gymnasium.make("FrozenLake-v1"), gamma=0.9)
    # AKM's NPG bound does not certify softmax PG; Mei's Thm 4 is stated for η = (1-γ)³/8 only.
    assert _track(SoftmaxPG(), mdp, 3, AKM2021_NPG, eta=1.0).verdict().status == "not_applicable"
    assert _track(SoftmaxPG(eta=0.1), mdp, 3, MEI2020_THM4).verdict().status == "not_applicable"


def test_sampled_actor_critic_overlay_is_undecided_and_reindexed_by_ode_time() -> None:
    # THEORY.md §8 item 4: compare at t = t_b(n)/η with t_b(n) = Σ_{k<n} b(k).
    mdp = from_gymnasium(gymnasium.make("FrozenLake-v1"), gamma=0.9)
    tracker = BoundTracker(MEI2020_THM4)
    learner = ActorCritic(actor_lr="1/(n+1)", critic_lr="1/(n+1)**0.6")
    train(learner, mdp, 5, np.random.default_rng(0), [tracker], episodes_per_update=4)
    verdict = tracker.verdict()
    assert verdict.status == "undecided"
    assert "heuristic overlay: the bound is for exact gradients" in verdict.detail
    eta = 0.1**3 / 8
    t_at_3 = next(v for n, key, v in tracker.rows if n == 3 and key.endswith("/t"))
    assert t_at_3 == pytest.approx((1 + 1 / 2 + 1 / 3) / eta)


def test_two_timescale_envelope_is_a_heuristic_shape_only_overlay() -> None:
    mdp = from_gymnasium(gymnasium.make("FrozenLake-v1"), gamma=0.9)
    tracker = BoundTracker(MP2006_FAST)
    train(ActorCritic(), mdp, 5, np.random.default_rng(0), [tracker], episodes_per_update=4)
    verdict = tracker.verdict()
    assert verdict.status == "undecided" and "shape-only" in verdict.detail


def test_every_bound_names_its_algorithm_provenance_and_what_it_certifies() -> None:
    for bound in BOUNDS:
        assert bound.provenance in ("verified", "verified-numerically", "unverified")
        assert bound.certifies or bound.heuristic, bound.id
        if bound.provenance == "unverified":
            assert "UNVERIFIED" in bound.reference
    assert "running c" in MEI2020_THM4.reference


# --------------------------------------------------------------------------------------------
# Certificates (THEORY.md §6.2)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("learner", "n"),
    [(SoftmaxPG(), 150), (SoftmaxPG(eta=1.0), 150), (NPG(eta=1.0), 40),
     (NPG(eta=0.05, tau=0.1), 60), (PolicyMirrorDescent(eta0=1.0), 40)],
    ids=["pg-mei-step", "pg-eta1", "npg", "npg-entropy", "pmd"],
)
def test_certificates_hold_at_every_iterate_of_exact_runs(
    frozen_lake: FiniteMDP, learner: Any, n: int
) -> None:
    # Mei Lemma 8 (ratio ≥ 1) and AKM Lemma 4.1 (ratio ≤ 1) hold for every policy; observed on
    # FrozenLake: Łojasiewicz ratios ≥ 4.9, gradient-domination ratios ≤ 0.74.
    mdp = frozen_lake
    optimum = optimal_values(mdp)
    mu = uniform_over_live_states(mdp)
    for pi in _policies(learner, mdp, n):
        for verdict in (
            lojasiewicz_certificate(mdp, pi, mu=mu, optimum=optimum),
            gradient_domination_certificate(mdp, pi, mu=mu, optimum=optimum),
        ):
            assert verdict.status in ("holds", "undecided"), verdict.detail
            if verdict.status == "undecided":  # only once the policy is exactly optimal
                assert verdict.evidence["gap"] <= verdict.evidence["gap_atol"]


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    n_states=st.integers(1, 5),
    n_actions=st.integers(1, 3),
    gamma=st.floats(0.3, 0.99),
    scale=st.floats(0.0, 6.0),
)
def test_certificates_hold_on_random_garnet_policies(
    seed: int, n_states: int, n_actions: int, gamma: float, scale: float
) -> None:
    rng = np.random.default_rng(seed)
    mdp = garnet(n_states, n_actions, int(rng.integers(1, n_states + 1)), rng=rng, gamma=gamma)
    pi = softmax_policy(scale * rng.normal(size=(n_states, n_actions)))
    mu, rho = rng.dirichlet(np.ones(n_states)), rng.dirichlet(np.ones(n_states))
    for verdict in (
        lojasiewicz_certificate(mdp, pi, mu=mu, rho=rho),
        gradient_domination_certificate(mdp, pi, mu=mu, rho=rho),
    ):
        assert verdict.status in ("holds", "undecided"), verdict.detail


def test_gradient_domination_is_an_equality_on_a_single_state_mdp() -> None:
    # |S| = 1: d = 1, so gap = Σ_a π*(a) A(a)/(1-γ) = max_a A(a)/(1-γ) = the right side.
    mdp = _bandit(0.5)
    pi = np.array([[0.3, 0.7]])
    assert gradient_domination_ratio(mdp, pi) == pytest.approx(1.0, rel=1e-12)


def test_a_failed_certificate_says_it_is_a_bug_in_acconv() -> None:
    # Feed a wrong optimum (V* inflated by 1): the "gap" then breaks gradient domination.
    mdp = _bandit(0.5)
    optimum = optimal_values(mdp)
    wrong = Solution(V=optimum.V + 1.0, Q=optimum.Q, policy=optimum.policy, iterations=1)
    verdict = gradient_domination_certificate(mdp, np.array([[0.3, 0.7]]), optimum=wrong)
    assert verdict.status == "violated"
    assert "this is a bug in acconv (a proven inequality failed)" in verdict.detail


def test_certificates_are_undecided_at_an_optimal_policy() -> None:
    mdp = _bandit(0.5)
    pi = np.array([[1.0, 0.0]])
    assert lojasiewicz_certificate(mdp, pi).status == "undecided"
    assert gradient_domination_certificate(mdp, pi).status == "undecided"
    assert math.isnan(gradient_domination_ratio(mdp, pi))
    assert advantages(mdp, pi)[0, 0] == 0.0
