"""acconv.testing (assertions for users' suites) and the pytest plugin's fixtures.

Every assertion passes on a good case and fails, with a message naming what was expected, what
was seen, at which n and which condition, on a bad case. Runs are seeded and short; the numbers
in comments were measured with these seeds.
"""

from __future__ import annotations

import numpy as np
import pytest

from acconv.instrument.bound_tracker import BoundTracker
from acconv.instrument.monitor import TwoTimescaleMonitor
from acconv.instrument.recorder import Recorder
from acconv.loop import train
from acconv.mdp import FiniteMDP, chain, discount_as_termination, garnet
from acconv.tabular import ActorCritic, SoftmaxPG
from acconv.testing import (
    DEFAULT_MIN_SUCCESS,
    assert_assumptions,
    assert_converges,
    assert_two_timescale,
    assert_within_bound,
    run_seeds,
    seed_tolerance,
)
from acconv.theory_checks.assumptions import BORKAR, AssumptionReport, assumption_report
from acconv.theory_checks.bounds import MEI2020_THM4
from acconv.theory_checks.verdicts import Verdict

pytest_plugins = ["pytester"]

# Valid schedules (as in tests/test_assumptions.py): a ~ n^-0.6, b ~ 1/n, so b/a ~ n^-0.4 → 0.
CRITIC_LR = "1/(n+1)**0.6"
ACTOR_LR = "1/(n+10)"
N_SHORT = 1000  # a third of tests/test_assumptions.py's 3000 updates


# --------------------------------------------------------------------------------------------
# assert_two_timescale
# --------------------------------------------------------------------------------------------


def test_assert_two_timescale_passes_on_valid_schedules_and_returns_the_report() -> None:
    report = assert_two_timescale(CRITIC_LR, ACTOR_LR)
    assert report.two_timescale == "holds"


def test_assert_two_timescale_fails_on_equal_schedules_naming_s4_violated() -> None:
    # b(n)/a(n) = 1 → 1 ≠ 0: S4 is violated; S1, S2, S3, S5 hold for n^-0.6.
    with pytest.raises(AssertionError, match=r"S4 b\(n\)/a\(n\) → 0.* is violated") as info:
        assert_two_timescale(CRITIC_LR, CRITIC_LR)
    message = str(info.value)
    assert "1 of 5 do not hold" in message
    assert [line.split()[1] for line in message.splitlines()[1:]] == ["S4"]  # one item listed
    assert "critic a(n) = 1/(n+1)**0.6" in message  # the schedule as the user wrote it


def test_assert_two_timescale_fails_on_constant_schedules_naming_s3_and_s4() -> None:
    # Constant steps: Σ a² = Σ 0.01 = ∞ (S3) and b/a = 0.1 ↛ 0 (S4).
    with pytest.raises(AssertionError, match=r"2 of 5 do not hold") as info:
        assert_two_timescale("0.1", "0.01")
    message = str(info.value)
    assert "S3 Σ a(n)² < ∞" in message and "S4" in message and "is violated" in message


def test_assert_two_timescale_reports_undecided_plainly_not_as_violated() -> None:
    # S7 with p_b = 1 needs e_min (a property of the problem): without it S7 is undecided.
    with pytest.raises(AssertionError, match=r"S7 .* is undecided \(could not be decided"):
        assert_two_timescale(CRITIC_LR, ACTOR_LR, require=("S7",))
    # b0 = 1 > 1/(2 e_min) for e_min = 1: decided, holds.
    assert_two_timescale(CRITIC_LR, ACTOR_LR, require=("S7",), e_min=1.0)


# --------------------------------------------------------------------------------------------
# assert_assumptions
# --------------------------------------------------------------------------------------------


def _monitored(learner: ActorCritic) -> AssumptionReport:
    mdp = discount_as_termination(garnet(8, 3, 3, np.random.default_rng(0), gamma=0.9))
    monitor = TwoTimescaleMonitor()
    train(learner, mdp, N_SHORT, np.random.default_rng(1), [monitor], episodes_per_update=16)
    return assumption_report(monitor)


