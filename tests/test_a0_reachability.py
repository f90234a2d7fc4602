"""A0 and states ρ cannot reach (issue 11, item 8): episodes are judged only on the states a run
can visit (exact graph search from supp(ρ) on the support of the run's policies), and the exact
solvers and the monitor run on an MDP with an unreachable non-terminal loop."""

from __future__ import annotations

import numpy as np
import pytest

from acconv.exact import expected_visits, improper_states, policy_evaluation, visited_states
from acconv.instrument import TwoTimescaleMonitor
from acconv.loop import train
from acconv.mdp import FiniteMDP
from acconv.tabular.actor_critic import ActorCritic
from acconv.theory_checks.setting_checks import check_a0_finite_mdp
from acconv.theory_checks.verdicts import METHOD_EXACT


def _loop_mdp(into_loop: float = 0.0, rho_on_loop: float = 0.0) -> FiniteMDP:
    """States 0 (start), 1 (middle), 2 (terminal), 3 (an absorbing NON-terminal loop).

    From 0, action 0 goes to 1 and action 1 to the terminal state, except that action 1 enters
    the loop with probability ``into_loop``; 1 goes to the terminal state. ρ puts
    ``rho_on_loop`` on state 3. With both 0, ρ never reaches 3.
    """
    P = np.zeros((4, 2, 4))
    P[0, 0, 1] = 1.0
    P[0, 1, 2], P[0, 1, 3] = 1.0 - into_loop, into_loop
    P[1, :, 2] = 1.0
    P[2, :, 2] = 1.0
    P[3, :, 3] = 1.0
    R = np.array([[0.0, 1.0], [1.0, 1.0], [0.0, 0.0], [1.0, 0.0]])
    rho = np.array([1.0 - rho_on_loop, 0.0, 0.0, rho_on_loop])
    terminal = np.array([False, False, True, False])
    return FiniteMDP(P=P, R=R, gamma=1.0, rho=rho, terminal=terminal)


UNIFORM = np.full((4, 2), 0.5)


def test_improper_states_by_hand() -> None:
    # State 3 cannot reach the terminal state: improper. State 0 reaches 3 when action 1 may
    # enter the loop (into_loop > 0), so it is improper then, and not otherwise.
    np.testing.assert_array_equal(improper_states(_loop_mdp(), UNIFORM), [0, 0, 0, 1])
    np.testing.assert_array_equal(improper_states(_loop_mdp(0.1), UNIFORM), [1, 0, 0, 1])
    # a policy that never takes action 1 in state 0 never risks the loop
    avoid = np.array([[1.0, 0.0], [0.5, 0.5], [0.5, 0.5], [0.5, 0.5]])
    np.testing.assert_array_equal(improper_states(_loop_mdp(0.1), avoid), [0, 0, 0, 1])


def test_a0_holds_when_rho_cannot_reach_the_loop_and_says_what_it_did_not_judge() -> None:
    verdict = check_a0_finite_mdp(_loop_mdp())
    assert verdict.status == "holds", verdict.detail
    assert verdict.method == METHOD_EXACT
    assert verdict.evidence["unreachable_improper_states"] == 1
    assert "1 live state(s) (first 3)" in verdict.detail
    # expected length by hand: action 0 (½) takes 2 decisions, action 1 (½) one: 1.5
    assert verdict.evidence["max_expected_length"] == pytest.approx(1.5)


@pytest.mark.parametrize(
    ("into_loop", "rho_on_loop", "state"), [(0.1, 0.0, 0), (0.0, 0.2, 3)], ids=["edge", "rho"]
)
def test_a0_is_violated_when_rho_reaches_a_state_whose_episodes_need_not_end(
    into_loop: float, rho_on_loop: float, state: int
) -> None:
    verdict = check_a0_finite_mdp(_loop_mdp(into_loop, rho_on_loop))
    assert verdict.status == "violated"
    assert f"from state {state}, which ρ reaches" in verdict.detail


def test_a0_judges_the_support_of_the_runs_policies() -> None:
    # Under a policy that never takes action 1 in state 0 the loop is unreachable: holds; the
    # uniform policy may enter it: violated.
    mdp = _loop_mdp(0.1)
    avoid = np.array([[1.0, 0.0], [0.5, 0.5], [0.5, 0.5], [0.5, 0.5]])
    assert check_a0_finite_mdp(mdp, [avoid]).status == "holds"
    assert check_a0_finite_mdp(mdp, [avoid, UNIFORM]).status == "violated"


def test_exact_solves_leave_out_the_unreachable_loop() -> None:
    mdp = _loop_mdp()
    # by hand: V(1) = 1; Q(0, 0) = 0 + V(1) = 1, Q(0, 1) = 1, so V(0) = 1; state 3 left out (0)
    np.testing.assert_allclose(policy_evaluation(mdp, UNIFORM), [1.0, 1.0, 0.0, 0.0])
    # visits per episode: state 0 once, state 1 when action 0 is taken (½)
    np.testing.assert_allclose(expected_visits(mdp, UNIFORM), [1.0, 0.5, 0.0, 0.0])
    np.testing.assert_array_equal(visited_states(mdp, UNIFORM), [1, 1, 0, 0])
    with pytest.raises(ValueError, match="mass 1 on state 3"):
        expected_visits(mdp, UNIFORM, mu=np.array([0.0, 0.0, 0.0, 1.0]))
    with pytest.raises(ValueError, match="from state 0, which ρ reaches"):
        policy_evaluation(_loop_mdp(0.1), UNIFORM)


@pytest.mark.parametrize("mode", ["sampled", "expected"])
def test_the_monitor_run_completes_and_a0_holds_on_its_policies(mode: str) -> None:
    # Before: the monitor stopped with "ValueError: I - γ P_π is singular" (λ(θ) = V^π solved
    # on every live state, the unreachable loop included).
    mdp = _loop_mdp()
    monitor = TwoTimescaleMonitor()
    train(
        ActorCritic(mode=mode),
        mdp,
        30,
        np.random.default_rng(0),
        [monitor],
        episodes_per_update=4,
    )
    trace = monitor.trace()
    assert trace.snapshots and all(np.isfinite(s.metrics["track/error"]) for s in trace.snapshots)
    verdict = check_a0_finite_mdp(mdp, [s.policy for s in trace.snapshots])
    assert verdict.status == "holds", verdict.detail
