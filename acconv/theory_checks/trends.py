"""Trend fits on log-spaced series: slopes per e-fold of n, early against late, and growth tests
(estimates: evidence about a run, never a proof).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from acconv.theory_checks.trace import _NEVER, FloatArray, IntArray


@dataclass(frozen=True)
class Trend:
    """Least-squares fits of a series ``y(n)`` on a window of updates.

    ``slope_log`` is dy/d ln(n+1) (growth per e-fold of n) with standard error ``slope_log_se``
    and ``r2_log``; ``slope_lin`` is dy/dn with ``r2_lin``; ``early_slope`` and ``late_slope``
    are ``slope_log`` on the first and second half of the window (in ln n), which tell a growth
    that persists (late ≈ early) from one that levels off (late ≪ early). ``start`` and ``end``
    are the fitted values at the window's ends.
    """

    n_points: int
    slope_log: float
    slope_log_se: float
    r2_log: float
    slope_lin: float
    r2_lin: float
    early_slope: float
    late_slope: float
    start: float
    end: float
    log_span: float

    @property
    def growth(self) -> float:
        """Fitted growth over the window, ``slope_log · Δ ln n``."""
        return self.slope_log * self.log_span


def _fit(x: FloatArray, y: FloatArray) -> tuple[float, float, float, float]:
    """``(slope, intercept, se(slope), r²)`` of ``y ≈ intercept + slope x``."""
    X = np.column_stack([np.ones_like(x), x])
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    residual = y - X @ coef
    dof = max(len(x) - 2, 1)
    sxx = float(np.sum((x - x.mean()) ** 2))
    se = math.sqrt(float(residual @ residual) / dof / sxx) if sxx > 0 else math.inf
    total = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(residual @ residual) / total if total > 0 else 1.0
    return float(coef[1]), float(coef[0]), se, r2


def trend(n: IntArray | Sequence[int], y: FloatArray | Sequence[float]) -> Trend | None:
    """The :class:`Trend` of ``y`` against ``ln(n + 1)`` and ``n``; None with < 4 points."""
    n_arr = np.asarray(n, dtype=np.float64)
    y_arr = np.asarray(y, dtype=np.float64)
    keep = np.isfinite(y_arr)
    n_arr, y_arr = n_arr[keep], y_arr[keep]
    if len(n_arr) < 4:
        return None
    x = np.log(n_arr + 1.0)
    slope, intercept, se, r2 = _fit(x, y_arr)
    slope_lin, _, _, r2_lin = _fit(n_arr, y_arr)
    middle = 0.5 * (x[0] + x[-1])
    early, late = x <= middle, x >= middle
    early_slope = _fit(x[early], y_arr[early])[0] if early.sum() >= 2 else _NEVER
    late_slope = _fit(x[late], y_arr[late])[0] if late.sum() >= 2 else _NEVER
    return Trend(
        n_points=len(n_arr),
        slope_log=slope,
        slope_log_se=se,
        r2_log=r2,
        slope_lin=slope_lin,
        r2_lin=r2_lin,
        early_slope=early_slope,
        late_slope=late_slope,
        start=intercept + slope * float(x[0]),
        end=intercept + slope * float(x[-1]),
        log_span=float(x[-1] - x[0]),
    )


def _trend_evidence(prefix: str, fit: Trend) -> dict[str, float]:
    return {
        f"{prefix}_slope_per_efold": fit.slope_log,
        f"{prefix}_slope_se": fit.slope_log_se,
        f"{prefix}_r2_log": fit.r2_log,
        f"{prefix}_slope_per_update": fit.slope_lin,
        f"{prefix}_r2_lin": fit.r2_lin,
        f"{prefix}_early_slope": fit.early_slope,
        f"{prefix}_late_slope": fit.late_slope,
        f"{prefix}_start": fit.start,
        f"{prefix}_end": fit.end,
    }


Growth = Literal["grows", "levels", "?"]


def _growth_test(n: IntArray, y: FloatArray) -> tuple[Growth, Trend | None]:
    """'grows' when y rises significantly (slope per e-fold > 3 se), by ≥ 10 % of its level
    over the window, and does not level off (late slope ≥ 1/2 early slope); 'levels' when the
    fitted growth over the window is ≤ 5 % of the level or the late slope is ≤ 1/4 of the early
    one and ≤ 2 % of the level per e-fold; '?' otherwise."""
    fit = trend(n, y)
    if fit is None:
        return "?", None
    level = max(abs(fit.end), 1e-12)
    if (
        fit.slope_log > 3 * fit.slope_log_se
        and fit.growth >= 0.1 * level
        and fit.late_slope >= 0.5 * fit.early_slope
    ):
        return "grows", fit
    if abs(fit.growth) <= 0.05 * level or (
        fit.late_slope <= 0.25 * max(fit.early_slope, 0.0) and fit.late_slope <= 0.02 * level
    ):
        return "levels", fit
    return "?", fit