@pytest.fixture(scope="module")
def valid_report() -> AssumptionReport:
    return _monitored(ActorCritic(critic_lr=CRITIC_LR, actor_lr=ACTOR_LR, tau=0.5))


@pytest.fixture(scope="module")
def greedy_report() -> AssumptionReport:
    # Unregularised softmax (τ = 0): θ grows without bound as π turns greedy (A8 violated).
    return _monitored(ActorCritic(critic_lr=CRITIC_LR, actor_lr="10/(n+100)**0.7", tau=0.0))


def test_assert_assumptions_passes_on_a_valid_run_when_undecided_is_allowed(
    valid_report: AssumptionReport,
) -> None:
    # After 1000 updates every hypothesis holds except A8 (measured ‖θ_n - θ*_τ‖ 3.34 → 2.02,
    # no clear trend yet: undecided; it holds at 3000 updates in tests/test_assumptions.py).
    assert assert_assumptions(valid_report, allow_undecided=True) is valid_report
    # A2, A6 and A7 are proven; tracking is evidence (the error falls significantly on the run's
    # tail), so it passes only when evidence is accepted.
    required = ["A2", "A6", "A7", "tracking"]
    assert_assumptions(valid_report, require=required, accept_evidence=True)
    with pytest.raises(AssertionError, match=r"tracking .*\(leans holds, \w+ evidence\): evidence"):
        assert_assumptions(valid_report, require=required)


def test_assert_assumptions_fails_on_undecided_unless_allowed(
    valid_report: AssumptionReport,
) -> None:
    with pytest.raises(AssertionError, match=r"A8 .* is undecided .*method: estimated"):
        assert_assumptions(valid_report)


def test_assert_assumptions_names_violated_a8_with_method_detail_and_evidence(
    greedy_report: AssumptionReport,
) -> None:
    # A run shows growth but cannot prove it: A8 is undecided, leaning violated. Accepting
    # evidence accepts only evidence for, so the assertion still fails.
    leans = r"A8 .* is undecided \(leans violated, \w+ evidence\): evidence, not a proof"
    with pytest.raises(AssertionError, match=leans + r" \(method: estimated\)") as info:
        assert_assumptions(greedy_report, require=["A8"], accept_evidence=True)
    message = str(info.value)
    # Measured: ‖θ_n‖ 7.36 → 13.1 on n ∈ [31, 999], +1.66 per e-fold of n.
    assert "greedy limit" in message and "theta_slope_per_efold = " in message


def test_assert_assumptions_expands_a_theorem_name_and_accepts_a_list_of_verdicts(
    greedy_report: AssumptionReport,
) -> None:
    # Borkar's list contains A7-global and A8, both violated on the greedy run.
    with pytest.raises(AssertionError, match=r"A7-global .* is violated") as info:
        assert_assumptions(list(greedy_report.verdicts), require=[BORKAR], allow_undecided=True)
    assert "A8" in str(info.value)
    with pytest.raises(AssertionError, match=r"A99 is missing from the report"):
        assert_assumptions(greedy_report, require=["A99"])


# --------------------------------------------------------------------------------------------
# assert_converges and the binomial rule across seeds
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chain_run() -> Recorder:
    # Mean-field ActorCritic on chain(5, γ = 0.9): exact gap measured 0.454 at n = 0, 0.223 at
    # n = 30 and 0.136 at n = 299.
    learner = ActorCritic(mode="expected", actor_lr="1/(n+1)**0.8")
    return run_seeds(lambda: learner, chain(5, gamma=0.9), [0], 300)[0]


def test_assert_converges_passes_when_the_last_gap_is_below_the_threshold(
    chain_run: Recorder,
) -> None:
    [(n, gap)] = assert_converges(chain_run, below=0.2)
    assert n == 299 and gap == pytest.approx(chain_run.last("exact/gap"))
    assert_converges(chain_run.series(), below=0.2)  # a mapping of series works too


