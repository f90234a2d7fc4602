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
    :attr:`env_steps` counts environment steps the same way. :meth:`rows` gives the runner's
    ``solve/*`` metrics; an unsolved run is *censored* at the budget, not dropped.
    """

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.J: list[float] = []
        self.episodes_before: list[int] = []
        self.steps_before: list[int] = []
        self._mdp: FiniteMDP | None = None
        self._episodes = 0
        self._steps = 0

    def reads_tables_at(self, event: object) -> set[int]:
        """No update's tables: it reads the policy only (:func:`acconv.events.tables_read_at`)."""
        return set()

    def on_start(self, event: StartEvent) -> None:
        if event.task.mdp is None:
            raise ValueError("EpisodesToSolve needs an exact model (task.mdp)")
        self._mdp = event.task.mdp
        self.J, self.episodes_before, self.steps_before = [], [], []
        self._episodes = self._steps = 0

    def on_update(self, event: UpdateEvent) -> None:
        assert self._mdp is not None
        self.J.append(float(self._mdp.rho @ policy_evaluation(self._mdp, event.policy)))
        self.episodes_before.append(self._episodes)
        self.steps_before.append(self._steps)
        self._episodes += event.info.n_episodes
        self._steps += event.info.n_steps

    def on_end(self, event: EndEvent) -> None:
        return None

    def _settled(self) -> int | None:
        """The first update index after which ``J ≥ threshold`` to the end, or ``None``."""
        below = np.flatnonzero(np.asarray(self.J) < self.threshold)
        if len(below) == 0:
            return 0
        if below[-1] == len(self.J) - 1:
            return None
        return int(below[-1]) + 1

    @property
    def episodes(self) -> int | None:
        """Episodes consumed before the run settled at ``J ≥ threshold``, or ``None``."""
        settled = self._settled()
        return None if settled is None or not self.J else self.episodes_before[settled]

    @property
    def env_steps(self) -> int | None:
        """Environment steps consumed before the run settled at ``J ≥ threshold``, or ``None``."""
        settled = self._settled()
        return None if settled is None or not self.J else self.steps_before[settled]

    @property
    def rows(self) -> list[tuple[int, str, float]]:
        """``(last update, metric, value)``: ``solve/episodes`` and ``solve/env_steps`` (NaN when
        unsolved), ``solve/solved`` (1 or 0) and the budget consumed, ``solve/budget_episodes``
        and ``solve/budget_env_steps`` (the censoring point of an unsolved run)."""
        if not self.J:
            return []
        n = len(self.J) - 1
        episodes, steps = self.episodes, self.env_steps
        return [
            (n, "solve/episodes", float("nan") if episodes is None else float(episodes)),
            (n, "solve/env_steps", float("nan") if steps is None else float(steps)),
            (n, "solve/solved", 0.0 if episodes is None else 1.0),
            (n, "solve/budget_episodes", float(self._episodes)),
            (n, "solve/budget_env_steps", float(self._steps)),
            (n, "solve/threshold", float(self.threshold)),
        ]


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
