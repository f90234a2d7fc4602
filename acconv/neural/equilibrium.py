"""The neural critic's equilibrium λ(θ) on a finite model (THEORY.md §6.3, A6(c)).

**Definition.** The critic network ``V_ω`` of neural PPO (and of RUDDER's ``mix_advantage``
coupling) steps ``ω ← ω - a ∇_ω ½ (V_ω(s_t) - Ĝ_t)²`` on GAE(λ) targets ``Ĝ_t = Â_t + V_ω(s_t)``
computed with the critic itself. At frozen θ its expected step is the semi-gradient field

    ḡ(θ, ω) = Σ_s d_θ(s) ∇_ω V_ω(s) [(T^λ_π V_ω)(s) - V_ω(s)],
    T^λ_π V = (I - γλ P_π)^{-1} (r_π + γ(1-λ) P_π V)           (the λ-return's mean),

with ``V = 0`` at terminal states and ``d_θ`` the states' sampling weights (:func:`sampling_
weights`). λ(θ) is **the zero of ḡ(θ, ·) reached from the warm start** — the equilibrium of the
fast ODE dω/dt = ḡ(θ, ω) on whose branch the critic is (THEORY.md A6: a locally asymptotically
stable equilibrium; for a network it need not be unique in ω, and is unique in values only
where the network can represent ``T^λ``'s fixed point). Two cases have closed forms:

* Monte-Carlo / GAE(λ = 1) targets: ``T^1 V = V^π`` whatever V, so ḡ = -∇_ω ½ Σ d (V_ω - V^π)²
  and λ(θ) is the exact d-weighted regression of the network onto V^π (a critical point of it);
* a linear critic ``V = Φw``: the TD(λ) fixed point ``w = (Φᵀ D (I - M) Φ)^{-1} Φᵀ D r_λ`` with
  ``T^λ V = r_λ + M V``; for λ = 0, ``w = (Φᵀ D (I - γ P_π) Φ)^{-1} Φᵀ D r_π`` (§6.3).

**Solver.** Gauss–Newton on the tangent features (LSTD(λ) with ``Φ = J = ∂V_ω/∂ω`` at the
current iterate): the step δ solves ``Jᵀ D (I - M) J δ = ḡ`` in the row space of J (least
squares when that system is singular), with step halving while ``‖ḡ‖`` does not decrease. It
is one exact step for a linear critic, and converges quadratically where the network can
represent V^π. Stopping rule: ``‖ḡ(θ, ω)‖₂ ≤ tolerance`` (parameter space, float64, d summing
to 1); the residual and the iterations are reported with the solution.

Approximations, stated: GAE's λ-return is cut at the end of a rollout and bootstrapped there,
and PPO clips the critic's gradient norm; both change the expected step, not the fixed point
when the network represents V^π.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import torch
from numpy.typing import NDArray
from torch import nn

from acconv._validate import check_float, check_int
from acconv.exact import expected_visits, policy_evaluation, policy_reward, policy_transition
from acconv.mdp import FiniteMDP
from acconv.policies import softmax_policy

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
ValuesAndJacobian = Callable[[FloatArray], tuple[FloatArray, FloatArray]]
"""``w -> (V_w on every state, ∂V_w/∂w)``, shapes ``(S,)`` and ``(S, p)``."""

__all__ = [
    "EquilibriumSolution",
    "NetworkEquilibrium",
    "lambda_return_operator",
    "network_values",
    "sampling_weights",
    "solve_critic_equilibrium",
]


def sampling_weights(mdp: FiniteMDP, pi: FloatArray, time_limit: int | None = None) -> FloatArray:
    """``d(s)``: the share of the critic's samples at state ``s`` (sums to 1; 0 at terminals).

    Rollouts that restart from ρ when an episode ends sample a state in proportion to its
    expected visits per episode: with a time limit H, ``Σ_{t<H} ρᵀ P_live^t`` (episodes also end
    at terminal states); without one, :func:`acconv.exact.expected_visits` when episodes end;
    for a continuing task without a limit, the stationary distribution of ``P_π`` (the least-
    squares solution of ``dᵀ (I - P_π) = 0, Σ d = 1``, unique when the chain has one recurrent
    class).
    """
    live = ~mdp.terminal
    P = policy_transition(mdp, pi)
    P[:, ~live] = 0.0
    if time_limit is not None:
        check_int(time_limit, "time_limit", 1)
        mu = np.where(live, mdp.rho, 0.0)
        d = np.zeros(mdp.n_states)
        for _ in range(time_limit):
            d += mu
            mu = mu @ P
    elif mdp.terminal.any():
        d = expected_visits(mdp, pi)
    else:
        system = np.vstack([P.T - np.eye(mdp.n_states), np.ones(mdp.n_states)])
        rhs = np.zeros(mdp.n_states + 1)
        rhs[-1] = 1.0
        d = np.linalg.lstsq(system, rhs, rcond=None)[0]
    d = np.where(live & (d > 1e-14), d, 0.0)
    return np.asarray(d / d.sum())


def lambda_return_operator(
    mdp: FiniteMDP, pi: FloatArray, lam: float
) -> tuple[FloatArray, FloatArray]:
    """``(r_λ, M)`` with ``T^λ_π V = r_λ + M V`` (terminal states' rows and columns are 0):

        r_λ = (I - γλ P)^{-1} r_π,   M = γ(1-λ) (I - γλ P)^{-1} P,   P = P_π into live states.

    ``λ = 1``: ``r_λ = V^π`` and ``M = 0``; ``λ = 0``: ``r_λ = r_π`` and ``M = γ P_π``.
    """
    check_float(lam, "gae_lambda", 0.0, 1.0)
    live = ~mdp.terminal
    P = policy_transition(mdp, pi)
    P[:, ~live] = 0.0
    P[~live] = 0.0
    r = policy_reward(mdp, pi)
    if lam == 1.0:
        return policy_evaluation(mdp, pi), np.zeros_like(P)
    A = np.eye(mdp.n_states) - mdp.gamma * lam * P
    r_lam = scipy.linalg.solve(A, r)
    M = mdp.gamma * (1.0 - lam) * scipy.linalg.solve(A, P)
    return np.asarray(r_lam), np.asarray(M)


@dataclass(frozen=True)
class EquilibriumSolution:
    """λ(θ) of a critic network: its parameters, its values on every state, and how it was found.

    ``residual`` is ``‖ḡ(θ, λ)‖₂``; ``converged`` whether it is ≤ the tolerance; ``iterations``
    the Gauss–Newton steps taken; ``weights`` the sampling weights d and ``support`` where
    d > 0 (the states the critic is trained on, where λ's values are compared); ``v_pi`` is V^π.
    """

    parameters: FloatArray
    values: FloatArray
    residual: float
    iterations: int
    converged: bool
    weights: FloatArray
    support: BoolArray
    v_pi: FloatArray


def solve_critic_equilibrium(
    values_and_jacobian: ValuesAndJacobian,
    start: FloatArray,
    mdp: FiniteMDP,
    pi: FloatArray,
    gae_lambda: float,
    *,
    time_limit: int | None = None,
    tolerance: float = 1e-8,
    max_iterations: int = 100,
) -> EquilibriumSolution:
    """λ(θ) for ``π = π_θ``: the zero of ḡ (module docstring) reached by Gauss–Newton from
    ``start``, to ``‖ḡ‖₂ ≤ tolerance`` or ``max_iterations`` steps."""
    check_float(tolerance, "tolerance", 0.0, open_minimum=True)
    check_int(max_iterations, "max_iterations", 0)
    d = sampling_weights(mdp, pi, time_limit)
    support = d > 0
    live = ~mdp.terminal
    r_lam, M = lambda_return_operator(mdp, pi, gae_lambda)
    r_lam, M = r_lam[support], M[np.ix_(support, live)]
    w_sup = d[support]

    def field(w: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """``(ḡ, J, b)`` at ``w``: b = (T^λ V - V) on the support."""
        V, J = values_and_jacobian(w)
        b = r_lam + M @ V[live] - V[support]
        return J[support].T @ (w_sup * b), J, b

    w = np.array(start, dtype=np.float64)
    g, J, _ = field(w)
    residual = float(np.linalg.norm(g))
    iterations = 0
    while residual > tolerance and iterations < max_iterations:
        delta = _gauss_newton_step(J, M, live, support, w_sup, g)
        step, improved = 1.0, False
        for _ in range(30):  # halve the step while ‖ḡ‖ does not decrease
            g_new, J_new, _ = field(w + step * delta)
            new_residual = float(np.linalg.norm(g_new))
            if new_residual < residual:
                improved = True
                break
            step /= 2.0
        iterations += 1
        if not improved:
            break
        w, g, J, residual = w + step * delta, g_new, J_new, new_residual
    V, _ = values_and_jacobian(w)
    return EquilibriumSolution(
        parameters=w,
        values=V,
        residual=residual,
        iterations=iterations,
        converged=residual <= tolerance,
        weights=d,
        support=support,
        v_pi=policy_evaluation(mdp, pi),
    )


def _gauss_newton_step(
    J: FloatArray,
    M: FloatArray,
    live: BoolArray,
    support: BoolArray,
    w_sup: FloatArray,
    g: FloatArray,
) -> FloatArray:
    """δ with ``J_supᵀ D (J_sup - M J_live) δ = ḡ``, δ in the row space of ``J_live``: with
    ``J_live = U Σ Qᵀ`` and ``δ = Q y``, an r×r system (least squares if singular).

    Q comes from the eigenvectors of the small Gram matrix ``J_live J_liveᵀ = U Σ² Uᵀ``
    (``Q = J_liveᵀ U Σ^{-1}``, directions with ``σ ≤ 1e-7 σ_max`` dropped): an SVD of the wide
    ``J_live`` costs far more and suffers from BLAS threads on a loaded machine."""
    J_live = J[live]
    eigenvalues, U = np.linalg.eigh(J_live @ J_live.T)
    keep = eigenvalues > 1e-14 * max(float(eigenvalues.max(initial=0.0)), 1e-300)
    Q = J_live.T @ (U[:, keep] / np.sqrt(eigenvalues[keep]))
    JQ = J @ Q
    JQ_live, JQ_sup = JQ[live], JQ[support]
    G = JQ_sup.T @ (w_sup[:, None] * (JQ_sup - M @ JQ_live))
    y = np.linalg.lstsq(G, Q.T @ g, rcond=None)[0]
    return np.asarray(Q @ y)


def network_values(
    critic: nn.Module, states: NDArray[np.floating]
) -> tuple[ValuesAndJacobian, FloatArray]:
    """``(w -> (V_w, ∂V_w/∂w), w_0)`` for a copy of ``critic`` in float64 on the encoded
    ``states`` (rows), with ``w`` its parameters flattened in ``parameters()`` order and ``w_0``
    the critic's current ones. The critic itself is never changed."""
    net = copy.deepcopy(critic).double()
    names = [name for name, _ in net.named_parameters()]
    shapes = [p.shape for _, p in net.named_parameters()]
    sizes = [p.numel() for _, p in net.named_parameters()]
    X = torch.as_tensor(np.asarray(states), dtype=torch.float64)

    def values(w: torch.Tensor) -> torch.Tensor:
        chunks = torch.split(w, sizes)
        params = {n: c.view(s) for n, c, s in zip(names, chunks, shapes, strict=True)}
        out: torch.Tensor = torch.func.functional_call(net, params, (X,))
        return out[:, 0]

    jacobian = torch.func.jacrev(values)

    def values_and_jacobian(w: FloatArray) -> tuple[FloatArray, FloatArray]:
        w_t = torch.from_numpy(np.ascontiguousarray(w, dtype=np.float64))
        with torch.no_grad():
            V = values(w_t).numpy()
        return V, jacobian(w_t).detach().numpy()

    with torch.no_grad():
        w0 = torch.cat([p.detach().reshape(-1) for p in net.parameters()]).numpy().copy()
    return values_and_jacobian, w0


class NetworkEquilibrium:
    """λ(θ) of a critic network as the monitor reads it (``LearnerFacts.fast_equilibrium`` and
    ``.fast_equilibrium_report``): ``θ`` is the centred log-policy table, λ's values are ``V_λ``
    on every state and the mask is the support of d.

    Warm start: each solve starts from the previous solution (``warm_start=True``; the first
    from the critic's parameters when this object was made, ω_0), so successive λ(θ_n) stay on
    one branch; ``warm_start=False`` starts every solve from ω_0. The last solve is kept, so
    ``__call__`` then :meth:`report` at the same θ solve once. Calling it never changes the
    learner.
    """

    def __init__(
        self,
        critic: nn.Module,
        states: NDArray[np.floating],
        mdp: FiniteMDP,
        gae_lambda: float,
        *,
        time_limit: int | None = None,
        tolerance: float = 1e-8,
        max_iterations: int = 100,
        warm_start: bool = True,
    ) -> None:
        self.mdp, self.gae_lambda = mdp, check_float(gae_lambda, "gae_lambda", 0.0, 1.0)
        self.time_limit, self.tolerance = time_limit, tolerance
        self.max_iterations, self.warm_start = max_iterations, warm_start
        self._values, self._start = network_values(critic, states)
        self._last: tuple[bytes, EquilibriumSolution] | None = None

    def solve(self, theta: FloatArray) -> EquilibriumSolution:
        """λ(θ) (:func:`solve_critic_equilibrium`) for ``π = softmax(θ)``."""
        theta = np.asarray(theta, dtype=np.float64)
        key = theta.tobytes()
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        start = self._start
        if self.warm_start and self._last is not None:
            start = self._last[1].parameters
        solution = solve_critic_equilibrium(
            self._values,
            start,
            self.mdp,
            softmax_policy(theta, 1.0),
            self.gae_lambda,
            time_limit=self.time_limit,
            tolerance=self.tolerance,
            max_iterations=self.max_iterations,
        )
        self._last = (key, solution)
        return solution

    def __call__(self, theta: FloatArray, n: int) -> tuple[FloatArray, BoolArray]:
        """``(V_{λ(θ)}, support)``: the :data:`~acconv.facts.FastEquilibrium` contract."""
        solution = self.solve(theta)
        return solution.values, solution.support

    def report(self, theta: FloatArray, omega: FloatArray, n: int) -> dict[str, float]:
        """The monitor's ``track/*`` numbers for the critic table ``omega = V_ω`` at θ:
        d-weighted (RMS) and sup tracking errors ``V_ω - V_λ`` and approximation errors
        ``V_λ - V^π`` on the support, and the solve's residual and iterations
        (docs/metrics.md)."""
        s = self.solve(theta)
        d, sup = s.weights, s.support
        track = np.asarray(omega, dtype=np.float64) - s.values
        approx = s.values - s.v_pi
        return {
            "track/error_weighted": float(np.sqrt(np.sum(d[sup] * track[sup] ** 2))),
            "track/error_sup": float(np.max(np.abs(track[sup]))),
            "track/approximation_error": float(np.sqrt(np.sum(d[sup] * approx[sup] ** 2))),
            "track/approximation_error_sup": float(np.max(np.abs(approx[sup]))),
            "track/equilibrium_residual": s.residual,
            "track/equilibrium_iterations": float(s.iterations),
        }
