"""The assumption catalogue (acconv.theory_checks.assumptions) and the two-timescale monitor.

Demonstrations on one Garnet MDP, discount_as_termination(garnet(8, 3, 3, rng(0), γ = 0.9)):
γ = 0.9 becomes a stopping probability, so episodes end (A0) and sampled returns are
untruncated. Each run is seeded, hence deterministic; every threshold below has the measured
number it guards in a comment (measured with these seeds; "×" = ratio to the valid run).

* a valid two-timescale entropy-regularised actor-critic: every hypothesis holds (some only as
  estimates), the tracking error falls inside its envelope;
* the same learner with constant steps, equal timescales and reversed timescales: A2 reports
  S3/S4 violated, and the tracking error shows it;
* unregularised softmax: J → J* while A8 (bounded iterates) is violated, as an explained
  outcome; a growing β violates A9/A3/A1;
* RUDDER (A12) on the delayed chain and on random endings; PPO with K epochs (A10, A11).
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
import pytest

import acconv  # noqa: F401  (registers the acconv/ environments)
from acconv.exact import expected_visits, optimal_values, policy_evaluation
from acconv.instrument.monitor import METRIC_KEYS, TwoTimescaleMonitor
from acconv.loop import facts_of, train
from acconv.mdp import FiniteMDP, discount_as_termination, garnet
from acconv.policies import softmax_policy
from acconv.tabular.actor_critic import ActorCritic
from acconv.tabular.ppo import PPO
from acconv.tabular.rudder import RUDDER
from acconv.theory_checks.assumptions import (
    BORKAR,
    HOLZLEITNER,
    KARMAKAR_BHATNAGAR,
    AssumptionReport,
    assumption_report,
    check_a0_finite_mdp,
    check_a2_step_sizes,
    check_a5_episodes,
    check_a9_greediness,
    check_a10_analytic,
    fast_jacobian,
    trend,
)
from acconv.theory_checks.step_sizes import check_step_sizes
from acconv.theory_checks.verdicts import Verdict
from acconv.updates import Task

# The valid schedules: a ~ n^-0.6 (fast), b ~ 1/n (slow): S1-S5 hold, b/a ~ n^-0.4 → 0.
CRITIC_LR = "1/(n+1)**0.6"
ACTOR_LR = "1/(n+10)"
TAU = 0.5
N_UPDATES = 3000


def _garnet() -> FiniteMDP:
    return discount_as_termination(garnet(8, 3, 3, np.random.default_rng(0), gamma=0.9))


def _run(learner: Any, mdp: FiniteMDP, n_updates: int, seed: int = 1) -> TwoTimescaleMonitor:
    monitor = TwoTimescaleMonitor()
    train(learner, mdp, n_updates, np.random.default_rng(seed), [monitor], episodes_per_update=16)
    return monitor


def _median_error(monitor: TwoTimescaleMonitor, low: int, high: int) -> float:
    """Median tracking error over the recorded updates low ≤ n < high."""
    n, error = monitor.series()["track/error"]
    return float(np.median(error[(n >= low) & (n < high)]))


def _leans(verdict: Verdict, lean: str) -> None:
    """Evidence from a run (issue 11): ``undecided``, leaning ``lean``."""
    assert verdict.status == "undecided" and verdict.lean == lean, (verdict.shown, verdict.detail)


# What a run shows is evidence: these verdicts lean, they never hold (issue 11).
RUN_EVIDENCE = {"A1", "A4", "A7-global", "A8", "tracking"}


@pytest.fixture(scope="module")
def mdp() -> FiniteMDP:
    return _garnet()


@pytest.fixture(scope="module")
def valid(mdp: FiniteMDP) -> tuple[TwoTimescaleMonitor, AssumptionReport]:
    learner = ActorCritic(critic_lr=CRITIC_LR, actor_lr=ACTOR_LR, tau=TAU)
    monitor = _run(learner, mdp, N_UPDATES)
    return monitor, assumption_report(monitor)


@pytest.fixture(scope="module")
def constant(mdp: FiniteMDP) -> tuple[TwoTimescaleMonitor, AssumptionReport]:
    monitor = _run(ActorCritic(critic_lr="0.1", actor_lr="0.01", tau=TAU), mdp, N_UPDATES)
    return monitor, assumption_report(monitor, n_starts=0)


# --------------------------------------------------------------------------------------------
# The valid run
# --------------------------------------------------------------------------------------------


def test_valid_run_meets_every_checked_hypothesis_of_all_three_theorems(
    valid: tuple[TwoTimescaleMonitor, AssumptionReport],
) -> None:
    _, report = valid
    statuses = {v.id: v.status for v in report.verdicts}
    # Not applicable: PPO's old policy (A11) and RUDDER's decomposition (A12).
    assert {k for k, s in statuses.items() if s == "not_applicable"} == {"A11", "A12"}
    proven = {k: s for k, s in statuses.items() if k not in {"A11", "A12"} | RUN_EVIDENCE}
    assert all(s == "holds" for s in proven.values()), statuses
    # Never more than checked: what the run shows is evidence leaning holds, not a proof
    # (measured: A1 moderate, A4, A7-global, A8 and tracking weak; 3000 updates span 1.7
    # decades on the tail, so no lean is strong).
    for key in RUN_EVIDENCE:
        _leans(report[key], "holds")
    # So no theorem is "met" (every hypothesis proven): each is proven where provable and
    # supported by the run's evidence for the rest, and the report names those hypotheses.
    assert set(report.coverage.values()) == {"supported"}, report.statement
    assert set(report.theorems.values()) == {"undecided"}
    assert set(report.supported_by_evidence[BORKAR]) == {"A4", "A7-global", "A8"}
    assert "Proven where provable, the rest supported by evidence" in report.statement
    assert "reconstruction" in report.statement
    assert all(v.theorems for v in report.verdicts), "every verdict names its theorem(s)"
    methods = {v.id: v.method for v in report.verdicts}
    assert methods["A0"] == methods["A6"] == methods["A6'"] == methods["A7"] == "exact"
    assert methods["A2"] == methods["A9"] == methods["A10"] == "symbolic"
    assert methods["A8"] == methods["A7-global"] == "estimated"


def test_valid_run_fast_jacobian_is_minus_expected_visits_and_slow_attractor_is_soft_optimum(
    valid: tuple[TwoTimescaleMonitor, AssumptionReport], mdp: FiniteMDP
) -> None:
    monitor, report = valid
    # THEORY.md §6.3: the MC critic's field is η ∘ (V^π - ω), so J_ω = -diag(η) and κ = min η.
    kappa = monitor.series()["track/kappa"][1]
    last = monitor.trace().snapshots[-1]
    eta = expected_visits(mdp, softmax_policy(last.theta))
    assert kappa[-1] == pytest.approx(eta[eta > 0].min(), rel=1e-8)
    # A7: θ*_τ = Q*_τ/(βτ) is a zero of F, linearly stable, and the ODE from θ_N reaches it.
    evidence = report["A7"].evidence
    assert evidence["closed_form_residual"] < 1e-9  # measured 3.3e-16
    assert evidence["slow_contraction"] > 0  # measured 0.0415
    assert evidence["basin_entry_distance"] < 1e-2  # the flow stops within 1e-3·(1 + ‖θ*‖)
    # The run moves towards θ*_τ (measured 2.72 → 1.70 over t_b(3000) = ln(301) ≈ 5.7).
    assert evidence["distance_final"] < 0.75 * evidence["distance_first"]
    # Shadowing: over the last decade's ODE window (W = 2.26) the run stays near the ODE
    # (measured D_APT 0.31 from n0 = 304 vs 0.91 from n0 = 30: the residual shrinks).
    assert evidence["apt_last"] < evidence["apt_previous"]


def test_valid_run_tracking_error_shrinks_within_its_envelope(
    valid: tuple[TwoTimescaleMonitor, AssumptionReport],
) -> None:
    monitor, report = valid
    _leans(report["tracking"], "holds")
    series = monitor.series()
    n, error = series["track/error"]
    n_env, envelope = series["track/envelope"]
    # From the zero critic (error 12.2 after update 0) down to the noise floor: medians 5.11 on
    # n < 30 and 1.06 on n ≥ 300 (÷ 4.8; sqrt(a) falls ÷ 3.9 from n = 10 to n = 1000).
    assert _median_error(monitor, 300, N_UPDATES) < 0.4 * _median_error(monitor, 0, 30)
    # Inside the envelope: over the last decade E/env has median 0.86 and max 2.92 (c = 3).
    last = n_env >= 300
    ratio = error[np.isin(n, n_env[last])] / envelope[last]
    assert np.median(ratio) < 1.5
    # The envelope shrinks with sqrt(a(n)) ~ n^-0.3 (measured 2.63 → 0.58 on the last decade),
    # and the lag part is small: b/a ~ n^-0.4 (measured lag 0.017 vs noise 0.56 at n = 2999).
    assert envelope[-1] < 0.5 * envelope[last][0]
    assert series["track/lag_envelope"][1][-1] < 0.05 * series["track/noise_envelope"][1][-1]


def test_monitor_logs_only_documented_keys_and_its_verdicts_name_their_theorems(
    valid: tuple[TwoTimescaleMonitor, AssumptionReport],
) -> None:
    monitor, _ = valid
    assert {key for _, key, _ in monitor.rows} <= set(METRIC_KEYS)
    verdicts = monitor.verdicts()
    assert [v.id for v in verdicts] == ["tracking", "A8", "A1", "A9", "A6", "A4"]
    assert all(v.theorems and v.detail for v in verdicts)
    # The zero conditional mean is by construction; the second-moment constant is a fit.
    a4 = verdicts[-1]
    assert "by construction" in a4.detail and a4.method == "estimated"
    assert 0 < a4.evidence["K_max"] < 10  # measured K̂ = 2.1 (early), 0.54 (last decade)


# --------------------------------------------------------------------------------------------
# Invalid schedules: S3/S4 violations and what they do to the tracking error
# --------------------------------------------------------------------------------------------


def test_constant_steps_violate_s3_s4_and_leave_a_tracking_error_plateau(
    constant: tuple[TwoTimescaleMonitor, AssumptionReport],
    valid: tuple[TwoTimescaleMonitor, AssumptionReport],
) -> None:
    monitor, report = constant
    steps = report.step_sizes
    assert steps is not None
    assert steps["S3"].status == "violated" and steps["S4"].status == "violated"
    assert report["A2"].status == "violated"
    assert report.theorems[BORKAR] == "violated"
    # The noise floor sqrt(a·trΣ) stays: the error shows no trend on the tail (measured
    # E = 3.92 → 2.83 on n ∈ [60, 2999], Theil–Sen slope -0.076 per e-fold with 90 % CI
    # [-0.23, +0.14], Mann–Kendall p_fall 0.25), so tracking leans violated, weakly: a plateau
    # has no test of its own, the lean comes from the floor S3 predicts.
    tracking = report["tracking"]
    _leans(tracking, "violated")
    assert tracking.strength == "weak" and "noise floor" in tracking.detail
    # Measured last-decade medians: 2.70 (constant) vs 1.06 (valid), × 2.6.
    assert _median_error(monitor, 300, N_UPDATES) > 2 * _median_error(valid[0], 300, N_UPDATES)


@pytest.fixture(scope="module")
def mean_field_runs(mdp: FiniteMDP) -> dict[str, TwoTimescaleMonitor]:
    """Expected-mode (noise-free) twins of the run: the tracking error is the bias alone."""
    schedules = {
        "valid": (CRITIC_LR, ACTOR_LR),
        "equal": (ACTOR_LR, ACTOR_LR),  # a = b: the critic slowed to the actor's pace
        "reversed": (ACTOR_LR, CRITIC_LR),  # b/a ~ n^0.4 → ∞: the actor is the faster one
    }
    return {
        name: _run(ActorCritic(critic_lr=a, actor_lr=b, tau=TAU, mode="expected"), mdp, N_UPDATES)
        for name, (a, b) in schedules.items()
    }


@pytest.mark.parametrize("name", ["equal", "reversed"])
def test_equal_or_reversed_timescales_violate_s4_and_the_critic_lags(
    mean_field_runs: dict[str, TwoTimescaleMonitor], name: str
) -> None:
    monitor = mean_field_runs[name]
    steps = monitor.step_sizes()
    assert steps["S4"].status == "violated"
    assert steps["S3"].status == "holds"
    tracking = monitor.verdicts()[0]
    # The lag floor (b/a)·L_λ‖F‖/κ need not vanish, but the error still falls like n^-0.7 as the
    # actor converges: the evidence leans holds and the detail says S4 fails.
    _leans(tracking, "holds")
    assert "S4 fails" in tracking.detail
    # Measured final errors: valid 0.0022, equal 0.26 (× 118), reversed 0.26 (× 117): with
    # a ~ 1/n the critic contracts like n^-κ (κ ≈ 0.6) and cannot keep up; the lag heuristic
    # alone underestimates this, the transient term of the envelope covers it.
    valid = mean_field_runs["valid"].last("track/error")
    assert monitor.last("track/error") > 30 * valid


def test_mean_field_run_has_no_noise_and_the_valid_one_follows_the_lag_envelope(
    mean_field_runs: dict[str, TwoTimescaleMonitor],
) -> None:
    monitor = mean_field_runs["valid"]
    series = monitor.series()
    assert np.all(series["track/noise_envelope"][1] == 0.0)
    verdicts = {v.id: v for v in monitor.verdicts()}
    assert verdicts["A4"].status == "holds" and verdicts["A4"].method == "exact"
    _leans(verdicts["tracking"], "holds")
    # Without noise the error is the lag: E/lag on the last decade measured 0.70-0.74.
    n, error = series["track/error"]
    _, lag = series["track/lag_envelope"]
    ratio = (error / lag)[n >= 300]
    assert np.all((ratio > 0.3) & (ratio < 3)), ratio


# --------------------------------------------------------------------------------------------
# Greedy limits: J → J* while the hypotheses fail (explained outcomes, not crashes)
# --------------------------------------------------------------------------------------------


def test_unregularised_softmax_reaches_j_star_while_bounded_iterates_fail(mdp: FiniteMDP) -> None:
    learner = ActorCritic(critic_lr=CRITIC_LR, actor_lr="10/(n+100)**0.7", tau=0.0)
    monitor = _run(learner, mdp, N_UPDATES)
    report = assumption_report(monitor)
    # Value-space convergence: J* - J(π_n) measured 2.78 at n = 0 → 0.0152 at n = 2999.
    v_star = float(mdp.rho @ optimal_values(mdp).V)
    policy = monitor.trace().snapshots[-1].policy
    assert v_star - float(mdp.rho @ policy_evaluation(mdp, policy)) < 0.05
    # ‖θ_n‖ measured 8.6 → 14.4 on n ∈ [60, 2999], +1.49 per e-fold of n (± 0.09).
    a8 = report["A8"]
    _leans(a8, "violated")
    assert a8.method == "estimated"
    assert "greedy limit" in a8.detail and "expected" in a8.detail
    assert a8.evidence["theta_slope_per_efold"] > 0.5
    # No finite equilibrium (exact): the attractor is at infinity, so A7 fails too.
    a7 = report["A7"]
    assert a7.status == "violated" and a7.method == "exact"
    assert "attractor at infinity" in a7.detail
    assert report.theorems == {
        BORKAR: "violated",
        KARMAKAR_BHATNAGAR: "violated",
        HOLZLEITNER: "violated",
    }


def test_unregularised_softmax_with_growing_beta_reaches_j_star_while_bounded_iterates_fail(
    mdp: FiniteMDP,
) -> None:
    # Issue 4's greedy-limit demonstration: β_n = 1 + 0.05 log(n+1) grows without bound (A9),
    # the unregularised actor still finds the optimum, and ‖θ_n‖ grows (A8): an explained
    # outcome, not a crash.
    learner = ActorCritic(critic_lr=CRITIC_LR, actor_lr="10/(n+100)**0.7", beta="1 + 0.05*log(n+1)")
    monitor = _run(learner, mdp, N_UPDATES)
    # J* - J(π_n) measured 0.0050 at n = 2999 (with constant β the same run reaches 0.0152).
    v_star = float(mdp.rho @ optimal_values(mdp).V)
    policy = monitor.trace().snapshots[-1].policy
    assert v_star - float(mdp.rho @ policy_evaluation(mdp, policy)) < 0.02
    verdicts = {v.id: v for v in monitor.verdicts()}
    # ‖θ_n‖ measured 9.01 → 12.2 on n ∈ [60, 2999], +0.83 per e-fold of n.
    _leans(verdicts["A8"], "violated")
    assert verdicts["A8"].evidence["theta_slope_per_efold"] > 0.3
    assert verdicts["A9"].status == "violated"
    _leans(verdicts["A1"], "violated")


def test_growing_beta_violates_greediness_lipschitz_and_positivity(mdp: FiniteMDP) -> None:
    learner = ActorCritic(critic_lr=CRITIC_LR, actor_lr=ACTOR_LR, beta="1 + log(n+1)")
    monitor = _run(learner, mdp, 1000)
    verdicts = {v.id: v for v in monitor.verdicts()}
    assert verdicts["A9"].status == "violated" and verdicts["A9"].method == "symbolic"
    # p_min measured 1.3e-04 → 1.3e-07 on the run's tail, log p_min -2 per e-fold of n.
    _leans(verdicts["A1"], "violated")
    # Here θ_n itself levels off (measured ‖θ_n‖ 2.91 → 3.02, +0.03 per e-fold): the growing β,
    # not θ, drives the policy greedy. With no finite attractor A8 is left undecided, and the
    # detail says that the effective logits β_n θ_n diverge. (The greedy turn is premature here:
    # J* - J measured 1.2 at n = 999.)
    assert verdicts["A8"].status == "undecided"
    assert "effective logits" in verdicts["A8"].detail
    report = assumption_report(monitor, n_starts=0)
    assert report["A3"].status == "violated" and "∝ β" in report["A3"].detail


# --------------------------------------------------------------------------------------------
# RUDDER (A12) and PPO (A10, A11)
# --------------------------------------------------------------------------------------------


def test_rudder_on_the_delayed_chain_has_an_identifiable_return_decomposition() -> None:
    chain = gymnasium.make("acconv/DelayedChain-v0", delay=5, noise=0.5).unwrapped.mdp
    monitor = _run(RUDDER(critic_lr=CRITIC_LR, actor_lr=ACTOR_LR), chain, 1000)
    report = assumption_report(monitor, n_starts=0)
    a12 = report["A12"]
    assert a12.status == "holds" and a12.method == "exact"
    # Fixed horizon: λ(θ) = Q^π = E[G_0 | prefix] exactly; both errors are rounding-level.
    assert a12.evidence["martingale_error_max"] < 1e-9
    assert a12.evidence["return_equivalence_rms"] < 1e-9
    assert a12.evidence["kappa"] > 0  # measured 0.048 (rarely visited pairs)
    # Tracking holds once the slow transient of those pairs is in the envelope (measured
    # E = 0.90 → 0.12 on the last decade, E/env median 0.35).
    _leans(report["tracking"], "holds")


def test_rudder_with_random_episode_ends_is_not_identified_as_the_conditional_return(
    mdp: FiniteMDP,
) -> None:
    monitor = _run(RUDDER(critic_lr=CRITIC_LR, actor_lr=ACTOR_LR), mdp, 30)
    report = assumption_report(monitor, n_starts=0)
    a12 = report["A12"]
    # On the Garnet episodes end at random after any pair (p_end = 0.1), so the return model's
    # equilibrium is not E[G_0 | prefix]: martingale error measured 5.5 (and RMS
    # return-equivalence error 5.0) at the last iterate.
    assert a12.status == "violated", a12.detail
    assert a12.evidence["martingale_error_max"] > 1.0


def test_ppo_with_several_epochs_is_mode_two_and_not_analytic(mdp: FiniteMDP) -> None:
    learner = PPO(critic_lr=CRITIC_LR, actor_lr=ACTOR_LR, n_epochs=4, n_minibatches=4)
    report = assumption_report(_run(learner, mdp, 300), n_starts=0)
    a11 = report["A11"]
    assert a11.status == "undecided" and "mode (ii)" in a11.detail
    assert a11.evidence["gradient_steps"] == 16
    # The KL drift per outer iteration is reported (measured mean 5.9e-05, max 2.3e-04).
    assert a11.evidence["kl_max"] > 0
    assert report["A10"].status == "violated" and "clip" in report["A10"].detail
    assert report["A3"].status == "undecided" and "piecewise" in report["A3"].detail
    assert report["A4"].status == "undecided"  # ratio estimator and batch reuse


def test_one_step_kl_ppo_is_mode_one_and_analytic(mdp: FiniteMDP) -> None:
    learner = PPO(
        critic_lr=CRITIC_LR, actor_lr=ACTOR_LR, objective="kl", n_epochs=1, n_minibatches=1
    )
    report = assumption_report(_run(learner, mdp, 100), n_starts=0)
    assert report["A11"].status == "holds" and "mode (i)" in report["A11"].detail
    assert report["A10"].status == "holds"


# --------------------------------------------------------------------------------------------
# Pieces
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["mc", "td0"])
def test_fast_jacobian_matches_the_closed_form_of_the_tabular_critics(
    mdp: FiniteMDP, target: str
) -> None:
    field, _ = ActorCritic(critic_target=target, tau=TAU).mean_field(Task.from_mdp(mdp))
    assert field is not None
    theta = np.random.default_rng(4).normal(size=(mdp.n_states, mdp.n_actions))
    omega = np.random.default_rng(5).normal(size=mdp.n_states)
    live = ~mdp.terminal
    jacobian = fast_jacobian(field, theta, omega, 0, live)
    pi = softmax_policy(theta)
    eta = expected_visits(mdp, pi)[live]
    if target == "mc":
        expected = -np.diag(eta)  # ∂/∂ω of η ∘ (V^π - ω)
    else:  # ∂/∂ω of η ∘ (r_π + P_π ω - ω) on the live states (γ = 1 after termination)
        P = np.einsum("sa,sat->st", pi, mdp.P)[np.ix_(live, live)]
        expected = -eta[:, None] * (np.eye(live.sum()) - P)
    np.testing.assert_allclose(jacobian, expected, rtol=0, atol=1e-8)


def test_trend_tells_logarithmic_growth_from_levelling_off() -> None:
    n = np.unique(np.geomspace(30, 3000, 20).astype(int))
    growing = trend(n, 2.0 * np.log(n + 1.0))
    levelling = trend(n, 3.0 - 2.0 * np.exp(-n / 100.0))
    assert growing is not None and levelling is not None
    assert growing.slope_log == pytest.approx(2.0)
    assert growing.late_slope == pytest.approx(growing.early_slope)
    assert levelling.late_slope < 0.25 * levelling.early_slope


def test_static_checks_on_configurations_alone() -> None:
    continuing = garnet(4, 2, 2, np.random.default_rng(0), gamma=0.9)
    assert check_a0_finite_mdp(continuing).status == "undecided"  # no episode end
    assert check_a0_finite_mdp(discount_as_termination(continuing)).status == "holds"
    assert check_a9_greediness("2 - 1/(n+1)").evidence["beta_limit"] == 2.0
    assert check_a9_greediness(1.5).status == "holds"
    assert check_a9_greediness("1 + log(n+1)").status == "violated"
    assert check_a5_episodes("MDPSampler").status == "holds"
    assert check_a5_episodes("replay").status == "undecided"
    ppo = PPO(objective="kl", value_clip=0.2).facts(Task.from_mdp(continuing))
    assert check_a10_analytic(ppo).status == "violated"
    report = check_step_sizes(CRITIC_LR, CRITIC_LR)
    a2 = check_a2_step_sizes(CRITIC_LR, CRITIC_LR, report=report)
    assert a2.status == report.two_timescale == "violated" and a2.evidence["S4"] == 0.0


def test_learners_without_an_expected_twin_leave_the_mean_field_checks_undecided() -> None:
    class SomeNeuralLearner:  # publishes no facts: the loop states its name only
        mode = "sampled"

    facts = facts_of(SomeNeuralLearner(), Task(2, 2, 0.9))
    assert facts.mean_field is None and "no exact mean field" in facts.mean_field_reason
    twin, reason = RUDDER(residual="uniform").expected_twin()
    assert twin is None and "expected mode" in reason


@pytest.mark.slow
@pytest.mark.parametrize("seed", [2, 3, 4])
def test_sampled_verdicts_and_the_reversed_lag_hold_across_seeds(mdp: FiniteMDP, seed: int) -> None:
    valid = _run(ActorCritic(critic_lr=CRITIC_LR, actor_lr=ACTOR_LR, tau=TAU), mdp, N_UPDATES, seed)
    report = assumption_report(valid)
    # K&B's hypotheses: proven where provable, A4 and A8 leaning holds as evidence (issue 11).
    assert report.theorems[KARMAKAR_BHATNAGAR] != "violated", report.statement
    for key in ("A4", "A8", "tracking"):
        _leans(report[key], "holds")
    # Sampled reversed timescales (a = 1/(n+10), b = n^-0.6): measured last-decade median
    # errors 2.2-2.5 against 0.96-1.07 for the valid run over seeds 1-3 (× 2.1-2.5).
    reversed_run = _run(
        ActorCritic(critic_lr=ACTOR_LR, actor_lr=CRITIC_LR, tau=TAU), mdp, N_UPDATES, seed
    )
    assert reversed_run.step_sizes()["S4"].status == "violated"
    assert _median_error(reversed_run, 300, N_UPDATES) > 1.5 * _median_error(valid, 300, N_UPDATES)


def test_the_deprecated_twin_helpers_warn_and_give_the_learners_own_mean_field(
    mdp: FiniteMDP,
) -> None:
    from acconv.theory_checks.assumptions import expected_twin, mean_field

    learner = ActorCritic(critic_lr=CRITIC_LR, actor_lr=ACTOR_LR, tau=TAU)
    task = Task.from_mdp(mdp)
    theta = np.random.default_rng(4).normal(size=(mdp.n_states, mdp.n_actions))
    omega = np.random.default_rng(5).normal(size=mdp.n_states)
    with pytest.deprecated_call(match="expected_twin is deprecated"):
        twin, reason = expected_twin(learner)
    assert twin is not None and twin.mode == "expected" and reason == ""
    with pytest.deprecated_call(match="mean_field"):
        old = mean_field(twin, task, theta, omega, 3)
    field = learner.facts(task).mean_field
    assert field is not None
    for a, b in zip(old, field(theta, omega, 3, None), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.deprecated_call():  # a class name can no longer be rebuilt into a learner
        assert expected_twin("ActorCritic", {})[0] is None


def test_rudder_with_a_value_critic_runs_under_the_monitor_and_says_why_a6_is_undecided() -> None:
    # replace_reward keeps a value critic beside the return model: two fast iterates. The
    # learner publishes no mean field over ω alone, so the monitor records the tracking error
    # only and the field checks are undecided with the reason (they used to crash).
    from acconv.envs import model_of

    mdp = model_of("acconv/DelayedChain-v0", {"delay": 3})
    monitor = TwoTimescaleMonitor()
    train(RUDDER(coupling="replace_reward"), mdp, 20, np.random.default_rng(0), [monitor])
    report = assumption_report(monitor, n_starts=0)
    assert report["A6"].status == "undecided"
    assert "second fast iterate" in report["A6"].detail
    assert "track/error" in monitor.series()
