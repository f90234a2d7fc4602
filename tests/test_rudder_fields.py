"""Tabular RUDDER's slow field against ∇J, and what the optimal redistribution's correction has
zero mean for (issue 11, items 10b and 10c), by exact computation and exact enumeration."""

from __future__ import annotations

import numpy as np
import pytest
from _numerics import enumerate_episodes

from acconv.exact import (
    action_values,
    discounted_visits,
    ending_steps,
    optimal_redistribution,
    policy_gradient,
)
from acconv.mdp import FiniteMDP, discount_as_termination, garnet, with_time
from acconv.policies import softmax_policy
from acconv.tabular.rudder import RUDDER
from acconv.theory_checks.mean_fields import slow_field
from acconv.updates import Task


def _random_end() -> FiniteMDP:
    """γ = 1; every pair ends the episode with probability 0.4 (0 < p_end < 1), cut at 3."""
    return with_time(discount_as_termination(garnet(2, 2, 2, np.random.default_rng(2), 0.6)), 3)


def _random_end_loop() -> FiniteMDP:
    """γ = 1, three live states; every pair ends the episode with a probability in [0.2, 0.8]
    and otherwise moves to a random live state (unbounded, geometric episode lengths)."""
    rng = np.random.default_rng(1)
    P = np.zeros((4, 2, 4))
    for s in range(3):
        for a in range(2):
            p_end = rng.uniform(0.2, 0.8)
            P[s, a, :3] = rng.dirichlet(np.ones(3)) * (1 - p_end)
            P[s, a, 3] = p_end
    P[3, :, 3] = 1.0
    R = np.zeros((4, 2))
    R[:3] = rng.uniform(0, 1, (3, 2))
    return FiniteMDP(
        P=P,
        R=R,
        gamma=1.0,
        rho=np.array([1.0, 0, 0, 0]),
        terminal=np.array([False, False, False, True]),
    )


def _decided_random_length() -> FiniteMDP:
    """γ = 1, episodes of 2 or 3 decisions, but each pair surely ends or surely continues:
    0 → 1 or 2 (½ each, reward by action), 1 → terminal, 2 → 1."""
    P = np.zeros((4, 2, 4))
    P[0, :, 1] = P[0, :, 2] = 0.5
    P[1, :, 3] = 1.0
    P[2, :, 1] = 1.0
    P[3, :, 3] = 1.0
    R = np.array([[0.3, 0.0], [1.0, 0.2], [0.0, 0.5], [0.0, 0.0]])
    return FiniteMDP(
        P=P,
        R=R,
        gamma=1.0,
        rho=np.array([1.0, 0, 0, 0]),
        terminal=np.array([False, False, False, True]),
    )


def _relative_gap(mdp: FiniteMDP, residual: str) -> tuple[str, float]:
    """(facts.actor_field, ‖F(θ) - ∇J(θ)‖/‖∇J(θ)‖) at a random θ, F the slow field at λ(θ)."""
    facts = RUDDER(residual=residual, mode="expected").facts(Task.from_mdp(mdp))
    assert facts.mean_field is not None and facts.fast_equilibrium is not None
    theta = np.random.default_rng(5).normal(size=(mdp.n_states, mdp.n_actions))
    F = slow_field(facts.mean_field, facts.fast_equilibrium, theta, 0)
    grad = policy_gradient(mdp, theta)
    return facts.actor_field, float(np.linalg.norm(F - grad) / np.linalg.norm(grad))


@pytest.mark.parametrize(
    ("make", "residual", "measured"),
    [
        (_random_end_loop, "none", 0.275),
        (_random_end_loop, "terminal", 0.550),
        (_random_end, "none", 0.019),
        (_random_end, "terminal", 0.038),
    ],
)
def test_with_random_ends_the_actor_field_is_not_grad_j_and_the_facts_say_so(
    make,
    residual: str,
    measured: float,  # type: ignore[no-untyped-def]
) -> None:
    # exact: the expected field at λ(θ) against ∇J (values measured, to ±10%)
    actor_field, gap = _relative_gap(make(), residual)
    assert actor_field == "unknown"
    assert gap == pytest.approx(measured, rel=0.1)


@pytest.mark.parametrize("residual", ["none", "terminal"])
def test_where_every_pair_decides_the_end_the_actor_field_is_grad_j(residual: str) -> None:
    # Random lengths (2 or 3) but p_end ∈ {0, 1}: λ(θ) = Q^π and F = Σ η π A ∇log π = ∇J.
    actor_field, gap = _relative_gap(_decided_random_length(), residual)
    assert actor_field == "policy_gradient"
    assert gap < 1e-10


def _episodes(mdp: FiniteMDP, pi: np.ndarray):  # type: ignore[no-untyped-def]
    reward = np.broadcast_to(mdp.R[:, :, None], mdp.P.shape)
    return enumerate_episodes(mdp.P, reward, mdp.rho, mdp.terminal, pi, mdp.horizon)


@pytest.mark.parametrize("make", [_random_end, _decided_random_length])
def test_the_future_redistributed_reward_with_the_correction_has_zero_mean_given_any_prefix(
    make,  # type: ignore[no-untyped-def]
) -> None:
    # E[Σ_{k>t} r*_{k+1} + correction | τ_{0:t}] = E[G_0 - g_t | τ_{0:t}] = 0, by enumeration:
    # group the episodes by prefix (s_0, a_0, r_1, ..., s_t, a_t) and average.
    mdp = make()
    pi = softmax_policy(np.random.default_rng(6).normal(size=(mdp.n_states, mdp.n_actions)))
    sums: dict[tuple, list[float]] = {}
    for p, states, actions, rewards in _episodes(mdp, pi):
        out = optimal_redistribution(mdp, pi, states, actions, rewards)
        assert out.rewards.sum() + out.correction == pytest.approx(sum(rewards), abs=1e-12)
        for t in range(len(actions)):
            prefix = (tuple(states[: t + 1]), tuple(actions[: t + 1]), tuple(rewards[:t]))
            future = out.rewards[t + 1 :].sum() + out.correction
            mass, total = sums.get(prefix, [0.0, 0.0])
            sums[prefix] = [mass + p, total + p * future]
    assert len(sums) > 10
    for mass, total in sums.values():
        assert total / mass == pytest.approx(0.0, abs=1e-12)


def test_the_correction_alone_is_zero_mean_only_where_the_last_pair_surely_ends() -> None:
    # E[correction] = Σ_{s,a} d(s) π(a|s) (r_end - p_end q)(s, a), d = discounted visits:
    # 0 where p_end ∈ {0, 1}, not 0 on the random-end task (enumeration against the formula).
    for make, zero in ((_random_end, False), (_decided_random_length, True)):
        mdp = make()
        pi = softmax_policy(np.random.default_rng(6).normal(size=(mdp.n_states, mdp.n_actions)))
        mean = sum(
            p * optimal_redistribution(mdp, pi, s, a, r).correction
            for p, s, a, r in _episodes(mdp, pi)
        )
        p_end, r_end = ending_steps(mdp)
        q = action_values(mdp, pi)
        formula = float(discounted_visits(mdp, pi) @ (pi * (r_end - p_end * q)).sum(axis=1))
        assert mean == pytest.approx(formula, abs=1e-12)
        assert (abs(mean) < 1e-12) == zero, mean
