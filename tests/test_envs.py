"""Gymnasium environments over a FiniteMDP: API conformance, exact values, sampling, validation."""

from __future__ import annotations

import itertools
import subprocess
import sys
import warnings
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.error import ResetNeeded
from gymnasium.utils.env_checker import check_env

import acconv
from acconv.envs import (
    ENV_IDS,
    ChargeDischargeEnv,
    DelayedChainEnv,
    FiniteMDPEnv,
    GarnetEnv,
    PocketWatchEnv,
    register_envs,
)
from acconv.envs.charge_discharge import CHARGE, DISCHARGE
from acconv.envs.pocket_watch import NOT_REPAIR, REPAIR
from acconv.mdp import FiniteMDP, chain, garnet, reachable_states

FloatArray = np.ndarray[Any, np.dtype[np.float64]]

NON_DEFAULT_KWARGS = {
    "acconv/DelayedChain-v0": {"delay": 3, "n_actions": 4, "noise": 0.5},
    "acconv/ChargeDischarge-v0": {"delay": 7},
    "acconv/PocketWatch-v0": {},
    "acconv/Garnet-v0": {
        "n_states": 6, "n_actions": 2, "branching": 2, "mdp_seed": 5, "gamma": 0.5,
    },
}


# ---------------------------------------------------------------------------------------------
# Local exact helpers (independent of acconv.exact): finite-horizon backward recursions.
# ---------------------------------------------------------------------------------------------


def uniform_policy(mdp: FiniteMDP) -> FloatArray:
    return np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions)


def evaluate(mdp: FiniteMDP, pi: FloatArray, horizon: int) -> FloatArray:
    """``V_t = R_pi + gamma P_pi V_{t+1}`` with ``V_horizon = 0``; returns ``V_0`` per state."""
    R_pi = np.einsum("sa,sa->s", pi, mdp.R)
    P_pi = np.einsum("sa,sat->st", pi, mdp.P)
    V = np.zeros(mdp.n_states)
    for _ in range(horizon):
        V = R_pi + mdp.gamma * P_pi @ V
    return V


def optimal_q(mdp: FiniteMDP, horizon: int) -> FloatArray:
    """``Q_t = R + gamma P max_a Q_{t+1}`` with ``Q_horizon = 0``; returns ``Q_0``."""
    Q = np.zeros((mdp.n_states, mdp.n_actions))
    for _ in range(horizon):
        Q = mdp.R + mdp.gamma * np.einsum("sat,t->sa", mdp.P, Q.max(axis=1))
    return Q


def sampled_returns(
    env: gym.Env[Any, Any], pi: FloatArray, episodes: int, seed: int, gamma: float = 1.0
) -> FloatArray:
    """Discounted returns of ``episodes`` episodes under the state-indexed policy table ``pi``."""
    policy_rng = np.random.default_rng(seed + 1)
    pi_cdf = np.cumsum(pi, axis=1)
    returns = np.empty(episodes)
    s, _ = env.reset(seed=seed)
    for i in range(episodes):
        if i:
            s, _ = env.reset()
        total, discount, done = 0.0, 1.0, False
        while not done:
            a = int(np.searchsorted(pi_cdf[s], policy_rng.random() * pi_cdf[s, -1], side="right"))
            s, r, terminated, truncated, _ = env.step(a)
            total += discount * float(r)
            discount *= gamma
            done = terminated or truncated
        returns[i] = total
    return returns


def assert_mean_within_4_se(returns: FloatArray, exact: float) -> None:
    se = returns.std(ddof=1) / np.sqrt(len(returns))
    assert abs(returns.mean() - exact) <= 4 * se + 1e-12, (returns.mean(), exact, se)


def episode(env: gym.Env[Any, Any], actions: Callable[[int, int], int], seed: int) -> list[Any]:
    """``(obs, reward, terminated, truncated)`` of one episode; ``actions(t, obs)`` picks ``a``."""
    obs, _ = env.reset(seed=seed)
    steps: list[Any] = [obs]
    t, done = 0, False
    while not done:
        obs, r, terminated, truncated, _ = env.step(actions(t, obs))
        steps.append((obs, float(r), terminated, truncated))
        t += 1
        done = terminated or truncated
    return steps