def test_assert_converges_fails_with_expected_seen_and_n(chain_run: Recorder) -> None:
    pattern = r"expected exact/gap < 1e-06 at the last recorded update; seen 0\.13\d+ at n = 299"
    with pytest.raises(AssertionError, match=pattern):
        assert_converges(chain_run, below=1e-6)
    # by = 40 reads the last recorded update n ≤ 40, n = 37 (log-spaced rows).
    with pytest.raises(AssertionError, match=r"n ≤ 40; seen 0\.21\d+ at n = 37"):
        assert_converges(chain_run, below=0.2, by=40)
    with pytest.raises(AssertionError, match=r"expected metric 'exact/nope' in the run"):
        assert_converges(chain_run, metric="exact/nope", below=1.0)


def test_seed_tolerance_with_all_seeds_passing_is_one_minus_confidence_to_the_1_over_n() -> None:
    # Clopper & Pearson 1934, k = n: P(all n pass | p) = p^n = 1 - c ⇒ p = (1 - c)^(1/n).
    assert seed_tolerance(5, 5, 0.95) == pytest.approx(0.05 ** (1 / 5), rel=1e-12)  # 0.5493
    assert seed_tolerance(4, 4, 0.95) == pytest.approx(0.05 ** (1 / 4), rel=1e-12)  # 0.4729
    assert seed_tolerance(0, 5, 0.95) == 0.0
    # k = n - 1: Beta(n-1, 2) has CDF n x^(n-1) - (n-1) x^n; at the bound it equals 1 - c.
    x = seed_tolerance(4, 5, 0.95)
    assert 5 * x**4 - 4 * x**5 == pytest.approx(0.05, rel=1e-9)
    with pytest.raises(ValueError, match="k must be"):
        seed_tolerance(6, 5)


def _fake(gap: float) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A one-row run whose exact gap is ``gap`` at n = 99."""
    return {"exact/gap": (np.array([99]), np.array([gap]))}


def test_binomial_rule_passes_five_of_five_and_fails_four_of_four_and_four_of_five() -> None:
    assert DEFAULT_MIN_SUCCESS == 0.5
    # 5/5: bound 0.05^(1/5) = 0.549 ≥ 0.5.
    assert_converges([_fake(0.01)] * 5, below=0.1, confidence=0.95)
    # 4/4: bound 0.05^(1/4) = 0.473 < 0.5: too few seeds to conclude, even if all pass.
    with pytest.raises(AssertionError, match=r"seen 4 of 4 seeds passing, lower bound 0\.4729"):
        assert_converges([_fake(0.01)] * 4, below=0.1, confidence=0.95)
    # 4/5: bound 0.343 (root of 5x^4 - 4x^5 = 0.05) < 0.5; the failing seed is named.
    runs = [_fake(0.01)] * 4 + [_fake(0.5)]
    with pytest.raises(AssertionError, match=r"4 of 5 seeds passing, lower bound 0\.3\d+") as info:
        assert_converges(runs, below=0.1, confidence=0.95, labels=[10, 11, 12, 13, 14])
    assert "14: 0.5 at n = 99 FAIL" in str(info.value)
    # The same 4/5 passes a looser rule: a 90% bound ≥ 0.3 or at least 4 seeds.
    assert_converges(runs, below=0.1, confidence=0.90, min_success=0.3)  # bound 0.418
    assert_converges(runs, below=0.1, at_least=4)
    with pytest.raises(AssertionError, match=r"at least 5 of 5 seeds; seen 4 of 5"):
        assert_converges(runs, below=0.1)  # default: every seed


def test_run_seeds_trains_one_recorder_per_seed_and_feeds_the_binomial_rule() -> None:
    # Sampled ActorCritic on chain(5, γ = 0.9), 300 updates: gaps measured 0.180 to 0.201.
    runs = run_seeds(ActorCritic, chain(5, gamma=0.9), range(5), 300, max_steps=100)
    assert len(runs) == 5 and len({r.last("exact/gap") for r in runs}) == 5
    assert_converges(runs, below=0.3, confidence=0.95)


# --------------------------------------------------------------------------------------------
# assert_within_bound
# --------------------------------------------------------------------------------------------


def test_assert_within_bound_passes_for_exact_softmax_pg_under_meis_theorem4() -> None:
    # Mei et al. 2020 Thm 4 on garnet(6, 3, 2, γ = 0.9): measured gap/bound ≤ 1.14e-8.
    tracker = BoundTracker(MEI2020_THM4)
    mdp = garnet(6, 3, 2, np.random.default_rng(0), gamma=0.9)
    train(SoftmaxPG(), mdp, 200, np.random.default_rng(0), [tracker])
    assert assert_within_bound(tracker).status == "holds"


def test_assert_within_bound_fails_on_violation_with_first_n_gap_and_bound() -> None:
    verdict = Verdict(
        f"bound/{MEI2020_THM4.id}",
        MEI2020_THM4.form,
        "violated",
        "exact",
        "synthetic",
        {"first_n": 7, "gap": 0.5, "bound": 0.25},
    )
    with pytest.raises(AssertionError, match=r"gap 0\.5 above the bound 0\.25 first at n = 7"):
        assert_within_bound(verdict)


def test_assert_within_bound_on_a_sampled_run_is_undecided_because_bounds_are_exact() -> None:
    tracker = BoundTracker(MEI2020_THM4)
    train(ActorCritic(), chain(5, gamma=0.9), 30, np.random.default_rng(0), [tracker])
    with pytest.raises(AssertionError, match=r"undecided: the bound is for exact gradients"):
        assert_within_bound(tracker)
    assert assert_within_bound(tracker, allow_undecided=True).status == "undecided"


# --------------------------------------------------------------------------------------------
# the pytest plugin
# --------------------------------------------------------------------------------------------

_GENERATED = """
import numpy as np
from acconv.mdp import FiniteMDP

