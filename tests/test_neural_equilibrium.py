"""The critic network's equilibrium λ(θ) (acconv.neural.equilibrium) against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from acconv.envs.finite import FiniteMDPEnv  # noqa: E402
from acconv.exact import expected_visits, policy_evaluation  # noqa: E402
from acconv.instrument.monitor import TwoTimescaleMonitor  # noqa: E402
from acconv.mdp import FiniteMDP, chain  # noqa: E402
from acconv.neural import PPO  # noqa: E402
from acconv.neural.equilibrium import (  # noqa: E402
    NetworkEquilibrium,
    lambda_return_operator,
    sampling_weights,
)
from acconv.neural.networks import mlp  # noqa: E402

MDP = chain(6, slip=0.1, gamma=0.95)
TOL = 1e-8  # the solver's default stopping rule on ‖ḡ‖₂


def _theta(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(MDP.n_states, MDP.n_actions))


def _pi(theta: np.ndarray) -> np.ndarray:
    p = np.exp(theta - theta.max(1, keepdims=True))
    return p / p.sum(1, keepdims=True)


@pytest.mark.parametrize("lam", [1.0, 0.95, 0.5, 0.0])
def test_a_network_that_can_represent_v_pi_has_lambda_equal_to_v_pi(lam: float) -> None:
    # One-hot inputs and a tanh layer: each state has its own first-layer column, so the
    # network can take any values on the states; then every T^λ has the same fixed point V^π
    # (the TD fixed point of a complete representation), and the approximation error is 0.
    critic = mlp([6, 16, 1], "tanh", 1.0, torch.Generator().manual_seed(0))
    eq = NetworkEquilibrium(critic, np.eye(6, dtype=np.float32), MDP, lam)
    theta = _theta()
    solution = eq.solve(theta)
    assert solution.converged and solution.residual <= TOL
    v_pi = policy_evaluation(MDP, _pi(theta))
    visited = expected_visits(MDP, _pi(theta)) > 0
    assert solution.support.tolist() == visited.tolist()
    np.testing.assert_allclose(solution.values[visited], v_pi[visited], atol=1e-9)
    report = eq.report(theta, solution.values, 0)
    assert report["track/approximation_error"] < 1e-9
    assert report["track/error_weighted"] == 0.0  # ω = λ(θ)


def _features(k: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(MDP.n_states, k))


def _linear_critic(k: int) -> torch.nn.Module:
    critic = torch.nn.Linear(k, 1, bias=False)
    with torch.no_grad():
        critic.weight.normal_(generator=torch.Generator().manual_seed(2))
    return critic


@pytest.mark.parametrize("lam", [0.0, 0.5, 1.0])
def test_a_linear_critic_reaches_the_closed_form_td_fixed_point_in_one_step(lam: float) -> None:
    # V = Φw with 3 features on 6 states (not representable). THEORY.md §6.3, written out here
    # independently of the module: D = diag(expected visits per episode), P_π into live states,
    # the λ-return's mean T^λ V = (I - γλP)^{-1}(r + γ(1-λ)P V); the fixed point of
    # Φᵀ D (T^λ Φw - Φw) = 0 is w = (Φᵀ D (I - M) Φ)^{-1} Φᵀ D r_λ. For λ = 0 this is
    # (Φᵀ D (I - γP) Φ)^{-1} Φᵀ D r, and for λ = 1 the D-weighted regression onto V^π.
    Phi = _features(3)
    theta = _theta()
    pi = _pi(theta)
    live = ~MDP.terminal
    P = np.einsum("sa,sat->st", pi, MDP.P) * live[None, :]
    P[~live] = 0.0
    r = np.where(live, (pi * MDP.R).sum(1), 0.0)
    D = np.diag(expected_visits(MDP, pi))
    g = MDP.gamma
    if lam == 0.0:
        w = np.linalg.solve(Phi.T @ D @ (np.eye(6) - g * P) @ Phi, Phi.T @ D @ r)
    elif lam == 1.0:
        v_pi = np.linalg.solve(np.eye(6) - g * P, r)
        w = np.linalg.solve(Phi.T @ D @ Phi, Phi.T @ D @ v_pi)
    else:
        A_inv = np.linalg.inv(np.eye(6) - g * lam * P)
        M, r_lam = g * (1 - lam) * A_inv @ P, A_inv @ r
        w = np.linalg.solve(Phi.T @ D @ (np.eye(6) - M) @ Phi, Phi.T @ D @ r_lam)
    eq = NetworkEquilibrium(_linear_critic(3), Phi.astype(np.float32), MDP, lam)
    solution = eq.solve(theta)
    assert solution.iterations == 1  # Gauss–Newton is exact for a critic linear in ω
    assert solution.residual <= TOL
    # Φ was handed to the network as float32: compare with the same rounded features.
    assert solution.parameters == pytest.approx(
        np.linalg.lstsq(Phi.astype(np.float32).astype(np.float64), Phi @ w, rcond=None)[0],
        abs=1e-5,
    )
    np.testing.assert_allclose(solution.values, Phi.astype(np.float32) @ solution.parameters)
    report = eq.report(theta, solution.values, 0)
    assert report["track/approximation_error"] > 1e-3  # 3 features cannot represent V^π


def test_the_lambda_return_operator_at_its_ends() -> None:
    pi = _pi(_theta())
    r_one, M_one = lambda_return_operator(MDP, pi, 1.0)
    np.testing.assert_allclose(r_one, policy_evaluation(MDP, pi))
    assert not M_one.any()
    r_zero, M_zero = lambda_return_operator(MDP, pi, 0.0)
    np.testing.assert_allclose(r_zero, np.where(MDP.terminal, 0, (pi * MDP.R).sum(1)))
    P_live = np.einsum("sa,sat->st", pi, MDP.P) * ~MDP.terminal[None, :]
    P_live[MDP.terminal] = 0.0
    np.testing.assert_allclose(M_zero, MDP.gamma * P_live)  # T^0 V = r + γ P V
    # V^π is the fixed point of every T^λ: V = r_λ + M V.
    v = policy_evaluation(MDP, pi)
    for lam in (0.0, 0.3, 0.9):
        r_lam, M = lambda_return_operator(MDP, pi, lam)
        np.testing.assert_allclose(r_lam + M @ v, v, atol=1e-12)


def _two_state(terminal: bool = False) -> FiniteMDP:
    # 0 → 1 → 0 → ... deterministically (one action), start in 0.
    P = np.zeros((2, 1, 2))
    P[0, 0, 1] = P[1, 0, 0] = 1.0
    return FiniteMDP(P, np.zeros((2, 1)), 0.9, np.array([1.0, 0.0]))


def test_sampling_weights_with_a_time_limit_and_without() -> None:
    mdp, pi = _two_state(), np.ones((2, 1))
    # H = 3 steps from state 0: visits 0, 1, 0 → d = (2/3, 1/3).
    np.testing.assert_allclose(sampling_weights(mdp, pi, 3), [2 / 3, 1 / 3])
    # Continuing without a limit: the stationary distribution of the 2-cycle, (1/2, 1/2).
    np.testing.assert_allclose(sampling_weights(mdp, pi), [0.5, 0.5])
    # Episodic: the expected visits per episode, normalised.
    pi6 = _pi(_theta())
    eta = expected_visits(MDP, pi6)
    np.testing.assert_allclose(sampling_weights(MDP, pi6), eta / eta.sum())


def test_a_warm_start_needs_fewer_iterations_than_a_cold_one() -> None:
    # A slowly moving policy θ_k = θ_0 + 0.05 k Δ, as along a run; a narrow net (4 units, 6
    # states, GAE λ = 0.95) whose equilibrium is far from its initialisation ω_0.
    critic = mlp([6, 4, 1], "tanh", 1.0, torch.Generator().manual_seed(3))
    states = np.eye(6, dtype=np.float32)
    warm = NetworkEquilibrium(critic, states, MDP, 0.95)
    cold = NetworkEquilibrium(critic, states, MDP, 0.95, warm_start=False)
    step = _theta(5)
    iterations = {"warm": 0, "cold": 0}
    for k in range(6):
        theta = _theta() + 0.05 * k * step
        w, c = warm.solve(theta), cold.solve(theta)
        assert w.converged and c.converged
        np.testing.assert_allclose(w.values[w.support], c.values[c.support], atol=1e-7)
        iterations["warm"] += w.iterations
        iterations["cold"] += c.iterations
    # Measured 2026-12-02: warm 16 (6 then 2 per solve), cold 36 (6 per solve) Gauss–Newton
    # steps over the 6 solves.
    assert iterations["warm"] < iterations["cold"]


def test_the_monitor_records_the_neural_equilibrium_report() -> None:
    env = FiniteMDPEnv(chain(5, slip=0.1, gamma=0.95))
    monitor = TwoTimescaleMonitor()
    learner = PPO(n_steps=32, batch_size=16, n_epochs=1, hidden=(8,))
    run = learner.learn(env, 3, np.random.default_rng(0), [monitor])
    theta, omega = run.last_update.theta, run.last_update.omega
    # Independently: the critic of a one-hot network represents V^π, so V_λ = V^π and the
    # tracking error is ‖V_ω - V^π‖ on the visited states; weighted by the visit shares.
    pi = _pi(theta)
    v_pi, eta = policy_evaluation(env.mdp, pi), expected_visits(env.mdp, pi)
    visited = eta > 0
    diff = (omega - v_pi)[visited]
    assert monitor.last("track/error") == pytest.approx(np.linalg.norm(diff), rel=1e-6)
    d = eta[visited] / eta.sum()
    assert monitor.last("track/error_weighted") == pytest.approx(
        np.sqrt(np.sum(d * diff**2)), rel=1e-6
    )
    assert monitor.last("track/error_sup") == pytest.approx(np.abs(diff).max(), rel=1e-6)
    assert monitor.last("track/approximation_error") < 1e-8
    assert monitor.last("track/equilibrium_residual") <= TOL
    assert monitor.last("track/equilibrium_iterations") >= 1
