"""Tests of ``acconv.mdp``: validation, builders, the Gymnasium converter and reachability."""

from __future__ import annotations

import dataclasses

import gymnasium
import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from acconv.envs import model_of
from acconv.exact import (
    finite_horizon_evaluation,
    optimal_values,
    policy_evaluation,
    value_iteration,
)
from acconv.mdp import (
    FiniteMDP,
    chain,
    from_gymnasium,
    garnet,
    reachable_states,
    with_time,
)
from acconv.policies import softmax_policy

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


def _two_state_kwargs() -> dict:
    """A valid 2-state, 2-action MDP whose entries the validation tests perturb one at a time."""
    P = np.zeros((2, 2, 2))
    P[0, 0] = [0.5, 0.5]
    P[0, 1] = [0.0, 1.0]
    P[1, 0] = [1.0, 0.0]
    P[1, 1] = [0.25, 0.75]
    return {
        "P": P,
        "R": np.array([[0.0, 1.0], [2.0, -1.0]]),
        "gamma": 0.9,
        "rho": np.array([1.0, 0.0]),
    }


def _episodic_kwargs() -> dict:
    """Two live states and an absorbing terminal state 2 (zero reward there)."""
    P = np.zeros((3, 2, 3))
    P[0, 0] = [0.5, 0.3, 0.2]
    P[0, 1] = [0.0, 0.5, 0.5]
    P[1, 0] = [0.2, 0.2, 0.6]
    P[1, 1] = [0.1, 0.0, 0.9]
    P[2, :, 2] = 1.0
    return {
        "P": P,
        "R": np.array([[1.0, 0.5], [0.0, 2.0], [0.0, 0.0]]),
        "gamma": 1.0,
        "rho": np.array([0.5, 0.5, 0.0]),
        "terminal": np.array([False, False, True]),
    }


# --------------------------------------------------------------------------------------------
# FiniteMDP validation
# --------------------------------------------------------------------------------------------


def test_valid_mdp_is_accepted_and_reports_sizes():
    mdp = FiniteMDP(**_two_state_kwargs())
    assert (mdp.n_states, mdp.n_actions, mdp.gamma) == (2, 2, 0.9)
    assert not mdp.terminal.any()
    assert mdp.horizon is None


def test_row_summing_to_0_97_is_rejected_with_its_index_and_sum():
    kw = _two_state_kwargs()
    kw["P"][1, 0] = [0.97, 0.0]
    with pytest.raises(ValueError, match=r"P\[1, 0, :\] sums to 0\.97, expected 1"):
        FiniteMDP(**kw)


def test_negative_transition_probability_is_rejected_with_its_index_and_value():
    kw = _two_state_kwargs()
    kw["P"][0, 1] = [-0.25, 1.25]
    with pytest.raises(ValueError, match=r"P\[0, 1, 0\] is -0\.25, expected >= 0"):
        FiniteMDP(**kw)


def test_nan_reward_is_rejected_with_its_index():
    kw = _two_state_kwargs()
    kw["R"][1, 0] = np.nan
    with pytest.raises(ValueError, match=r"R\[1, 0\] is nan, expected a finite number"):
        FiniteMDP(**kw)


def test_infinite_transition_probability_is_rejected_with_its_index():
    kw = _two_state_kwargs()
    kw["P"][1, 1, 0] = np.inf
    with pytest.raises(ValueError, match=r"P\[1, 1, 0\] is inf, expected a finite number"):
        FiniteMDP(**kw)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("R", np.zeros((2, 3)), r"R has shape \(2, 3\), expected \(2, 2\)"),
        ("R", np.zeros(2), r"R has shape \(2,\), expected \(2, 2\)"),
        ("rho", np.array([0.5, 0.25, 0.25]), r"rho has shape \(3,\), expected \(2,\)"),
        ("P", np.full((2, 2, 3), 1 / 3), r"P has shape \(2, 2, 3\), expected \(S, A, S\)"),
        ("P", np.ones((2, 2)), r"P has shape \(2, 2\), expected 3 dimensions"),
        ("terminal", np.array([False, False, False]), r"terminal has shape \(3,\)"),
    ],
)
def test_wrong_shapes_are_rejected_with_the_shape_found_and_expected(field, value, message):
    kw = _two_state_kwargs()
    kw[field] = value
    with pytest.raises(ValueError, match=message):
        FiniteMDP(**kw)


