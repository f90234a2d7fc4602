"""Tabular PPO's expected twin against the mean of its sampled update (issue 11, item 10a).

The sampled update averages each batch over its own step count N. Where N is fixed the twin is
the mean of the update (checked by exact enumeration of every episode, and by Monte-Carlo with
a standard-error tolerance); where episode lengths vary it is not, and PPO's facts publish no
mean field and no λ(θ), with the reason."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from _numerics import enumerate_episodes

from acconv.exact import episode_length
from acconv.mdp import FiniteMDP, discount_as_termination, garnet, with_time
from acconv.policies import softmax_policy
from acconv.sampling import EpisodeBatch, MDPSampler
from acconv.tabular._common import TabularState
from acconv.tabular.ppo import PPO
from acconv.updates import Task

ONE_STEP = {"critic_lr": 0.5, "actor_lr": 0.5, "n_epochs": 1, "n_minibatches": 1}


def _random_length() -> FiniteMDP:
    """Episodes end after 1, 2 or 3 decisions: a terminating garnet cut at horizon 3."""
    return with_time(discount_as_termination(garnet(2, 2, 2, np.random.default_rng(0), 0.6)), 3)


def _fixed_length() -> FiniteMDP:
    """Every episode lasts exactly 3 decisions: a garnet (no terminal state) cut at 3."""
    return with_time(garnet(2, 2, 2, np.random.default_rng(1), gamma=0.9), 3)


def _point(mdp: FiniteMDP) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    return rng.normal(size=(mdp.n_states, mdp.n_actions)), rng.normal(size=mdp.n_states)


def _direction(learner: PPO, mdp: FiniteMDP, batch: EpisodeBatch | None) -> np.ndarray:
    """(Δθ/b, Δω/a) of one update from the fixed point of :func:`_point`."""
    theta, omega = _point(mdp)
    state = TabularState(n=0, theta=theta, omega=omega, task=Task.from_mdp(mdp))
    _, info = learner.update(state, batch)
    return np.concatenate(
        [(info.theta - theta).ravel() / info.b_n, (info.omega - omega) / info.a_n]
    )


def _episodes(mdp: FiniteMDP, pi: np.ndarray) -> Iterator[tuple[float, EpisodeBatch]]:
    """Every episode of ``pi`` with its probability, as a one-episode batch."""
    assert mdp.R_next is None and mdp.R_noise is None
    reward = np.broadcast_to(mdp.R[:, :, None], mdp.P.shape)
    for p, path, actions, rewards in enumerate_episodes(
        mdp.P, reward, mdp.rho, mdp.terminal, pi, mdp.horizon
    ):
        T = len(actions)
        yield (
            p,
            EpisodeBatch(
                states=np.array([path]),
                actions=np.array(actions, dtype=np.int64).reshape(1, T),
                rewards=np.array(rewards, dtype=np.float64).reshape(1, T),
                mask=np.ones((1, T), dtype=bool),
                lengths=np.array([T]),
                terminated=np.array([bool(mdp.terminal[path[-1]])]),
            ),
        )


def _exact_mean(mdp: FiniteMDP) -> np.ndarray:
    """E[(Δθ/b, Δω/a)] of the sampled update with B = 1, by enumerating every episode."""
    pi = softmax_policy(_point(mdp)[0])
    learner = PPO(**ONE_STEP)
    total, mean = 0.0, 0.0
    for p, batch in _episodes(mdp, pi):
        mean = mean + p * _direction(learner, mdp, batch)
        total += p
    assert total == pytest.approx(1.0, abs=1e-12)  # every episode enumerated
    return np.asarray(mean)


def test_episode_length_by_hand() -> None:
    assert episode_length(_fixed_length()) == 3
    assert episode_length(_random_length()) is None
    # a terminal state every path enters after exactly 2 decisions: 0 → 1 → 2 (terminal)
    P = np.zeros((3, 1, 3))
    P[0, 0, 1] = P[1, 0, 2] = P[2, 0, 2] = 1.0
    chain = FiniteMDP(
        P=P,
        R=np.zeros((3, 1)),
        gamma=1.0,
        rho=np.array([1.0, 0, 0]),
        terminal=np.array([False, False, True]),
    )
    assert episode_length(chain) == 2


def test_with_a_fixed_length_the_twin_is_the_exact_mean_of_one_episode_updates() -> None:
    mdp = _fixed_length()
    twin = _direction(PPO(**ONE_STEP, mode="expected"), mdp, None)
    np.testing.assert_allclose(_exact_mean(mdp), twin, rtol=1e-10, atol=1e-12)
    facts = PPO(**ONE_STEP).facts(Task.from_mdp(mdp))
    assert facts.mean_field is not None and facts.fast_equilibrium is not None


def test_with_random_lengths_the_twin_is_not_the_mean_and_the_facts_say_so() -> None:
    mdp = _random_length()
    twin = _direction(PPO(**ONE_STEP, mode="expected"), mdp, None)
    mean = _exact_mean(mdp)
    # exact enumeration: the mean of Σ_t x_t / N is 20.8% away from E[Σ_t x_t]/E[N] here
    gap = float(np.linalg.norm(mean - twin) / np.linalg.norm(twin))
    assert gap == pytest.approx(0.208, abs=0.001)
    facts = PPO(**ONE_STEP).facts(Task.from_mdp(mdp))
    assert facts.mean_field is None and facts.fast_equilibrium is None
    assert facts.beta_scaled_mean_field is None
    assert "episode lengths vary" in facts.mean_field_reason
    # the expected-mode learner is its own mean: its facts keep the field
    assert PPO(**ONE_STEP, mode="expected").facts(Task.from_mdp(mdp)).mean_field is not None


def test_advantage_normalisation_is_flagged_as_not_a_mean() -> None:
    facts = PPO(**ONE_STEP, normalize_advantage=True).facts(Task.from_mdp(_fixed_length()))
    assert facts.mean_field is None and "normalises advantages" in facts.mean_field_reason


def _monte_carlo(mdp: FiniteMDP, B: int, R: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error of R sampled updates with B episodes each."""
    rng = np.random.default_rng(11)
    sampler, pi, learner = MDPSampler(mdp), softmax_policy(_point(mdp)[0]), PPO(**ONE_STEP)
    draws = np.array([_direction(learner, mdp, sampler.sample(pi, B, rng)) for _ in range(R)])
    return draws.mean(axis=0), draws.std(axis=0, ddof=1) / np.sqrt(R)