# ---------------------------------------------------------------------------------------------
# Registration and Gymnasium API conformance
# ---------------------------------------------------------------------------------------------


def test_import_acconv_registers_every_env_id_and_registering_again_is_a_no_op() -> None:
    assert acconv is not None
    assert set(ENV_IDS) == set(NON_DEFAULT_KWARGS)
    assert all(env_id in gym.registry for env_id in ENV_IDS)
    specs = {env_id: gym.registry[env_id] for env_id in ENV_IDS}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        register_envs()
    assert {env_id: gym.registry[env_id] for env_id in ENV_IDS} == specs
    # max_episode_steps=200 for Garnet is part of the brief; the delayed tasks end by themselves.
    assert gym.registry["acconv/Garnet-v0"].max_episode_steps == 200
    assert gym.registry["acconv/DelayedChain-v0"].max_episode_steps is None


def test_import_acconv_does_not_import_torch() -> None:
    code = "import sys, acconv, acconv.adapters, gymnasium; gymnasium.make('acconv/Garnet-v0'); "
    code += "assert 'torch' not in sys.modules and 'stable_baselines3' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("non_default", [False, True], ids=["default", "non_default"])
def test_check_env_passes_without_warnings(env_id: str, non_default: bool) -> None:
    kwargs = NON_DEFAULT_KWARGS[env_id] if non_default else {}
    env = gym.make(env_id, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)
    assert isinstance(env.unwrapped, FiniteMDPEnv)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_observation_is_a_state_index_of_the_mdp_and_spaces_match_it(env_id: str) -> None:
    env = gym.make(env_id).unwrapped
    assert isinstance(env, FiniteMDPEnv)
    mdp = env.mdp
    assert env.observation_space == gym.spaces.Discrete(mdp.n_states)
    assert env.action_space == gym.spaces.Discrete(mdp.n_actions)
    obs, info = env.reset(seed=0)
    assert type(obs) is int and mdp.rho[obs] > 0 and info["prob"] == mdp.rho[obs]
    obs_next, _, _, truncated, info = env.step(0)
    assert type(obs_next) is int and truncated is False
    assert info["prob"] == mdp.P[obs, 0, obs_next] > 0


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_same_seed_gives_identical_trajectories(env_id: str) -> None:
    def run(seed: int) -> list[Any]:
        env = gym.make(env_id, **NON_DEFAULT_KWARGS[env_id])
        env.action_space.seed(seed)
        sample = env.action_space.sample
        return [episode(env, lambda t, s: int(sample()), seed + i) for i in range(4)]

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_step_before_reset_raises_reset_needed() -> None:
    with pytest.raises(ResetNeeded):
        DelayedChainEnv().step(0)


@pytest.mark.parametrize("action", [2, -1, 0.0, "0", True, np.int64(5), np.array(2), np.array([0])])
def test_step_rejects_an_invalid_action_naming_it_and_the_range(action: Any) -> None:
    env = DelayedChainEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action is .*, expected an integer in \[0, 1\]"):
        env.step(action)


def test_numpy_integer_actions_are_accepted() -> None:
    env = GarnetEnv()
    env.reset(seed=0)
    env.step(np.int64(3))
    env.step(np.array(1))


def test_render_modes_other_than_none_are_rejected() -> None:
    with pytest.raises(ValueError, match="render_mode is 'human'"):
        PocketWatchEnv(render_mode="human")


# ---------------------------------------------------------------------------------------------
# The generic FiniteMDPEnv samples the model
# ---------------------------------------------------------------------------------------------


def test_next_state_frequencies_match_the_rows_of_p() -> None:
    mdp = garnet(6, 2, 4, np.random.default_rng(1))
    env = FiniteMDPEnv(mdp)
    env.reset(seed=0)
    n = 20_000
    counts = np.zeros(mdp.n_states)
    for _ in range(n):
        env._s = 2  # a white-box shortcut: sample the same row (s = 2, a = 1) many times
        s_next, _, _, _, _ = env.step(1)
        counts[s_next] += 1
    p = mdp.P[2, 1]
    se = np.sqrt(p * (1 - p) / n)
    np.testing.assert_array_less(np.abs(counts / n - p), 4 * se + 1e-12)


