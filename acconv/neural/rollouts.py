"""What the neural learners collect: a rollout of K seeds, a run's result, episode returns."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from numpy.typing import NDArray

from acconv.updates import UpdateInfo

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class Rollout:
    """``T`` consecutive steps of each of ``K`` seeds and what step 3 derives from them (float32
    tensors for torch, the seed first).

    ``obs[k, t]`` is seed ``k``'s encoded ``s_t``, ``actions[k, t]`` its ``a_t``,
    ``log_probs_old[k, t]`` the table ``log π_old(·|s_t)``, ``advantages``/``targets`` Â_t and
    Ĝ_t, ``values_old`` ``V_ω(s_t)``; the lists hold one entry per seed.
    """

    obs: torch.Tensor
    actions: torch.Tensor
    log_probs_old: torch.Tensor
    advantages: torch.Tensor
    targets: torch.Tensor
    values_old: torch.Tensor
    episode_returns: list[list[float]]  # undiscounted, finished episodes, per seed
    discounted_returns: list[list[float]]
    diagnostics: list[dict[str, float]] = field(default_factory=list)  # per seed (RUDDER's)
    mask: torch.Tensor | None = None

    def counts(self) -> list[int]:
        """``N_k``, the number of real steps of each seed."""
        if self.mask is None:
            return [self.n_steps] * int(self.actions.shape[0])
        return [int(n) for n in self.mask.sum(dim=1)]

    @property
    def n_steps(self) -> int:
        """``T``, the number of steps of each seed."""
        return int(self.actions.shape[1])

    def steps(self, index: torch.Tensor | slice) -> Rollout:
        """The steps ``index[k]`` of each seed ``k`` (an index array ``(K, b)``, e.g. a
        permutation per seed), or a ``slice`` of every seed's steps (views, no copy)."""
        if isinstance(index, slice):
            pick: Callable[[torch.Tensor], torch.Tensor] = lambda x: x[:, index]  # noqa: E731
        else:
            # x[k, index[k]] for every k, as one index_select of the (K·T, ...) rows (about 4x
            # faster than advanced indexing x[arange(K)[:, None], index] here)
            K, T = self.actions.shape
            rows = (index + torch.arange(K)[:, None] * T).reshape(-1)

            def pick(x: torch.Tensor) -> torch.Tensor:
                flat = x.reshape(K * T, *x.shape[2:]).index_select(0, rows)
                return flat.reshape(*index.shape, *x.shape[2:])

        return dataclasses.replace(
            self,
            obs=pick(self.obs),
            actions=pick(self.actions),
            log_probs_old=pick(self.log_probs_old),
            advantages=pick(self.advantages),
            targets=pick(self.targets),
            values_old=pick(self.values_old),
            mask=None if self.mask is None else pick(self.mask),
        )


@dataclass(frozen=True)
class NeuralRun:
    """What :meth:`PPO.learn` ends with: the last update, the step count, finished episodes."""

    last_update: UpdateInfo
    env_steps: int
    episode_returns: list[float]


class _EpisodeTally:
    """Undiscounted and discounted returns of each seed's episodes, which may span rollouts.

    Not :func:`acconv.estimators.discounted_returns`: an episode's rewards are not kept in one
    array (the rollout that ends an episode may not hold its start), so ``G_0 = Σ_t γ^t r_{t+1}``
    is accumulated forwards, one reward at a time, with the weight ``γ^t`` carried along (all
    seeds at once, elementwise).
    """

    def __init__(self, n_seeds: int = 1) -> None:
        self.plain, self.discounted = np.zeros(n_seeds), np.zeros(n_seeds)
        self.weight = np.ones(n_seeds)
        self.finished: list[list[tuple[float, float]]] = [[] for _ in range(n_seeds)]

    def add(self, reward: FloatArray, gamma: float) -> None:
        self.plain += reward
        self.discounted += self.weight * reward
        self.weight *= gamma

    def finish(self, ended: BoolArray) -> None:
        for k in np.flatnonzero(ended):
            self.finished[k].append((float(self.plain[k]), float(self.discounted[k])))
        self.plain[ended], self.discounted[ended], self.weight[ended] = 0.0, 0.0, 1.0

    def take(self) -> tuple[list[list[float]], list[list[float]]]:
        """Per seed, the returns of the episodes finished since the last call."""
        plain = [[p for p, _ in seed] for seed in self.finished]
        discounted = [[d for _, d in seed] for seed in self.finished]
        self.finished = [[] for _ in self.finished]
        return plain, discounted
