"""Exact ground truth on a finite MDP: values, visitations, optima, gradients, redistribution.

Pure numpy functions; each docstring states its equation (THEORY.md §6, RUDDER.md §1.2).
Conventions: ``pi[s, a]`` is a policy table, ``P_π[s, s'] = Σ_a π(a|s) P[s, a, s']``, and
``r_π[s] = Σ_a π(a|s) (R[s, a] - τ log π(a|s))`` (``τ = 0`` unless entropy-regularised). In
absorbing terminal states no decision is made: their reward, entropy and value are 0.

Linear systems ``(I - γ P_π) x = b`` are solved, never inverted. With ``γ = 1`` they are solved on
the non-terminal ("live") states, which is well posed exactly for proper policies (episodes end
with probability 1); a policy under which an episode from ``ρ`` may never end raises
``ValueError``. Live states from which episodes need not end but which ``ρ`` cannot reach under
``π`` (:func:`improper_states`, :func:`visited_states`) are left out of the system: no episode
visits them, and their value (undefined) and visits are set to 0.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.linalg
from numpy.typing import NDArray
from scipy.special import logsumexp

from acconv.estimators import discounted_returns
from acconv.mdp import FiniteMDP, reachable_states
from acconv.policies import greedy_policy, log_softmax_policy, softmax_policy

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


# --------------------------------------------------------------------------------------------
# Policy evaluation
# --------------------------------------------------------------------------------------------


def policy_transition(mdp: FiniteMDP, pi: FloatArray) -> FloatArray:
    """``P_π[s, s'] = Σ_a π(a|s) P[s, a, s']``."""
    return np.asarray(np.einsum("sa,sat->st", pi, mdp.P))  # optimize=True is slower here


def policy_reward(mdp: FiniteMDP, pi: FloatArray, tau: float = 0.0) -> FloatArray:
    """``r_π[s] = Σ_a π(a|s) (R[s, a] - τ log π(a|s))``, zero at terminal states."""
    r = np.einsum("sa,sa->s", pi, mdp.R)
    if tau != 0.0:
        with np.errstate(divide="ignore"):
            log_pi = np.where(pi > 0, np.log(np.where(pi > 0, pi, 1.0)), 0.0)
        r = r - tau * np.einsum("sa,sa->s", pi, log_pi)
    return np.where(mdp.terminal, 0.0, r)


def require_stationary(mdp: FiniteMDP) -> None:
    """Refuse an MDP whose time limit is not encoded in its states.

    Stationary values would silently ignore such a limit (and are infinite for ``γ = 1``
    without terminal states).
    """
    if mdp.horizon is not None and not mdp.time_in_state:
        raise ValueError(
            f"the MDP has a time limit of {mdp.horizon} decisions that its states do not "
            "encode; expected a stationary model: use with_time(mdp, horizon) or the "
            "finite_horizon_* functions"
        )


class _PolicySystem:
    """``M = I - γ P_π`` on the live states, LU-factorised once for several right-hand sides.

    With ``γ = 1`` and ``M`` singular, the live states from which episodes need not end
    (:func:`improper_states`) are left out if ``ρ`` cannot reach any of them under ``π``
    (``M`` is then invertible on the rest, which never moves into them); otherwise the policy
    is improper for the task and ``ValueError`` names a reachable such state.
    """

    def __init__(self, mdp: FiniteMDP, pi: FloatArray, gamma: float | None = None) -> None:
        require_stationary(mdp)
        gamma = mdp.gamma if gamma is None else gamma
        self.n = mdp.n_states
        self.live = np.ones(self.n, dtype=bool) if gamma < 1.0 else ~mdp.terminal
        self.left_out = np.zeros(self.n, dtype=bool)
        P_pi = policy_transition(mdp, pi)
        if not self._factor(P_pi, gamma) and gamma == 1.0:
            improper = improper_states(mdp, pi)
            reached = improper & visited_states(mdp, pi)
            if improper.any() and not reached.any():
                self.live, self.left_out = self.live & ~improper, improper
                self._factor(P_pi, gamma)
            elif reached.any():
                s = int(np.flatnonzero(reached)[0])
                raise ValueError(
                    f"I - P_π is singular: the policy is improper (from state {s}, which ρ "
                    "reaches, some episodes never end), expected a policy that reaches a "
                    "terminal state with probability 1 when γ = 1"
                )
        if not np.all(np.abs(np.diag(self.lu[0])) > 1e-12):
            raise ValueError(
                "I - γ P_π is singular: the policy is improper (some episodes never end), "
                "expected a policy that reaches a terminal state with probability 1 when γ = 1"
            )

    def _factor(self, P_pi: FloatArray, gamma: float) -> bool:
        """LU-factorise ``I - γ P_π`` on :attr:`live`; whether it is non-singular."""
        if not self.live.all():
            P_pi = P_pi[np.ix_(self.live, self.live)]
        M = -gamma * P_pi
        M.flat[:: M.shape[0] + 1] += 1.0  # I - γ P_π without an identity matrix
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)  # singular: checked below
            self.lu = scipy.linalg.lu_factor(M, overwrite_a=True, check_finite=False)
        return bool(np.all(np.abs(np.diag(self.lu[0])) > 1e-12))

    def solve(self, b: FloatArray, transpose: bool = False) -> FloatArray:
        """``x`` with ``M x = b`` (or ``Mᵀ x = b``), zero on states that are not live.

        A transposed solve (visits from a start distribution ``b``) refuses mass on a state
        left out (episodes from there need not end)."""
        if transpose and np.any(b[self.left_out] != 0.0):
            s = int(np.flatnonzero(self.left_out & (b != 0.0))[0])
            raise ValueError(
                f"the start distribution puts mass {b[s]:.6g} on state {s}, from which some "
                "episodes never end under π; expected a start distribution on states from "
                "which episodes end with probability 1"
            )
        x = np.zeros(self.n)
        x[self.live] = scipy.linalg.lu_solve(
            self.lu, b[self.live], trans=1 if transpose else 0, check_finite=False
        )
        return x


def policy_evaluation(mdp: FiniteMDP, pi: FloatArray, tau: float = 0.0) -> FloatArray:
    """``V^π = (I - γ P_π)^{-1} r_π`` (entropy-regularised ``Ṽ^π`` when ``τ > 0``).

    Discounted for ``γ < 1``; undiscounted episodic (on live states, proper ``π``) for ``γ = 1``.
    """
    V = _PolicySystem(mdp, pi).solve(policy_reward(mdp, pi, tau))
    V[mdp.terminal] = 0.0  # exactly, not up to the solve's rounding
    return V


def bellman_backup(mdp: FiniteMDP, V: FloatArray) -> FloatArray:
    """``Q[s, a] = R[s, a] + γ Σ_{s'} P[s, a, s'] V[s']``."""
    return mdp.R + mdp.gamma * (mdp.P @ V)


def action_values(mdp: FiniteMDP, pi: FloatArray, tau: float = 0.0) -> FloatArray:
    """``Q^π = R + γ P V^π`` (soft ``Q̃^π`` with ``Ṽ^π`` when ``τ > 0``)."""
    return bellman_backup(mdp, policy_evaluation(mdp, pi, tau))


def advantages(mdp: FiniteMDP, pi: FloatArray, tau: float = 0.0) -> FloatArray:
    """``A^π(s, a) = Q^π(s, a) - τ log π(a|s) - V^π(s)`` (``τ = 0``: ``Q^π - V^π``)."""
    V = policy_evaluation(mdp, pi, tau)
    return _advantage(mdp, pi, tau, V)


def _advantage(mdp: FiniteMDP, pi: FloatArray, tau: float, V: FloatArray) -> FloatArray:
    A = bellman_backup(mdp, V) - V[:, None]
    if tau != 0.0:
        with np.errstate(divide="ignore"):
            A = A - tau * np.log(pi)
    return np.where(mdp.terminal[:, None], 0.0, A)


def discounted_visits(mdp: FiniteMDP, pi: FloatArray, mu: FloatArray | None = None) -> FloatArray:
    """``η_μ^π = μᵀ (I - γ P_π)^{-1}``: ``η(s) = Σ_t γ^t Pr(s_t = s | s_0 ~ μ)``.

    For ``γ = 1`` these are the expected visit counts of the live states per episode (terminal
    states get 0); for ``γ < 1`` they sum to ``1 / (1 - γ)``.
    """
    mu = mdp.rho if mu is None else np.asarray(mu, dtype=np.float64)
    return _PolicySystem(mdp, pi).solve(mu, transpose=True)


def expected_visits(mdp: FiniteMDP, pi: FloatArray, mu: FloatArray | None = None) -> FloatArray:
    """``η1_μ^π(s) = E[Σ_t 1{s_t = s}]``: undiscounted visits per episode of the live states.

    ``μᵀ (I - P_π)^{-1}`` on the non-terminal states; needs a proper policy (every episode ends).
    This is the weight of state ``s`` in a batch update that sums over the steps of an episode.
    """
    mu = mdp.rho if mu is None else np.asarray(mu, dtype=np.float64)
    return _PolicySystem(mdp, pi, gamma=1.0).solve(mu, transpose=True)


def expected_discounted_sum(
    mdp: FiniteMDP, pi: FloatArray, x: FloatArray, discount: float
) -> FloatArray:
    """``Y(s, a) = E[Σ_{k≥0} discount^k x(s_{t+k}, a_{t+k}) | s_t = s, a_t = a]`` over the
    decision steps of an episode under ``π`` (``x`` is ``(S, A)``, 0 at terminal states).

    ``Y = x + discount · P U`` with ``U = (I - discount · P_π)^{-1} Σ_a π x`` (a Q-evaluation of
    the reward ``x``; terminal states end the sum).
    """
    x = np.where(mdp.terminal[:, None], 0.0, x)
    if discount == 0.0:
        return x
    U = _PolicySystem(mdp, pi, gamma=discount).solve(np.einsum("sa,sa->s", pi, x))
    return np.asarray(x + discount * (mdp.P @ U))


def expected_gae_advantage(
    mdp: FiniteMDP,
    pi: FloatArray,
    values: FloatArray,
    lam: float,
    reward: FloatArray | None = None,
) -> FloatArray:
    """``E[Â_t | s_t = s, a_t = a]`` of GAE(λ) with critic values ``V`` (0 at terminal states).

    ``Â_t = Σ_k (γλ)^k δ_{t+k}`` and ``E[δ_u | s_u, a_u] = r(s, a) + γ P V(s, a) - V(s)``, so
    this is :func:`expected_discounted_sum` of the mean TD error with discount ``γλ``.
    ``λ = 1`` gives ``Q^π - V``, ``λ = 0`` the mean TD error. ``reward`` defaults to ``R``.
    """
    r = mdp.R if reward is None else reward
    V = np.where(mdp.terminal, 0.0, values)
    one_step = r + mdp.gamma * (mdp.P @ V) - V[:, None]
    return expected_discounted_sum(mdp, pi, one_step, mdp.gamma * lam)


def discounted_visitation(
    mdp: FiniteMDP, pi: FloatArray, mu: FloatArray | None = None
) -> FloatArray:
    """``d_μ^π = (1 - γ) μᵀ (I - γ P_π)^{-1}``, a distribution over states (``γ < 1`` only)."""
    if mdp.gamma >= 1.0:
        raise ValueError(
            "gamma is 1, expected gamma < 1 for a normalised visitation; "
            "use discounted_visits for expected visit counts"
        )
    return (1.0 - mdp.gamma) * discounted_visits(mdp, pi, mu)


def uniform_over_live_states(mdp: FiniteMDP) -> FloatArray:
    """``μ(s) = 1/|S_live|`` on the non-terminal states, 0 on absorbing terminal states.

    Full support where decisions are made, which is what Mei et al.'s bounds need: a terminal
    state has no gradient and no sub-optimality, so its weight is irrelevant.
    """
    live = ~mdp.terminal
    return np.asarray(np.where(live, 1.0 / live.sum(), 0.0))


def visited_states(mdp: FiniteMDP, pi: FloatArray, mu: FloatArray | None = None) -> BoolArray:
    """acconv's one definition of the states a policy *visits*: the non-terminal states of
    positive discounted visitation,

        visited(s)  ⇔  s is not terminal  and  η_μ^π(s) = Σ_t γ^t Pr(s_t = s | s_0 ~ μ) > 0.

    Since ``γ > 0`` (a :class:`~acconv.mdp.FiniteMDP` has ``γ ∈ (0, 1]``), every term of
    ``η`` is non-negative with a positive weight, so ``η(s) > 0`` exactly when
    ``Pr(s_t = s) > 0`` for some ``t``: the support does not depend on ``γ``. Hence one
    definition serves both kinds of task:

    * episodic (proper ``π``): it is the support of the expected visits per episode
      ``η1 = μᵀ (I - P_π)^{-1}`` (:func:`expected_visits`), the weights of a batch update that
      sums over an episode's steps;
    * continuing (``γ < 1``, no terminal state, rollouts that never reset): ``η1`` is infinite
      there, and this is the support of :func:`discounted_visits`.

    Absorbing terminal states are excluded: no decision is made there and no critic entry
    moves, so a learner does not determine its equilibrium there (``V = 0`` is a convention).
    Computed as reachability from ``supp(μ)`` along the positive entries of ``P_π``, not
    leaving a terminal state, which is that support exactly (no linear solve, no rounding).
    ``μ`` defaults to ``ρ``.
    """
    mu = mdp.rho if mu is None else np.asarray(mu, dtype=np.float64)
    step = policy_transition(mdp, pi)
    step[mdp.terminal] = 0.0  # an episode ends on entering a terminal state
    return np.asarray(reachable_states(step[:, None, :], mu) & ~mdp.terminal)


def improper_states(mdp: FiniteMDP, pi: FloatArray) -> BoolArray:
    """The live states from which an episode under ``π`` need not end:

        improper(s)  ⇔  s is live and, along the positive entries of ``P_π``, s reaches a live
                        state from which no terminal state can be reached.

    In a finite Markov chain absorption happens with probability 1 from ``s`` exactly when
    every state reachable from ``s`` can reach an absorbing (terminal) state, so this is the
    complement of "episodes from ``s`` end w.p. 1". Exact graph search on the support of
    ``π`` (no linear solve, no rounding). Without terminal states every state is improper.
    """
    step = policy_transition(mdp, pi) > 0
    step[mdp.terminal] = False  # an episode ends on entering a terminal state
    backward = step.T[:, None, :].astype(np.float64)  # edges reversed
    can_end = reachable_states(backward, mdp.terminal.astype(np.float64))
    trapped = ~mdp.terminal & ~can_end
    return np.asarray(reachable_states(backward, trapped.astype(np.float64)) & ~mdp.terminal)


def episode_length(mdp: FiniteMDP, pi: FloatArray | None = None) -> int | None:
    """The number of decisions ``L`` that every episode from ``ρ`` lasts under ``π`` (under
    every action when ``pi`` is ``None``: the support of any softmax policy), or ``None`` when
    episode lengths vary (or episodes need not end).

    Layered reachability along the positive entries of ``P`` (of ``P_π``): ``X_0 = supp(ρ)``,
    ``X_{t+1}`` = the states one step from the live states of ``X_t``. Every episode lasts
    exactly ``L`` iff ``X_t`` holds only live states for ``t < L`` and ``X_L`` only terminal
    ones, or ``L`` is ``mdp.horizon`` (where samplers cut episodes). Without a horizon a fixed
    length is at most the number of live states (a live state in two layers would have two
    remaining lengths), so the search stops there. Exact graph search.
    """
    step = (mdp.P.max(axis=1) if pi is None else policy_transition(mdp, pi)) > 0
    layer = mdp.rho > 0
    limit = mdp.horizon if mdp.horizon is not None else int((~mdp.terminal).sum())
    for t in range(limit + 1):
        ended = layer & mdp.terminal
        if ended.any():
            return t if not (layer & ~mdp.terminal).any() else None
        if t == mdp.horizon:
            return t
        layer = np.asarray(step[layer].any(axis=0))
    return None


def value_equilibrium(
    mdp: FiniteMDP, pi: FloatArray, tau: float = 0.0
) -> tuple[FloatArray, BoolArray]:
    """A state-value critic's equilibrium ``λ(θ)`` for ``π = π_θ``, and where it is unique:

        λ(θ) = V^π = (I - γ P_π)^{-1} r_π   (``Ṽ^π`` with ``τ > 0``),
        visited = :func:`visited_states` ``(mdp, π)``.

    MC, TD(0) and TD(λ) tabular critics share this fixed point (THEORY.md §6.3), and so do the
    critics of neural PPO and SB3 read as tables on every state. Off the visited states no
    sample ever reaches the critic, so its equilibrium is not unique there: compare ``ω`` with
    ``V`` only on ``visited`` (``track/error``, ``track/support_size``).
    """
    return policy_evaluation(mdp, pi, tau), visited_states(mdp, pi)


# --------------------------------------------------------------------------------------------
# Optimal control
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Solution:
    """An optimal (or soft-optimal) solution: values, action values and a policy table."""

    V: FloatArray
    Q: FloatArray
    policy: FloatArray
    iterations: int


def value_iteration(mdp: FiniteMDP, tol: float = 1e-8, max_iterations: int = 1_000_000) -> Solution:
    """``V_{k+1}(s) = max_a (R[s, a] + γ Σ_{s'} P[s, a, s'] V_k(s'))`` from ``V_0 = 0``.

    Stops when ``‖V_{k+1} - V_k‖_∞ ≤ tol (1 - γ) / (2γ)``, which guarantees ``‖V_{k+1} - V*‖_∞ ≤
    tol / 2`` for ``γ < 1``; for ``γ = 1`` (episodic) it stops at ``‖V_{k+1} - V_k‖_∞ ≤ tol``.
    """
    require_stationary(mdp)
    threshold = tol * (1.0 - mdp.gamma) / (2.0 * mdp.gamma) if mdp.gamma < 1.0 else tol
    V = np.zeros(mdp.n_states)
    for k in range(1, max_iterations + 1):
        V_next = bellman_backup(mdp, V).max(axis=1)
        done = np.max(np.abs(V_next - V)) <= threshold
        V = V_next
        if done:
            Q = bellman_backup(mdp, V)
            return Solution(V=V, Q=Q, policy=greedy_policy(Q), iterations=k)
    raise RuntimeError(f"value iteration did not reach tol={tol} in {max_iterations} iterations")


def policy_iteration(
    mdp: FiniteMDP, max_iterations: int = 10_000, warm_start_sweeps: int = 30
) -> Solution:
    """Howard's policy iteration: evaluate ``π_k`` exactly, act greedily on ``Q^{π_k}``, repeat.

    Exact in finitely many steps. The first policy is greedy after ``warm_start_sweeps`` cheap
    value-iteration sweeps (each costs one ``P V`` product, far less than a solve), which saves
    solves. A greedy
    action changes only when it beats the current one by more than ``1e-12 (1 + |Q|)``, so ties
    cannot cycle. Needs every policy to be proper when ``γ = 1`` (true with a horizon).
    """
    require_stationary(mdp)
    V = np.zeros(mdp.n_states)
    for _ in range(warm_start_sweeps):
        V = bellman_backup(mdp, V).max(axis=1)
    actions = bellman_backup(mdp, V).argmax(axis=1)
    rows = np.arange(mdp.n_states)
    for k in range(1, max_iterations + 1):
        pi = np.zeros((mdp.n_states, mdp.n_actions))
        pi[rows, actions] = 1.0
        V = policy_evaluation(mdp, pi)
        Q = bellman_backup(mdp, V)
        best = Q.argmax(axis=1)
        improves = Q[rows, best] > Q[rows, actions] + 1e-12 * (1.0 + np.abs(Q[rows, actions]))
        if not improves.any():
            return Solution(V=V, Q=Q, policy=pi, iterations=k)
        actions = np.where(improves, best, actions)
    raise RuntimeError(f"policy iteration did not converge in {max_iterations} iterations")


def optimal_values(mdp: FiniteMDP) -> Solution:
    """``V*``, ``Q*`` and an optimal policy, by the fastest exact method that applies.

    Policy iteration when every policy is proper (``γ < 1`` or a horizon), else value iteration
    to 1e-10 (undiscounted episodic MDPs such as FrozenLake with ``γ = 1``, where some policies
    never end an episode).
    """
    if mdp.gamma < 1.0 or mdp.time_in_state:
        return policy_iteration(mdp)
    return value_iteration(mdp, tol=1e-10)


def soft_value_iteration(
    mdp: FiniteMDP,
    tau: float,
    tol: float = 1e-10,
    max_iterations: int = 1_000_000,
    polish_rounds: int = 4,
) -> Solution:
    """Entropy-regularised optimum: ``V(s) = τ log Σ_a exp(Q(s, a)/τ)``, ``Q = R + γ P V``.

    The soft-optimal policy is ``π*_τ(a|s) = exp((Q*_τ(s, a) - V*_τ(s))/τ)``; a contraction with
    modulus ``γ`` (THEORY.md §5.1, Cen et al. 2022). Stops as :func:`value_iteration` does, then
    runs ``polish_rounds`` rounds of soft policy iteration ``π ← softmax(Q/τ)``,
    ``Q ← R + γ P Ṽ^π`` (exact solves; superlinear near the optimum), so that ``Q*_τ`` is
    accurate to rounding and linear rates can be followed down to ~1e-12.
    """
    if tau <= 0:
        raise ValueError(f"tau is {tau}, expected > 0 (use value_iteration for tau = 0)")
    require_stationary(mdp)
    threshold = tol * (1.0 - mdp.gamma) / (2.0 * mdp.gamma) if mdp.gamma < 1.0 else tol
    V = np.zeros(mdp.n_states)
    for k in range(1, max_iterations + 1):
        Q = bellman_backup(mdp, V)
        V_next = np.where(mdp.terminal, 0.0, tau * logsumexp(Q / tau, axis=1))
        done = np.max(np.abs(V_next - V)) <= threshold
        V = V_next
        if done:
            Q = bellman_backup(mdp, V)
            for _ in range(polish_rounds):
                Q = action_values(mdp, softmax_policy(Q / tau), tau)
            pi = softmax_policy(Q / tau)
            return Solution(V=policy_evaluation(mdp, pi, tau), Q=Q, policy=pi, iterations=k)
    raise RuntimeError(f"soft value iteration did not reach tol={tol} in {max_iterations} steps")


# --------------------------------------------------------------------------------------------
# Objective and exact policy gradient of a tabular softmax policy
# --------------------------------------------------------------------------------------------


def objective(
    mdp: FiniteMDP,
    theta: FloatArray,
    beta: float = 1.0,
    tau: float = 0.0,
    mu: FloatArray | None = None,
) -> float:
    """``J(θ) = Σ_s μ(s) V^{π_θ}(s)`` with ``π_θ = softmax(β θ)`` (``Ṽ`` when ``τ > 0``)."""
    mu = mdp.rho if mu is None else np.asarray(mu, dtype=np.float64)
    V = policy_evaluation(mdp, softmax_policy(theta, beta), tau)
    return float(mu @ V)


def policy_gradient(
    mdp: FiniteMDP,
    theta: FloatArray,
    beta: float = 1.0,
    tau: float = 0.0,
    mu: FloatArray | None = None,
) -> FloatArray:
    """Exact ``∂J/∂θ[s, a] = β η_μ(s) π(a|s) A(s, a)`` for ``π = softmax(β θ)``.

    ``η_μ = μᵀ (I - γ P_π)^{-1}`` (= ``d_μ^π / (1 - γ)`` for ``γ < 1``, expected visits for
    ``γ = 1``) and ``A(s, a) = Q̃(s, a) - τ log π(a|s) - Ṽ(s)`` (Agarwal et al. 2021, Lemma C.1;
    Mei et al. 2020 for the entropy term; THEORY.md §6.2). One LU factorisation of
    ``I - γ P_π`` serves both solves.
    """
    mu = mdp.rho if mu is None else np.asarray(mu, dtype=np.float64)
    pi = softmax_policy(theta, beta)
    system = _PolicySystem(mdp, pi)
    V = system.solve(policy_reward(mdp, pi, tau))
    eta = system.solve(mu, transpose=True)
    A = mdp.R + mdp.gamma * (mdp.P @ V) - V[:, None]
    if tau != 0.0:
        A = A - tau * log_softmax_policy(theta, beta)
    A[mdp.terminal] = 0.0
    return np.asarray(beta * eta[:, None] * pi * A)


def softmax_pg_step_size(gamma: float, n_actions: int, tau: float = 0.0) -> float:
    """The step of Mei et al. 2020: ``η = (1-γ)³ / (8 + τ (4 + 8 log|A|))``.

    ``1/η`` is the smoothness constant of ``θ ↦ Ṽ^{π_θ}(μ)`` for rewards in ``[0, 1]``
    (THEORY.md §5.1, §6.2: ``8/(1-γ)³`` for ``τ = 0`` is [V], the entropy-regularised constant
    is (UNVERIFIED)).
    """
    return (1.0 - gamma) ** 3 / (8.0 + tau * (4.0 + 8.0 * math.log(n_actions)))


# --------------------------------------------------------------------------------------------
# Finite-horizon recursions (time-dependent policies, decisions t = 0..T-1)
# --------------------------------------------------------------------------------------------


def finite_horizon_evaluation(
    mdp: FiniteMDP, pi: FloatArray, horizon: int
) -> tuple[FloatArray, FloatArray]:
    """Backward recursion ``V_T = 0``, ``Q_t = R + γ P V_{t+1}``, ``V_t(s) = Σ_a π_t(a|s) Q_t``.

    ``pi`` has shape ``(T, S, A)`` (time-dependent) or ``(S, A)`` (the same at every t).
    Returns ``V`` of shape ``(T + 1, S)`` and ``Q`` of shape ``(T, S, A)``.
    """
    pis = np.broadcast_to(pi, (horizon, mdp.n_states, mdp.n_actions))
    V = np.zeros((horizon + 1, mdp.n_states))
    Q = np.zeros((horizon, mdp.n_states, mdp.n_actions))
    for t in range(horizon - 1, -1, -1):
        Q[t] = bellman_backup(mdp, V[t + 1])
        V[t] = np.einsum("sa,sa->s", pis[t], Q[t])
    return V, Q


def finite_horizon_optimal(mdp: FiniteMDP, horizon: int) -> Solution:
    """Backward induction ``V_t(s) = max_a (R + γ P V_{t+1})(s, a)``; ``policy`` is ``(T, S, A)``.

    ``V`` has shape ``(T + 1, S)``, ``Q`` shape ``(T, S, A)``; ``iterations`` is ``T``.
    """
    V = np.zeros((horizon + 1, mdp.n_states))
    Q = np.zeros((horizon, mdp.n_states, mdp.n_actions))
    policy = np.zeros_like(Q)
    for t in range(horizon - 1, -1, -1):
        Q[t] = bellman_backup(mdp, V[t + 1])
        V[t] = Q[t].max(axis=1)
        policy[t] = greedy_policy(Q[t])
    return Solution(V=V, Q=Q, policy=policy, iterations=horizon)


def finite_horizon_policy_gradient(
    mdp: FiniteMDP, theta: FloatArray, beta: float = 1.0
) -> FloatArray:
    """``∂J/∂θ_t[s, a] = β γ^t Pr(s_t = s) π_t(a|s) A_t(s, a)`` for time-dependent logits.

    ``theta`` has shape ``(T, S, A)``; ``Pr(s_t = ·)`` propagates ``ρ`` forward and
    ``A_t = Q_t - V_t`` comes from :func:`finite_horizon_evaluation` (THEORY.md §6.2).
    """
    horizon = theta.shape[0]
    pi = softmax_policy(theta, beta)
    V, Q = finite_horizon_evaluation(mdp, pi, horizon)
    grad = np.zeros_like(pi)
    p = mdp.rho.copy()
    for t in range(horizon):
        grad[t] = beta * mdp.gamma**t * p[:, None] * pi[t] * (Q[t] - V[t][:, None])
        p = p @ policy_transition(mdp, pi[t])
    return grad


# --------------------------------------------------------------------------------------------
# Optimal RUDDER reward redistribution (RUDDER.md §1.2)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Redistribution:
    """The optimal redistribution of one episode.

    ``rewards[t]`` is ``r*_{t+1}``, ``predictions[t] = E[G_0 | τ_{0:t}]`` and ``correction`` the
    zero-mean end-of-episode term, so ``rewards.sum() + correction == G_0``.
    """

    rewards: FloatArray
    predictions: FloatArray
    correction: float


def optimal_redistribution(
    mdp: FiniteMDP,
    pi: FloatArray,
    states: IntArray,
    actions: IntArray,
    rewards: FloatArray,
) -> Redistribution:
    """Redistribute one episode optimally (expected future reward 0 at every step).

    With ``q = Q^π`` of the Markov (time-augmented) ``mdp`` and the prefix
    ``τ_{0:t} = (s_0, a_0, r_1, ..., s_t, a_t)``, the Markov property gives
    ``g_t = E[G_0 | τ_{0:t}] = Σ_{k<t} γ^k r_{k+1} + γ^t q(s_t, a_t)``. The redistributed reward is
    ``r*_{t+1} = g_t - g_{t-1}`` (``g_{-1} = 0``): for ``γ = 1`` exactly
    ``r*_{t+1} = r_t + q(s_t, a_t) - q(s_{t-1}, a_{t-1})`` of RUDDER's Theorem 2. The correction
    ``G_0 - g_{T-1} = γ^{T-1} (r_T - q(s_{T-1}, a_{T-1}))`` closes the sum, so
    ``Σ_t r*_{t+1} + correction = G_0`` for every episode. RUDDER's theory assumes ``γ = 1``.

    What is zero-mean (tests/test_rudder_fields.py checks it by exact enumeration): since
    ``g_t = E[G_0 | τ_{0:t}]``, counting the correction as the last redistributed reward,
    ``E[Σ_{k>t} r*_{k+1} + correction | τ_{0:t}] = E[G_0 - g_t | τ_{0:t}] = 0`` for every
    prefix. The correction alone is zero-mean only where the last pair ends the episode surely
    (``p_end = 1``, :func:`ending_steps`: every last pair of a fixed-horizon, time-augmented
    task). Where an episode can end at random after ``(s, a)`` (``0 < p_end < 1``), "``T-1``
    was the last step" conditions on the future: given it, the correction's mean is
    ``γ^{T-1} (r_end/p_end - q)(s_{T-1}, a_{T-1})``, and over episodes
    ``E[correction] = Σ_{s,a} d(s) π(a|s) (r_end - p_end q)(s, a)`` with
    ``d(s) = Σ_t γ^t Pr(s_t = s)`` (:func:`discounted_visits`), in general not 0.

    ``states`` holds ``s_0..s_{T-1}`` (a final ``s_T`` may follow and is ignored), ``actions``
    ``a_0..a_{T-1}`` and ``rewards`` ``r_1..r_T``.
    """
    actions = np.asarray(actions, dtype=np.int64)
    T = len(actions)
    states = np.asarray(states, dtype=np.int64)[:T]
    rewards = np.asarray(rewards, dtype=np.float64)
    if len(states) != T or len(rewards) != T:
        raise ValueError(
            f"episode has {len(states)} states, {T} actions and {len(rewards)} rewards, "
            "expected T states (s_T optional), T actions and T rewards"
        )
    q = action_values(mdp, pi)[states, actions]
    discounts = mdp.gamma ** np.arange(T)
    # Σ_{k<t} γ^k r_{k+1}: discounted reward earned before step t (a prefix sum, not a return)
    earned = np.concatenate([[0.0], np.cumsum(discounts * rewards)[:-1]])
    g = earned + discounts * q
    G0 = float(discounted_returns(rewards, mdp.gamma)[0])
    return Redistribution(
        rewards=np.diff(g, prepend=0.0), predictions=g, correction=G0 - float(g[-1])
    )


def ending_steps(mdp: FiniteMDP) -> tuple[FloatArray, FloatArray]:
    """``p_end(s, a)``: probability that ``(s, a)`` ends the episode; ``r_end``: its mean reward.

    ``r_end(s, a) = Σ_{s' terminal} P[s, a, s'] r(s, a, s')`` (``R[s, a]`` for every ``s'`` when
    the MDP has no per-transition rewards).
    """
    into_end = mdp.P * mdp.terminal[None, None, :]
    p_end = into_end.sum(axis=2)
    if mdp.R_next is not None:
        r_end = np.einsum("sat,sat->sa", into_end, mdp.R_next)
    else:
        r_end = p_end * mdp.R
    live = ~mdp.terminal[:, None]
    return np.where(live, p_end, 0.0), np.where(live, r_end, 0.0)
