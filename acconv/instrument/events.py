"""Typed, frozen events that the run loop emits, and the observer protocol.

Observers receive read-only copies: they can keep state of their own and return verdicts, but
they cannot change the learner.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from acconv.updates import Task, UpdateInfo

FloatArray = NDArray[np.float64]


def _read_only(array: FloatArray) -> FloatArray:
    copy = np.array(array, dtype=np.float64)
    copy.setflags(write=False)
    return copy


FastEquilibrium = Callable[[FloatArray, int], tuple[FloatArray, NDArray[np.bool_]]]


@dataclass(frozen=True)
class StartEvent:
    """Emitted once before the first update.

    ``fast_equilibrium(theta, n)``, when the learner and the model allow it, is the exact
    ``λ(θ)`` of the fast iterate and the mask where it is unique (a pure function: calling it
    cannot change the learner).
    """

    learner: str
    task: Task
    n_updates: int
    config: Mapping[str, Any] = field(default_factory=dict)
    fast_equilibrium: FastEquilibrium | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "config", MappingProxyType(dict(self.config)))


@dataclass(frozen=True)
class UpdateEvent:
    """Emitted after every update: the policy that sampled the batch and what the update did."""

    info: UpdateInfo
    policy: FloatArray
    env_steps: int  # environment steps consumed so far, this update included

    def __post_init__(self) -> None:
        object.__setattr__(self, "policy", _read_only(self.policy))


@dataclass(frozen=True)
class EndEvent:
    """Emitted once after the last update."""

    n_updates: int
    env_steps: int
    policy: FloatArray
    wall_seconds: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "policy", _read_only(self.policy))


class Observer(Protocol):
    """Anything that watches a run. All three hooks must exist (they may do nothing)."""

    def on_start(self, event: StartEvent) -> None: ...

    def on_update(self, event: UpdateEvent) -> None: ...

    def on_end(self, event: EndEvent) -> None: ...
