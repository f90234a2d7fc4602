"""Episodes to solve: when a run's exact objective reaches a threshold and stays there."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from acconv.exact import policy_evaluation
from acconv.instrument.events import EndEvent, StartEvent, UpdateEvent
from acconv.mdp import FiniteMDP
from acconv.updates import Learner


class EpisodesToSolve:
    """Watches the exact ``J(π_n) = ρᵀ V^{π_n}`` of every policy that samples a batch.

    A run *solves* the task at the first update after which every sampled policy, to the end of
    the run, has ``J ≥ threshold``; :attr:`episodes` is the number of episodes consumed before
    that update (``None`` if the run never settles above the threshold). Counting "stays
    solved" rather than "first touches" keeps a lucky noisy step from counting as learning.
    """

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.J: list[float] = []
        self.episodes_before: list[int] = []
        self._mdp: FiniteMDP | None = None
        self._episodes = 0

    def on_start(self, event: StartEvent) -> None:
        if event.task.mdp is None:
            raise ValueError("EpisodesToSolve needs an exact model (task.mdp)")
        self._mdp = event.task.mdp
        self.J, self.episodes_before, self._episodes = [], [], 0

    def on_update(self, event: UpdateEvent) -> None:
        assert self._mdp is not None
        self.J.append(float(self._mdp.rho @ policy_evaluation(self._mdp, event.policy)))
        self.episodes_before.append(self._episodes)
        self._episodes += event.info.n_episodes

    def on_end(self, event: EndEvent) -> None:
        return None

    @property
    def episodes(self) -> int | None:
        """Episodes consumed before the run settled at ``J ≥ threshold``, or ``None``."""
        below = np.flatnonzero(np.asarray(self.J) < self.threshold)
        if len(below) == 0:
            return 0
        if below[-1] == len(self.J) - 1:
            return None
        return self.episodes_before[int(below[-1]) + 1]


def episodes_to_solve(
    make_learner: Callable[[], Learner[Any]],
    mdp: FiniteMDP,
    seeds: Sequence[int],
    budget: int,
    episodes_per_update: int = 16,
    threshold: float = 0.9,
) -> list[int | None]:
    """Episodes each seeded run needs to settle at ``J ≥ threshold`` (``None``: not within
    ``budget`` episodes). A fresh learner from ``make_learner`` runs per seed."""
    from acconv.loop import train  # the loop sits above the instruments

    results: list[int | None] = []
    for seed in seeds:
        tracker = EpisodesToSolve(threshold)
        train(
            make_learner(),
            mdp,
            budget // episodes_per_update,
            np.random.default_rng(seed),
            [tracker],
            episodes_per_update=episodes_per_update,
        )
        results.append(tracker.episodes)
    return results