def test_rho_not_summing_to_one_is_rejected_with_its_sum():
    kw = _two_state_kwargs()
    kw["rho"] = np.array([0.5, 0.4])
    with pytest.raises(ValueError, match=r"rho sums to 0\.9, expected 1"):
        FiniteMDP(**kw)


def test_negative_start_probability_is_rejected_with_its_index():
    kw = _two_state_kwargs()
    kw["rho"] = np.array([1.5, -0.5])
    with pytest.raises(ValueError, match=r"rho\[1\] is -0\.5, expected >= 0"):
        FiniteMDP(**kw)


@pytest.mark.parametrize(("gamma", "shown"), [(0.0, "0.0"), (1.5, "1.5"), (-0.5, "-0.5")])
def test_gamma_outside_half_open_unit_interval_is_rejected(gamma, shown):
    kw = _two_state_kwargs()
    kw["gamma"] = gamma
    with pytest.raises(ValueError, match=rf"gamma is {shown}, expected a number in \(0, 1\]"):
        FiniteMDP(**kw)


def test_gamma_one_without_terminal_states_or_horizon_is_rejected():
    kw = _two_state_kwargs()
    kw["gamma"] = 1.0
    with pytest.raises(ValueError, match=r"gamma is 1 but the MDP has neither terminal states"):
        FiniteMDP(**kw)


def test_gamma_one_is_accepted_with_a_horizon_or_a_terminal_state():
    kw = _two_state_kwargs()
    kw["gamma"] = 1.0
    assert FiniteMDP(**kw, horizon=3).horizon == 3
    assert FiniteMDP(**_episodic_kwargs()).terminal.tolist() == [False, False, True]


def test_non_absorbing_terminal_state_is_rejected_with_the_leaking_entry():
    kw = _episodic_kwargs()
    kw["P"][2, 1] = [0.25, 0.0, 0.75]
    with pytest.raises(
        ValueError, match=r"terminal state 2 is not absorbing: P\[2, 1, 2\] is 0\.75, expected 1"
    ):
        FiniteMDP(**kw)


def test_terminal_state_with_nonzero_reward_is_rejected():
    kw = _episodic_kwargs()
    kw["R"][2, 1] = 0.5
    with pytest.raises(ValueError, match=r"R\[2, 1\] is 0\.5 at terminal state 2, expected 0"):
        FiniteMDP(**kw)


def test_reward_inconsistent_with_next_state_rewards_is_rejected():
    kw = _two_state_kwargs()
    R_next = np.zeros((2, 2, 2))
    R_next[0, 0] = [2.0, 0.0]  # Σ_s' P R_next = 0.5 * 2 = 1, but R[0, 0] = 0
    kw["R_next"] = R_next
    kw["R"] = np.zeros((2, 2))
    with pytest.raises(
        ValueError, match=r"R\[0, 0\] is 0 but Σ_s' P R_next gives 1, expected them equal"
    ):
        FiniteMDP(**kw)


def test_reward_consistent_with_next_state_rewards_is_accepted():
    kw = _two_state_kwargs()
    rng = np.random.default_rng(0)
    R_next = rng.normal(size=(2, 2, 2))
    kw["R_next"] = R_next
    kw["R"] = np.einsum("sat,sat->sa", kw["P"], R_next)
    mdp = FiniteMDP(**kw)
    np.testing.assert_array_equal(mdp.R_next, R_next)