def test_discounted_return_of_a_slippery_chain_matches_policy_evaluation() -> None:
    # chain() has per-transition rewards R_next and a terminal goal; 500 steps of γ = 0.9
    # leave 0.9**500 ≈ 1e-23 of the value out.
    mdp = chain(5, slip=0.2, gamma=0.9)
    pi = uniform_policy(mdp)
    exact = float(mdp.rho @ evaluate(mdp, pi, horizon=500))
    returns = sampled_returns(FiniteMDPEnv(mdp), pi, episodes=5_000, seed=0, gamma=0.9)
    assert_mean_within_4_se(returns, exact)


@pytest.mark.parametrize(
    ("env_id", "episodes"),
    [
        ("acconv/DelayedChain-v0", 20_000),
        ("acconv/ChargeDischarge-v0", 20_000),
        ("acconv/PocketWatch-v0", 4_000),
        ("acconv/Garnet-v0", 1_000),
    ],
)
@pytest.mark.parametrize("non_default", [False, True], ids=["default", "non_default"])
def test_mean_return_of_uniform_policy_matches_backward_recursion_on_mdp(
    env_id: str, episodes: int, non_default: bool
) -> None:
    env = gym.make(env_id, **(NON_DEFAULT_KWARGS[env_id] if non_default else {}))
    mdp = env.unwrapped.mdp  # type: ignore[attr-defined]
    # Garnet is continuing: its episodes are the 200 steps of the registered TimeLimit.
    horizon = mdp.horizon if mdp.horizon is not None else 200
    pi = uniform_policy(mdp)
    exact = float(mdp.rho @ evaluate(mdp, pi, horizon))
    returns = sampled_returns(env, pi, episodes, seed=0, gamma=mdp.gamma)
    assert_mean_within_4_se(returns, exact)


@pytest.mark.parametrize("env_class", [DelayedChainEnv, ChargeDischargeEnv, PocketWatchEnv])
def test_delayed_task_models_are_episodic_with_gamma_one_and_every_state_reachable(
    env_class: Callable[[], FiniteMDPEnv],
) -> None:
    env = env_class()
    mdp = env.mdp
    assert isinstance(mdp, FiniteMDP)
    assert mdp.gamma == 1.0 and mdp.horizon is not None
    assert reachable_states(mdp.P, mdp.rho).all()
    # Each layout has a single absorbing "end" state (class docstrings).
    assert mdp.terminal.sum() == 1
    assert mdp.state_labels is not None and len(set(mdp.state_labels)) == mdp.n_states
    # Every episode lasts exactly `horizon` decisions, whatever the actions.
    rng = np.random.default_rng(0)
    for seed in range(3):
        steps = episode(env, lambda t, s: int(rng.integers(mdp.n_actions)), seed)
        terminations = [terminated for _, _, terminated, _ in steps[1:]]
        assert terminations == [False] * (mdp.horizon - 1) + [True]


# ---------------------------------------------------------------------------------------------
# DelayedChain
# ---------------------------------------------------------------------------------------------


def test_delayed_chain_default_has_2_contexts_2_times_10_delay_states_and_an_end() -> None:
    mdp = DelayedChainEnv().mdp
    # n_actions + 2 * delay + 1 = 2 + 20 + 1 (layout in the class docstring).
    assert mdp.n_states == 23
    # Episode length delay + 1 decisions (the brief).
    assert mdp.horizon == 11
    assert mdp.state_labels is not None
    assert mdp.state_labels[:4] == ("t=0,context=0", "t=0,context=1", "t=1,miss", "t=1,match")
    assert mdp.state_labels[-1] == "end"


