"""Numeric estimates on a grid of n, for schedules the asymptotic rules cannot reduce.

One job: measure a sequence where it can only be sampled — the local decay exponent p̂ fitted on
n = 10^2, ..., 10^12 (:func:`tail_exponent`) and the grid point after which a sequence stays
monotone (:func:`monotone_start`). These are estimates, not proofs: verdicts built on them carry
``method="numeric estimate"`` (THEORY.md §7, step 4).

A schedule with an oscillating factor (``cos(pi*n/10)``, ``(-1)**n``) is never fitted: sampled at
n = 10^k only, a periodic factor shows one phase (``cos(pi*n/10)`` is 1 at every 10^k) and the fit
would look like evidence. :func:`tail_exponent` returns ``p_hat = nan`` (no estimate) for it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from acconv.schedules import Schedule, as_schedule
from acconv.theory_checks.asymptotics import oscillating_factors

__all__ = ["DENSE_GRID", "TailExponent", "monotone_start", "tail_exponent"]

_DECADES: Final = tuple(range(2, 13))  # numeric fits use n = 10^2, ..., 10^12
DENSE_GRID: Final = np.unique(
    np.concatenate([np.arange(10_001), np.geomspace(1e4, 1e12, 4_001).round()])
).astype(np.int64)
"""Every n up to 10^4, then 4,001 log-spaced points up to 10^12: where monotonicity is scanned."""


@dataclass(frozen=True)
class TailExponent:
    """Local decay exponents p̂_k = -(log f(10^(k+1)) - log f(10^k)) / log 10 of f.

    ``p_hat`` is the exponent over the last decade (``inf`` if f underflows to 0 there, ``nan``
    if no decade has two positive finite values, or if f is a schedule with an oscillating factor:
    then ``oscillating`` names the factors and no exponent is estimated).
    """

    n: tuple[int, ...]
    values: tuple[float, ...]
    exponents: tuple[float, ...]
    p_hat: float
    oscillating: tuple[str, ...] = ()


def tail_exponent(
    f: Schedule | str | Callable[[npt.NDArray[np.int64]], npt.NDArray[np.float64]],
) -> TailExponent:
    """Fit the local exponent of f on n = 10^2, ..., 10^12 (a numeric estimate, not a proof;
    none for a schedule with an oscillating factor: ``p_hat = nan``, see :class:`TailExponent`).
    A plain callable is the caller's responsibility: it is fitted as it is."""
    function = as_schedule(f) if isinstance(f, Schedule | str) else f
    n = np.array([10**k for k in _DECADES], dtype=np.int64)
    with np.errstate(all="ignore"):
        values = np.asarray(function(n), dtype=np.float64)
    if isinstance(function, Schedule) and (factors := oscillating_factors(function.expr)):
        nan = (math.nan,) * (len(n) - 1)
        return TailExponent(
            tuple(int(k) for k in n),
            tuple(float(v) for v in values),
            nan,
            math.nan,
            tuple(str(factor) for factor in factors),
        )
    with np.errstate(all="ignore"):
        exponents = []
        for low, high in itertools.pairwise(values):
            if not (np.isfinite(low) and np.isfinite(high) and low > 0 and high >= 0):
                exponents.append(math.nan)
            elif high == 0:
                exponents.append(math.inf)  # underflow: faster than any power
            else:
                exponents.append(float(-np.log10(high / low)))
    finite = [p for p in exponents if not math.isnan(p)]
    return TailExponent(
        tuple(int(k) for k in n),
        tuple(float(v) for v in values),
        tuple(exponents),
        finite[-1] if finite else math.nan,
    )


def monotone_start(values: npt.NDArray[np.float64], increasing: bool = False) -> int:
    """The first grid point of the final non-increasing (non-decreasing) run of values,
    the sequence evaluated on :data:`DENSE_GRID`."""
    step = np.diff(values) if not increasing else -np.diff(values)
    scale = 1e-12 * np.maximum(np.abs(values[:-1]), np.abs(values[1:]))
    against = np.flatnonzero(~(step <= scale))  # also catches nan
    return 0 if against.size == 0 else int(DENSE_GRID[against[-1] + 1])