def test_negative_reward_noise_scale_is_rejected_with_its_index():
    kw = _two_state_kwargs()
    kw["R_noise"] = np.array([[0.0, 0.1], [-0.2, 0.0]])
    with pytest.raises(ValueError, match=r"R_noise\[1, 0\] is -0\.2, expected >= 0"):
        FiniteMDP(**kw)


@pytest.mark.parametrize(
    ("horizon", "shown"),
    [(0, "0"), (-3, "-3"), (2.5, "2.5"), (True, "True"), ("3", "'3'")],
)
def test_bad_horizon_is_rejected_with_its_value(horizon, shown):
    kw = _two_state_kwargs()
    with pytest.raises(ValueError, match=rf"horizon is {shown}, expected a positive integer"):
        FiniteMDP(**kw, horizon=horizon)


@pytest.mark.parametrize("horizon", [float("inf"), float("nan")])
def test_non_finite_horizon_is_rejected_with_a_value_error_naming_horizon(horizon):
    kw = _two_state_kwargs()
    with pytest.raises(ValueError, match=r"horizon is"):
        FiniteMDP(**kw, horizon=horizon)


def test_integer_like_horizon_is_stored_as_int():
    mdp = FiniteMDP(**_two_state_kwargs(), horizon=np.int64(4))
    assert mdp.horizon == 4
    assert type(mdp.horizon) is int


def test_state_labels_of_wrong_length_are_rejected():
    with pytest.raises(ValueError, match=r"state_labels has 3 entries, expected 2"):
        FiniteMDP(**_two_state_kwargs(), state_labels=("a", "b", "c"))


def test_arrays_are_read_only_after_construction():
    kw = _two_state_kwargs()
    kw["R_next"] = np.zeros((2, 2, 2))
    kw["R"] = np.zeros((2, 2))
    kw["R_noise"] = np.zeros((2, 2))
    mdp = FiniteMDP(**kw)
    for name in ("P", "R", "rho", "terminal", "R_next", "R_noise"):
        array = getattr(mdp, name)
        assert not array.flags.writeable, name
        with pytest.raises(ValueError, match="read-only"):
            array[(0,) * array.ndim] = 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        mdp.gamma = 0.5  # type: ignore[misc]


def test_mdp_copies_its_inputs_so_later_edits_of_the_caller_arrays_do_not_leak_in():
    kw = _two_state_kwargs()
    P, R, rho = kw["P"], kw["R"], kw["rho"]
    mdp = FiniteMDP(**kw)
    P[0, 0] = [1.0, 0.0]
    R[0, 0] = 99.0
    rho[:] = [0.0, 1.0]
    assert mdp.P[0, 0].tolist() == [0.5, 0.5]
    assert mdp.R[0, 0] == 0.0
    assert mdp.rho.tolist() == [1.0, 0.0]


def test_with_gamma_changes_only_gamma_and_revalidates():
    mdp = FiniteMDP(**_two_state_kwargs())
    other = mdp.with_gamma(0.5)
    assert other.gamma == 0.5 and mdp.gamma == 0.9
    np.testing.assert_array_equal(other.P, mdp.P)
    with pytest.raises(ValueError, match=r"gamma is 1 but the MDP has neither"):
        mdp.with_gamma(1.0)


# --------------------------------------------------------------------------------------------
# garnet
# --------------------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    seed=SEEDS,
    n_states=st.integers(1, 6),
    n_actions=st.integers(1, 3),
    data=st.data(),
)
def test_garnet_rows_are_distributions_with_exactly_branching_successors(
    seed, n_states, n_actions, data
):
    branching = data.draw(st.integers(1, n_states), label="branching")
    mdp = garnet(n_states, n_actions, branching, rng=np.random.default_rng(seed))
    assert mdp.P.shape == (n_states, n_actions, n_states)
    np.testing.assert_allclose(mdp.P.sum(axis=2), 1.0, rtol=0, atol=1e-12)
    assert ((mdp.P > 0).sum(axis=2) == branching).all()
    assert ((mdp.R >= 0) & (mdp.R <= 1)).all()
    np.testing.assert_array_equal(mdp.rho, np.full(n_states, 1 / n_states))
    assert mdp.gamma == 0.9 and not mdp.terminal.any()