@pytest.mark.parametrize(("n_actions", "uniform_value"), [(2, 0.0), (3, -1 / 3), (5, -3 / 5)])
def test_delayed_chain_optimal_value_is_one_and_uniform_value_is_hand_computed(
    n_actions: int, uniform_value: float
) -> None:
    mdp = DelayedChainEnv(delay=7, n_actions=n_actions).mdp
    horizon = mdp.horizon
    assert horizon is not None
    # Always matching the context earns +1 (the brief).
    assert mdp.rho @ optimal_q(mdp, horizon).max(axis=1) == pytest.approx(1.0)
    # Hand computed: a uniform guess matches w.p. 1/A, so (1/A)(+1) + (1 - 1/A)(-1) = (2 - A)/A.
    assert mdp.rho @ evaluate(mdp, uniform_policy(mdp), horizon) == pytest.approx(uniform_value)


def test_delayed_chain_matching_the_context_earns_one_in_every_episode() -> None:
    env = DelayedChainEnv(delay=4, n_actions=3)
    for seed in range(20):
        context = env.reset(seed=seed)[0]  # the start state index is the context
        steps = episode(env, lambda t, s, c=context: c, seed)
        # +1 for matching the context (the brief).
        assert sum(r for _, r, _, _ in steps[1:]) == 1.0


def test_delayed_chain_reward_arrives_exactly_at_step_delay_plus_one() -> None:
    delay = 6
    env = DelayedChainEnv(delay=delay)
    for seed in range(10):
        steps = episode(env, lambda t, s: 0, seed)
        rewards = [r for _, r, _, _ in steps[1:]]
        assert len(rewards) == delay + 1
        assert rewards[:delay] == [0.0] * delay
        # ±1 for a match or a miss (the brief).
        assert rewards[delay] in (1.0, -1.0)


def test_delayed_chain_noise_changes_realised_returns_but_not_the_model_or_the_mean() -> None:
    quiet, noisy = DelayedChainEnv(delay=5), DelayedChainEnv(delay=5, noise=1.0)
    np.testing.assert_array_equal(quiet.mdp.R, noisy.mdp.R)
    np.testing.assert_array_equal(quiet.mdp.P, noisy.mdp.P)
    assert quiet.mdp.R_noise is None and noisy.mdp.R_noise is not None
    rewards = [r for _, r, _, _ in episode(noisy, lambda t, s: 0, seed=0)[1:]]
    # No noise on the first step, ±1 on the delay - 1 = 4 intermediate steps, ±1 at the end.
    assert rewards[0] == 0.0
    assert all(abs(r) == 1.0 for r in rewards[1:])
    pi = uniform_policy(noisy.mdp)
    quiet_returns = sampled_returns(quiet, pi, 2_000, seed=0)
    noisy_returns = sampled_returns(noisy, pi, 2_000, seed=0)
    assert not np.array_equal(quiet_returns, noisy_returns)
    # Hand computed: uniform over 2 actions is worth (1 - 1)/2 = 0 with or without noise.
    assert_mean_within_4_se(noisy_returns, 0.0)


# ---------------------------------------------------------------------------------------------
# ChargeDischarge
# ---------------------------------------------------------------------------------------------


def charge_discharge_by_spec(actions: tuple[int, ...]) -> float:
    """The return of an action sequence, simulated from RUDDER.md §2.3 without the model."""
    charged, immediate, account = False, 0.0, 0.0
    for a in actions:
        if a == DISCHARGE:
            if charged:
                account += 10.0
            else:
                immediate += 1.0
        charged = a == CHARGE
    return immediate + account


