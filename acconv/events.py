"""Typed, frozen events, the observer protocol, and the one emitter that sends them.

Every run — the tabular loop (:func:`acconv.loop.train`), the neural learners' ``learn``, an SB3
run through :class:`~acconv.adapters.sb3.ConvergenceCallback` — tells its observers what
happens through one :class:`Emitter`: a :class:`StartEvent` carrying the learner's
:class:`~acconv.facts.LearnerFacts`, an :class:`UpdateEvent` per update, an :class:`EndEvent`.
Observers receive read-only copies: they can keep state of their own and return verdicts, but
they cannot change the learner.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from acconv.facts import DescribedByFacts, FastEquilibrium, LearnerFacts
from acconv.updates import Task, UpdateInfo, read_only_copy

__all__ = [
    "Emitter",
    "EndEvent",
    "FastEquilibrium",
    "Observer",
    "StartEvent",
    "UpdateEvent",
    "check_observers",
    "tables_read_at",
]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class StartEvent(DescribedByFacts):
    """Emitted once before the first update: what is learned on, for how long, and the
    learner's facts about itself."""

    facts: LearnerFacts
    task: Task
    n_updates: int


@dataclass(frozen=True)
class UpdateEvent:
    """Emitted after every update: the policy that sampled the batch and what the update did."""

    info: UpdateInfo
    policy: FloatArray
    env_steps: int  # environment steps consumed so far, this update included

    def __post_init__(self) -> None:
        object.__setattr__(self, "policy", read_only_copy(self.policy))


@dataclass(frozen=True)
class EndEvent:
    """Emitted once after the last update. ``facts``, when set, completes the start event's
    facts with what only the run showed (the learning rates a watched loop applied)."""

    n_updates: int
    env_steps: int
    policy: FloatArray
    wall_seconds: float
    facts: LearnerFacts | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "policy", read_only_copy(self.policy))


class Observer(Protocol):
    """Anything that watches a run. All three hooks must exist (they may do nothing).

    An observer may also say at which updates it reads an event's tables, with a method
    ``reads_tables_at(event: StartEvent) -> Collection[int]`` (see :func:`tables_read_at`).
    """

    def on_start(self, event: StartEvent) -> None: ...

    def on_update(self, event: UpdateEvent) -> None: ...

    def on_end(self, event: EndEvent) -> None: ...


_HOOKS = ("on_start", "on_update", "on_end")


def check_observers(observers: Any, name: str = "observers") -> tuple[Observer, ...]:
    """``observers`` as a tuple, each checked to have the three hooks (one-line errors)."""
    if isinstance(observers, str | bytes) or not isinstance(observers, Sequence):
        raise ValueError(f"{name} is {observers!r}, expected a sequence of observers")
    for i, observer in enumerate(observers):
        if not all(callable(getattr(observer, hook, None)) for hook in _HOOKS):
            raise ValueError(
                f"{name}[{i}] is {observer!r}, expected on_start, on_update and on_end"
            )
    return tuple(observers)


def tables_read_at(observers: Sequence[Observer], event: StartEvent) -> frozenset[int] | None:
    """The updates n whose tables some observer reads, or None when one does not say.

    The tables of an :class:`UpdateEvent` are ``info.theta``, ``info.omega`` and ``policy``. An
    observer says at which updates it reads them with an optional method
    ``reads_tables_at(event) -> Collection[int]``, given the run's start event (the Recorder and
    the TwoTimescaleMonitor read them at their log-spaced grids); this is the union of those
    sets. One observer without the method may read any update's tables: the answer is then None.
    Every observer may read every event's scalars (n, step sizes, losses, diagnostics) and, in
    ``on_end``, the last event's tables, which the union does not list.

    A learner whose tables are costly (networks evaluated on every state: the SB3 callback)
    computes them at these updates and at its last one, and sends the last computed tables
    otherwise: every observer then records what it would have recorded with tables computed at
    every update.
    """
    union: set[int] = set()
    for observer in observers:
        reads: Callable[[StartEvent], Collection[int]] | None = getattr(
            observer, "reads_tables_at", None
        )
        if not callable(reads):
            return None
        union.update(int(n) for n in reads(event))
    return frozenset(union)


class Emitter:
    """Builds and sends the events of one run, for every kind of learner.

    ``start`` sends the :class:`StartEvent`; ``update`` counts environment steps, sends the
    :class:`UpdateEvent` and returns whether ``until`` asks to stop; ``end`` sends the
    :class:`EndEvent` with the wall time since ``start``. A learner's run loop calls these three
    and nothing else; it never sees the observers.
    """

    def __init__(
        self,
        observers: Sequence[Observer] = (),
        until: Callable[[UpdateEvent], bool] | None = None,
    ) -> None:
        if until is not None and not callable(until):
            raise ValueError(f"until is {until!r}, expected a callable of an UpdateEvent")
        self.observers = check_observers(observers)
        self.until = until
        self.start_event: StartEvent | None = None
        self.last_event: UpdateEvent | None = None
        self.n_updates = 0
        self.env_steps = 0
        self._clock = 0.0

    def start(self, facts: LearnerFacts, task: Task, n_updates: int) -> StartEvent:
        """Send the start event of a run of (at most) ``n_updates`` updates."""
        self._clock = time.perf_counter()
        self.n_updates, self.env_steps, self.last_event = 0, 0, None
        event = StartEvent(facts, task, n_updates)
        self.start_event = event
        for observer in self.observers:
            observer.on_start(event)
        return event

    def update(self, info: UpdateInfo, policy: FloatArray, env_steps: int | None = None) -> bool:
        """Send update ``info.n``, sampled with ``policy``. ``env_steps`` is the total of
        environment steps so far when the learner counts them itself (default: the sum of
        ``info.n_steps``). Returns True when ``until`` asks to stop."""
        self.env_steps = self.env_steps + info.n_steps if env_steps is None else env_steps
        event = UpdateEvent(info=info, policy=policy, env_steps=self.env_steps)
        for observer in self.observers:
            observer.on_update(event)
        self.last_event = event
        self.n_updates += 1
        return self.until is not None and bool(self.until(event))

    def end(self, policy: FloatArray, facts: LearnerFacts | None = None) -> EndEvent:
        """Send the end event with the final ``policy`` (and the facts the run completed)."""
        wall = time.perf_counter() - self._clock
        event = EndEvent(self.n_updates, self.env_steps, policy, wall, facts)
        for observer in self.observers:
            observer.on_end(event)
        return event