@settings(max_examples=25, deadline=None)
@given(seed=SEEDS)
def test_garnet_with_the_same_seed_is_identical_and_another_seed_differs(seed):
    a = garnet(5, 3, 2, rng=np.random.default_rng(seed))
    b = garnet(5, 3, 2, rng=np.random.default_rng(seed))
    c = garnet(5, 3, 2, rng=np.random.default_rng(seed + 1))
    np.testing.assert_array_equal(a.P, b.P)
    np.testing.assert_array_equal(a.R, b.R)
    # Continuous uniforms: two seeds give equal rewards with probability 0.
    assert not np.array_equal(a.R, c.R)


def test_garnet_successors_are_drawn_uniformly_over_states():
    # 40 garnets x 10 states x 5 actions = 2000 (s, a) pairs with 2 distinct successors each:
    # each state is a successor of a pair w.p. 2/10, so its count has mean 400 and sd ~17.9.
    # A chi-square test of the 10 counts against uniform (the draws within a pair are without
    # replacement, which only makes the counts less dispersed, so the test is conservative).
    counts = np.zeros(10)
    rng = np.random.default_rng(2)
    for _ in range(40):
        counts += (garnet(10, 5, 2, rng=rng).P > 0).sum(axis=(0, 1))
    assert counts.sum() == 40 * 10 * 5 * 2
    assert scipy.stats.chisquare(counts).pvalue > 1e-4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((3, 2, 4), r"branching is 4, expected at most n_states = 3"),
        ((0, 2, 1), r"n_states is 0, expected an integer >= 1"),
        ((3, 0, 1), r"n_actions is 0, expected an integer >= 1"),
        ((3, 2, 0), r"branching is 0, expected an integer >= 1"),
        ((3.0, 2, 1), r"n_states is 3\.0, expected an integer >= 1"),
    ],
)
def test_garnet_rejects_bad_sizes(args, message):
    with pytest.raises(ValueError, match=message):
        garnet(*args, rng=np.random.default_rng(0))


# --------------------------------------------------------------------------------------------
# chain
# --------------------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 8), gamma=st.floats(0.5, 0.99))
def test_chain_without_slip_has_optimal_start_value_gamma_to_the_n_minus_2(n, gamma):
    # Hand: the best path moves right n - 1 times; the first n - 2 moves pay 0 and the last one
    # (entering the goal at decision n - 2) pays 1, discounted by gamma ** (n - 2).
    mdp = chain(n, slip=0.0, gamma=gamma)
    V = value_iteration(mdp, tol=1e-12).V
    assert V[0] == pytest.approx(gamma ** (n - 2), abs=1e-10)
    right = np.tile([0.0, 1.0], (n, 1))
    assert policy_evaluation(mdp, right)[0] == pytest.approx(gamma ** (n - 2), abs=1e-12)


def test_chain_layout_by_hand():
    mdp = chain(4, slip=0.25, gamma=0.9)
    assert (mdp.n_states, mdp.n_actions) == (4, 2)
    # State 1: left (a=0) goes to 0 w.p. 0.75 and slips to 2 w.p. 0.25; right is the mirror.
    np.testing.assert_allclose(mdp.P[1, 0], [0.75, 0.0, 0.25, 0.0])
    np.testing.assert_allclose(mdp.P[1, 1], [0.25, 0.0, 0.75, 0.0])
    # State 0 has a wall on the left: moving left stays in 0.
    np.testing.assert_allclose(mdp.P[0, 0], [0.75, 0.25, 0.0, 0.0])
    # State 2 enters the goal 3 w.p. 0.75 (right) or 0.25 (left), each paying 1.
    np.testing.assert_allclose(mdp.R[2], [0.25, 0.75])
    np.testing.assert_allclose(mdp.R[:2], 0.0)
    assert mdp.terminal.tolist() == [False, False, False, True]
    assert mdp.rho.tolist() == [1.0, 0.0, 0.0, 0.0]
    np.testing.assert_array_equal(mdp.P[3, :, 3], 1.0)