@pytest.mark.parametrize("delay", range(1, 9))
def test_charge_discharge_brute_force_optimum_equals_dp_optimum_on_mdp(delay: int) -> None:
    mdp = ChargeDischargeEnv(delay=delay).mdp
    brute_force = max(
        charge_discharge_by_spec(seq) for seq in itertools.product((0, 1), repeat=delay)
    )
    assert mdp.rho @ optimal_q(mdp, delay).max(axis=1) == brute_force
    # Hand derived in the class docstring: at most delay // 2 charged discharges (+10 instead
    # of +1, at the price of a charge step), the rest discharge an empty battery.
    assert brute_force == delay + 8 * (delay // 2)


def test_charge_discharge_env_returns_equal_the_spec_for_every_action_sequence() -> None:
    delay = 6
    env = ChargeDischargeEnv(delay=delay)
    for seq in itertools.product((0, 1), repeat=delay):
        steps = episode(env, lambda t, s, seq=seq: seq[t], seed=0)
        assert sum(r for _, r, _, _ in steps[1:]) == charge_discharge_by_spec(seq)


def test_charge_discharge_pays_the_ten_rewards_only_on_the_last_transition() -> None:
    env = ChargeDischargeEnv(delay=5)
    steps = episode(env, lambda t, s: [CHARGE, DISCHARGE, DISCHARGE, CHARGE, DISCHARGE][t], 0)
    # c, d (10 delayed), d from D (1 now), c, d (10 delayed): 1 at t = 2, 20 at the end.
    assert [r for _, r, _, _ in steps[1:]] == [0.0, 0.0, 1.0, 0.0, 20.0]


def test_charge_discharge_default_sizes_and_hand_computed_values() -> None:
    mdp = ChargeDischargeEnv().mdp
    # delay (delay + 1) / 2 + 1 = 55 + 1 (t + 1 reachable states at time t, plus "end").
    assert mdp.n_states == 56
    # Optimal: delay + 8 * (delay // 2) = 10 + 40 (class docstring).
    assert mdp.rho @ optimal_q(mdp, 10).max(axis=1) == pytest.approx(50.0)
    # Hand computed for the uniform policy: (D, d) w.p. 1/2 at t = 0 and 1/4 at t >= 1;
    # (C, d) w.p. 1/4 at t >= 1, so 1/2 + 9/4 + 10 · 9/4 = 25.25.
    assert mdp.rho @ evaluate(mdp, uniform_policy(mdp), 10) == pytest.approx(25.25)


# ---------------------------------------------------------------------------------------------
# PocketWatch
# ---------------------------------------------------------------------------------------------


def test_pocket_watch_expected_value_of_repairing_by_brand_from_the_model() -> None:
    mdp = PocketWatchEnv().mdp
    horizon = mdp.horizon
    assert horizon == 50
    V = evaluate(mdp, uniform_policy(mdp), horizon - 1)  # after t = 0 actions are ignored
    Q0 = mdp.R[:4] + np.einsum("bat,t->ba", mdp.P[:4], V)
    # RUDDER.md §1.2 item 5: price - repair - brand cost - 18 = -1.5, 3.5, 3.5, -1.5.
    np.testing.assert_allclose(Q0[:, REPAIR], [-1.5, 3.5, 3.5, -1.5], atol=1e-9)
    # Not repairing is worth 0 (RUDDER.md §1.2 item 5).
    np.testing.assert_allclose(Q0[:, NOT_REPAIR], 0.0, atol=1e-12)
    # Optimal first actions [not, repair, repair, not] (RUDDER.md §1.2 item 5).
    optimal_first_actions = optimal_q(mdp, horizon)[:4].argmax(axis=1).tolist()
    assert optimal_first_actions == [NOT_REPAIR, REPAIR, REPAIR, NOT_REPAIR]
    # Uniform policy, hand computed: 1/2 · mean(-1.5, 3.5, 3.5, -1.5) = 0.5.
    assert mdp.rho @ evaluate(mdp, uniform_policy(mdp), horizon) == pytest.approx(0.5)


@pytest.mark.parametrize("brand", range(4))
def test_pocket_watch_realised_returns_of_repairing_average_to_the_model_value(brand: int) -> None:
    env = PocketWatchEnv()
    returns = []
    for seed in itertools.count():
        if len(returns) == 1_500:
            break
        if env.reset(seed=seed)[0] != brand:  # the start state index is the brand
            continue
        steps = episode(env, lambda t, s: REPAIR, seed)
        returns.append(sum(r for _, r, _, _ in steps[1:]))
    # RUDDER.md §1.2 item 5.
    assert_mean_within_4_se(np.asarray(returns), [-1.5, 3.5, 3.5, -1.5][brand])
    # The events and the normal costs make every realised return different.
    assert len(set(returns)) > 1_000


def test_pocket_watch_not_repairing_returns_exactly_zero() -> None:
    env = PocketWatchEnv()
    for seed in range(10):
        assert all(r == 0.0 for _, r, _, _ in episode(env, lambda t, s: NOT_REPAIR, seed)[1:])


# ---------------------------------------------------------------------------------------------
# Garnet
# ---------------------------------------------------------------------------------------------


def test_garnet_model_is_fixed_by_mdp_seed_and_equals_acconv_mdp_garnet() -> None:
    a, b, c = GarnetEnv(mdp_seed=1), GarnetEnv(mdp_seed=1), GarnetEnv(mdp_seed=2)
    reference = garnet(20, 4, 3, np.random.default_rng(1), gamma=0.9)
    np.testing.assert_array_equal(a.mdp.P, reference.P)
    np.testing.assert_array_equal(a.mdp.R, reference.R)
    np.testing.assert_array_equal(a.mdp.P, b.mdp.P)
    assert not np.array_equal(a.mdp.P, c.mdp.P)


def test_garnet_episodes_are_truncated_at_200_steps_by_the_registered_time_limit() -> None:
    steps = episode(gym.make("acconv/Garnet-v0"), lambda t, s: 0, seed=0)
    # max_episode_steps=200 at registration (the brief).
    assert len(steps) - 1 == 200
    assert steps[-1][3] is True and not any(step[2] for step in steps[1:])


# ---------------------------------------------------------------------------------------------
# Constructor validation: one-line ValueErrors naming the parameter
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: DelayedChainEnv(delay=0), r"^delay is 0, expected an integer >= 1$"),
        (lambda: DelayedChainEnv(delay=-1), r"^delay is -1, expected an integer >= 1$"),
        (lambda: DelayedChainEnv(delay=1.5), r"^delay is 1\.5, expected an integer >= 1$"),
        (lambda: DelayedChainEnv(delay=True), r"^delay is True, expected an integer"),
        (lambda: DelayedChainEnv(n_actions=1), r"^n_actions is 1, expected an integer in \[2, 1"),
        # isqrt(2**24 // 2) = 2896 states at most, so delay <= (2896 - 3) // 2 = 1446.
        (lambda: DelayedChainEnv(delay=1447), r"^delay is 1447, expected an integer <= 1446 here"),
        (lambda: DelayedChainEnv(noise=-0.1), r"^noise is -0\.1, expected a finite number in"),
        (lambda: DelayedChainEnv(noise=float("nan")), r"^noise is nan, expected a finite number"),
        (lambda: ChargeDischargeEnv(delay=0), r"^delay is 0, expected an integer >= 1$"),
        (lambda: ChargeDischargeEnv(delay=1.5), r"^delay is 1\.5, expected an integer >= 1$"),
        # 100 · 101 / 2 + 1 = 5051 states (ChargeDischargeEnv docstring).
        (
            lambda: ChargeDischargeEnv(delay=100),
            r"^delay is 100, expected an integer in \[1, 60\]: .* 5051 states",
        ),
        # isqrt(2**24 // 4) = 2048 states at most for 4 actions.
        (lambda: GarnetEnv(n_states=2049), r"^n_states is 2049, expected an integer <= 2048 here"),
        (lambda: GarnetEnv(branching=21), r"^branching is 21, expected an integer in \[1, 20\]$"),
        (lambda: GarnetEnv(mdp_seed=-1), r"^mdp_seed is -1, expected an integer >= 0$"),
        (lambda: GarnetEnv(gamma=1.0), r"^gamma is 1\.0, expected a finite number in \(0\.0, 1"),
        (lambda: gym.make("acconv/DelayedChain-v0", delay=0), r"^delay is 0"),
    ],
)
def test_invalid_kwargs_raise_a_one_line_value_error_naming_the_parameter(
    make: Callable[[], object], match: str
) -> None:
    with pytest.raises(ValueError, match=match) as error:
        make()
    assert "\n" not in str(error.value)
