"""SB3's learning rate as the step sizes a(n) = b(n) in acconv's update index n.

SB3 trains the critic (value network, fast) and the actor (policy network, slow) with **one**
optimiser and one learning rate, so a(n) = b(n) = lr(p_n) with p_n SB3's progress remaining
after rollout n. This module reads SB3's schedule object and translates it into an expression
in n when it can (constant, ``LinearSchedule``); the verdicts on it are decided in
:mod:`acconv.theory_checks.learner_steps` from the facts the callback publishes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from stable_baselines3.common.utils import ConstantSchedule, FloatSchedule, LinearSchedule

from acconv._validate import check_int
from acconv.schedules import Schedule, ScheduleError
from acconv.theory_checks.learner_steps import SharedStepSizes

__all__ = ["SB3LearningRate", "SB3StepSizes", "translate_learning_rate", "unwrap_schedule"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class SB3LearningRate:
    """SB3's learning rate as used on a run, translated to the update index n.

    ``kind``: ``"constant"`` (``ConstantSchedule``), ``"linear"`` (``LinearSchedule``) — both
    map to an expression ``schedule`` in n — or ``"callable"`` (any other function of
    ``progress_remaining``: no expression, only the values SB3 evaluates on this run).
    ``sampled[n]`` is ``lr(p_n)`` computed by SB3's own schedule object for n = 0..N-1.
    """

    kind: Literal["constant", "linear", "callable"]
    schedule: Schedule | None
    sampled: FloatArray
    description: str


def unwrap_schedule(lr_schedule: Any) -> Any:
    inner = lr_schedule
    while isinstance(inner, FloatSchedule):
        inner = inner.value_schedule
    return inner


def _number(x: float) -> str:
    return repr(float(x))


def translate_learning_rate(
    lr_schedule: Callable[[float], float],
    *,
    steps_per_update: int,
    total_timesteps: int,
    start_timesteps: int = 0,
) -> SB3LearningRate:
    """SB3's ``lr_schedule(progress_remaining)`` as a schedule a(n) in the update index n.

    SB3 sets the learning rate of update n (0-based) to ``lr(p_n)`` with
    ``p_n = 1 - (t_0 + (n + 1)·steps_per_update)/T`` (``_update_current_progress_remaining``
    runs after rollout n, before ``train()``), T = ``total_timesteps`` (SB3's adjusted total,
    ``model._total_timesteps``), t_0 = ``start_timesteps``. Then

    * ``ConstantSchedule(c)``: a(n) = c for all n;
    * ``LinearSchedule(s, e, f)``: a(n) = s + u_n (e - s)/f with u_n = 1 - p_n while u_n ≤ f,
      and e afterwards (SB3's own rule, which also extends the schedule past the run), i.e.
      ``max(e, ·)`` for e < s and ``min(e, ·)`` for e > s;
    * anything else: no expression (``kind="callable"``).

    An expression is kept only if it reproduces SB3's values on the run (relative error
    ≤ 1e-9); otherwise the schedule is reported as a callable.
    """
    N = check_int(steps_per_update, "steps_per_update", 1)
    T = check_int(total_timesteps, "total_timesteps", 1)
    t0 = check_int(start_timesteps, "start_timesteps", 0)
    if not callable(lr_schedule):
        raise ValueError(f"lr_schedule is {lr_schedule!r}, expected a callable of progress")
    n_updates = max(1, math.ceil((T - t0) / N))
    n = np.arange(n_updates, dtype=np.int64)
    progress = 1.0 - (t0 + (n + 1) * N) / T
    sampled = np.array([float(lr_schedule(float(p))) for p in progress], dtype=np.float64)
    inner = unwrap_schedule(lr_schedule)
    text: str | None = None
    kind: Literal["constant", "linear", "callable"] = "callable"
    description = (
        f"{inner!r} is a Python callable of progress_remaining; SB3 evaluates it at "
        f"p_n = 1 - ({t0} + (n+1)·{N})/{T} on the {n_updates} updates of the run only"
    )
    if isinstance(inner, ConstantSchedule):
        kind, text = "constant", _number(inner.val)
        description = f"ConstantSchedule: a(n) = b(n) = {text} for every n"
    elif isinstance(inner, LinearSchedule) and float(inner.end_fraction) > 0:
        s, e, f = (float(inner.start), float(inner.end), float(inner.end_fraction))
        u = f"({t0} + (n+1)*{N})/{T}"
        linear = f"{_number(s)} + {u}*({_number(e)} - {_number(s)})/{_number(f)}"
        kind = "linear"
        if e < s:
            text = f"max({_number(e)}, {linear})"
        elif e > s:
            text = f"min({_number(e)}, {linear})"
        else:
            kind, text = "constant", _number(s)
        description = (
            f"{inner!r}: a(n) = b(n) = {text}; past the end fraction SB3's LinearSchedule "
            f"returns end = {e!r}, which is how the schedule continues as n → ∞"
        )
    schedule: Schedule | None = None
    if text is not None:
        try:
            schedule = Schedule.parse(text)
        except ScheduleError as error:
            description += f" (no expression: {error})"
            kind = "callable"
        else:
            values = schedule(n)
            scale = np.maximum(np.abs(sampled), np.finfo(np.float64).tiny)
            if not np.all(np.abs(values - sampled) <= 1e-9 * scale):
                worst = int(np.argmax(np.abs(values - sampled) / scale))
                description = (
                    f"{inner!r}: the expression {text} does not reproduce SB3's value at n = "
                    f"{worst} ({values[worst]!r} vs {sampled[worst]!r}); treated as a callable"
                )
                kind, schedule = "callable", None
    sampled.setflags(write=False)
    return SB3LearningRate(kind, schedule, sampled, description)


@dataclass(frozen=True)
class SB3StepSizes(SharedStepSizes):
    """:class:`~acconv.theory_checks.learner_steps.SharedStepSizes` of an SB3 run, with the
    learning rate as SB3 gave it (``learning_rate.kind``, ``.sampled``, ``.description``)."""

    learning_rate: SB3LearningRate | None = None

    @classmethod
    def of(cls, shared: SharedStepSizes, rate: SB3LearningRate) -> SB3StepSizes:
        """The shared step sizes ``shared`` of SB3's learning rate ``rate``."""
        values = {f.name: getattr(shared, f.name) for f in fields(SharedStepSizes) if f.init}
        return cls(**values, learning_rate=rate)
