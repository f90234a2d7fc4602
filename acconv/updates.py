"""The contract between learners and everything that watches them (DESIGN.md §3).

A learner is a pure update under a thin shell: ``update(state, batch) -> (state, UpdateInfo)``.
The fast iterate ``omega`` (critic or return-decomposition model) moves with step ``a_n``
(``critic_lr``), the slow iterate ``theta`` (actor) with ``b_n`` (``actor_lr``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, Protocol, TypeVar

import numpy as np
from numpy.typing import NDArray

from acconv.mdp import FiniteMDP
from acconv.sampling import EpisodeBatch

FloatArray = NDArray[np.float64]
Mode = Literal["sampled", "expected"]


def read_only_copy(array: FloatArray) -> FloatArray:
    """A float64 copy that cannot be written: what events and updates hand to observers. An
    array that is already one (float64, read-only, owning its data: made by this function) is
    handed on as it is, so a learner that repeats an unchanged table does not copy it again."""
    if (
        isinstance(array, np.ndarray)
        and array.dtype == np.float64
        and not array.flags.writeable
        and array.base is None
    ):
        return array
    copy = np.array(array, dtype=np.float64)
    copy.setflags(write=False)
    return copy


@dataclass(frozen=True)
class UpdateInfo:
    """What one update did: everything a convergence check needs, as numbers.

    Attributes:
        n: index of the update (0 for the first).
        a_n: fast (critic) step size used; b_n: slow (actor) step size; beta_n: inverse
            temperature of the policy that sampled the batch.
        theta: the actor's parameters after the update (read-only copy).
        omega: the fast iterate after the update (critic values, or the return model).
        critic_loss, actor_loss: the losses the update descended/ascended, on this batch.
        critic_grad_norm, actor_grad_norm: Euclidean norms of the update directions
            (``Δω / a_n`` and ``Δθ / b_n``).
        n_episodes, n_steps: episodes and environment steps consumed (0 in expected mode).
        mean_return: mean discounted return of the batch's episodes (exact ``J`` in expected
            mode).
        diagnostics: further named numbers (PPO's clip fraction and KL, RUDDER's residual...).
        extra_params: further fast iterates by name (e.g. RUDDER's value critic).
    """

    n: int
    a_n: float
    b_n: float
    beta_n: float
    theta: FloatArray
    omega: FloatArray
    critic_loss: float
    actor_loss: float
    critic_grad_norm: float
    actor_grad_norm: float
    n_episodes: int
    n_steps: int
    mean_return: float
    diagnostics: Mapping[str, float] = field(default_factory=dict)
    extra_params: Mapping[str, FloatArray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "theta", read_only_copy(self.theta))
        object.__setattr__(self, "omega", read_only_copy(self.omega))
        object.__setattr__(self, "diagnostics", MappingProxyType(dict(self.diagnostics)))
        object.__setattr__(
            self,
            "extra_params",
            MappingProxyType({k: read_only_copy(v) for k, v in self.extra_params.items()}),
        )


@dataclass(frozen=True)
class Task:
    """What a learner learns on: sizes and discount, plus the exact model when there is one.

    Tabular learners need ``n_states``, ``n_actions`` and ``gamma``; expected (mean-field) mode
    and the exact checks also need ``mdp``.
    """

    n_states: int
    n_actions: int
    gamma: float
    mdp: FiniteMDP | None = None

    @classmethod
    def from_mdp(cls, mdp: FiniteMDP) -> Task:
        """The task of a known MDP."""
        return cls(mdp.n_states, mdp.n_actions, mdp.gamma, mdp)


StateT = TypeVar("StateT")


class Learner(Protocol[StateT]):
    """What :func:`acconv.loop.train` needs from a (tabular) learner; the neural learners have
    their own ``learn`` loop and report through the same :class:`UpdateInfo` and events."""

    mode: Mode

    def init(self, task: Task, rng: np.random.Generator) -> StateT:
        """The initial state for ``task`` (expected mode needs ``task.mdp``)."""
        ...

    def policy(self, state: StateT) -> FloatArray:
        """The policy table ``pi[s, a]`` that samples the next batch."""
        ...

    def update(self, state: StateT, batch: EpisodeBatch | None) -> tuple[StateT, UpdateInfo]:
        """One two-timescale step; ``batch`` is ``None`` in expected mode."""
        ...
