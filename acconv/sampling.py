"""Whole episodes, sampled in batches: vectorised from a FiniteMDP, or from any Gymnasium env.

The fast path steps all ``B`` episodes of a batch together: one inverse-CDF draw for the actions
and one for the next states per time step, over compact per-``(s, a)`` tables of the non-zero
next states, so there is no Python loop per environment step. Episodes that have ended wait in
their absorbing state until the batch is done. The slow path runs a Gymnasium environment with
discrete observations and actions, one step at a time, for environments without a model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from acconv.mdp import FiniteMDP

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

MAX_STEPS_WITHOUT_LIMIT = 100_000


@dataclass(frozen=True)
class EpisodeBatch:
    """``B`` episodes padded to a common length ``T``.

    Attributes:
        states: ``(B, T + 1)``, ``s_0..s_T`` (padded with the last state).
        actions: ``(B, T)``, ``a_0..a_{T-1}`` (0 after the end).
        rewards: ``(B, T)``, ``r_1..r_T`` (0 after the end).
        mask: ``(B, T)``, true on the decision steps of each episode.
        lengths: ``(B,)``, the number of decisions of each episode.
        terminated: ``(B,)``, whether the episode ended in a terminal state (else it was
            truncated at ``max_steps`` and its last state may be bootstrapped).
    """

    states: IntArray
    actions: IntArray
    rewards: FloatArray
    mask: BoolArray
    lengths: IntArray
    terminated: BoolArray

    @property
    def n_episodes(self) -> int:
        """Number of episodes ``B``."""
        return int(self.actions.shape[0])

    @property
    def n_steps(self) -> int:
        """Number of environment steps (decisions) in the batch."""
        return int(self.lengths.sum())

    def bootstrap_mask(self) -> BoolArray:
        """``(B, T + 1)``: where ``V(s_t)`` may be used, i.e. live states inside the episode."""
        t = np.arange(self.states.shape[1])
        inside = t[None, :] < self.lengths[:, None]
        at_truncation = (t[None, :] == self.lengths[:, None]) & ~self.terminated[:, None]
        return np.asarray(inside | at_truncation)

    def returns(self, gamma: float) -> FloatArray:
        """``(B,)``: the discounted return ``G_0`` of each episode."""
        discounts = gamma ** np.arange(self.rewards.shape[1])
        return np.asarray(self.rewards @ discounts)


class MDPSampler:
    """Samples batches of whole episodes from a :class:`FiniteMDP`, vectorised over the batch.

    Built once per MDP: for every ``(s, a)`` the ``K`` non-zero next states and their cumulative
    probabilities (``K`` = the largest branching factor).
    """

    def __init__(self, mdp: FiniteMDP) -> None:
        self.mdp = mdp
        order = np.argsort(-mdp.P, axis=2, kind="stable")  # non-zeros first, largest first
        k = int((mdp.P > 0).sum(axis=2).max())
        self.next_states = order[:, :, :k]
        probs = np.take_along_axis(mdp.P, self.next_states, axis=2)
        self.cdf = np.cumsum(probs, axis=2)
        self.cdf[:, :, -1] = np.inf  # rounding can never push a draw past the last state
        self.start_cdf = np.cumsum(mdp.rho)
        self.start_cdf[-1] = np.inf
        if mdp.R_next is not None:
            self.step_rewards: FloatArray = np.take_along_axis(mdp.R_next, self.next_states, axis=2)
        else:
            self.step_rewards = np.repeat(mdp.R[:, :, None], k, axis=2)
        self.noise = mdp.R_noise

    def sample(
        self,
        pi: FloatArray,
        n_episodes: int,
        rng: np.random.Generator,
        max_steps: int | None = None,
    ) -> EpisodeBatch:
        """``n_episodes`` episodes of policy ``pi[s, a]`` (until termination or ``max_steps``).

        ``max_steps`` defaults to the MDP's horizon; with neither, episodes run until every one
        has ended (``RuntimeError`` past 100,000 steps: the policy is then improper).
        """
        mdp = self.mdp
        limit = max_steps or mdp.horizon or MAX_STEPS_WITHOUT_LIMIT
        action_cdf = np.cumsum(pi, axis=1)
        action_cdf[:, -1] = np.inf
        B = n_episodes
        s = (rng.random(B)[:, None] > self.start_cdf[None, :]).sum(axis=1)
        states = np.empty((B, 1), dtype=np.int64)
        states[:, 0] = s
        columns: list[tuple[IntArray, IntArray, FloatArray, IntArray]] = []
        active = np.flatnonzero(~mdp.terminal[s])  # only live episodes are stepped
        s = s[active]
        while len(active):
            if len(columns) == limit:
                if max_steps is None and mdp.horizon is None:
                    raise RuntimeError(
                        f"episodes did not end within {limit} steps: the policy looks improper; "
                        "pass max_steps to truncate"
                    )
                break
            u = rng.random((2, len(active)))
            a = (u[0][:, None] > action_cdf[s]).sum(axis=1)
            k = (u[1][:, None] > self.cdf[s, a]).sum(axis=1)
            r = self.step_rewards[s, a, k]
            if self.noise is not None:
                r = r + self.noise[s, a] * rng.choice((-1.0, 1.0), size=len(active))
            s = self.next_states[s, a, k]
            columns.append((active, a, r, s))
            live = ~mdp.terminal[s]
            active, s = active[live], s[live]
        return _assemble(states[:, 0], columns, mdp.terminal)


def _assemble(
    start: IntArray,
    columns: list[tuple[IntArray, IntArray, FloatArray, IntArray]],
    terminal: BoolArray,
) -> EpisodeBatch:
    """Pad the per-step records ``(episodes, actions, rewards, next states)`` into a batch."""
    B, T = len(start), len(columns)
    states = np.empty((B, T + 1), dtype=np.int64)
    states[:, 0] = start
    actions = np.zeros((B, T), dtype=np.int64)
    rewards = np.zeros((B, T))
    lengths = np.zeros(B, dtype=np.int64)
    for t, (episodes, a, r, s_next) in enumerate(columns):
        states[:, t + 1] = states[:, t]  # an ended episode keeps its last state
        states[episodes, t + 1] = s_next
        actions[episodes, t] = a
        rewards[episodes, t] = r
        lengths[episodes] += 1
    return EpisodeBatch(
        states=states,
        actions=actions,
        rewards=rewards,
        mask=np.arange(T)[None, :] < lengths[:, None],
        lengths=lengths,
        terminated=np.asarray(terminal[states[np.arange(B), lengths]]),
    )


def sample_env_episodes(
    env: Any,
    pi: FloatArray,
    n_episodes: int,
    rng: np.random.Generator,
    max_steps: int = 10_000,
) -> EpisodeBatch:
    """The slow path: ``n_episodes`` episodes of ``pi[s, a]`` in a Gymnasium environment.

    The environment must have ``Discrete`` observation and action spaces. It is reset with
    seeds drawn from ``rng``, and actions are drawn from ``rng``, so the batch is a function of
    ``rng``'s state. ``TimeLimit`` truncation (or ``max_steps``) marks an episode as not
    terminated, so that learners bootstrap its last state.
    """
    episodes: list[tuple[list[int], list[int], list[float], bool]] = []
    for _ in range(n_episodes):
        obs, _ = env.reset(seed=int(rng.integers(2**31)))
        states, actions, rewards = [int(obs)], [], []
        terminated = False
        for _ in range(max_steps):
            a = int(rng.choice(pi.shape[1], p=pi[states[-1]]))
            obs, reward, terminated, truncated, _ = env.step(a)
            actions.append(a)
            rewards.append(float(reward))
            states.append(int(obs))
            if terminated or truncated:
                break
        episodes.append((states, actions, rewards, bool(terminated)))
    T = max(len(e[1]) for e in episodes)
    batch_states = np.zeros((n_episodes, T + 1), dtype=np.int64)
    batch_actions = np.zeros((n_episodes, T), dtype=np.int64)
    batch_rewards = np.zeros((n_episodes, T))
    lengths = np.array([len(e[1]) for e in episodes], dtype=np.int64)
    for b, (states, actions, rewards, _) in enumerate(episodes):
        L = len(actions)
        batch_states[b, : L + 1] = states
        batch_states[b, L + 1 :] = states[-1]
        batch_actions[b, :L] = actions
        batch_rewards[b, :L] = rewards
    return EpisodeBatch(
        states=batch_states,
        actions=batch_actions,
        rewards=batch_rewards,
        mask=np.arange(T)[None, :] < lengths[:, None],
        lengths=lengths,
        terminated=np.array([e[3] for e in episodes]),
    )
