"""Convergence assertions for your own pytest suite: the example of the "Assert convergence"
journey. tests/test_docs.py runs this file with pytest, so the example cannot rot.

The fixtures (chain_mdp, small_episodic_garnet, acconv_rng) come from acconv's pytest plugin,
which installing acconv registers; no conftest.py is needed.
"""

from acconv.instrument import TwoTimescaleMonitor
from acconv.loop import train
from acconv.tabular import ActorCritic
from acconv.testing import (
    assert_assumptions,
    assert_converges,
    assert_two_timescale,
    run_seeds,
)
from acconv.theory_checks import assumption_report

CRITIC_LR = "1/(n+1)**0.6"  # a(n): the fast critic
ACTOR_LR = "1/(n+10)"  # b(n): the slow actor, b(n)/a(n) → 0


def test_my_schedules_are_two_timescale():
    # S1-S5, decided symbolically; the message names every condition that fails.
    assert_two_timescale(CRITIC_LR, ACTOR_LR)


def test_actor_critic_converges_on_most_seeds(chain_mdp):
    # One Recorder per seed; the metric is the exact gap V*(ρ) - J(π_n).
    runs = run_seeds(ActorCritic, chain_mdp, range(8), 300, max_steps=100)
    # Passes when the one-sided 95% Clopper-Pearson lower bound of the per-seed success
    # probability is at least 0.5: one unlucky seed does not fail CI.
    assert_converges(runs, below=0.3, confidence=0.95)


def test_run_meets_the_hypotheses_it_relies_on(small_episodic_garnet, acconv_rng):
    monitor = TwoTimescaleMonitor()
    learner = ActorCritic(critic_lr=CRITIC_LR, actor_lr=ACTOR_LR, tau=0.5)
    train(learner, small_episodic_garnet, 1000, acconv_rng, [monitor], episodes_per_update=16)
    # A2: the step sizes; A6: a globally stable fast equilibrium (exact); A9: bounded
    # greediness. Each failure says what was expected, what was seen and by which method.
    assert_assumptions(assumption_report(monitor, n_starts=0), require=["A2", "A6", "A9"])
