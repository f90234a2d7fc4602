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

from acconv.estimators import discounted_returns
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
        """``(B,)``: the discounted return ``G_0`` of each episode
        (:func:`acconv.estimators.discounted_returns` at ``t = 0``)."""
        if self.rewards.shape[1] == 0:  # every episode started in a terminal state
            return np.zeros(self.n_episodes)
        return discounted_returns(self.rewards, gamma, self.mask)[:, 0]


class MDPSampler:
    """Samples batches of whole episodes from a :class:`FiniteMDP`, vectorised over the batch.

    Built once per MDP: for every ``(s, a)`` the ``K`` candidate next states (non-zero first;
    ``K`` = the largest branching factor) and their probabilities. Per batch, the joint law of
    ``(a, s')`` given ``s`` under ``π`` is one row of ``A·K`` cumulative probabilities; the rows
    are offset by ``s`` and concatenated into one increasing array, so a single
    ``searchsorted`` of ``s + u`` draws action and next state for every live episode at once.
    """

    def __init__(self, mdp: FiniteMDP) -> None:
        self.mdp = mdp
        order = np.argsort(-mdp.P, axis=2, kind="stable")  # non-zeros first, largest first
        k = int((mdp.P > 0).sum(axis=2).max())
        self.next_states = order[:, :, :k]
        self.probs = np.take_along_axis(mdp.P, self.next_states, axis=2)
        self.start_cdf = np.cumsum(mdp.rho)
        if mdp.R_next is not None:
            self.step_rewards: FloatArray = np.take_along_axis(mdp.R_next, self.next_states, axis=2)
        else:
            self.step_rewards = np.repeat(mdp.R[:, :, None], k, axis=2)
        self.noise = mdp.R_noise
        S, A = mdp.n_states, mdp.n_actions
        self._next_flat = self.next_states.reshape(S, A * k)
        self._row_offset = np.arange(S, dtype=np.float64)

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
        S, A, K = self.next_states.shape
        weights = (pi[:, :, None] * self.probs).reshape(S, A * K)
        joint = np.cumsum(weights, axis=1)
        joint[:, -1] = 1.0  # each row ends exactly at the next row's offset
        rows = (joint + self._row_offset[:, None]).ravel()
        # s + u can round up to s + 1 (u < 1 is resolved to about 1e-16·S): never step past the
        # row's last possible outcome
        last_possible = (A * K - 1) - np.argmax(weights[:, ::-1] > 0, axis=1)
        B = n_episodes
        start = np.searchsorted(self.start_cdf, rng.random(B) * self.start_cdf[-1], side="right")
        start = np.minimum(start, S - 1)
        records: list[tuple[IntArray, IntArray, IntArray]] = []  # (episodes, s_t, joint index)
        active = np.flatnonzero(~mdp.terminal[start])  # only live episodes are stepped
        s = start[active]
        while len(active):
            if len(records) == limit:
                if max_steps is None and mdp.horizon is None:
                    raise RuntimeError(
                        f"episodes did not end within {limit} steps: the policy looks improper; "
                        "pass max_steps to truncate"
                    )
                break
            u = rng.random(len(active))
            j = np.searchsorted(rows, s + u, side="right") - s * (A * K)
            j = np.minimum(j, last_possible[s])
            records.append((active, s, j))
            s = self._next_flat[s, j]
            live = ~mdp.terminal[s]
            active, s = active[live], s[live]
        return self._assemble(start, records, rng)

    def _assemble(
        self,
        start: IntArray,
        records: list[tuple[IntArray, IntArray, IntArray]],
        rng: np.random.Generator,
    ) -> EpisodeBatch:
        """Decode the per-step records and pad them into ``(B, T)`` arrays in one pass."""
        B, T = len(start), len(records)
        K = self.next_states.shape[2]
        sizes = [len(r[0]) for r in records]
        episodes = np.concatenate([r[0] for r in records]) if T else np.zeros(0, np.int64)
        s = np.concatenate([r[1] for r in records]) if T else np.zeros(0, np.int64)
        j = np.concatenate([r[2] for r in records]) if T else np.zeros(0, np.int64)
        t = np.repeat(np.arange(T), sizes)
        a, k = np.divmod(j, K)
        r = self.step_rewards[s, a, k]
        if self.noise is not None:
            r = r + self.noise[s, a] * rng.choice((-1.0, 1.0), size=len(r))
        states = np.full((B, T + 1), -1, dtype=np.int64)
        states[:, 0] = start
        states[episodes, t + 1] = self._next_flat[s, j]
        # an ended episode keeps its last state: forward-fill the unwritten columns
        filled = np.where(states >= 0, np.arange(T + 1)[None, :], 0)
        states = np.take_along_axis(states, np.maximum.accumulate(filled, axis=1), axis=1)
        actions = np.zeros((B, T), dtype=np.int64)
        rewards = np.zeros((B, T))
        actions[episodes, t] = a
        rewards[episodes, t] = r
        lengths = np.bincount(episodes, minlength=B).astype(np.int64)
        return EpisodeBatch(
            states=states,
            actions=actions,
            rewards=rewards,
            mask=np.arange(T)[None, :] < lengths[:, None],
            lengths=lengths,
            terminated=np.asarray(self.mdp.terminal[states[np.arange(B), lengths]]),
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


def policy_returns(
    probabilities: Any,
    env: Any,
    n_episodes: int,
    rng: np.random.Generator,
    max_steps: int = 100_000,
) -> FloatArray:
    """Undiscounted returns of ``n_episodes`` episodes of a stochastic policy in ``env``.

    ``probabilities(obs)`` maps one observation to the action probabilities ``π(·|obs)`` (any
    observation space: neural policies). Resets are seeded and actions drawn from ``rng``, so
    the returns are a function of ``rng``'s state; an episode stops at termination, truncation
    or ``max_steps``. The same procedure for every learner makes final returns comparable.
    """
    returns = np.zeros(n_episodes)
    for episode in range(n_episodes):
        obs, _ = env.reset(seed=int(rng.integers(2**31)))
        for _ in range(max_steps):
            p = np.asarray(probabilities(obs), dtype=np.float64)
            a = min(
                int(np.cumsum(p).searchsorted(rng.random() * p.sum(), side="right")), p.size - 1
            )
            obs, reward, terminated, truncated, _ = env.step(a)
            # An online tally while the environment steps (no reward array is kept), and
            # undiscounted: not a call to acconv.estimators.discounted_returns.
            returns[episode] += float(reward)
            if terminated or truncated:
                break
    return returns