def test_chain_with_gamma_one_and_always_right_visits_each_live_state_once():
    # Hand: slip 0, always right: 0 -> 1 -> 2 -> goal, each live state visited exactly once and
    # the undiscounted return is 1.
    from acconv.exact import discounted_visits

    mdp = chain(4, slip=0.0, gamma=1.0)
    right = np.tile([0.0, 1.0], (4, 1))
    np.testing.assert_allclose(discounted_visits(mdp, right), [1.0, 1.0, 1.0, 0.0], atol=1e-12)
    assert policy_evaluation(mdp, right)[0] == pytest.approx(1.0, abs=1e-12)


def test_chain_small_reward_pays_exactly_small_reward_for_moving_left_in_state_0():
    # Hand: slip 0, moving left in state 0 lands in 0 w.p. 1 and pays small_reward = 0.1.
    mdp = chain(5, slip=0.0, small_reward=0.1)
    assert mdp.R[0, 0] == pytest.approx(0.1, abs=1e-12)


def test_chain_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"n_states is 1, expected at least 2"):
        chain(1)
    with pytest.raises(ValueError, match=r"slip is 1\.5, expected a probability in \[0, 1\]"):
        chain(3, slip=1.5)


# --------------------------------------------------------------------------------------------
# with_time
# --------------------------------------------------------------------------------------------


def test_with_time_sizes_indices_and_terminal_layer():
    base = FiniteMDP(**_episodic_kwargs())  # 3 states, state 2 terminal
    H = 4
    mdp = with_time(base, H)
    S = base.n_states
    assert (mdp.n_states, mdp.n_actions, mdp.horizon, mdp.gamma) == ((H + 1) * S, 2, H, 1.0)
    # Terminal: the whole layer t = H plus the base-terminal state 2 at every t < H.
    expected_terminal = np.zeros((H + 1) * S, dtype=bool)
    expected_terminal[H * S :] = True
    expected_terminal[[t * S + 2 for t in range(H)]] = True
    np.testing.assert_array_equal(mdp.terminal, expected_terminal)
    # Live (t, s) moves to (t + 1, s') with the base probabilities and pays the base reward.
    for t in range(H):
        for s in range(2):
            np.testing.assert_array_equal(mdp.P[t * S + s, :, (t + 1) * S : (t + 2) * S], base.P[s])
            np.testing.assert_array_equal(mdp.R[t * S + s], base.R[s])
    np.testing.assert_array_equal(mdp.rho[:S], base.rho)
    assert mdp.rho[S:].sum() == 0.0
    assert mdp.state_labels is not None and mdp.state_labels[S + 1] == "t=1,1"


def test_with_time_carries_next_state_rewards_and_noise():
    rng = np.random.default_rng(3)
    base = garnet(3, 2, 2, rng=rng)
    R_next = rng.normal(size=(3, 2, 3))
    base = dataclasses.replace(
        base,
        R=np.einsum("sat,sat->sa", base.P, R_next),
        R_next=R_next,
        R_noise=np.full((3, 2), 0.5),
    )
    mdp = with_time(base, 2)
    assert mdp.R_next is not None and mdp.R_noise is not None
    np.testing.assert_array_equal(mdp.R_next[3 + 1, :, 6:9], R_next[1])
    np.testing.assert_array_equal(mdp.R_noise[:6], 0.5)
    np.testing.assert_array_equal(mdp.R_noise[6:], 0.0)  # the terminal layer has no noise