def test_draw(acconv_rng, acconv_seed_sequence):
    print("DRAW", int(acconv_rng.integers(10**9)), acconv_seed_sequence.entropy)

def test_mdps(small_garnet, small_episodic_garnet, chain_mdp, frozenlake_mdp, delayed_chain_mdp):
    assert small_garnet.P.shape == (6, 3, 6) and small_garnet.gamma == 0.9
    assert small_episodic_garnet.P.shape == (7, 3, 7) and small_episodic_garnet.gamma == 1.0
    assert chain_mdp.n_states == 5 and chain_mdp.gamma == 0.9
    assert frozenlake_mdp.P.shape[:2] == (16, 4)
    assert isinstance(delayed_chain_mdp, FiniteMDP)
"""


def _draw(outlines: list[str]) -> tuple[int, int]:
    """(draw, entropy) printed by the generated test_draw."""
    tokens = next(line for line in outlines if "DRAW" in line).split()
    at = tokens.index("DRAW")
    return int(tokens[at + 1]), int(tokens[at + 2])


def test_plugin_fixtures_follow_the_acconv_seed_option_and_print_it_in_the_header(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_generated=_GENERATED)
    default = pytester.runpytest("-s", "-p", "no:cacheprovider")
    default.assert_outcomes(passed=2)
    default.stdout.fnmatch_lines(["acconv: --acconv-seed=0 *"])
    seeded = pytester.runpytest("-s", "-p", "no:cacheprovider", "--acconv-seed=3", "-k", "draw")
    seeded.assert_outcomes(passed=1)
    seeded.stdout.fnmatch_lines(["acconv: --acconv-seed=3 *"])
    # The fixture is numpy.random.default_rng(seed): compare with the draws of seeds 0 and 3.
    assert _draw(default.outlines) == (int(np.random.default_rng(0).integers(10**9)), 0)
    assert _draw(seeded.outlines) == (int(np.random.default_rng(3).integers(10**9)), 3)


def test_small_garnet_fixture_is_garnet_6_3_2(small_garnet: FiniteMDP) -> None:
    # The plugin is active in this suite too (loaded through the pytest11 entry point).
    expected = garnet(6, 3, 2, np.random.default_rng(0), gamma=0.9)
    np.testing.assert_array_equal(small_garnet.P, expected.P)