@pytest.mark.slow
@pytest.mark.parametrize("B", [1, 4])
def test_monte_carlo_mean_with_a_fixed_length_is_the_twin(B: int) -> None:
    # Tolerance: per coordinate |mean - twin| ≤ 4.5 standard errors (two-sided p ≈ 7e-6 each,
    # < 3e-4 over the ~40 coordinates); coordinates that never move (terminal states) exactly.
    mdp = _fixed_length()
    twin = _direction(PPO(**ONE_STEP, mode="expected"), mdp, None)
    mean, se = _monte_carlo(mdp, B, 2000)
    moving = se > 0
    np.testing.assert_allclose((mean - twin)[~moving], 0.0, atol=1e-12)
    assert (np.abs(mean - twin)[moving] / se[moving]).max() <= 4.5


@pytest.mark.slow
def test_monte_carlo_mean_with_random_lengths_is_the_enumerated_mean_not_the_twin() -> None:
    # The Monte-Carlo mean of B = 1 updates agrees with the exact enumeration (within 4.5
    # standard errors per coordinate, as above) and is far from the twin: some coordinate more
    # than 8 standard errors away (measured 16; the enumerated mean: 2.0).
    mdp = _random_length()
    twin = _direction(PPO(**ONE_STEP, mode="expected"), mdp, None)
    exact = _exact_mean(mdp)
    mean, se = _monte_carlo(mdp, 1, 3000)
    moving = se > 0
    assert (np.abs(mean - exact)[moving] / se[moving]).max() <= 4.5
    assert (np.abs(mean - twin)[moving] / se[moving]).max() > 8.0