@settings(max_examples=25, deadline=None)
@given(
    seed=SEEDS,
    n_states=st.integers(1, 5),
    n_actions=st.integers(1, 3),
    horizon=st.integers(1, 5),
    gamma=st.sampled_from([0.7, 1.0]),
)
def test_with_time_values_at_t0_equal_finite_horizon_evaluation(
    seed, n_states, n_actions, horizon, gamma
):
    rng = np.random.default_rng(seed)
    base = garnet(n_states, n_actions, min(2, n_states), rng=rng)
    base = FiniteMDP(P=base.P, R=base.R, gamma=gamma, rho=base.rho, horizon=horizon)
    # A time-dependent policy pi_t(a|s) placed on the time-augmented states (t, s).
    pis = softmax_policy(rng.normal(size=(horizon, n_states, n_actions)))
    aug = with_time(base, horizon)
    pi_aug = np.full((aug.n_states, n_actions), 1.0 / n_actions)
    pi_aug[: horizon * n_states] = pis.reshape(-1, n_actions)
    V_aug = policy_evaluation(aug, pi_aug)
    V_fh, _ = finite_horizon_evaluation(base, pis, horizon)
    np.testing.assert_allclose(V_aug.reshape(horizon + 1, n_states), V_fh, rtol=0, atol=1e-10)
    assert float(aug.rho @ V_aug) == pytest.approx(float(base.rho @ V_fh[0]), abs=1e-10)


def test_with_time_rejects_bad_horizon():
    with pytest.raises(ValueError, match=r"horizon is 0, expected an integer >= 1"):
        with_time(FiniteMDP(**_two_state_kwargs()), 0)


# --------------------------------------------------------------------------------------------
# reachable_states
# --------------------------------------------------------------------------------------------


def test_reachable_states_follows_any_action_from_the_start_support():
    # By hand: 0 -a0-> 1, 1 -a1-> 3, 2 -> 2 and 4 -> 0 are the only edges; from rho = e_0 the
    # states 0, 1, 3 are reachable, 2 and 4 are not.
    P = np.zeros((5, 2, 5))
    P[0, 0, 1] = P[0, 1, 0] = 1.0
    P[1, 0, 1] = P[1, 1, 3] = 1.0
    P[2, :, 2] = 1.0
    P[3, :, 3] = 1.0
    P[4, :, 0] = 1.0
    rho = np.array([1.0, 0, 0, 0, 0])
    assert reachable_states(P, rho).tolist() == [True, True, False, True, False]
    assert reachable_states(P, np.array([0, 0, 0, 0, 1.0])).tolist() == [
        True,
        True,
        False,
        True,
        True,
    ]


# --------------------------------------------------------------------------------------------
# from_gymnasium / model_of
# --------------------------------------------------------------------------------------------

TOY_TEXT = {
    # id: (shape (S, A), number of terminal states)
    "FrozenLake-v1": ((16, 4), 5),
    "FrozenLake8x8-v1": ((64, 4), 11),
    "CliffWalking-v1": ((48, 4), 1),
    "Taxi-v4": ((500, 6), 4),
}


@pytest.fixture(scope="module")
def toy_models():
    models = {}
    for env_id in TOY_TEXT:
        env = gymnasium.make(env_id)
        models[env_id] = (env, from_gymnasium(env, gamma=0.99))
    yield models
    for env, _ in models.values():
        env.close()


@pytest.mark.parametrize("env_id", list(TOY_TEXT))
def test_from_gymnasium_shapes_and_terminal_counts(env_id, toy_models):
    _, mdp = toy_models[env_id]
    shape, n_terminal = TOY_TEXT[env_id]
    assert mdp.P.shape == (*shape, shape[0])
    assert mdp.R.shape == shape
    assert int(mdp.terminal.sum()) == n_terminal
    assert mdp.gamma == 0.99


