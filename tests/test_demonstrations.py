"""The claims of the tabular learners, demonstrated end to end (issue 3). Slow: ``pytest -m slow``.

Every run is seeded, so each test is deterministic; the seed counts and thresholds are the
issue's ("at least 9 of 10 seeds", "within 0.02", "within 1e-3").
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any

import gymnasium
import numpy as np
import pytest

import acconv  # noqa: F401  (registers the acconv/ environments)
from acconv.exact import optimal_redistribution, optimal_values, policy_evaluation
from acconv.instrument import EndEvent, StartEvent, UpdateEvent, episodes_to_solve
from acconv.loop import train
from acconv.mdp import FiniteMDP, discount_as_termination, from_gymnasium
from acconv.sampling import MDPSampler
from acconv.tabular.actor_critic import ActorCritic
from acconv.tabular.ppo import PPO
from acconv.tabular.rudder import RUDDER, predictions, redistribute

pytestmark = pytest.mark.slow

# Two-timescale schedules used throughout: a(n) ~ n^-0.51 (fast), b(n) ~ n^-0.6 (slow), so
# Σa = Σb = ∞, Σa² + Σb² < ∞ and b/a ~ n^-0.09 → 0 (THEORY.md §7, canonical family).
CRITIC_LR = "0.1/(n+1)**0.51"
SAMPLED_ACTOR_LR = "100/(n+10)**0.6"
# The noise-free mean field tolerates a much larger actor step, which it needs to leave the
# plateau near 0.0098 (state 2 of FrozenLake keeps a suboptimal action for a while, the slow
# softmax escape of Mei et al. 2020 §5).
EXPECTED_ACTOR_LR_AC = "10000/(n+100)**0.6"
EXPECTED_ACTOR_LR_PPO = "30000/(n+100)**0.6"


@pytest.fixture(scope="module")
def frozenlake() -> tuple[FiniteMDP, FiniteMDP, float]:
    """FrozenLake-v1 (4x4, slippery) at γ = 0.99, its episodic twin, and V*(ρ)."""
    mdp = from_gymnasium(gymnasium.make("FrozenLake-v1"), gamma=0.99)
    # γ becomes a survival probability: same V^π, episodes end without truncation bias.
    episodic = discount_as_termination(mdp)
    return mdp, episodic, float(mdp.rho @ optimal_values(mdp).V)


def _gap(episodic: FiniteMDP, v_star: float, pi: np.ndarray) -> float:
    return v_star - float(episodic.rho @ policy_evaluation(episodic, pi))


@pytest.mark.parametrize(
    ("name", "learner", "n_updates"),
    [
        ("actor-critic", ActorCritic(critic_lr=CRITIC_LR, actor_lr=SAMPLED_ACTOR_LR), 750),
        ("ppo", PPO(critic_lr=CRITIC_LR, actor_lr=SAMPLED_ACTOR_LR), 1500),
    ],
)
def test_sampled_learner_reaches_v_star_on_frozenlake_in_nine_of_ten_seeds(
    frozenlake: tuple[FiniteMDP, FiniteMDP, float], name: str, learner: object, n_updates: int
) -> None:
    _, episodic, v_star = frozenlake
    gaps = [
        _gap(
            episodic,
            v_star,
            train(
                learner,
                episodic,
                n_updates,
                np.random.default_rng(seed),  # type: ignore[arg-type]
                episodes_per_update=256,
            ).policy,
        )
        for seed in range(10)
    ]
    assert sum(g < 0.02 for g in gaps) >= 9, f"{name}: gaps to V*(ρ) {np.round(gaps, 4)}"


@pytest.mark.parametrize(
    "learner",
    [
        ActorCritic(critic_lr=CRITIC_LR, actor_lr=EXPECTED_ACTOR_LR_AC, mode="expected"),
        # λ = 1 keeps PPO's mean field an exact policy gradient; with λ = 0.95 the critic's error
        # in rarely visited states biases it and it stays on the plateau.
        PPO(critic_lr=CRITIC_LR, actor_lr=EXPECTED_ACTOR_LR_PPO, gae_lambda=1.0, mode="expected"),
    ],
    ids=["actor-critic", "ppo"],
)
def test_mean_field_twin_reaches_v_star_within_1e_3(
    frozenlake: tuple[FiniteMDP, FiniteMDP, float], learner: object
) -> None:
    _, episodic, v_star = frozenlake
    result = train(learner, episodic, 5000, np.random.default_rng(0))  # type: ignore[arg-type]
    assert _gap(episodic, v_star, result.policy) < 1e-3


def _mean_episodes_to_solve(
    make: Callable[[], Any], mdp: FiniteMDP, seeds: int, budget: int
) -> float:
    """Mean episodes until J ≥ 0.9 for good (a failure counts as the whole budget)."""
    results = episodes_to_solve(make, mdp, range(seeds), budget, episodes_per_update=16)
    return float(np.mean([budget if r is None else r for r in results]))


def test_rudder_episodes_to_solve_stay_flat_while_mc_and_td_grow_with_delay() -> None:
    # The RUDDER poster's claim (RUDDER.md §3, task II), on acconv's delayed chain: one decision,
    # a ±1 reward `delay` steps later, and ±1 noise on every step in between. Same two-timescale
    # schedules for all three learners; J ≥ 0.9 means the right decision with probability 0.95.
    critic, actor, budget, seeds = "min(1, 2/(n+1)**0.51)", "4/(n+1)**0.6", 8000, 6
    makers = {
        "rudder": lambda: RUDDER(critic_lr=critic, actor_lr=actor),
        "mc": lambda: ActorCritic(critic_lr=critic, actor_lr=actor, critic_target="mc"),
        "td": lambda: ActorCritic(critic_lr=critic, actor_lr=actor, critic_target="td0"),
    }
    episodes: dict[str, dict[int, float]] = {name: {} for name in makers}
    for delay in (10, 20, 50, 100):
        env = gymnasium.make("acconv/DelayedChain-v0", delay=delay, noise=1.0)
        for name, make in makers.items():
            episodes[name][delay] = _mean_episodes_to_solve(make, env.unwrapped.mdp, seeds, budget)
    rudder, mc, td = episodes["rudder"], episodes["mc"], episodes["td"]
    growth = {name: max(e.values()) / e[10] for name, e in episodes.items()}
    # "Roughly flat": within a factor 3 of the delay-10 mean at every delay (a mean over 6
    # seeds; measured 341, 405, 776, 563 episodes for delays 10, 20, 50, 100).
    assert growth["rudder"] <= 3, episodes
    # MC's single-episode advantage carries the noise of all `delay` steps, so large steps lock
    # seeds onto the wrong action (measured 53 -> 2677 episodes); TD must carry the reward back
    # `delay` steps (measured 1221 -> 7899, mostly runs that never settle within the budget).
    assert mc[100] >= 5 * mc[10], episodes
    assert td[100] >= 5 * td[10], episodes
    assert growth["rudder"] < min(growth["mc"], growth["td"]), episodes
    assert rudder[100] < min(mc[100], td[100]), episodes


class _RedistributionError:
    """Mean squared difference between the learned and the optimal redistribution."""

    def __init__(self, mdp: FiniteMDP, pi: np.ndarray, rng: np.random.Generator) -> None:
        self.batch = MDPSampler(mdp).sample(pi, 200, rng)
        self.optimal = np.zeros_like(self.batch.rewards)
        for b in range(self.batch.n_episodes):
            L = int(self.batch.lengths[b])
            self.optimal[b, :L] = optimal_redistribution(
                mdp,
                pi,
                self.batch.states[b],
                self.batch.actions[b, :L],
                self.batch.rewards[b, :L],
            ).rewards
        self.errors: list[float] = []

    def on_start(self, event: StartEvent) -> None:
        return None

    def on_update(self, event: UpdateEvent) -> None:
        if event.info.n % 50 == 0:
            learned = redistribute(predictions(event.info.omega, self.batch), self.batch, "none")
            self.errors.append(float(np.mean((learned - self.optimal)[self.batch.mask] ** 2)))

    def on_end(self, event: EndEvent) -> None:
        return None


def test_learned_redistribution_converges_to_the_optimal_one_and_keeps_the_return() -> None:
    # The actor is frozen (b = 0) so that the optimal redistribution under the fixed uniform
    # policy is a fixed target (RUDDER.md §1.2); the return model is the fast iterate.
    mdp = gymnasium.make("acconv/DelayedChain-v0", delay=5, noise=0.5).unwrapped.mdp
    pi = np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions)
    observer = _RedistributionError(mdp, pi, np.random.default_rng(1))
    learner = RUDDER(critic_lr="1/(n+1)**0.6", actor_lr="0", residual="uniform")
    result = train(learner, mdp, 1000, np.random.default_rng(0), [observer], episodes_per_update=16)
    errors = observer.errors
    assert errors[-1] < 0.05 * errors[0], errors
    assert all(later <= 1.5 * earlier for earlier, later in pairwise(errors[2:])), errors
    # Return equivalence: with residual handling on, Σ_t r̃_{t+1} = G_0 for every episode.
    batch = observer.batch
    learned = redistribute(predictions(result.state.omega, batch), batch, "uniform")
    np.testing.assert_allclose(learned.sum(axis=1), batch.returns(1.0), atol=1e-10)
