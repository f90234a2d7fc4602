"""The tabular run loop: sample a batch, update, tell the observers (DESIGN.md §3).

Every learner with the ``update(state, batch)`` contract runs under :func:`train` (and has
``learn``, :class:`RunsUnderTheLoop`). The neural learners (:mod:`acconv.neural`) and SB3 runs
(:mod:`acconv.adapters.sb3`) collect experience from an environment in their own ``learn``
loops. All of them send their events through the one :class:`~acconv.events.Emitter`, with the
learner's :class:`~acconv.facts.LearnerFacts` on the start event. Learners never see the
observers; observers only receive frozen events.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

import numpy as np
from numpy.typing import NDArray

from acconv._validate import check_int
from acconv.events import Emitter, Observer, UpdateEvent
from acconv.facts import FastEquilibrium, LearnerFacts
from acconv.mdp import FiniteMDP
from acconv.sampling import EpisodeBatch, MDPSampler, sample_env_episodes
from acconv.updates import Learner, Task, UpdateInfo

StateT = TypeVar("StateT")
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class TrainResult(Generic[StateT]):
    """The learner's final state, its last update and the policy it ends with."""

    state: StateT
    last_update: UpdateInfo
    policy: FloatArray
    env_steps: int


def train(
    learner: Learner[StateT],
    env_or_mdp: FiniteMDP | Any,
    n_updates: int,
    rng: np.random.Generator,
    observers: Sequence[Observer] = (),
    episodes_per_update: int = 16,
    max_steps: int | None = None,
    gamma: float | None = None,
    until: Callable[[UpdateEvent], bool] | None = None,
) -> TrainResult[StateT]:
    """Run ``n_updates`` two-timescale updates of ``learner`` and report them to ``observers``.

    ``env_or_mdp`` is a :class:`FiniteMDP` (fast batched sampling from the model) or a Gymnasium
    environment with discrete spaces (the slow path; its ``unwrapped.mdp``, if any, is passed on
    so exact checks still work, but episodes come from the environment itself). ``gamma``
    overrides the discount for environments (required when an environment has no model). In
    ``expected`` mode no episodes are drawn: the learner uses the exact mean-field update.
    ``until`` is an optional stopping rule, asked after every update (observers cannot stop a
    run: they only watch).
    """
    n_updates = check_int(n_updates, "n_updates", 1)
    episodes_per_update = check_int(episodes_per_update, "episodes_per_update", 1)
    task, draw = _episode_source(env_or_mdp, max_steps, gamma)
    if learner.mode == "expected" and task.mdp is None:
        raise ValueError("mode 'expected' needs an exact model, got an environment without .mdp")
    state = learner.init(task, rng)
    emitter = Emitter(observers, until)
    facts = facts_of(learner, task)
    if not isinstance(env_or_mdp, FiniteMDP) and facts.episodes == "MDPSampler":
        facts = replace(facts, episodes="environment")  # whole episodes, from env resets
    emitter.start(facts, task, n_updates)
    info: UpdateInfo | None = None
    for _ in range(n_updates):
        pi = learner.policy(state)
        batch = None if learner.mode == "expected" else draw(pi, episodes_per_update, rng)
        state, info = learner.update(state, batch)
        if emitter.update(info, pi):
            break
    assert info is not None
    final_policy = learner.policy(state)
    emitter.end(final_policy)
    return TrainResult(
        state=state, last_update=info, policy=final_policy, env_steps=emitter.env_steps
    )


class RunsUnderTheLoop:
    """``learn`` for learners with the ``update(state, batch)`` contract: :func:`train` them.

    It gives every learner the same call, ``learner.learn(source, n_updates, rng, observers)``,
    as the neural learners and :class:`~acconv.adapters.sb3.SB3Learner` have."""

    def learn(
        self,
        source: FiniteMDP | Any,
        n_updates: int,
        rng: np.random.Generator,
        observers: Sequence[Observer] = (),
        until: Callable[[UpdateEvent], bool] | None = None,
        *,
        episodes_per_update: int = 16,
        max_steps: int | None = None,
        gamma: float | None = None,
    ) -> TrainResult[Any]:
        """:func:`train` this learner on ``source`` (a model or a Gymnasium environment)."""
        return train(
            self,  # type: ignore[arg-type]
            source,
            n_updates,
            rng,
            observers,
            episodes_per_update=episodes_per_update,
            max_steps=max_steps,
            gamma=gamma,
            until=until,
        )


def facts_of(learner: Any, task: Task) -> LearnerFacts:
    """The learner's facts about itself on ``task`` (:meth:`facts`), or, for a learner that
    publishes none, its name, its ``config`` and its ``fast_equilibrium(mdp, θ, n)`` if any."""
    publish = getattr(learner, "facts", None)
    if callable(publish):
        facts = publish(task)
        if not isinstance(facts, LearnerFacts):
            raise ValueError(
                f"{type(learner).__name__}.facts returned {facts!r}, expected LearnerFacts"
            )
        return facts
    return LearnerFacts(
        name=type(learner).__name__,
        config=getattr(learner, "config", {}),
        mode=getattr(learner, "mode", "sampled"),
        fast_equilibrium=bind_equilibrium(getattr(learner, "fast_equilibrium", None), task),
    )


def bind_equilibrium(equilibrium: Any, task: Task) -> FastEquilibrium | None:
    """``λ(θ)`` as a pure function of ``(θ, n)`` from a learner's ``fast_equilibrium(mdp, θ,
    n)``, when the learner has one and the task has a model."""
    mdp = task.mdp
    if equilibrium is None or mdp is None:
        return None

    def fast_equilibrium(theta: FloatArray, n: int) -> tuple[FloatArray, NDArray[np.bool_]]:
        return equilibrium(mdp, theta, n)  # type: ignore[no-any-return]

    return fast_equilibrium


def _episode_source(
    env_or_mdp: Any, max_steps: int | None, gamma: float | None
) -> tuple[Task, Any]:
    if isinstance(env_or_mdp, FiniteMDP):
        mdp = env_or_mdp if gamma is None else env_or_mdp.with_gamma(gamma)
        sampler = MDPSampler(mdp)

        def draw_from_model(pi: FloatArray, n: int, rng: np.random.Generator) -> EpisodeBatch:
            return sampler.sample(pi, n, rng, max_steps)

        return Task.from_mdp(mdp), draw_from_model
    env = env_or_mdp
    spaces = (getattr(env, "observation_space", None), getattr(env, "action_space", None))
    if not all(hasattr(space, "n") for space in spaces):
        raise ValueError(
            f"environment {env!r} has observation space {spaces[0]} and action space "
            f"{spaces[1]}, expected Discrete spaces for a tabular learner"
        )
    model = getattr(env.unwrapped, "mdp", None)
    if gamma is None:
        if model is None:
            raise ValueError("gamma is required for an environment without a model (.mdp)")
        gamma = model.gamma
    if model is not None:
        model = model.with_gamma(gamma)
    n_states, n_actions = (int(space.n) for space in spaces)  # type: ignore[union-attr]
    task = Task(n_states, n_actions, float(gamma), model)

    def draw_from_env(pi: FloatArray, n: int, rng: np.random.Generator) -> EpisodeBatch:
        return sample_env_episodes(env, pi, n, rng, max_steps or 10_000)

    return task, draw_from_env
