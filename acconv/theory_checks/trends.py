"""Trend tests on log-spaced series: Theil–Sen slopes per e-fold of n with a confidence interval,
one-sided Mann–Kendall tests, early against late, and the growth test of A8 (evidence about a
run, never a proof).

The stated test, used by tracking, A1 and A8 (THEORY.md §4.5, docs/metrics.md):

* the slope of ``y`` against ``ln(n + 1)`` is the Theil–Sen estimator (the median of the
  pairwise slopes, robust to heavy tails and outliers) with its ``CONFIDENCE`` interval
  (:func:`scipy.stats.theilslopes`);
* ``p_rise`` and ``p_fall`` are the one-sided p-values of the Mann–Kendall test (Kendall's τ
  between n and y, :func:`scipy.stats.kendalltau`) against "no trend": small ``p_fall`` is
  evidence that y falls on the window, small ``p_rise`` that it rises. The recorded points are
  log-spaced, far apart in n, and are treated as independent draws around the trend;
* a series is judged only with at least ``MIN_POINTS`` points spanning at least
  ``MIN_DECADES`` decades of n (:func:`too_little`); below that no verdict leans either way;
* the strength of a lean is :func:`~acconv.theory_checks.verdicts.strength_of` of the p-value
  of the one-sided test against the opposite lean, capped at ``moderate`` while the window
  spans fewer than ``STRONG_DECADES`` decades (:func:`capped`): a p-value measures the trend
  on the window; how far the window reaches bounds what it says about n → ∞.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np

from acconv.theory_checks.trace import _NEVER, FloatArray, IntArray
from acconv.theory_checks.verdicts import Strength, strength_of

MIN_POINTS: Final = 10
"""The fewest recorded points a trend is judged from."""
MIN_DECADES: Final = 1.0
"""The fewest decades of n, log10((n_last + 1)/(n_first + 1)), a trend is judged over."""
STRONG_DECADES: Final = 2.0
"""The decades a window must span for ``strong`` evidence (below: at most ``moderate``)."""
CONFIDENCE: Final = 0.90
"""The confidence level of the Theil–Sen slope interval."""
SIGNIFICANT: Final = 0.05
"""The one-sided level at which a Mann–Kendall trend counts as present."""


@dataclass(frozen=True)
class Trend:
    """The robust trend of a series ``y(n)`` on a window of recorded updates.

    ``slope_log`` is the Theil–Sen slope of y against ln(n+1) (change per e-fold of n) with its
    ``CONFIDENCE`` interval ``[slope_low, slope_high]``; ``early_slope`` and ``late_slope`` are
    Theil–Sen slopes on the first and second half of the window (in ln n), which tell a growth
    that persists (late ≈ early) from one that levels off (late ≪ early). ``first`` and
    ``last`` are the *observed* values at ``n_first`` and ``n_last``; ``p_rise``/``p_fall``
    the one-sided Mann–Kendall p-values.
    """

    n_points: int
    n_first: int
    n_last: int
    first: float
    last: float
    slope_log: float
    slope_low: float
    slope_high: float
    early_slope: float
    late_slope: float
    p_rise: float
    p_fall: float

    @property
    def log_span(self) -> float:
        """``ln((n_last + 1)/(n_first + 1))``, the window in e-folds."""
        return math.log((self.n_last + 1.0) / (self.n_first + 1.0))

    @property
    def decades(self) -> float:
        """The window in decades of n."""
        return self.log_span / math.log(10.0)

    @property
    def growth(self) -> float:
        """Fitted change over the window, ``slope_log · Δ ln n``."""
        return self.slope_log * self.log_span

    @property
    def rises(self) -> bool:
        """Significant rise: Mann–Kendall p_rise < 5 % and the slope interval above 0."""
        return self.p_rise < SIGNIFICANT and self.slope_low > 0

    @property
    def falls(self) -> bool:
        """Significant fall: Mann–Kendall p_fall < 5 % and the slope interval below 0."""
        return self.p_fall < SIGNIFICANT and self.slope_high < 0

    def observed(self, label: str) -> str:
        """``‖θ_n‖ 0.984 → 1.79 at n = 38 → 1499 (observed, 15 points over 1.6 decades)``."""
        return (
            f"{label} {self.first:.3g} → {self.last:.3g} at n = {self.n_first} → {self.n_last} "
            f"(observed, {self.n_points} points over {self.decades:.2g} decades)"
        )

    def fitted(self) -> str:
        """``Theil–Sen slope +0.221 per e-fold of n (90 % CI [..]; early .., late ..),
        Mann–Kendall p_rise .., p_fall ..``."""
        return (
            f"Theil–Sen slope {self.slope_log:+.3g} per e-fold of n ({100 * CONFIDENCE:.0f} % "
            f"CI [{self.slope_low:+.3g}, {self.slope_high:+.3g}]; early {self.early_slope:+.3g}, "
            f"late {self.late_slope:+.3g}), Mann–Kendall p_rise {self.p_rise:.2g}, p_fall "
            f"{self.p_fall:.2g}"
        )

    def text(self, label: str) -> str:
        """:meth:`observed` then :meth:`fitted`, the two kept apart (a norm is a norm)."""
        return f"{self.observed(label)}; {self.fitted()}"


def _theil_sen(x: FloatArray, y: FloatArray) -> tuple[float, float, float]:
    """``(slope, low, high)`` of y against x (Theil–Sen, ``CONFIDENCE`` interval)."""
    from scipy import stats  # lazy: it costs ~0.3 s of `import acconv` (target < 1 s)

    result = stats.theilslopes(y, x, alpha=CONFIDENCE)
    return float(result.slope), float(result.low_slope), float(result.high_slope)


def _mann_kendall(x: FloatArray, y: FloatArray) -> tuple[float, float]:
    """One-sided Mann–Kendall p-values ``(p_rise, p_fall)`` (Kendall's τ of y against x)."""
    from scipy import stats  # lazy: it costs ~0.3 s of `import acconv` (target < 1 s)

    if np.ptp(y) == 0:
        return 1.0, 1.0
    rise = stats.kendalltau(x, y, alternative="greater").pvalue
    fall = stats.kendalltau(x, y, alternative="less").pvalue
    return float(rise), float(fall)


def trend(n: IntArray | Sequence[int], y: FloatArray | Sequence[float]) -> Trend | None:
    """The :class:`Trend` of ``y`` against ``ln(n + 1)``; None with < 4 finite points."""
    n_arr = np.asarray(n, dtype=np.float64)
    y_arr = np.asarray(y, dtype=np.float64)
    keep = np.isfinite(y_arr)
    n_arr, y_arr = n_arr[keep], y_arr[keep]
    if len(n_arr) < 4:
        return None
    x = np.log(n_arr + 1.0)
    slope, low, high = _theil_sen(x, y_arr)
    middle = 0.5 * (x[0] + x[-1])
    early, late = x <= middle, x >= middle
    early_slope = _theil_sen(x[early], y_arr[early])[0] if early.sum() >= 2 else _NEVER
    late_slope = _theil_sen(x[late], y_arr[late])[0] if late.sum() >= 2 else _NEVER
    p_rise, p_fall = _mann_kendall(x, y_arr)
    return Trend(
        n_points=len(n_arr),
        n_first=int(n_arr[0]),
        n_last=int(n_arr[-1]),
        first=float(y_arr[0]),
        last=float(y_arr[-1]),
        slope_log=slope,
        slope_low=low,
        slope_high=high,
        early_slope=early_slope,
        late_slope=late_slope,
        p_rise=p_rise,
        p_fall=p_fall,
    )


def too_little(n: IntArray | Sequence[int]) -> str | None:
    """Why the recorded updates ``n`` are too few to judge a trend from, or None.

    >>> too_little([10, 20, 40, 80, 160])
    'needs ≥ 10 points over ≥ 1 decade, have 5 points over 1.2 decades'
    """
    n_arr = np.asarray(n, dtype=np.float64)
    points = len(n_arr)
    decades = math.log10((n_arr[-1] + 1.0) / (n_arr[0] + 1.0)) if points else 0.0
    if points >= MIN_POINTS and decades >= MIN_DECADES:
        return None
    return (
        f"needs ≥ {MIN_POINTS} points over ≥ {MIN_DECADES:g} decade, have {points} points over "
        f"{decades:.2g} decades"
    )


def capped(p_value: float, fit: Trend | None) -> Strength:
    """:func:`strength_of` ``p_value``, at most ``moderate`` when ``fit``'s window spans fewer
    than ``STRONG_DECADES`` decades (or there is no fit).

    >>> capped(1e-6, None)
    'moderate'
    """
    strength = strength_of(p_value)
    if strength == "strong" and (fit is None or fit.decades < STRONG_DECADES):
        return "moderate"
    return strength


def _trend_evidence(prefix: str, fit: Trend) -> dict[str, float]:
    return {
        f"{prefix}_slope_per_efold": fit.slope_log,
        f"{prefix}_slope_low": fit.slope_low,
        f"{prefix}_slope_high": fit.slope_high,
        f"{prefix}_early_slope": fit.early_slope,
        f"{prefix}_late_slope": fit.late_slope,
        f"{prefix}_first": fit.first,
        f"{prefix}_last": fit.last,
        f"{prefix}_p_rise": fit.p_rise,
        f"{prefix}_p_fall": fit.p_fall,
        f"{prefix}_points": float(fit.n_points),
        f"{prefix}_decades": fit.decades,
    }


Growth = Literal["grows", "levels", "?"]


def _growth_test(n: IntArray, y: FloatArray) -> tuple[Growth, Trend | None]:
    """'grows' when y rises significantly (:attr:`Trend.rises`), by ≥ 10 % of its level over
    the window, and does not level off (late slope ≥ 1/2 early slope); 'levels' when y falls
    significantly, or the fitted change over the window is ≤ 5 % of the level, or the late slope
    is ≤ 1/4 of the early one and ≤ 2 % of the level per e-fold; '?' otherwise."""
    fit = trend(n, y)
    if fit is None:
        return "?", None
    level = max(abs(fit.last), 1e-12)
    if fit.rises and fit.growth >= 0.1 * level and fit.late_slope >= 0.5 * fit.early_slope:
        return "grows", fit
    if (
        fit.falls
        or abs(fit.growth) <= 0.05 * level
        or (fit.late_slope <= 0.25 * max(fit.early_slope, 0.0) and fit.late_slope <= 0.02 * level)
    ):
        return "levels", fit
    return "?", fit
