"""Finite Markov decision processes: one canonical layout, validated once, and builders.

Layout (DESIGN.md §3): ``P[s, a, s']`` transition probabilities, ``R[s, a]`` expected reward of
taking ``a`` in ``s``, discount ``gamma``, start distribution ``rho``, an optional absorbing
``terminal`` mask and an optional ``horizon``. Two optional fields describe sampled rewards
without changing any expectation: ``R_next[s, a, s']`` (the reward when the transition lands in
``s'``, so that ``R = Σ_{s'} P R_next``) and ``R_noise[s, a]`` (the scale of zero-mean
Rademacher noise ``±R_noise`` added to a sampled reward).

Everything is validated on construction, and each message names the offending index and value,
e.g. ``P[3, 1, :] sums to 0.97, expected 1``.

Builders: :func:`garnet` (random MDPs of the theory literature), :func:`chain`,
:func:`with_time` (time-augmented finite-horizon MDP) and :func:`from_gymnasium`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from acconv._validate import check_dense_size, check_int

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

_ATOL = 1e-8  # tolerance for probability sums and absorbing-state checks


@dataclass(frozen=True, eq=False)
class FiniteMDP:
    """A finite MDP ``(P, R, gamma, rho)`` with optional absorbing terminal states and horizon.

    Attributes:
        P: transition kernel, shape ``(S, A, S)``; ``P[s, a, s'] = Pr(s' | s, a)``.
        R: expected reward, shape ``(S, A)``; ``R[s, a] = E[r | s, a]``.
        gamma: discount factor in ``(0, 1]``; ``gamma = 1`` needs terminal states or a horizon.
        rho: start distribution, shape ``(S,)``.
        terminal: absorbing terminal states, shape ``(S,)``; a terminal state loops on itself
            with probability 1 and zero reward under every action.
        horizon: the time limit of an episode in decisions, or ``None`` for no limit. Samplers
            truncate episodes there. Exact stationary solvers need the limit to be encoded in
            the states (:attr:`time_in_state`, as :func:`with_time` builds it) and refuse it
            otherwise; the ``finite_horizon_*`` functions of :mod:`acconv.exact` take the
            horizon as an argument instead.
        R_next: optional reward of each transition, shape ``(S, A, S)``, with
            ``R[s, a] = Σ_{s'} P[s, a, s'] R_next[s, a, s']``.
        R_noise: optional scale of zero-mean ``±R_noise[s, a]`` noise on sampled rewards.
        state_labels: optional human-readable name of each state (for printing).
    """

    P: FloatArray
    R: FloatArray
    gamma: float
    rho: FloatArray
    terminal: BoolArray = field(default=None)  # type: ignore[arg-type]  # None -> no terminal
    horizon: int | None = None
    R_next: FloatArray | None = None
    R_noise: FloatArray | None = None
    state_labels: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        P = _as_float_array(self.P, "P", ndim=3)
        n_states, n_actions, n_next = P.shape
        if n_states == 0 or n_actions == 0:
            raise ValueError(f"P has shape {P.shape}, expected at least one state and one action")
        if n_next != n_states:
            raise ValueError(f"P has shape {P.shape}, expected (S, A, S) with S = {n_states}")
        R = _as_float_array(self.R, "R", ndim=2, shape=(n_states, n_actions))
        rho = _as_float_array(self.rho, "rho", ndim=1, shape=(n_states,))
        terminal = (
            np.zeros(n_states, dtype=bool)
            if self.terminal is None
            else np.asarray(self.terminal, dtype=bool).copy()
        )
        if terminal.shape != (n_states,):
            raise ValueError(f"terminal has shape {terminal.shape}, expected ({n_states},)")

        _check_distribution_rows(P)
        _check_distribution(rho, "rho")
        gamma = self.gamma
        if isinstance(gamma, bool) or not isinstance(gamma, (int, float, np.integer, np.floating)):
            raise ValueError(f"gamma is {_short(gamma)}, expected a number in (0, 1]")
        gamma = float(gamma)
        if not 0.0 < gamma <= 1.0:
            raise ValueError(f"gamma is {self.gamma}, expected a number in (0, 1]")
        if self.horizon is not None and (
            isinstance(self.horizon, bool)
            or not isinstance(self.horizon, (int, np.integer))
            or self.horizon < 1
        ):
            raise ValueError(f"horizon is {self.horizon!r}, expected a positive integer or None")
        for i in np.flatnonzero(terminal):
            for a in range(n_actions):
                if abs(P[i, a, i] - 1.0) > _ATOL:
                    raise ValueError(
                        f"terminal state {i} is not absorbing: P[{i}, {a}, {i}] is "
                        f"{P[i, a, i]:.6g}, expected 1"
                    )
                if R[i, a] != 0.0:
                    raise ValueError(
                        f"R[{i}, {a}] is {R[i, a]:.6g} at terminal state {i}, expected 0"
                    )
        if gamma == 1.0 and self.horizon is None and not terminal.any():
            raise ValueError(
                "gamma is 1 but the MDP has neither terminal states nor a horizon; "
                "expected gamma < 1 or an episodic MDP"
            )
        R_next = None
        if self.R_next is not None:
            R_next = _as_float_array(self.R_next, "R_next", ndim=3, shape=P.shape)
            expected = np.einsum("sat,sat->sa", P, R_next)
            s, a = (int(i) for i in np.unravel_index(np.argmax(np.abs(expected - R)), R.shape))
            if abs(expected[s, a] - R[s, a]) > 1e-6 * max(1.0, abs(R[s, a])):
                raise ValueError(
                    f"R[{s}, {a}] is {R[s, a]:.6g} but Σ_s' P R_next gives {expected[s, a]:.6g}, "
                    "expected them equal"
                )
        R_noise = None
        if self.R_noise is not None:
            R_noise = _as_float_array(self.R_noise, "R_noise", ndim=2, shape=R.shape)
            if (R_noise < 0).any():
                s, a = np.argwhere(R_noise < 0)[0]
                raise ValueError(f"R_noise[{s}, {a}] is {R_noise[s, a]:.6g}, expected >= 0")
        if self.state_labels is not None and len(self.state_labels) != n_states:
            raise ValueError(
                f"state_labels has {len(self.state_labels)} entries, expected {n_states}"
            )
        for name, value in (
            ("P", P),
            ("R", R),
            ("rho", rho),
            ("terminal", terminal),
            ("R_next", R_next),
            ("R_noise", R_noise),
        ):
            if value is not None:
                value.setflags(write=False)
            object.__setattr__(self, name, value)
        object.__setattr__(self, "gamma", gamma)
        if self.horizon is not None:
            object.__setattr__(self, "horizon", int(self.horizon))

    @property
    def n_states(self) -> int:
        """Number of states ``|S|``."""
        return int(self.P.shape[0])

    @property
    def n_actions(self) -> int:
        """Number of actions ``|A|``."""
        return int(self.P.shape[1])

    @cached_property
    def time_in_state(self) -> bool:
        """Whether every episode ends within ``horizon`` decisions by the MDP's own dynamics.

        True for :func:`with_time` MDPs; then stationary values are the finite-horizon values.
        """
        if self.horizon is None:
            return False
        return _longest_run_of_decisions(self.P, self.terminal, self.horizon) is not None

    def with_gamma(self, gamma: float) -> FiniteMDP:
        """The same MDP with another discount factor (validated)."""
        return replace(self, gamma=gamma)

    def __repr__(self) -> str:
        return (
            f"FiniteMDP(n_states={self.n_states}, n_actions={self.n_actions}, gamma={self.gamma}, "
            f"terminal={int(self.terminal.sum())}, horizon={self.horizon})"
        )


def _as_float_array(
    value: Any, name: str, ndim: int, shape: tuple[int, ...] | None = None
) -> FloatArray:
    array = _real_array(value, name)
    if array.ndim != ndim or (shape is not None and array.shape != shape):
        expected = shape if shape is not None else f"{ndim} dimensions"
        raise ValueError(f"{name} has shape {array.shape}, expected {expected}")
    if not np.isfinite(array).all():
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise ValueError(f"{name}{list(index)} is {array[index]}, expected a finite number")
    return array


def _real_array(value: Any, name: str) -> FloatArray:
    """``value`` as a float64 array, or a one-line ValueError naming ``name``.

    Ragged nesting, text, ``None`` and complex numbers are refused (NumPy would raise its own
    message, or drop an imaginary part with only a warning).
    """
    try:
        array = np.asarray(value)
    except ValueError:  # ragged nesting
        raise ValueError(
            f"{name} is {_short(value)}, expected a rectangular array of numbers (its rows have "
            "different lengths)"
        ) from None
    if array.dtype.kind not in "biuf":
        kind = "complex numbers" if array.dtype.kind == "c" else f"{array.dtype} entries"
        raise ValueError(
            f"{name} is {_short(value)}, expected an array of real numbers, got {kind}"
        )
    return np.array(array, dtype=np.float64)


def _short(value: object) -> str:
    text = " ".join(repr(value).split())
    return text if len(text) <= 60 else text[:57] + "..."


def _longest_run_of_decisions(P: FloatArray, terminal: BoolArray, limit: int) -> int | None:
    """The most decisions any episode can take under any policy, or None if above ``limit``.

    Peels the graph of live (non-terminal) states layer by layer (Kahn's algorithm): the number
    of layers is the longest run of decisions; a cycle leaves states that never peel.
    """
    live = ~terminal
    edges = (P.max(axis=1) > 0) & live[:, None] & live[None, :]
    indegree = edges.sum(axis=0)
    remaining = live.copy()
    for layers in range(limit + 1):
        if not remaining.any():
            return layers
        layer = remaining & (indegree == 0)
        if not layer.any():
            return None
        remaining &= ~layer
        indegree = indegree - edges[layer].sum(axis=0)
    return None if remaining.any() else limit


def _check_distribution_rows(P: FloatArray) -> None:
    if (P < 0).any():
        s, a, t = np.argwhere(P < 0)[0]
        raise ValueError(f"P[{s}, {a}, {t}] is {P[s, a, t]:.6g}, expected >= 0")
    sums = P.sum(axis=2)
    bad = np.argwhere(np.abs(sums - 1.0) > _ATOL)
    if len(bad):
        s, a = bad[0]
        raise ValueError(f"P[{s}, {a}, :] sums to {sums[s, a]:.6g}, expected 1")


def _check_distribution(p: FloatArray, name: str) -> None:
    if (p < 0).any():
        i = int(np.argwhere(p < 0)[0, 0])
        raise ValueError(f"{name}[{i}] is {p[i]:.6g}, expected >= 0")
    if abs(p.sum() - 1.0) > _ATOL:
        raise ValueError(f"{name} sums to {p.sum():.6g}, expected 1")


# --------------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------------


def garnet(
    n_states: int,
    n_actions: int,
    branching: int,
    rng: np.random.Generator,
    gamma: float = 0.9,
) -> FiniteMDP:
    """A random Garnet MDP ("generic average reward non-stationary environment test-bench").

    Construction (Archibald, McKinnon & Thomas 1995; as used by Bhatnagar et al. 2009, "Natural
    actor-critic algorithms"): for every ``(s, a)`` draw ``branching`` distinct next states
    uniformly without replacement and split the unit interval at ``branching - 1`` uniform
    points to get their probabilities; rewards ``R[s, a] ~ U[0, 1]``; ``rho`` uniform.
    """
    check_int(n_states, "n_states", 1)
    check_int(n_actions, "n_actions", 1)
    check_int(branching, "branching", 1)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng is {_short(rng)}, expected a numpy.random.Generator "
            "(e.g. numpy.random.default_rng(0))"
        )
    if branching > n_states:
        raise ValueError(f"branching is {branching}, expected at most n_states = {n_states}")
    P = np.zeros((n_states, n_actions, n_states))
    # argsort of uniform keys = a random subset per (s, a), vectorised over all pairs.
    next_states = np.argsort(rng.random((n_states, n_actions, n_states)), axis=2)[:, :, :branching]
    cuts = np.sort(rng.random((n_states, n_actions, branching - 1)), axis=2)
    edges = np.concatenate(
        [np.zeros((n_states, n_actions, 1)), cuts, np.ones((n_states, n_actions, 1))], axis=2
    )
    np.put_along_axis(P, next_states, np.diff(edges, axis=2), axis=2)
    R = rng.random((n_states, n_actions))
    rho = np.full(n_states, 1.0 / n_states)
    return FiniteMDP(P=P, R=R, gamma=gamma, rho=rho)


def chain(
    n_states: int,
    slip: float = 0.0,
    gamma: float = 0.99,
    small_reward: float = 0.0,
) -> FiniteMDP:
    """A corridor ``0 - 1 - ... - (n-1)``: action 0 moves left, action 1 moves right.

    With probability ``slip`` the move goes the other way (walls at both ends). Entering the
    last state pays 1 and ends the episode (it is absorbing and terminal). Moving left while in
    state 0 pays ``small_reward`` (a distractor as in Strens' NChain when positive). Start in
    state 0. With ``slip = 0`` and ``small_reward = 0`` the optimal value of the start is
    ``gamma ** (n - 2)``.
    """
    check_int(n_states, "n_states", 1)
    if n_states < 2:
        raise ValueError(f"n_states is {n_states}, expected at least 2")
    if not 0.0 <= slip <= 1.0:
        raise ValueError(f"slip is {slip}, expected a probability in [0, 1]")
    goal = n_states - 1
    P = np.zeros((n_states, 2, n_states))
    R_next = np.zeros((n_states, 2, n_states))
    for s in range(goal):
        left, right = max(s - 1, 0), s + 1
        for a, (intended, other) in enumerate(((left, right), (right, left))):
            P[s, a, intended] += 1.0 - slip
            P[s, a, other] += slip
            R_next[s, a, goal] = 1.0
    R_next[0, 0, 0] += small_reward
    P[goal, :, goal] = 1.0
    R_next[goal] = 0.0
    R = np.einsum("sat,sat->sa", P, R_next)
    rho = np.zeros(n_states)
    rho[0] = 1.0
    terminal = np.zeros(n_states, dtype=bool)
    terminal[goal] = True
    return FiniteMDP(P=P, R=R, gamma=gamma, rho=rho, terminal=terminal, R_next=R_next)


def with_time(mdp: FiniteMDP, horizon: int) -> FiniteMDP:
    """The time-augmented finite-horizon MDP with states ``(t, s)``, ``t = 0..horizon``.

    State ``(t, s)`` has index ``t * S + s``. Taking ``a`` in ``(t, s)`` moves to ``(t + 1, s')``
    with probability ``P[s, a, s']`` and pays ``R[s, a]``. States with ``t = horizon`` and states
    whose ``s`` is terminal in ``mdp`` are absorbing and terminal, so every policy terminates
    within ``horizon`` decisions and values are stationary functions of ``(t, s)``.
    """
    check_int(horizon, "horizon", 1)
    S, A = mdp.n_states, mdp.n_actions
    n = (horizon + 1) * S
    P = np.zeros((n, A, n))
    R = np.zeros((n, A))
    R_next = None if mdp.R_next is None else np.zeros((n, A, n))
    R_noise = None if mdp.R_noise is None else np.zeros((n, A))
    live = ~mdp.terminal
    for t in range(horizon):
        rows = slice(t * S, (t + 1) * S)
        cols = slice((t + 1) * S, (t + 2) * S)
        P[rows, :, cols] = mdp.P
        R[rows] = mdp.R
        if R_next is not None and mdp.R_next is not None:
            R_next[rows, :, cols] = mdp.R_next
        if R_noise is not None and mdp.R_noise is not None:
            R_noise[rows] = mdp.R_noise
    terminal = np.concatenate([np.tile(~live, horizon), np.ones(S, dtype=bool)])
    for i in np.flatnonzero(terminal):
        P[i] = 0.0
        P[i, :, i] = 1.0
        R[i] = 0.0
        if R_next is not None:
            R_next[i] = 0.0
        if R_noise is not None:
            R_noise[i] = 0.0
    rho = np.concatenate([mdp.rho, np.zeros(horizon * S)])
    labels = tuple(
        f"t={t},{mdp.state_labels[s] if mdp.state_labels else s}"
        for t in range(horizon + 1)
        for s in range(S)
    )
    return FiniteMDP(
        P=P,
        R=R,
        gamma=mdp.gamma,
        rho=rho,
        terminal=terminal,
        horizon=horizon,
        R_next=R_next,
        R_noise=R_noise,
        state_labels=labels,
    )


def from_gymnasium(env: Any, gamma: float = 0.99) -> FiniteMDP:
    """The model of a Gymnasium toy-text environment, read from its ``unwrapped.P`` table.

    Works for FrozenLake-v1, FrozenLake8x8-v1, CliffWalking-v1 and Taxi-v4 (and any
    environment with discrete spaces and a ``P[s][a] = [(prob, s', reward, terminated), ...]``
    table). A transition flagged ``terminated`` ends the episode: the states it enters become
    absorbing terminal states with zero reward, as Gymnasium's own episodes behave. The start
    distribution is ``unwrapped.initial_state_distrib`` when present, else the point mass on the
    state that ``reset()`` returns with seed 0. A ``TimeLimit`` is not part of the model; use
    :func:`with_time` for it.
    """
    unwrapped = env.unwrapped
    table = getattr(unwrapped, "P", None)
    if not isinstance(table, dict):
        name = getattr(getattr(env, "spec", None), "id", type(unwrapped).__name__)
        raise ValueError(
            f"environment {name} has no transition table (unwrapped.P), expected a toy-text model"
        )
    n_states = int(unwrapped.observation_space.n)
    n_actions = int(unwrapped.action_space.n)
    name = getattr(getattr(env, "spec", None), "id", type(unwrapped).__name__)
    check_dense_size(n_states, n_actions, f"the model of {name}")
    P = np.zeros((n_states, n_actions, n_states))
    R_next = np.zeros((n_states, n_actions, n_states))
    ends = np.zeros(n_states, dtype=bool)
    continues = np.zeros((n_states, n_states), dtype=bool)  # (s, s') entered without ending
    for s in range(n_states):
        for a in range(n_actions):
            for prob, s_next, reward, done in table[s][a]:
                P[s, a, int(s_next)] += prob
                R_next[s, a, int(s_next)] += prob * reward  # divided by P below
                ends[int(s_next)] |= bool(done)
                continues[s, int(s_next)] |= not done and prob > 0
    # Several outcomes may land in the same s' with different rewards (CliffWalkingSlippery):
    # R_next holds the mean reward given (s, a, s').
    R_next = np.divide(R_next, P, out=np.zeros_like(R_next), where=P > 0)
    P /= P.sum(axis=2, keepdims=True)  # the tables store thirds like 0.33333333333333337
    for end in np.flatnonzero(ends):
        P[end] = 0.0
        P[end, :, end] = 1.0
        R_next[end] = 0.0
    rho_table = getattr(unwrapped, "initial_state_distrib", None)
    if rho_table is not None:
        rho = np.asarray(rho_table, dtype=np.float64)
    else:
        start, _ = env.reset(seed=0)
        rho = np.zeros(n_states)
        rho[int(start)] = 1.0
    # Taxi's table also lists moves out of states that only a finished episode enters; only a
    # state that some live, reachable state enters both with and without ending is a conflict.
    live = reachable_states(P, rho) & ~ends
    conflict = np.argwhere(continues & live[:, None] & ends[None, :])
    if len(conflict):
        source, s_next = conflict[0]
        raise ValueError(
            f"state {s_next} is entered from state {source} without ending the episode but ends "
            "it elsewhere; expected terminal flags that depend only on the state entered"
        )
    R = np.einsum("sat,sat->sa", P, R_next)
    return FiniteMDP(P=P, R=R, gamma=gamma, rho=rho / rho.sum(), terminal=ends, R_next=R_next)


def reachable_states(P: FloatArray, rho: FloatArray) -> BoolArray:
    """States reachable with positive probability from ``rho`` under some policy."""
    adjacency = P.max(axis=1) > 0
    reached = rho > 0
    frontier = reached.copy()
    while frontier.any():
        frontier = adjacency[frontier].any(axis=0) & ~reached
        reached |= frontier
    return reached


def discount_as_termination(mdp: FiniteMDP) -> FiniteMDP:
    """The undiscounted episodic MDP in which ``γ`` is a per-step survival probability.

    Each transition continues as in ``mdp`` with probability ``γ`` and otherwise enters one new
    absorbing terminal state (index ``S``); rewards are unchanged and the discount becomes 1.
    Then ``V^π`` is unchanged on the original states for every policy, every episode ends with
    probability 1, and the undiscounted expected visits are the discounted visits of ``mdp``:
    sampled returns need no truncation and undiscounted policy gradients are exact ``∇J_γ``.
    """
    if mdp.gamma >= 1.0:
        raise ValueError(f"gamma is {mdp.gamma}, expected gamma < 1 to turn into termination")
    S, A = mdp.n_states, mdp.n_actions
    P = np.zeros((S + 1, A, S + 1))
    P[:S, :, :S] = mdp.gamma * mdp.P
    P[:S, :, S] = 1.0 - mdp.gamma
    P[S, :, S] = 1.0
    terminal = np.append(mdp.terminal, True)
    for s in np.flatnonzero(mdp.terminal):  # old terminal states stay absorbing
        P[s] = 0.0
        P[s, :, s] = 1.0
    R = np.vstack([mdp.R, np.zeros((1, A))])
    R_next = None
    if mdp.R_next is not None:
        R_next = np.zeros((S + 1, A, S + 1))
        R_next[:S, :, :S] = mdp.R_next
        R_next[:S, :, S] = mdp.R  # the reward is earned whether or not the episode goes on
        R_next[np.flatnonzero(mdp.terminal)] = 0.0
    R_noise = None if mdp.R_noise is None else np.vstack([mdp.R_noise, np.zeros((1, A))])
    labels = None if mdp.state_labels is None else (*mdp.state_labels, "end")
    return FiniteMDP(
        P=P,
        R=R,
        gamma=1.0,
        rho=np.append(mdp.rho, 0.0),
        terminal=terminal,
        R_next=R_next,
        R_noise=R_noise,
        state_labels=labels,
    )


def __getattr__(name: str) -> Any:
    """``acconv.mdp.model_of`` is deprecated: it moved to :func:`acconv.envs.model_of` (the
    model of a registered environment needs the environments, which sit above this module)."""
    if name == "model_of":
        import warnings

        warnings.warn(
            "acconv.mdp.model_of moved to acconv.envs.model_of; the old name is removed in 0.3.0",
            DeprecationWarning,
            stacklevel=2,
        )
        from acconv.envs import model_of  # deprecated shim (CHANGELOG)

        return model_of
    raise AttributeError(f"module 'acconv.mdp' has no attribute {name!r}")