@pytest.mark.parametrize("env_id", ["FrozenLake-v1", "FrozenLake8x8-v1"])
def test_frozen_lake_terminal_states_are_the_holes_and_the_goal_of_the_map(env_id, toy_models):
    env, mdp = toy_models[env_id]
    desc = env.unwrapped.desc.reshape(-1)
    np.testing.assert_array_equal(mdp.terminal, (desc == b"H") | (desc == b"G"))
    # 4x4 map: 4 holes + goal; 8x8 map: 10 holes + goal (counted on the printed maps).
    assert mdp.rho.tolist() == [1.0] + [0.0] * (mdp.n_states - 1)


def test_cliff_walking_terminal_state_is_the_goal_and_start_is_bottom_left(toy_models):
    _, mdp = toy_models["CliffWalking-v1"]
    # 4 x 12 grid, row-major: start (3, 0) = 36, goal (3, 11) = 47.
    assert np.flatnonzero(mdp.terminal).tolist() == [47]
    assert np.flatnonzero(mdp.rho).tolist() == [36]
    # Stepping right from the start falls into the cliff: -100 and back to the start.
    assert mdp.P[36, 1, 36] == 1.0 and mdp.R[36, 1] == -100.0
    # Stepping down from (2, 11) = 35 enters the goal for -1.
    assert mdp.P[35, 2, 47] == 1.0 and mdp.R[35, 2] == -1.0


def test_taxi_terminal_states_are_delivered_passengers_and_rho_is_its_start_table(toy_models):
    env, mdp = toy_models["Taxi-v4"]
    u = env.unwrapped
    for s in np.flatnonzero(mdp.terminal):
        row, col, pass_loc, dest = u.decode(int(s))
        assert pass_loc == dest and (row, col) == u.locs[dest]
    # 25 taxi cells x 4 passenger locations x 3 other destinations, uniformly.
    assert np.count_nonzero(mdp.rho) == 300
    np.testing.assert_allclose(mdp.rho[mdp.rho > 0], 1 / 300, rtol=1e-12)
    np.testing.assert_allclose(mdp.rho, u.initial_state_distrib / u.initial_state_distrib.sum())


@pytest.mark.parametrize("env_id", list(TOY_TEXT))
def test_from_gymnasium_expected_reward_is_probability_weighted_table_reward(env_id, toy_models):
    env, mdp = toy_models[env_id]
    table = env.unwrapped.P
    for s in np.flatnonzero(~mdp.terminal):
        for a in range(mdp.n_actions):
            expected = sum(p * r for p, _, r, _ in table[s][a])
            assert mdp.R[s, a] == pytest.approx(expected, abs=1e-12), (s, a)


# (s, a) pairs to sample; chosen to include slips, holes, the goal and the cliff.
SAMPLED_PAIRS = {
    "FrozenLake-v1": [(0, 0), (0, 1), (6, 2), (10, 1), (14, 2)],
    "FrozenLake8x8-v1": [(0, 1), (27, 3), (62, 2), (55, 1)],
    "CliffWalking-v1": [(36, 0), (36, 1), (35, 2), (24, 2), (0, 3)],
    "Taxi-v4": [(1, 0), (17, 4), (101, 5), (328, 2), (480, 1)],
}


@pytest.mark.parametrize("env_id", list(TOY_TEXT))
def test_from_gymnasium_model_agrees_with_sampled_environment_steps(env_id, toy_models):
    env, mdp = toy_models[env_id]
    env.reset(seed=12345)
    u = env.unwrapped
    n = 3000
    for s, a in SAMPLED_PAIRS[env_id]:
        assert not mdp.terminal[s]
        counts = np.zeros(mdp.n_states)
        for _ in range(n):
            u.s = s
            s_next, reward, terminated, _, _ = u.step(a)
            counts[s_next] += 1
            assert reward == mdp.R_next[s, a, s_next], (s, a, s_next)
            assert terminated == bool(mdp.terminal[s_next]), (s, a, s_next)
        support = mdp.P[s, a] > 0
        assert counts[~support].sum() == 0, (s, a)
        if support.sum() > 1:
            # Chi-square goodness of fit of the empirical next-state counts against n P[s, a].
            # The env's RNG is seeded, so this is deterministic; p > 1e-4 for a correct model,
            # while a wrong probability (e.g. 1/2 instead of 1/3) gives p ~ 1e-50 at n = 3000.
            pvalue = scipy.stats.chisquare(counts[support], n * mdp.P[s, a, support]).pvalue
            assert pvalue > 1e-4, (s, a, pvalue)
        else:
            assert counts[support].sum() == n


