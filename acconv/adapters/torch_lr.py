"""A torch learning-rate scheduler's law as an acconv schedule: the bridge for users' own loops.

``acconv.watch`` puts a user's PyTorch training loop under acconv's checks; the step-size
conditions S1–S7 (:func:`acconv.theory_checks.step_sizes.check_step_sizes`) need the learning
rate as an expression. :func:`scheduler_law` reads a scheduler's public attributes and
``base_lrs`` and writes the learning rate of one param group after m calls of
``scheduler.step()`` — torch's ``last_epoch``, m = 0 right after construction — as a schedule
in the symbol n = m (grammar of :mod:`acconv.schedules`). Nothing is evaluated from text: the
law is built from numbers and parsed by the whitelist like any schedule.

The laws are read from torch's ``get_lr`` (torch 2.13; the recursive, "chainable" form that
``step()`` runs), including what happens past ``total_iters``, the last milestone and
``T_max``; the tests compare them with ``get_last_lr()`` at every m = 0..1000. With
base = ``base_lrs[group]``, T = ``total_iters`` (``T_max`` for the cosine) and, for integer m,
the indicators 1{m < T} = min(1, max(0, T - m)) and 1{m ≥ T} = min(1, max(0, m - T + 1)):

=====================  ==========================================================================
scheduler              learning rate after m steps
=====================  ==========================================================================
``ConstantLR``         base·factor·1{m < T} + base·1{m ≥ T}; base·factor for every m if T ≤ 0
                       (torch multiplies by ``factor`` at m = 0 and divides at m == T only)
``LinearLR``           base·(e + (s - e)·max(0, T - m)/T): from base·s at m = 0 linearly to base·e
                       at m = T, then held (s, e = ``start_factor``, ``end_factor``); base·s for
                       every m if T ≤ 0
``ExponentialLR``      base·γ^m
``StepLR``             base·γ^floor(m/k), k = ``step_size``
``MultiStepLR``        base·γ^(Σ_M c_M·1{m ≥ M}): one factor γ per milestone M ≤ m, counted c_M
                       times if M repeats (milestones that are negative or not integers are never
                       reached by m, so torch never applies them)
``PolynomialLR``       base·(max(0, T - m)/T)^p: 0 from m = T on (p = ``power``); base if T ≤ 0
``CosineAnnealingLR``  η + (base - η)·(1 + cos(π·m/T))/2 (η = ``eta_min``): it does not stop at
                       T_max but keeps going, periodic with period 2·T_max (torch's recursion
                       restarts its rise at m = T_max + 1 + 2k·T_max). Written as
                       η + (base - η)·cos(π·m/(2T))², the same law without the cancellation of
                       1 + cos(x) near x = π (there it would lose ~T²·1e-16 relative accuracy)
=====================  ==========================================================================

γ = 0 is written without 0^x: base·max(0, 1 - x) is base at x = 0 and 0 after (x an integer).
Every other scheduler type (``LambdaLR``, ``MultiplicativeLR``, ``OneCycleLR``, ``CyclicLR``,
``ReduceLROnPlateau``, ``SequentialLR``, ``ChainedScheduler``, ``CosineAnnealingWarmRestarts``,
subclasses of the seven, ...) raises ``ValueError``: a law is only written where torch's code
was read. The law describes the scheduler alone: if the lr of the group is changed by anything
else (a second scheduler on the same optimizer, a manual assignment), :func:`scheduler_law`
notices at the current step (``get_last_lr()`` differs from the law) and raises ``ValueError``.

This module imports torch (the ``neural`` extra); ``import acconv`` does not import it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Final

from torch.optim.lr_scheduler import (
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)

from acconv.schedules import Schedule, ScheduleError

__all__ = ["SUPPORTED_SCHEDULERS", "scheduler_law"]

_CURRENT_RTOL: Final = 1e-9  # law(m) against get_last_lr() at the current m (float recursion)


def _number(value: float) -> str:
    """A float as schedule text: repr round-trips the double; negatives in parentheses."""
    text = repr(float(value))
    return f"({text})" if text.startswith("-") else text


def _real(scheduler: LRScheduler, name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        kind = type(scheduler).__name__
        raise ValueError(f"{kind}.{name} = {value!r}: expected a finite number")
    return number


def _integer(scheduler: LRScheduler, name: str, value: Any, minimum: int | None = None) -> int:
    number = value if isinstance(value, int) and not isinstance(value, bool) else None
    if number is None and isinstance(value, float) and value.is_integer():
        number = int(value)
    if number is None or (minimum is not None and number < minimum):
        kind = type(scheduler).__name__
        bound = f" >= {minimum}" if minimum is not None else ""
        raise ValueError(f"{kind}.{name} = {value!r}: expected an integer{bound}")
    return number


def _below(t: int) -> str:
    """1{n < t} for integer n."""
    return f"min(1, max(0, {t} - n))"


def _from(t: int) -> str:
    """1{n ≥ t} for integer n."""
    return f"min(1, max(0, n - {t - 1}))" if t != 1 else "min(1, max(0, n))"


def _power_of(gamma: float, exponent: str) -> str:
    """γ^x for an integer x ≥ 0 (0^x written as max(0, 1 - x))."""
    if gamma == 0:
        return f"max(0, 1 - ({exponent}))"
    return f"{_number(gamma)}**({exponent})"


def _constant_lr(scheduler: ConstantLR, base: str) -> str:
    factor = _number(_real(scheduler, "factor", scheduler.factor))
    total = _integer(scheduler, "total_iters", scheduler.total_iters)
    if total <= 0:
        return f"{base}*{factor}"
    return f"{base}*({factor}*{_below(total)} + {_from(total)})"


def _linear_lr(scheduler: LinearLR, base: str) -> str:
    start = _number(_real(scheduler, "start_factor", scheduler.start_factor))
    end = _number(_real(scheduler, "end_factor", scheduler.end_factor))
    total = _integer(scheduler, "total_iters", scheduler.total_iters)
    if total <= 0:
        return f"{base}*{start}"
    return f"{base}*({end} + ({start} - {end})*max(0, {total} - n)/{total})"


def _exponential_lr(scheduler: ExponentialLR, base: str) -> str:
    gamma = _real(scheduler, "gamma", scheduler.gamma)
    return f"{base}*{_power_of(gamma, 'n')}"


def _step_lr(scheduler: StepLR, base: str) -> str:
    gamma = _real(scheduler, "gamma", scheduler.gamma)
    step = _integer(scheduler, "step_size", scheduler.step_size, 1)
    return f"{base}*{_power_of(gamma, f'floor(n/{step})')}"


def _multi_step_lr(scheduler: MultiStepLR, base: str) -> str:
    gamma = _real(scheduler, "gamma", scheduler.gamma)
    counts: dict[int, int] = {}
    for milestone, count in scheduler.milestones.items():
        value = float(milestone)
        if value.is_integer() and value >= 0 and count > 0:  # m never equals the others
            counts[int(value)] = counts.get(int(value), 0) + int(count)
    terms = [
        str(count) if milestone == 0 else f"{count}*{_from(milestone)}"
        for milestone, count in sorted(counts.items())
    ]
    if not terms:
        return base
    return f"{base}*{_power_of(gamma, ' + '.join(terms))}"


def _polynomial_lr(scheduler: PolynomialLR, base: str) -> str:
    total = _integer(scheduler, "total_iters", scheduler.total_iters)
    power = _real(scheduler, "power", scheduler.power)
    if power < 0:
        raise ValueError(
            f"PolynomialLR.power = {power!r}: expected a number >= 0 (torch divides by zero "
            "at m = total_iters for a negative power)"
        )
    if total <= 0 or power == 0:
        return base
    return f"{base}*(max(0, {total} - n)/{total})**{_number(power)}"


def _cosine_annealing_lr(scheduler: CosineAnnealingLR, base: str) -> str:
    period = _integer(scheduler, "T_max", scheduler.T_max, 1)
    eta = _number(_real(scheduler, "eta_min", scheduler.eta_min))
    # (1 + cos x)/2 = cos(x/2)²: the same law without the cancellation of 1 + cos x near x = π
    return f"{eta} + ({base} - {eta})*cos(pi*n/{2 * period})**2"


_LAWS: Final[dict[type[LRScheduler], Callable[[Any, str], str]]] = {
    ConstantLR: _constant_lr,
    CosineAnnealingLR: _cosine_annealing_lr,
    ExponentialLR: _exponential_lr,
    LinearLR: _linear_lr,
    MultiStepLR: _multi_step_lr,
    PolynomialLR: _polynomial_lr,
    StepLR: _step_lr,
}
SUPPORTED_SCHEDULERS: Final = tuple(kind.__name__ for kind in _LAWS)
"""The scheduler types :func:`scheduler_law` translates (exact types: a subclass may change
``get_lr``)."""


def scheduler_law(scheduler: LRScheduler, group: int = 0) -> Schedule:
    """The learning rate of param group ``group`` after m = ``last_epoch`` calls of
    ``scheduler.step()``, as a schedule in n = m (laws in the module docstring).

    Raises ``ValueError`` for an unsupported scheduler type (one line naming it and the
    supported ones), a parameter outside the law's domain, a group index out of range, a law
    that is not a valid schedule (a negative or growing learning rate, ``gamma > 1``; a text over
    500 characters, ``MultiStepLR`` with more than ~15 milestones), and when
    ``get_last_lr()[group]`` differs from the law at the current m (the lr was changed by
    something other than this scheduler).
    """
    kind = type(scheduler)
    law = _LAWS.get(kind)
    if law is None:
        raise ValueError(
            f"unsupported learning-rate scheduler {kind.__name__}; supported: "
            f"{', '.join(SUPPORTED_SCHEDULERS)} (torch.optim.lr_scheduler)"
        )
    base_lrs = list(scheduler.base_lrs)
    if isinstance(group, bool) or not isinstance(group, int) or not 0 <= group < len(base_lrs):
        raise ValueError(
            f"group {group!r} out of range: the optimizer has {len(base_lrs)} param group(s)"
        )
    base = _real(scheduler, f"base_lrs[{group}]", base_lrs[group])
    if base < 0:
        raise ValueError(f"{kind.__name__}.base_lrs[{group}] = {base!r}: expected a number >= 0")
    text = law(scheduler, _number(base))
    try:
        schedule = Schedule.parse(text)
    except ScheduleError as error:
        raise ValueError(f"{kind.__name__}: its law is not an acconv schedule: {error}") from None
    _check_current(scheduler, group, schedule)
    return schedule


def _check_current(scheduler: LRScheduler, group: int, schedule: Schedule) -> None:
    """The law at the current step equals the lr the scheduler last set (else it is not the
    scheduler's law on this run)."""
    m = scheduler.last_epoch
    if isinstance(m, bool) or not isinstance(m, int) or m < 0:
        return
    actual = float(scheduler.get_last_lr()[group])
    expected = schedule(m)
    scale = max(abs(actual), abs(expected), abs(schedule(0)))
    if abs(actual - expected) > _CURRENT_RTOL * scale:
        raise ValueError(
            f"{type(scheduler).__name__}: get_last_lr()[{group}] = {actual!r} at m = {m}, but "
            f"its law {schedule.text!r} gives {expected!r}; was the lr changed by something "
            "else (a second scheduler, a manual assignment)?"
        )