def test_from_gymnasium_agrees_with_rainy_taxi_sampling():
    # Rainy taxi moves sideways with probability 0.1 each (rainy_probability = 0.8).
    env = gymnasium.make("Taxi-v4", is_rainy=True)
    mdp = from_gymnasium(env)
    env.reset(seed=7)
    u = env.unwrapped
    n = 3000
    for s, a in [(1, 0), (328, 2), (222, 3)]:
        counts = np.zeros(mdp.n_states)
        for _ in range(n):
            u.s = s
            s_next, reward, _, _, _ = u.step(a)
            counts[s_next] += 1
            assert reward == mdp.R_next[s, a, s_next]
        support = mdp.P[s, a] > 0
        assert counts[~support].sum() == 0
        assert support.sum() > 1  # the rain makes these moves stochastic
        pvalue = scipy.stats.chisquare(counts[support], n * mdp.P[s, a, support]).pvalue
        assert pvalue > 1e-4, (s, a, pvalue)
    env.close()


def test_from_gymnasium_expected_reward_of_slippery_cliff_walking_weights_all_outcomes():
    env = gymnasium.make("CliffWalkingSlippery-v1")
    mdp = from_gymnasium(env)
    # Hand, from the table: from the start 36 'right' (a=1): up -> 24 (-1), right -> cliff ->
    # 36 (-100), down -> wall -> 36 (-1), each w.p. 1/3: R = (-1 - 100 - 1) / 3 = -34.
    assert mdp.R[36, 1] == pytest.approx(-34.0, abs=1e-12)
    env.close()


def test_from_gymnasium_rejects_environments_without_a_transition_table():
    env = gymnasium.make("CartPole-v1")
    with pytest.raises(ValueError, match=r"CartPole-v1 has no transition table"):
        from_gymnasium(env)
    env.close()


def test_model_of_returns_the_toy_text_model_and_applies_gamma(toy_models):
    _, expected = toy_models["FrozenLake-v1"]
    mdp = model_of("FrozenLake-v1", gamma=0.5)
    np.testing.assert_array_equal(mdp.P, expected.P)
    np.testing.assert_array_equal(mdp.R, expected.R)
    assert mdp.gamma == 0.5
    assert model_of("FrozenLake-v1").gamma == 0.99
    small = model_of("FrozenLake-v1", {"map_name": "8x8"})
    assert small.n_states == 64


def test_the_old_model_of_name_warns_and_is_the_same_function():
    import acconv.mdp

    with pytest.deprecated_call(match="moved to acconv.envs.model_of"):
        old = acconv.mdp.model_of
    assert old is model_of


def test_model_of_rejects_unknown_ids_and_bad_keyword_arguments():
    with pytest.raises(ValueError, match=r"environment 'NoSuchEnv-v0' is not registered"):
        model_of("NoSuchEnv-v0")
    with pytest.raises(ValueError, match=r"bad keyword arguments for FrozenLake-v1"):
        model_of("FrozenLake-v1", {"no_such_kwarg": 1})


def test_frozen_lake_model_is_solvable_with_gamma_one(toy_models):
    # gamma = 1 is valid because the holes and the goal are terminal (absorbing, reward 0).
    _, mdp = toy_models["FrozenLake-v1"]
    V = optimal_values(mdp.with_gamma(1.0)).V
    assert 0.8 < V[0] < 0.85  # exact value 14/17 is checked in test_exact.py
